/* fuzz_fetch — libFuzzer target for fetch_parse_answer (collector/fetch.c):
 * what a poe-fetch child wrote on its standard output. The helper is ours,
 * but the validators it passes on (ETag, Last-Modified) and the body come
 * from the upstream server, and a helper of another version, a crash
 * mid-write or a full disk can cut it anywhere.
 *
 * Beyond crashes it checks fetch.h's promises: an answer parsed is an
 * outcome the helper may give, its body lies within the input and is
 * NUL-terminated, only a completed transfer has one, and every text is a
 * terminated string; a refused one is FETCH_HELPER with a reason and no
 * body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_fetch: invariant failed: %s (%s:%d)\n", #cond,    \
                    __FILE__, __LINE__);                                            \
            abort();                                                                \
        }                                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    fetch_answer_t a;
    memset(&a, 0x5a, sizeof a);
    int rc = fetch_parse_answer(buf, size, &a);
    CHECK(memchr(a.etag, 0, sizeof a.etag) && memchr(a.last_modified, 0, sizeof a.last_modified));
    CHECK(memchr(a.error, 0, sizeof a.error));
    CHECK(a.body != NULL && a.body[a.len] == 0);
    if (rc == 0) {
        CHECK(a.outcome < FETCH_HELPER);
        CHECK(a.outcome == FETCH_DONE || a.len == 0);
        if (a.len) {
            CHECK(a.body >= buf && a.body + a.len == buf + size);
            CHECK(memcmp(a.body, data + (a.body - buf), a.len) == 0);
        }
    } else {
        CHECK(rc == -1 && a.outcome == FETCH_HELPER && a.len == 0 && a.error[0]);
    }
    free(buf);
    return 0;
}
