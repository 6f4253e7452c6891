/* fuzz_config — libFuzzer target for the two file formats an operator
 * writes: the daemons' config file (conf_parse --config) and the crossing
 * registry (reg_load). Both are file-based APIs, so each input is written
 * to one memfd, rewound and truncated per input (no disk, no per-input
 * open), and read back through /proc/self/fd/N by both parsers.
 *
 * Beyond crashes it checks the promises: conf_parse leaves every target
 * either at its default or at a value of the right kind, conf_free clears
 * what it owned, and every crossing reg_load keeps passes the registry's
 * rules and is found again by reg_find. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "registry.h"
#include "taxonomy.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_config: invariant failed: %s (%s:%d)\n", #cond,   \
                    __FILE__, __LINE__);                                            \
            abort();                                                                \
        }                                                                           \
    } while (0)

static int s_fd = -1;
static char s_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_init("fuzz_config", LOG_LVL_ERROR);
    s_fd = memfd_create("fuzz-config", 0);
    if (s_fd < 0)
        abort();
    snprintf(s_path, sizeof s_path, "/proc/self/fd/%d", s_fd);
    return 0;
}

static void s_write_input(const uint8_t *data, size_t size)
{
    if (ftruncate(s_fd, 0) != 0 || pwrite(s_fd, data, size, 0) != (ssize_t)size)
        abort();
}

/* One setting of every kind, named like the collector's own. */
static void s_conf(void)
{
    static const char def_http[] = "127.0.0.1:8080";
    char *http = (char *)def_http, *registry = NULL;
    long stale = 120;
    double skew = 30.0;
    bool verbose = false;
    const conf_opt_t opts[] = {
        { "http", CONF_STR, &http, "ADDR:PORT", "HTTP listen address" },
        { "registry", CONF_STR, &registry, "FILE", "crossing registry" },
        { "stale-after", CONF_INT, &stale, "S", "staleness" },
        { "max-skew", CONF_DOUBLE, &skew, "S", "clock skew" },
        { "verbose", CONF_FLAG, &verbose, NULL, "debug logging" },
    };
    const int n = (int)(sizeof opts / sizeof opts[0]);
    char *argv[] = { "poe-fuzz", "--config", s_path, NULL };
    int rc = conf_parse(opts, n, 3, argv, "poe-fuzz", "fuzzing");
    CHECK(rc == 0 || rc == -1);
    /* Strings are either the default or a NUL-terminated copy we can read. */
    CHECK(http != NULL);
    (void)strlen(http);
    if (registry)
        (void)strlen(registry);
    conf_free(opts, n);
    CHECK(http == def_http || http == NULL);
    CHECK(registry == NULL);
}

static bool s_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static void s_registry(void)
{
    int nbad = -1;
    registry_t *reg = reg_load(s_path, &nbad);
    if (!reg) {
        CHECK(reg_count(reg) == 0 && reg_find(reg, "250401") == NULL);
        return;
    }
    CHECK(nbad >= 0);
    for (size_t i = 0; i < reg_count(reg); i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        CHECK(c != NULL && tax_crossing_id_valid(c->id));
        CHECK(s_digits(c->bwt_id, 8) && strcmp(c->bwt_id + 2, c->id) == 0);
        CHECK(c->border == TAX_BORDER_CA || c->border == TAX_BORDER_MX);
        CHECK(c->name[0] && c->us_tz[0] && c->other_tz[0]);
        for (int m = 1; m <= TAX_NMODES; m++)
            CHECK(c->max_lanes[m] >= 0 && c->max_lanes[m] <= 64);
        /* Duplicates were dropped, so the id finds this very entry. */
        CHECK(reg_find(reg, c->id) == c);
    }
    CHECK(reg_at(reg, reg_count(reg)) == NULL);
    reg_destroy(&reg);
    CHECK(reg == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libconfig reads a whole file into memory; nothing an operator writes
     * is this big, and it keeps every input fast. */
    if (size > 64 * 1024)
        return 0;
    s_write_input(data, size);
    s_conf();
    s_registry();
    return 0;
}
