/* network — the chaos run of the national network (make test-network).
 *
 * Builds the network of deploy/network.sh (3 regions and a national
 * collector in network namespaces, a simulated agent per crossing
 * direction) with a witness per region: a second collector in the region
 * that every agent also sends to and that nothing ever disturbs. Then it
 * breaks the network one fault after another, each held a while and then
 * repaired, and times how long the national view takes to heal (every
 * series of the scope hit back under HEAL_LAG_S of lag at the national
 * collector):
 *   kill -9 of a regional collector, of the national collector, of a
 *   region's rrdcached, of random agents; a partition of one region from
 *   the national (60 s), with tc netem loss and delay on another region's
 *   link at the same time (when the kernel has sch_netem).
 * At the end, after everything healed, it checks
 *   - exactly once: every series of each region's archive equals the
 *     witness's minute by minute (arrivals, departures, lanes open), so
 *     every interval each agent produced is there, none twice;
 *   - the national archive equals the region's minute by minute;
 *   - the national /v1/crossings lists exactly the union of the regions'
 *     queues with data;
 *   - no process is left in the namespaces after the stop;
 * and prints the figures: events compared, faults and time to heal each,
 * national freshness p50/p99, memory per daemon.
 *
 * Needs root. Settings: NETWORK_CROSSINGS (default 12 here), PARTITION_S
 * (60), HOLD_S (5: how long a killed daemon stays down), NETWORK_KEEP=1.
 * Exit 0 when every check passed. */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"
#include "proc.h"

#define HEAL_LAG_S 20.0
#define HEAL_MAX_S 180
#define MAX_SERIES 1024
#define MAX_LAGS 400000
#define MAX_AGENTS 512
#define REGIONS 3

static char s_src[512], s_dir[600], s_prefix[32], s_net[32];
static char s_agents[MAX_AGENTS][40], s_agent_region[MAX_AGENTS][4];
static int s_nagents;
static double *s_lags_all, *s_lags_quiet;
static size_t s_nall, s_nquiet;
static bool s_fault_on;
static int s_failures;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reap the daemons network.sh started (this process is their subreaper),
 * so a killed one is gone, not a zombie. */
static void s_reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static bool s_sampling;      /* once warm: s_sleep samples the national lags */
static int s_national_lags_sample(void);

static void s_sleep(double s)
{
    double end = s_now() + s, next = 0;
    while (s_now() < end) {
        s_reap();
        if (s_sampling && s_now() >= next) {
            next = s_now() + 1;
            s_national_lags_sample();
        }
        usleep(100 * 1000);
    }
}

static int s_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int s_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    s_reap();
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* network.sh SUBCOMMAND DIR ARGS */
static int s_net_cmd(const char *sub, const char *args)
{
    return s_sh("'%s/deploy/network.sh' %s '%s' %s", s_src, sub, s_dir, args ? args : "");
}

static void s_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s  ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!ok)
        s_failures++;
}

/* ---- HTTP inside a namespace (tests/lib/netns.h) --------------------------------- */

static const char *s_ns(const char *ns)
{
    static char full[2][64];
    static int k;
    k ^= 1;
    snprintf(full[k], sizeof full[k], "%s%s", s_prefix, ns);
    return full[k];
}

static char *s_get(const char *ns, int port, const char *path)
{
    return netns_get(s_ns(ns), port, path);
}

static json_t *s_get_json(const char *ns, int port, const char *path)
{
    return netns_get_json(s_ns(ns), port, path);
}

/* A sample of the /metrics of collector ns ("nat", "r1"...); -1 when absent. */
static double s_metric(const char *ns, const char *sample)
{
    return netns_metric(s_ns(ns), 8080, sample);
}

static char *s_queues(const char *ns, int port)
{
    return netns_queues(s_ns(ns), port);
}

static char *s_history(const char *ns, int port, const char *queue, long from, long to,
                       double *events)
{
    return netns_history(s_ns(ns), port, queue, from, to, events);
}

/* ---- national freshness: lag per series from /metrics ------------------------------- */

typedef struct {
    char key[24];   /* "250401/northbound" */
    double lag;
} lag_t;

