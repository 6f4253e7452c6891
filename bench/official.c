/* bench/official — what importing the full CBP /api/bwtnew document (and
 * CBSA's CSV) costs the collector's loop: parse + map + apply to the state,
 * per document, and the process's peak memory.
 *
 *   build/bench/official [N]     (from the repository root; N documents, default 200) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "log.h"
#include "official.h"
#include "registry.h"
#include "state.h"
#include "timeutil.h"

static char *s_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void s_run(const char *name, const char *path, int cbsa, int n, const registry_t *reg,
                  state_t *st)
{
    size_t len;
    char *body = s_slurp(path, &len);
    if (!body) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    size_t queues = 0;
    int64_t t0 = tu_mono_ms();
    for (int i = 0; i < n; i++) {
        off_doc_t doc;
        int rc = cbsa ? off_parse_cbsa(body, len, reg, 1657300000, &doc)
                      : off_parse_cbp(body, len, reg, 1657300000, &doc);
        if (rc == 0)
            queues = state_apply_official(st, &doc, 1657300000, 7200);
        off_doc_free(&doc);
    }
    double ms = (double)(tu_mono_ms() - t0) / n;
    printf("%-5s %7zu bytes, %3zu queues applied: %.3f ms per document (parse + map + apply, %d runs)\n",
           name, len, queues, ms, n);
    free(body);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    log_init("bench_official", LOG_LVL_ERROR);
    int nbad;
    registry_t *reg = reg_load("deploy/registry.conf", &nbad);
    state_t *st = reg ? state_new(reg) : NULL;
    if (!st)
        return 1;
    s_run("CBP", "deploy/data/cbp_api_bwtnew_2022-06-29.json", 0, n, reg, st);
    s_run("CBSA", "deploy/data/cbsa_bwt-eng_2022-07-07.csv", 1, n, reg, st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %ld KB (registry, state of %zu crossings, one document at a time); "
           "official values add %zu bytes to the state\n",
           ru.ru_maxrss, state_count(st), state_count(st) * sizeof(((xstate_t *)0)->off));
    state_destroy(&st);
    reg_destroy(&reg);
    return 0;
}
