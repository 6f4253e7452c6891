/* bench/join — what joining a big document costs the publisher, by where
 * its fragments' bytes come from (collector/frag.c, http_cache.c): the
 * fragments just rendered (all in memory, one writev per run), fragments
 * kept in the last joined document (one range of its file for a run of
 * unchanged crossings: copy_file_range), and CBP's fragments kept there
 * around a fill of this second (two short ranges of the file each, staged
 * by pread). 417 fragments of 7,600 bytes: /v1/crossings at 10,000 series.
 * The ms per join, the new body's memfd made and freed included.
 *
 *   build/bench/join [ROUNDS]     (default 50) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "http_cache.h"

enum { NFRAG = 417, FRAG = 7600, HOLE_AT = 3800 };
static const char s_fill[] = "\"12:34:56\"";

static double s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ms per gather of pc (n pieces, len bytes), over rounds. */
static double s_time(const http_cache_piece_t *pc, size_t n, size_t len, int rounds)
{
    double t0 = s_now_ms();
    for (int r = 0; r < rounds; r++) {
        http_cache_body_t *b = http_cache_body_gather(pc, n, len);
        if (!b) {
            fprintf(stderr, "join: the gather failed\n");
            exit(1);
        }
        http_cache_body_unref(b);
    }
    return (s_now_ms() - t0) / rounds;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 50;
    size_t len = (size_t)NFRAG * FRAG;
    char *text = malloc(len + 1);
    if (!text || rounds < 1)
        return 1;
    for (size_t i = 0; i < len; i++)
        text[i] = (char)('a' + i % 26);
    text[len] = '\0';
    http_cache_body_t *old = http_cache_body_new(text, len);
    if (!old || http_cache_body_fd(old) != 0)
        return 1;
    static http_cache_piece_t mem[NFRAG], holed[3 * NFRAG];
    size_t k = 0, holed_len = 0;
    for (size_t i = 0; i < NFRAG; i++) {
        size_t off = i * FRAG;
        mem[i] = (http_cache_piece_t){ old->data + off, -1, 0, FRAG };
        holed[k++] = (http_cache_piece_t){ NULL, old->fd, off, HOLE_AT };
        holed[k++] = (http_cache_piece_t){ s_fill, -1, 0, sizeof s_fill - 1 };
        holed[k++] = (http_cache_piece_t){ NULL, old->fd, off + HOLE_AT + 10, FRAG - HOLE_AT - 10 };
        holed_len += FRAG + sizeof s_fill - 1 - 10;
    }
    http_cache_piece_t run = { NULL, old->fd, 0, len };
    printf("join_bytes=%zu\n", len);
    printf("join_rendered_ms=%.2f\n", s_time(mem, NFRAG, len, rounds));
    printf("join_kept_run_ms=%.2f\n", s_time(&run, 1, len, rounds));
    printf("join_kept_holed_ms=%.2f\n", s_time(holed, k, holed_len, rounds));
    http_cache_body_unref(old);
    return 0;
}