static int s_national_lags(lag_t *out, int max)
{
    char *text = s_get("nat", 8080, "/metrics");
    if (!text)
        return -1;
    int n = 0;
    const char *tag = "poenet_agent_lag_seconds{crossing=\"";
    for (char *p = strstr(text, tag); p && n < max; p = strstr(p + 1, tag)) {
        char crossing[8], dir[16];
        double v;
        if (sscanf(p + strlen(tag), "%7[0-9]\",direction=\"%15[a-z]\"} %lf", crossing, dir, &v) == 3) {
            snprintf(out[n].key, sizeof out[n].key, "%s/%s", crossing, dir);
            out[n++].lag = v;
        }
    }
    free(text);
    for (int i = 0; i < n; i++) {
        if (s_nall < MAX_LAGS)
            s_lags_all[s_nall++] = out[i].lag;
        if (!s_fault_on && s_nquiet < MAX_LAGS)
            s_lags_quiet[s_nquiet++] = out[i].lag;
    }
    return n;
}

static int s_national_lags_sample(void)
{
    static lag_t lags[MAX_SERIES];
    return s_national_lags(lags, MAX_SERIES);
}

/* The region of a series key, "" when not ours. */
static const char *s_region_of(const char *key)
{
    for (int i = 0; i < s_nagents; i++) {
        char k[24];
        snprintf(k, sizeof k, "%.6s/%s", s_agents[i] + 6, s_agents[i] + 13);
        if (strcmp(k, key) == 0)
            return s_agent_region[i];
    }
    return "";
}

/* Which series a fault hits: all (NULL), one region ("r2"), or a list of
 * agents (names "agent-C-D", comma-separated, starting with "agent-"). */
static bool s_in_scope(const char *key, const char *scope)
{
    if (!scope)
        return true;
    if (scope[0] == 'r')
        return strcmp(s_region_of(key), scope) == 0;
    char needle[40];
    snprintf(needle, sizeof needle, "agent-%.6s-%s", key, key + 7);
    return strstr(scope, needle) != NULL;
}

/* The series the national collector had data for once warm: each must
 * come back after every fault. */
static char s_baseline[MAX_SERIES][24];
static int s_nbaseline;

/* Healed: every baseline series of the scope has, at the national
 * collector, a newest sample that ended after `since` (the repair): data
 * produced after the repair went all the way through. Seconds from since,
 * or -1 after HEAL_MAX_S. With since = 0 (warm-up): every series that has
 * data is under HEAL_LAG_S; those become the baseline. */
static double s_wait_heal(const char *scope, double since)
{
    static lag_t lags[MAX_SERIES];
    double start = s_now();
    while (s_now() - start < HEAL_MAX_S) {
        int n = s_national_lags(lags, MAX_SERIES);
        bool healed = n > 0;
        if (since == 0) {
            for (int i = 0; i < n && healed; i++)
                healed = lags[i].lag < HEAL_LAG_S;
            if (healed && n >= s_nbaseline) { /* stable: no series still to come */
                s_nbaseline = n;
                for (int i = 0; i < n; i++)
                    memcpy(s_baseline[i], lags[i].key, sizeof s_baseline[i]);
                if (s_now() - start > 15)
                    return s_now() - start;
            }
        } else {
            double need = s_now() - since; /* the lag a sample ending at `since` has now */
            for (int b = 0; b < s_nbaseline && healed; b++) {
                if (!s_in_scope(s_baseline[b], scope))
                    continue;
                bool fresh = false;
                for (int i = 0; i < n && !fresh; i++)
                    fresh = strcmp(lags[i].key, s_baseline[b]) == 0 && lags[i].lag < need;
                healed = fresh;
            }
            if (healed)
                return s_now() - since;
        }
        bool was = s_sampling;
        s_sampling = false; /* this loop samples already */
        s_sleep(1.0);
        s_sampling = was;
    }
    return -1;
}

/* ---- the faults ----------------------------------------------------------------- */

typedef struct {
    char what[120];
    double down_s, heal_s;
} fault_t;

static fault_t s_faults[16];
static int s_nfaults;

