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
    s_header(out, sc, o);
    model_sink_t sink = sens_sink(sens);
    if (model_run(m, &sink) != 0 || sens_status(sens) != 0) {
        log_error("out of memory while simulating");
        goto done;
    }
    if (out_write_events(out, o->events) != 0 || out_write_truth(m, sc, o->truth) != 0 ||
        (o->plan_out && s_write_plan(sc, sched, o->plan_out) != 0))
        goto done;
    log_info("%s: %zu vehicles, %zu sensor events -> %s, truth -> %s", sc->name,
             model_vehicles(m), out_count(out), o->events, o->truth);
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
                     .hours = -1, .tag_share = -1, .entry_miss = -1 };
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
