/* hours — the cost of the observed hours (collector/observed.c): learning
 * every crossing × side × mode from the archive at start, and keeping them
 * up to date after.
 *
 * Builds a registry of --crossings CA crossings (every one with passenger,
 * pedestrian and commercial lanes: 2 sides × 3 modes = 6 tracks each, one
 * queue file per direction and mode) and their archive in the production
 * layout (ARCH_FULL, the same data sources and RRAs as collector/archive.c),
 * filled with --days days of 1-minute rows (each crossing and side its own
 * daily schedule; --days 365 for a year). The start-up load reads only the
 * last 35 days of a file (its 5-minute rows), so a file holding a year
 * should cost the same to read as one holding 36 days: --days 365 measures
 * it. The files are written directly with librrd (through rrdcached a year
 * of 456 files would take hours), each distinct schedule once and copied to
 * the files sharing it, then rrdcached is started on them and the
 * collector's own code runs:
 *
 *   load:        observed_load (rrdcached FETCH of every file, fold, learn all)
 *   fold:        observed_interval per 5-s interval of every queue, ns each
 *   relearn:     observed_refresh after an hour of new intervals (every track
 *                changed), ms in all and per track
 *
 * Prints key=value lines; judges nothing. */
#include <errno.h>
#include <math.h>
#include <rrd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "log.h"
#include "observed.h"
#include "proc.h"
#include "registry.h"
#include "timeutil.h"

static const char *const s_modes[3] = { "passenger", "pedestrian", "commercial" };

/* As collector/archive.c, ARCH_FULL. */
static const char *s_def[] = {
    "DS:arrivals:ABSOLUTE:180:0:U", "DS:departures:ABSOLUTE:180:0:U", "DS:lanes_open:GAUGE:180:0:U",
    "DS:queue:GAUGE:180:0:U",       "DS:wait_s:GAUGE:180:0:U",        "RRA:AVERAGE:0.5:1:11520",
    "RRA:AVERAGE:0.5:5:10080",      "RRA:MAX:0.5:5:10080",            "RRA:AVERAGE:0.5:60:17520",
    "RRA:MAX:0.5:60:17520",         "RRA:AVERAGE:0.5:1440:3653",      "RRA:MAX:0.5:1440:3653",
};

static int s_write_registry(const char *path, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "crossings = (\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "  { id = \"91%04d\"; bwt_id = \"0991%04d\"; border = \"CA\"; name = \"Bench %d\";\n"
                   "    us_tz = \"America/New_York\"; other_tz = \"America/Toronto\";\n"
                   "    max_lanes = { passenger = 4; pedestrian = 1; commercial = 2; };\n"
                   "    hours = { us = { source = \"bench\"; all = [ \"24h\" ]; }; other = \"unknown\"; }; }%s\n",
                i, i, i, i + 1 < n ? "," : "");
    fprintf(f, ");\n");
    return fclose(f);
}

static int s_mkdirs(const char *path)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* One queue file with days of minutes: open from `from` to `to` local-ish
 * (UTC offsets do not matter to the cost) every day, one departure a minute. */
static int s_fill(const char *path, int64_t start, int64_t end, int from_h, int to_h)
{
    rrd_clear_error();
    if (rrd_create_r(path, 60, (time_t)start, (int)(sizeof s_def / sizeof *s_def), s_def) != 0) {
        fprintf(stderr, "hours: create %s: %s\n", path, rrd_get_error());
        return -1;
    }
    enum { CHUNK = 1440 };
    static char buf[CHUNK][64];
    const char *argv[CHUNK];
    int n = 0;
    for (int64_t t = start + 60; t <= end; t += 60) {
        int h = (int)((t / 3600) % 24);
        int open = h >= from_h && h < to_h;
        snprintf(buf[n], sizeof buf[n], "%lld:%d:%d:%d:%d:%s", (long long)t, open, open, open ? 2 : 0,
                 open, open ? "60" : "U");
        argv[n] = buf[n];
        if (++n == CHUNK || t + 60 > end) {
            if (rrd_update_r(path, NULL, n, argv) != 0) {
                fprintf(stderr, "hours: update %s: %s\n", path, rrd_get_error());
                return -1;
            }
            n = 0;
        }
    }
    return 0;
}

static int s_copy(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
    char buf[1 << 16];
    size_t n;
    int rc = a && b ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, a)) > 0)
        rc = fwrite(buf, 1, n, b) == n ? 0 : -1;
    if (a)
        fclose(a);
    if (b && fclose(b) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "hours: copy %s to %s failed\n", from, to);
    return rc;
}