static void s_fault_done(const char *what, double down_s, const char *scope, double restored)
{
    fault_t *f = &s_faults[s_nfaults++];
    snprintf(f->what, sizeof f->what, "%s", what);
    f->down_s = down_s;
    int in_scope = 0;
    for (int b = 0; b < s_nbaseline; b++)
        in_scope += s_in_scope(s_baseline[b], scope);
    f->heal_s = in_scope ? s_wait_heal(scope, restored) : -2;
    if (!in_scope) {
        printf("  %-58s no series with data in its scope: not timed\n", what);
        s_fault_on = false;
        return;
    }
    s_fault_on = false; /* "quiet" freshness samples start once healed */
    printf("  %-58s down %5.1f s, national healed in %s%.1f s\n", what, down_s,
           f->heal_s < 0 ? "MORE THAN " : "", f->heal_s < 0 ? (double)HEAL_MAX_S : f->heal_s);
    if (f->heal_s < 0)
        s_failures++;
}

/* kill -9 one process, keep it down hold_s, start it again. */
static void s_kill_restart(const char *name, const char *scope, double hold_s)
{
    char what[120];
    snprintf(what, sizeof what, "kill -9 %s", name);
    double t0 = s_now();
    s_fault_on = true;
    if (s_net_cmd("kill", name) != 0)
        s_check(false, "%s", what); /* started again all the same */
    s_sleep(hold_s);
    if (s_net_cmd("start", name) != 0)
        s_check(false, "restart %s", name);
    s_fault_done(what, s_now() - t0, scope, s_now());
}

static void s_kill_agents(int n, double hold_s)
{
    char scope[400] = "", names[400] = "";
    for (int i = 0; i < n; i++) {
        const char *a = s_agents[rand() % s_nagents];
        if (strstr(scope, a))
            continue;
        strcat(scope, a);
        strcat(scope, ",");
        strcat(names, i ? ", " : "");
        strcat(names, a + 6);
    }
    double t0 = s_now();
    s_fault_on = true;
    char copy[400];
    snprintf(copy, sizeof copy, "%s", scope);
    for (char *save = NULL, *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save))
        s_net_cmd("kill", a);
    s_sleep(hold_s);
    snprintf(copy, sizeof copy, "%s", scope);
    for (char *save = NULL, *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save))
        if (s_net_cmd("start", a) != 0)
            s_check(false, "restart %s", a);
    char what[120];
    snprintf(what, sizeof what, "kill -9 agents %s", names);
    s_fault_done(what, s_now() - t0, scope, s_now());
}

static void s_partition(const char *region, const char *netem_region, double hold_s)
{
    char args[64];
    double t0 = s_now();
    s_fault_on = true;
    snprintf(args, sizeof args, "%s on", region);
    if (s_net_cmd("partition", args) != 0)
        s_check(false, "partition %s", region);
    bool netem = false;
    snprintf(args, sizeof args, "%s loss 10%% delay 100ms 20ms 2>/dev/null", netem_region);
    if (s_net_cmd("netem", args) == 0)
        netem = true;
    else
        printf("  (tc netem unavailable: this kernel has no sch_netem; loss/delay skipped)\n");
    s_sleep(hold_s);
    snprintf(args, sizeof args, "%s off", region);
    if (s_net_cmd("partition", args) != 0)
        s_check(false, "heal partition %s", region);
    char what[120];
    snprintf(what, sizeof what, "partition %s from the national%s", region,
             netem ? " (+ netem loss 10% delay 100 ms on r1)" : "");
    s_fault_done(what, s_now() - t0, region, s_now());
    if (netem) {
        snprintf(args, sizeof args, "%s off", netem_region);
        s_net_cmd("netem", args);
    }
}

static double s_national_metric(const char *sample)
{
    return s_metric("nat", sample);
}

/* Bad input: the national collector stops allowing r2's key (its entry
 * removed from the allowlist, SIGHUP), for hold_s. r2's messages must be
 * refused and counted (unauthorized on the open connections, handshakes
 * denied on new ones) while r1 and r3 stay fresh; once allowed again, r2
 * heals from its relay spools with nothing lost (the end checks). */
