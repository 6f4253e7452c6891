/* poe-sim — discrete-event simulator of one crossing direction with
 * ground truth, for measuring the estimator (docs/accuracy.md).
 *
 *   poe-sim --list
 *   poe-sim --scenario peak --seed 1 --events peak.txt --truth peak.truth
 *
 * Writes (1) the sensor event stream in the agent's input format
 * (docs/sensor-input.md) and (2) the truth, one line per vehicle:
 * `<arrive_ms> <depart_ms> <mode> <type> <lane_id>`. Seeded and
 * deterministic: the same options give byte-identical files. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "demand.h"
#include "log.h"
#include "model.h"
#include "output.h"
#include "scenario.h"
#include "sensors.h"
#include "wtab.h"

/* Monday 2026-03-02 00:00 UTC: the default simulated week. */
#define SIM_DEFAULT_WEEK_S 1772409600L

typedef struct {
    char *scenario, *events, *truth, *demand, *schedule, *plan_out, *log_level;
    char *open_hours, *closed_dates, *zone, *closed_arrivals;
    long seed, week_s;
    double hours, tag_share, entry_miss;
    bool list;
} sim_opts_t;

static void s_list(void)
{
    for (int i = 0; i < scen_count(); i++) {
        const scen_t *s = scen_at(i);
        printf("%-20s %s %-10s %5.1f h  %s\n", s->name, s->crossing, s->direction, s->hours,
               s->about);
    }
}

/* Command-line overrides of the built-in scenario; negative = keep. */
static int s_apply_overrides(scen_t *sc, const sim_opts_t *o)
{
    if (o->hours > 0)
        sc->hours = o->hours;
    if (o->tag_share >= 0)
        sc->s.tag_share = o->tag_share;
    if (o->entry_miss >= 0)
        sc->s.entry_miss = o->entry_miss;
    if (sc->s.tag_share > 1 || sc->s.entry_miss > 1) {
        log_error("--tag-share and --entry-miss are probabilities (0-1)");
        return -1;
    }
    return 0;
}

static void s_header(out_t *out, const scen_t *sc, const sim_opts_t *o)
{
    char line[256];
    snprintf(line, sizeof line, "poe-sim scenario=%s seed=%ld crossing=%s direction=%s hours=%.2f",
             sc->name, o->seed, sc->crossing, sc->direction, sc->hours);
    out_comment(out, line);
    out_comment(out, sc->about);
}

/* The port's lane plan as the collector reads it (--lane-plans): the
 * scheduled lanes of every queue that has a schedule, in the simulator's
 * clock (UTC, hour 0 = Monday 00:00 of the simulated week). Queues run by
 * the staffing rule have no plan, and incidents are not planned. */
static int s_write_plan(const scen_t *sc, const wtab_t *sched, const char *path)
{
    wtab_t *plan = wtab_new();
    if (!plan) {
        log_error("out of memory");
        return -1;
    }
    int nplanned = 0;
    for (int qi = 0; qi < sc->nq; qi++) {
        const scen_queue_t *q = &sc->q[qi];
        int k = tax_queue_index(q->mode, q->type);
        bool csv = sched && wtab_has(sched, k), planned = true;
        for (int h = 0; h < WTAB_HOURS && planned; h++) {
            int n = csv ? (int)wtab_get(sched, k, h) : q->schedule[h % 24];
            planned = n != SCEN_STAFFING;
            wtab_set(plan, k, h, n < q->booths ? n : q->booths);
        }
        if (!planned)
            wtab_clear(plan, k);
        nplanned += planned;
    }
    int rc = nplanned ? wtab_save(plan, path, "UTC") : 0; /* no plan, no file */
    wtab_destroy(&plan);
    return rc;
}

/* --open-hours "RULE;RULE", --closed-dates "12-25,11-thu#4" into h (every
 * mode). 0, or -1 after a message. */
static int s_parse_hours(const sim_opts_t *o, hours_side_t *h)
{
    memset(h, 0, sizeof *h);
    h->known = true;
    char buf[512], why[200];
    snprintf(buf, sizeof buf, "%s", o->open_hours);
    hours_mode_t hm = { 0 };
    for (char *save = NULL, *r = strtok_r(buf, ";", &save); r; r = strtok_r(NULL, ";", &save)) {
        while (*r == ' ')
            r++;
        if (hm.nrules == HOURS_MAX_RULES || hours_parse_rule(r, &hm.rules[hm.nrules], why, sizeof why) != 0) {
            log_error("--open-hours: %s", hm.nrules == HOURS_MAX_RULES ? "too many rules" : why);
            return -1;
        }
        hm.always = strcmp(r, "24h") == 0;
        hm.nrules++;
    }
    if (!hm.nrules) {
        log_error("--open-hours: no rule");
        return -1;
    }
    for (int m = 1; m <= TAX_NMODES; m++)
        h->mode[m] = hm;
    if (!o->closed_dates)
        return 0;
    snprintf(buf, sizeof buf, "%s", o->closed_dates);
    for (char *save = NULL, *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        if (h->nclosed == HOURS_MAX_CLOSED || hours_parse_closure(c, &h->closed[h->nclosed]) != 0) {
            log_error("--closed-dates: bad date '%s' (MM-DD or MM-DAY#N)", c);
            return -1;
        }
        h->nclosed++;
    }
    return 0;
}