int main(int argc, char **argv)
{
    int ncross = 76, days = 36;
    const char *workdir = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--crossings") == 0)
            ncross = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--days") == 0)
            days = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--workdir") == 0)
            workdir = argv[i + 1];
    }
    if (ncross < 1 || days < 1) {
        fprintf(stderr, "usage: hours [--crossings N (76)] [--days D (36)] [--workdir DIR (/tmp)]\n");
        return 2;
    }
    log_init("bench-hours", LOG_LVL_WARN);
    signal(SIGPIPE, SIG_IGN);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/bench-hours-XXXXXX", workdir);
    if (!mkdtemp(dir))
        return 1;
    char path[1200], reg_path[700], arch_dir[700], sock[700];
    snprintf(reg_path, sizeof reg_path, "%s/registry.conf", dir);
    snprintf(arch_dir, sizeof arch_dir, "%s/archive", dir);
    if (s_write_registry(reg_path, ncross) != 0)
        return 1;
    int64_t now = tu_now_ms() / 1000 / 60 * 60, start = now - (int64_t)days * 86400;
    int64_t t0 = tu_mono_ms();
    int files = 0, written = 0;
    /* The schedules repeat (6 x 6 opening and closing hours): each one is
     * written once with librrd and copied to the files that share it, so
     * a year of 1-minute rows for 456 files takes minutes, not hours. */
    static char first[36][1200];
    for (int i = 0; i < ncross; i++)
        for (int d = 0; d < 2; d++)
            for (int m = 0; m < 3; m++) {
                snprintf(path, sizeof path, "%s/91%04d/%s", arch_dir, i, d ? "southbound" : "northbound");
                if (s_mkdirs(path) != 0)
                    return 1;
                snprintf(path + strlen(path), sizeof path - strlen(path), "/%s-standard.rrd", s_modes[m]);
                int from_h = 5 + (i + d + m) % 6, to_h = 18 + (i + m) % 6, key = (from_h - 5) * 6 + to_h - 18;
                if (first[key][0] ? s_copy(first[key], path) != 0
                                  : s_fill(path, start, now, from_h, to_h) != 0)
                    return 1;
                if (!first[key][0]) {
                    snprintf(first[key], sizeof first[key], "%s", path);
                    written++;
                }
                files++;
            }
    fprintf(stderr, "hours: %d files of %d days of 1-minute rows (%d schedules written, the others "
                    "copies) in %.1f s\n", files, days, written, (double)(tu_mono_ms() - t0) / 1000.0);
    printf("hours_days=%d\n", days);

    pid_t rrdc = proc_start_rrdcached(dir, sock, sizeof sock);
    int nbad = 0;
    registry_t *reg = reg_load(reg_path, &nbad);
    char unix_sock[720];
    snprintf(unix_sock, sizeof unix_sock, "unix:%s", sock);
    archive_t *arch = rrdc > 0 ? arch_new(unix_sock, arch_dir, ARCH_FULL) : NULL;
    observed_t *obs = reg ? observed_new(NULL, reg, 300) : NULL;
    int rc = 1;
    if (!arch || !obs) {
        fprintf(stderr, "hours: setup failed (rrdcached log in %s)\n", dir);
        goto done;
    }
    int read = observed_load(obs, arch, now);
    observed_counters_t c;
    observed_counters(obs, &c);
    printf("hours_crossings=%d\nhours_tracks=%u\nhours_files_read=%d\nhours_tracks_known=%u\n", ncross,
           c.tracks, read, c.known);
    printf("hours_load_s=%.2f\nhours_load_learn_ms=%.1f\n", c.load_s, c.last_refresh_ms);

    /* An hour of 5-s intervals on every queue, then one relearn. */
    int64_t calls = 0;
    struct timespec ta, tb;
    clock_gettime(CLOCK_MONOTONIC, &ta);
    for (int64_t t = now + 5; t <= now + 3600; t += 5)
        for (size_t i = 0; i < reg_count(reg); i++)
            for (int d = 1; d <= 2; d++)
                for (int m = 1; m <= 3; m++) {
                    observed_interval(obs, i, (enum tax_dir)d, (enum tax_mode)m, TAX_STANDARD, t * 1000, 5000, 1, 1, 1,
                                      now + 3600);
                    calls++;
                }
    clock_gettime(CLOCK_MONOTONIC, &tb);
    double fold_ms = (double)(tb.tv_sec - ta.tv_sec) * 1e3 + (double)(tb.tv_nsec - ta.tv_nsec) / 1e6;
    int n = observed_refresh(obs, now + 3600 + 180);
    observed_counters(obs, &c);
    printf("hours_fold_ns_per_interval=%.0f\nhours_relearn_tracks=%d\nhours_relearn_ms=%.1f\n"
           "hours_relearn_ms_per_track=%.2f\n",
           fold_ms * 1e6 / (double)calls, n, c.last_refresh_ms, n ? c.last_refresh_ms / n : 0.0);
    rc = read > 0 ? 0 : 1;
done:
    observed_destroy(&obs);
    arch_destroy(&arch);
    reg_destroy(&reg);
    if (rrdc > 0)
        proc_stop(rrdc, 10000);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (rc == 0 && system(cmd) != 0)
        fprintf(stderr, "hours: could not remove %s\n", dir);
    return rc;
}