static void s_revoke_region(double hold_s)
{
    char allow[700];
    snprintf(allow, sizeof allow, "%s/keys/national-allow.conf", s_dir);
    double unauth0 = s_national_metric("poenet_rejected_total{reason=\"unauthorized\"}");
    double denied0 = s_national_metric("poenet_handshake_denied_total");
    double t0 = s_now();
    s_fault_on = true;
    if (s_sh("cp '%s' '%s.orig' && sed -i '/keys\\/r2\\.pub/d' '%s' && "
             "kill -HUP $(cat '%s/pids/national')", allow, allow, allow, s_dir) != 0)
        s_check(false, "revoke r2's key at the national collector");
    s_sleep(hold_s);
    static lag_t lags[MAX_SERIES];
    int n = s_national_lags(lags, MAX_SERIES);
    double worst_other = 0, best_r2 = 1e9;
    for (int i = 0; i < n; i++) {
        const char *r = s_region_of(lags[i].key);
        if (strcmp(r, "r2") == 0)
            best_r2 = lags[i].lag < best_r2 ? lags[i].lag : best_r2;
        else if (lags[i].lag > worst_other)
            worst_other = lags[i].lag;
    }
    double unauth = s_national_metric("poenet_rejected_total{reason=\"unauthorized\"}") - unauth0;
    double denied = s_national_metric("poenet_handshake_denied_total") - denied0;
    s_check(unauth + denied > 0,
            "revoked region r2 refused and counted: %.0f messages unauthorized, %.0f handshakes "
            "denied in %.0f s", unauth, denied, hold_s);
    s_check(worst_other < HEAL_LAG_S,
            "the rest carries on: r1 and r3 at most %.1f s behind at the national meanwhile",
            worst_other);
    if (best_r2 < 1e9)
        s_check(best_r2 > hold_s - 10, "r2's series stopped at the national (freshest %.1f s old)",
                best_r2);
    if (s_sh("mv '%s.orig' '%s' && kill -HUP $(cat '%s/pids/national')", allow, allow, s_dir) != 0)
        s_check(false, "allow r2's key again");
    s_fault_done("r2's key revoked at the national, then allowed again", s_now() - t0, "r2",
                 s_now());
}

/* ---- bad input ------------------------------------------------------------------ */

/* Crossings whose series the national refuses by design in this stage: the
 * union check leaves their queues out of the regions' side. */
static char s_refused_crossings[4][8];
static int s_nrefused;

/* The region owning a crossing in the national allowlist (network.sh's
 * $DIR/owner), "" when unknown. */
static const char *s_owner_of(const char *crossing)
{
    static char region[8];
    char path[700], id[8], r[8];
    snprintf(path, sizeof path, "%s/owner", s_dir);
    FILE *f = fopen(path, "r");
    region[0] = '\0';
    while (f && fscanf(f, "%7s %7s", id, r) == 2)
        if (strcmp(id, crossing) == 0)
            snprintf(region, sizeof region, "%s", r);
    if (f)
        fclose(f);
    return region;
}

static bool s_running(const char *crossing)
{
    for (int i = 0; i < s_nagents; i++)
        if (strncmp(s_agents[i] + 6, crossing, 6) == 0)
            return true;
    return false;
}

/* A crossing of the registry owned by region, not run by the network, with
 * passenger lanes; "" when none. */
static const char *s_idle_crossing(const char *region, int skip)
{
    static char found[8];
    char path[700], line[256], id[8];
    snprintf(path, sizeof path, "%s/crossings", s_dir);
    FILE *f = fopen(path, "r");
    found[0] = '\0';
    int p = 0;
    while (f && !found[0] && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%7s %*s %*s %d", id, &p) == 2 && p > 0 &&
            strcmp(s_owner_of(id), region) == 0 && !s_running(id) && skip-- <= 0)
            snprintf(found, sizeof found, "%s", id);
    }
    if (f)
        fclose(f);
    return found;
}

/* The worst national lag of the baseline series outside region (NULL:
 * all), sampled now: the rest of the network carrying on. */
static double s_worst_lag_except(const char *region)
{
    static lag_t lags[MAX_SERIES];
    int n = s_national_lags(lags, MAX_SERIES);
    double worst = n > 0 ? 0 : 1e9;
    for (int i = 0; i < n; i++)
        if ((!region || strcmp(s_region_of(lags[i].key), region) != 0) && lags[i].lag > worst)
            worst = lags[i].lag;
    return worst;
}

