/* bench/official_year — how long `poe-report official` takes on a year of
 * one crossing: writes a year of measured waits (every 2 min) and official
 * ones (every 5 min, 20 min late, rounded to 5) for the four into-US queues
 * of 250401 through rrdcached into a full-profile archive, then runs the
 * report over the year and prints its wall time.
 *
 *   build/bench/official_year --workdir DIR     (POE_BIN: where poe-report is) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "log.h"
#include "proc.h"
#include "timeutil.h"

#define YEAR_S (365 * 86400LL)

static double s_wait(int64_t t, int q)
{
    double h = (double)(t % 86400) / 3600.0;
    return 60.0 * (10 + 5 * q + 30 * exp(-(h - 8) * (h - 8) / 4) + 20 * exp(-(h - 17) * (h - 17) / 6));
}

int main(int argc, char **argv)
{
    const char *work = argc > 2 && strcmp(argv[1], "--workdir") == 0 ? argv[2] : "/tmp";
    const char *bin = getenv("POE_BIN");
    log_init("official_year", LOG_LVL_ERROR);
    char dir[600], sock[700], rrd[800], archive[700], cmd[4096];
    snprintf(dir, sizeof dir, "%s/official-year-XXXXXX", work);
    if (!bin || !mkdtemp(dir)) {
        fprintf(stderr, "usage: POE_BIN=build/bin official_year --workdir DIR\n");
        return 1;
    }
    pid_t rp = proc_start_rrdcached(dir, sock, sizeof sock);
    if (rp <= 0)
        return 1;
    snprintf(rrd, sizeof rrd, "unix:%s", sock);
    snprintf(archive, sizeof archive, "%s/archive", dir);
    archive_t *a = arch_new(rrd, archive, ARCH_FULL);
    int64_t now = (int64_t)time(NULL);
    int64_t t0 = now - now % 3600 - YEAR_S;
    static const enum tax_type types[] = { TAX_STANDARD, TAX_READY, TAX_NEXUS_SENTRI };
    char why[256];
    int64_t w0 = tu_mono_ms();
    size_t rows = 0;
    for (int64_t t = t0 + 120; t <= t0 + YEAR_S && a; t += 120) {
        for (int q = 0; q < 4; q++) {
            enum tax_mode m = q < 3 ? TAX_PASSENGER : TAX_PEDESTRIAN;
            enum tax_type ty = q < 3 ? types[q] : TAX_STANDARD;
            arch_queue_row_t r = { .t_ms = t * 1000, .interval_ms = 120000, .lanes_open = 5, .queue = NAN,
                                   .wait_s = s_wait(t, q) };
            arch_add_queue(a, "250401", TAX_NORTHBOUND, m, ty, &r);
            rows++;
            if (t % 300 < 120) {
                int64_t ts = t - t % 300;
                arch_official_row_t o = { .t_s = ts, .wait_s = round(s_wait(ts - 1200, q) / 300) * 300,
                                          .lanes_open = NAN, .updated_s = (double)ts - 600,
                                          .age_s = 600, .status = 1 };
                arch_add_official(a, "250401", TAX_NORTHBOUND, m, ty, &o);
                rows++;
            }
        }
        if (rows > 4000) {
            if (arch_commit(a, why, sizeof why) != 0) {
                fprintf(stderr, "commit: %s\n", why);
                return 1;
            }
            rows = 0;
        }
    }
    arch_commit(a, why, sizeof why);
    arch_destroy(&a);
    printf("archive of a year (4 queues, measured + official) written in %.1f s\n",
           (double)(tu_mono_ms() - w0) / 1000.0);
    snprintf(cmd, sizeof cmd,
             "%s/poe-report official --archive %s --rrdcached %s --from %lld --to %lld --out %s "
             "--log-level error >/dev/null",
             bin, archive, rrd, (long long)t0, (long long)(t0 + YEAR_S), dir);
    int64_t r0 = tu_mono_ms();
    int rc = system(cmd);
    double took = (double)(tu_mono_ms() - r0) / 1000.0;
    char csv[800], line[1024];
    snprintf(csv, sizeof csv, "%s/official.csv", dir);
    FILE *f = fopen(csv, "r");
    int audited = -1;
    while (f && fgets(line, sizeof line, f))
        audited++;
    if (f)
        fclose(f);
    printf("poe-report official over the year: %.2f s for %d queues audited (exit %d)\n", took,
           audited, rc);
    /* only the report's processes were waited for so far (rrdcached runs on) */
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
        printf("peak RSS of the report: %ld KB (the largest of poe-report and the rrdtool it runs)\n",
               ru.ru_maxrss);
    proc_stop(rp, 5000);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 && rc == 0 ? 0 : 1;
}