static int s_run(const scen_t *sc, const sim_opts_t *o)
{
    int rc = -1;
    int64_t t0 = (int64_t)o->week_s * 1000;
    uint64_t seed = (uint64_t)o->seed;
    demand_t *demand = demand_new(sc, o->demand, seed);
    wtab_t *sched = o->schedule ? wtab_new() : NULL;
    out_t *out = out_new();
    sens_t *sens = out ? sens_new(sc, seed, t0 + (int64_t)llround(sc->start_h * 3.6e6), out) : NULL;
    model_t *m = demand ? model_new(sc, demand, sched, seed, t0) : NULL;
    if (!demand || !out || !sens || !m || (o->schedule && (!sched || wtab_load(sched, o->schedule))))
        goto done;
    hours_side_t hours;
    if (o->open_hours) {
        bool turn_away = strcmp(o->closed_arrivals, "turn-away") == 0;
        if (!turn_away && strcmp(o->closed_arrivals, "wait") != 0) {
            log_error("--closed-arrivals wants wait or turn-away");
            goto done;
        }
        if (s_parse_hours(o, &hours) != 0)
            goto done;
        model_set_hours(m, &hours, o->zone, turn_away);
    }
    s_header(out, sc, o);
    model_sink_t sink = sens_sink(sens);
    if (model_run(m, &sink) != 0 || sens_status(sens) != 0) {
        log_error("out of memory while simulating");
        goto done;
    }
    if (out_write_events(out, o->events) != 0 || out_write_truth(m, sc, o->truth) != 0 ||
        (o->plan_out && s_write_plan(sc, sched, o->plan_out) != 0))
        goto done;
    log_info("%s: %zu vehicles (%zu turned away while closed), %zu sensor events -> %s, truth -> %s",
             sc->name, model_vehicles(m), model_turned_away(m), out_count(out), o->events, o->truth);
    rc = 0;
done:
    model_destroy(&m);
    sens_destroy(&sens);
    out_destroy(&out);
    wtab_destroy(&sched);
    demand_destroy(&demand);
    return rc;
}

int main(int argc, char **argv)
{
    sim_opts_t o = { .seed = 1, .week_s = SIM_DEFAULT_WEEK_S, .log_level = "info",
                     .hours = -1, .tag_share = -1, .entry_miss = -1, .zone = "UTC",
                     .closed_arrivals = "wait" };
    const conf_opt_t opts[] = {
        { "list", CONF_FLAG, &o.list, NULL, "list the built-in scenarios and exit" },
        { "scenario", CONF_STR, &o.scenario, "NAME", "built-in scenario (see --list)" },
        { "seed", CONF_INT, &o.seed, "N", "random seed [1]" },
        { "week", CONF_INT, &o.week_s, "UNIX_S", "Monday 00:00 UTC of the simulated week [2026-03-02]" },
        { "events", CONF_STR, &o.events, "FILE", "sensor event stream to write" },
        { "truth", CONF_STR, &o.truth, "FILE", "truth to write (one line per vehicle)" },
        { "demand", CONF_STR, &o.demand, "CSV", "vehicles per hour of the week per queue" },
        { "schedule", CONF_STR, &o.schedule, "CSV", "lanes open per hour of the week per queue" },
        { "plan-out", CONF_STR, &o.plan_out, "FILE", "write the lane plan (scheduled lanes, for the collector's --lane-plans)" },
        { "hours", CONF_DOUBLE, &o.hours, "H", "arrivals for this many hours [scenario]" },
        { "tag-share", CONF_DOUBLE, &o.tag_share, "P", "share of vehicles with a tag [scenario]" },
        { "entry-miss", CONF_DOUBLE, &o.entry_miss, "P", "entry detector miss rate [scenario]" },
        { "open-hours", CONF_STR, &o.open_hours, "RULES", "hours of the side this direction enters, registry rules joined by ';' (\"mon-fri 08:00-22:00;sat,sun 09:00-18:00\"); closed: no lane open [always open]" },
        { "closed-dates", CONF_STR, &o.closed_dates, "DATES", "closure days of those hours, comma-separated (12-25,11-thu#4)" },
        { "zone", CONF_STR, &o.zone, "TZ", "the zone of --open-hours [UTC]" },
        { "closed-arrivals", CONF_STR, &o.closed_arrivals, "HOW", "arrivals while closed: wait (join the queue, served at the opening) or turn-away (never arrive) [wait]" },
        { "log-level", CONF_STR, &o.log_level, "LEVEL", "error|warn|info|debug [info]" },
    };
    int n = (int)(sizeof opts / sizeof opts[0]);
    log_init("poe-sim", LOG_LVL_INFO);
    int prc = conf_parse(opts, n, argc, argv, "poe-sim",
                         "Simulate one crossing direction: sensor events and ground truth.");
    enum log_level lvl;
    int rc = 2;
    if (prc == 0 && log_level_parse(o.log_level, &lvl) == 0)
        log_init("poe-sim", lvl);
    scen_t sc;
    if (prc != 0) {
        rc = prc > 0 ? 0 : 2;
    } else if (o.list) {
        s_list();
        rc = 0;
    } else if (!o.scenario || !o.events || !o.truth) {
        log_error("--scenario, --events and --truth are required (--list shows scenarios)");
    } else if (scen_find(o.scenario, &sc) != 0) {
        log_error("unknown scenario '%s' (--list shows them)", o.scenario);
    } else if (s_apply_overrides(&sc, &o) == 0) {
        rc = s_run(&sc, &o) == 0 ? 0 : 1;
    }
    conf_free(opts, n);
    return rc;
}