/* Has the national collector any queue with data for crossing? */
static bool s_national_has(const char *crossing)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/crossings/%s", crossing);
    json_t *j = s_get_json("nat", 8080, path);
    bool data = false;
    size_t i, k;
    json_t *d, *q;
    json_array_foreach(json_object_get(json_array_get(json_object_get(j, "crossings"), 0),
                                       "directions"), i, d)
        json_array_foreach(json_object_get(d, "queues"), k, q) {
            json_t *u = json_object_get(q, "updated");
            data = data || (u && !json_is_null(u));
        }
    json_decref(j);
    return data;
}

/* Wait (bounded) until metric `sample` of collector ns is above base. */
static double s_wait_metric(const char *ns, const char *sample, double base, double max_s)
{
    double t0 = s_now(), v = s_metric(ns, sample);
    while (v <= base && s_now() - t0 < max_s) {
        s_sleep(1);
        v = s_metric(ns, sample);
    }
    return v;
}

/* r2 runs an agent of a crossing r1 owns (and the network does not run):
 * r2 archives and forwards it, the national refuses every batch as
 * not_owner and says so in its acks, r2's relay counts it. */
static void s_bad_not_owner(double hold_s)
{
    const char *c = s_idle_crossing("r1", 0);
    if (!c[0]) {
        printf("  (no idle crossing of r1 in the registry: not_owner skipped)\n");
        return;
    }
    char cross[8], args[128], stray[40];
    snprintf(cross, sizeof cross, "%s", c);
    snprintf(s_refused_crossings[s_nrefused++], sizeof s_refused_crossings[0], "%s", cross);
    const char *nat = "poenet_rejected_total{reason=\"not_owner\"}";
    const char *up = "poenet_upstream_refused_samples_total{reason=\"not_owner\"}";
    double nat0 = s_metric("nat", nat), up0 = s_metric("r2", up);
    snprintf(args, sizeof args, "r2 %s northbound", cross);
    double t0 = s_now();
    if (s_net_cmd("stray", args) != 0)
        s_check(false, "start a stray agent of %s in r2", cross);
    double n = s_wait_metric("nat", nat, nat0, 60) - nat0;
    double u = s_wait_metric("r2", up, up0, 30) - up0;
    s_sleep(hold_s);
    n = s_metric("nat", nat) - nat0;
    u = s_metric("r2", up) - up0;
    double worst = s_worst_lag_except(NULL);
    s_check(n > 0, "r2 forwarding %s (r1's): refused as not_owner at the national, %.0f "
            "batches in %.0f s", cross, n, s_now() - t0);
    s_check(u > 0, "  and r2's relay told in the acks: upstream_refused{not_owner} %.0f samples", u);
    s_check(!s_national_has(cross), "  %s has no data at the national", cross);
    s_check(worst < HEAL_LAG_S, "  the rest carries on: every series at most %.1f s behind", worst);
    snprintf(stray, sizeof stray, "stray-%s-northbound", cross);
    s_net_cmd("kill", stray);
}

/* r2 runs a second agent of a series r1 runs: the national takes r1's copy
 * (the owner) and refuses r2's as second_source; r1's stays fresh. */
static void s_bad_second_source(double hold_s)
{
    const char *agent = NULL;
    for (int i = 0; i < s_nagents && !agent; i++)
        if (strcmp(s_agent_region[i], "r1") == 0)
            agent = s_agents[i];
    if (!agent)
        return;
    char cross[8], dir[16], args[128], key[24], stray[48];
    snprintf(cross, sizeof cross, "%.6s", agent + 6);
    snprintf(dir, sizeof dir, "%s", agent + 13);
    snprintf(key, sizeof key, "%s/%s", cross, dir);
    const char *nat = "poenet_rejected_total{reason=\"second_source\"}";
    double nat0 = s_metric("nat", nat);
    snprintf(args, sizeof args, "r2 %s %s", cross, dir);
    double t0 = s_now();
    if (s_net_cmd("stray", args) != 0)
        s_check(false, "start a second agent of %s in r2", key);
    s_wait_metric("nat", nat, nat0, 60);
    s_sleep(hold_s);
    double n = s_metric("nat", nat) - nat0;
    static lag_t lags[MAX_SERIES];
    int m = s_national_lags(lags, MAX_SERIES);
    double own = 1e9;
    for (int i = 0; i < m; i++)
        if (strcmp(lags[i].key, key) == 0)
            own = lags[i].lag;
    s_check(n > 0, "the same series %s from r2 and r1: r2's copy refused as second_source, %.0f "
            "batches in %.0f s", key, n, s_now() - t0);
    s_check(own < HEAL_LAG_S, "  the owner's (r1) copy stays fresh: %.1f s behind", own);
    s_check(s_worst_lag_except(NULL) < HEAL_LAG_S, "  the rest carries on");
    snprintf(stray, sizeof stray, "stray-%s-%s", cross, dir);
    s_net_cmd("kill", stray);
}

