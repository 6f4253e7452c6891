/* fuzz_official — libFuzzer target for the official-feed parsers
 * (collector/official_cbp.c, official_cbsa.c): the importer hands them
 * whatever a remote server sent. The first byte picks the parser (even:
 * CBP /api/bwtnew JSON, odd: CBSA bwt-eng.csv), the rest is the body.
 * Reads the repository's registry (deploy/registry.conf; run from the
 * repository root, as `make fuzz` does).
 *
 * Beyond crashes it checks the promises of official.h: a refused document
 * has no records and exactly one whole-document reason; a taken one maps
 * every record to a registry crossing and a valid queue, never carries a
 * wait outside 0..OFF_MAX_WAIT_MIN or a time beyond the allowed skew, and
 * imports no more ports than the document has. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "official.h"
#include "registry.h"

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_official: invariant failed: %s (%s:%d)\n", #cond,   \
                    __FILE__, __LINE__);                                              \
            abort();                                                                  \
        }                                                                             \
    } while (0)

#define NOW_S 1800000000LL

static registry_t *s_reg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_init("fuzz_official", LOG_LVL_ERROR);
    int nbad = 0;
    s_reg = reg_load("deploy/registry.conf", &nbad);
    if (!s_reg) {
        fprintf(stderr, "fuzz_official: run from the repository root (deploy/registry.conf)\n");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    off_doc_t doc;
    const char *body = (const char *)data + 1;
    int rc = data[0] & 1 ? off_parse_cbsa(body, size - 1, s_reg, NOW_S, &doc)
                         : off_parse_cbp(body, size - 1, s_reg, NOW_S, &doc);
    CHECK(rc == 0 || rc == -1);
    CHECK(doc.ports_imported <= doc.ports);
    if (rc != 0) {
        CHECK(doc.refused && doc.n == 0);
        CHECK(doc.refused_why < OFF_R_FIRST_ITEM);
        uint64_t whole = 0;
        for (int r = 0; r < OFF_R_FIRST_ITEM; r++)
            whole += doc.reasons[r];
        CHECK(whole == 1 && doc.reasons[doc.refused_why] == 1);
    } else {
        CHECK(!doc.refused);
        for (size_t i = 0; i < doc.n; i++) {
            const off_rec_t *r = &doc.recs[i];
            CHECK(r->reg && reg_find(s_reg, r->reg->id) == r->reg);
            CHECK(tax_dir_valid(r->dir) && tax_mode_valid(r->mode) && tax_type_valid(r->type));
            CHECK(r->status > OFF_ST_NONE && r->status < OFF_ST_MAX);
            CHECK(!r->has_wait || (r->wait_s >= 0 && r->wait_s <= OFF_MAX_WAIT_MIN * 60));
            CHECK(r->updated_s <= NOW_S + OFF_MAX_SKEW_S);
            CHECK(!r->has_lanes || r->lanes_open >= 0);
        }
    }
    off_doc_free(&doc);
    return 0;
}