/* An agent of r2 whose host clock runs 5 minutes ahead (--clock-offset:
 * the host clock is not touched): r2's clock-from-the-future rule refuses
 * its samples, counted, and the agent hears it in its acks. */
static void s_bad_clock(double hold_s)
{
    const char *c = s_idle_crossing("r2", 0);
    if (!c[0])
        return;
    char cross[8], args[160], stray[40], log[800];
    snprintf(cross, sizeof cross, "%s", c);
    const char *fut = "poenet_rejected_total{reason=\"future\"}";
    double f0 = s_metric("r2", fut);
    snprintf(args, sizeof args, "r2 %s southbound --clock-offset 300", cross);
    double t0 = s_now();
    if (s_net_cmd("stray", args) != 0)
        s_check(false, "start a skewed agent of %s in r2", cross);
    s_wait_metric("r2", fut, f0, 60);
    s_sleep(hold_s);
    double f = s_metric("r2", fut) - f0;
    snprintf(log, sizeof log, "%s/logs/stray-%s-southbound.log", s_dir, cross);
    bool alarm = s_sh("grep -q 'ALARM clock trouble' '%s'", log) == 0;
    s_check(f > 0, "an agent of r2 with its clock 300 s ahead: %.0f samples refused as future at "
            "r2 in %.0f s", f, s_now() - t0);
    s_check(alarm, "  the agent raised its clock ALARM (log %s)", log);
    s_check(!s_national_has(cross), "  nothing of %s reached the national", cross);
    s_check(s_worst_lag_except(NULL) < HEAL_LAG_S, "  the rest carries on");
    snprintf(stray, sizeof stray, "stray-%s-southbound", cross);
    s_net_cmd("kill", stray);
}

/* ---- end checks ------------------------------------------------------------------- */

/* Every queue of every region: region == witness, national == region,
 * minute by minute over (from, to]. Polls until equal or 120 s. */
static void s_check_archives(long from, long to, double *events_out)
{
    static const char *regions[REGIONS] = { "r1", "r2", "r3" };
    double t0 = s_now();
    for (int pass = 0;; pass++) {
        int series = 0, bad_region = 0, bad_national = 0;
        double events = 0;
        char first[600] = "";
        for (int r = 0; r < REGIONS; r++) {
            char *qs = s_queues(regions[r], 8180); /* the witness */
            if (!qs)
                continue;
            char *save = NULL;
            for (char *q = strtok_r(qs, "\n", &save); q; q = strtok_r(NULL, "\n", &save)) {
                char *w = s_history(regions[r], 8180, q, from, to, &events);
                char *g = s_history(regions[r], 8080, q, from, to, NULL);
                char *n = s_history("nat", 8080, q, from, to, NULL);
                series++;
                if (!w || !g || strcmp(w, g) != 0) {
                    if (!bad_region++ && !first[0])
                        snprintf(first, sizeof first, "%s %s: region %.200s | witness %.200s",
                                 regions[r], q, g ? g : "(none)", w ? w : "(none)");
                }
                if (!g || !n || strcmp(g, n) != 0) {
                    if (!bad_national++ && !first[0])
                        snprintf(first, sizeof first, "%s %s: national %.200s | region %.200s",
                                 regions[r], q, n ? n : "(none)", g ? g : "(none)");
                }
                free(w);
                free(g);
                free(n);
            }
            free(qs);
        }
        if ((bad_region == 0 && bad_national == 0 && series > 0) || s_now() - t0 > 120) {
            s_check(series > 0 && bad_region == 0,
                    "exactly once: %d series, each region's archive equals its witness minute by "
                    "minute (%ld minutes; %d differ)", series, (to - from) / 60, bad_region);
            s_check(series > 0 && bad_national == 0,
                    "national archive equals the region's minute by minute (%d differ)%s%s",
                    bad_national, first[0] ? "; first: " : "", first);
            s_check(events > 0, "the compared minutes hold data (%.0f arrivals + departures)", events);
            *events_out = events;
            return;
        }
        s_sleep(5);
    }
}

static void s_check_union(void)
{
    double t0 = s_now();
    for (;;) {
        char *parts[REGIONS] = { s_queues("r1", 8080), s_queues("r2", 8080), s_queues("r3", 8080) };
        char *uni = netns_union(parts, REGIONS, s_refused_crossings, s_nrefused);
        char *nat = s_queues("nat", 8080);
        bool same = nat && strcmp(uni, nat) == 0;
        int lines = 0;
        for (char *p = uni; *p; p++)
            lines += *p == '\n';
        if (same || s_now() - t0 > 30) {
            s_check(same, "national /v1/crossings = union of the regions' (%d queues with data; "
                    "%d crossing(s) refused by design left out)", lines, s_nrefused);
            if (!same)
                printf("    union:\n%.600s\n    national:\n%.600s\n", uni, nat ? nat : "(none)");
        }
        for (int i = 0; i < REGIONS; i++)
            free(parts[i]);
        free(uni);
        free(nat);
        if (same || s_now() - t0 > 30)
            return;
        s_sleep(2);
    }
}

/* ---- figures -------------------------------------------------------------------------- */

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double s_pct(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, s_cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static long s_rss_kb(const char *name)
{
    char path[800], line[256];
    snprintf(path, sizeof path, "%s/pids/%s", s_dir, name);
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (!f || fscanf(f, "%d", &pid) != 1)
        pid = 0;
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = pid ? fopen(path, "r") : NULL;
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void s_memory(void)
{
    printf("memory (RSS):\n");
    const char *daemons[] = { "national", "national-rrd", "r1", "r1-rrd", "r2", "r2-rrd", "r3",
                              "r3-rrd" };
    for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++)
        printf("  %-13s %6.1f MB\n", daemons[i], s_rss_kb(daemons[i]) / 1024.0);
    long sum = 0, max = 0;
    int n = 0;
    for (int i = 0; i < s_nagents; i++) {
        long kb = s_rss_kb(s_agents[i]);
        if (kb > 0) {
            sum += kb;
            n++;
            max = kb > max ? kb : max;
        }
    }
    printf("  agents        %6.1f MB mean, %.1f MB max (%d)\n", n ? sum / 1024.0 / n : 0.0,
           max / 1024.0, n);
}

/* ---- setup ------------------------------------------------------------------------------ */

static int s_read_env(void)
{
    char path[700], line[128];
    snprintf(path, sizeof path, "%s/env", s_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "P=%31s", s_prefix);
        sscanf(line, "NET=%31s", s_net);
    }
    fclose(f);
    snprintf(path, sizeof path, "ls '%s/region'", s_dir);
    FILE *p = popen(path, "r");
    while (p && s_nagents < MAX_AGENTS && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(s_agents[s_nagents], sizeof s_agents[0], "%.39s", line);
        char rp[800];
        snprintf(rp, sizeof rp, "%s/region/%s", s_dir, line);
        FILE *r = fopen(rp, "r");
        if (r && fscanf(r, "%3s", s_agent_region[s_nagents]) == 1)
            s_nagents++;
        if (r)
            fclose(r);
    }
    if (p)
        pclose(p);
    return s_prefix[0] && s_nagents > 0 ? 0 : -1;
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "network: needs root (network namespaces); skipped\n");
        return 77;
    }
    const char *src = getenv("POE_SRC");
    if (src)
        snprintf(s_src, sizeof s_src, "%s", src);
    else if (!getcwd(s_src, sizeof s_src))
        return 2;
    char *tmp = proc_tmpdir();
    snprintf(s_dir, sizeof s_dir, "%s/net", tmp);
    s_lags_all = malloc(MAX_LAGS * sizeof(double));
    s_lags_quiet = malloc(MAX_LAGS * sizeof(double));
    setvbuf(stdout, NULL, _IOLBF, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    srand((unsigned)time(NULL));
    double partition_s = getenv("PARTITION_S") ? atof(getenv("PARTITION_S")) : 60;
    double hold_s = getenv("HOLD_S") ? atof(getenv("HOLD_S")) : 5;
    setenv("NETWORK_WITNESS", "1", 1);
    if (!getenv("NETWORK_CROSSINGS"))
        setenv("NETWORK_CROSSINGS", "12", 1);

    double t_start = s_now();
    printf("network: up (NETWORK_CROSSINGS=%s, witnesses on)\n", getenv("NETWORK_CROSSINGS"));
    if (s_sh("'%s/deploy/network.sh' up '%s'", s_src, s_dir) != 0 || s_read_env() != 0) {
        fprintf(stderr, "network: could not build the network (logs in %s/logs)\n", s_dir);
        s_net_cmd("down", NULL);
        return 1;
    }
    /* Rows are compared from the minute the agents started in: a partial
     * first minute is the same partial minute in every archive. */
    long from = ((long)t_start / 60) * 60;
    printf("network: %d agents; warming up\n", s_nagents);
    double warm = s_wait_heal(NULL, 0);
    printf("  %d series at the national collector, each within %.0f s of lag, after %.1f s\n",
           s_nbaseline, HEAL_LAG_S, warm);
    s_sampling = true;

    printf("faults:\n");
    s_kill_restart("r1", "r1", hold_s);
    s_kill_restart("national", NULL, hold_s);
    s_kill_restart("r2-rrd", "r2", hold_s);
    s_kill_agents(3, 2);
    s_kill_restart("r3", "r3", hold_s);
    s_partition("r3", "r1", partition_s);

    /* Bad input, each refused with its reason counted while the rest
     * carries on (docs/operations.md, "The network bench"). */
    printf("bad input:\n");
    double bad_s = getenv("BAD_S") ? atof(getenv("BAD_S")) : 10;
    s_bad_not_owner(bad_s);
    s_bad_second_source(bad_s);
    s_bad_clock(bad_s);
    s_revoke_region(getenv("REVOKE_S") ? atof(getenv("REVOKE_S")) : 20);

    /* Up to the end of the minute running now: wait for it to end and for
     * its last intervals to close (1 s grace) and travel (seconds). */
    long to = ((long)s_now() / 60 + 1) * 60;
    s_sleep((double)to + 15 - s_now());
    printf("end checks (minutes %ld..%ld):\n", from, to);
    double events = 0;
    s_check_archives(from, to, &events);
    s_check_union();
    static lag_t lags[MAX_SERIES];
    s_national_lags(lags, MAX_SERIES);
    s_memory();

    int down = s_net_cmd("down", NULL);
    s_check(down == 0, "no process left in the namespaces after the stop");

    printf("figures:\n");
    printf("  events compared (arrivals + departures, witness)   %.0f\n", events);
    printf("  agents %d, faults injected %d, run %.0f s\n", s_nagents, s_nfaults,
           s_now() - t_start);
    size_t nq = s_nquiet, na = s_nall;
    printf("  national freshness (lag per series, 1-s samples):  p50 %.1f s, p99 %.1f s quiet "
           "(%zu samples); p50 %.1f s, p99 %.1f s overall (%zu)\n",
           s_pct(s_lags_quiet, nq, 0.5), s_pct(s_lags_quiet, nq, 0.99), nq,
           s_pct(s_lags_all, na, 0.5), s_pct(s_lags_all, na, 0.99), na);
    printf("network: %s\n", s_failures ? "FAILED" : "all checks passed");
    if (getenv("NETWORK_KEEP"))
        printf("network: kept %s\n", tmp);
    else
        proc_rm_rf(tmp);
    free(tmp);
    free(s_lags_all);
    free(s_lags_quiet);
    return s_failures ? 1 : 0;
}
