/* scenario — see scenario.h. The numbers are chosen so each scenario
 * stresses one thing; docs/accuracy.md describes them. */
#include "scenario.h"

#include <string.h>

#define ST SCEN_STAFFING
#define STAFF24 { ST, ST, ST, ST, ST, ST, ST, ST, ST, ST, ST, ST, \
                  ST, ST, ST, ST, ST, ST, ST, ST, ST, ST, ST, ST }

/* Counting sensors as commonly installed: loops or cameras at the queue
 * entry miss ~1% and double count ~0.5%; booth counters are better. */
#define COUNTS_MISS(m) .entry_miss = (m), .entry_double = 0.005, .booth_miss = 0.002, \
                       .booth_double = 0.002
#define COUNTS COUNTS_MISS(0.01)
/* RFID re-identification: a third of the cars carry a readable card. */
#define TAGS .tag_share = 0.35, .read_entry = 0.92, .read_booth = 0.97, .booth_skew_s = 2.0

/* San Ysidro northbound in a morning rush: demand above capacity from
 * 4 am, waits past 90 minutes by mid-morning, cleared in the afternoon.
 * Every booth is staffed through the rush (as the port does); lanes change
 * at shift boundaries. */
#define PEAK_QUEUES                                                                       \
    .nq = 3,                                                                              \
    .q = {                                                                                \
        { TAX_PASSENGER, TAX_STANDARD, 26, 75.0, 0.3, 1770.0, "commute",                  \
          { 8, 8, 8, 12, 20, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 22, 22, 18, 18,   \
            14, 12, 10, 8 }, { 0 } },                                                     \
        { TAX_PASSENGER, TAX_READY, 8, 55.0, 0.3, 560.0, "commute",                       \
          { 3, 3, 3, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 6, 6, 5, 5, 4, 4, 3, 3 }, { 0 } }, \
        { TAX_PASSENGER, TAX_NEXUS_SENTRI, 6, 25.0, 0.3, 700.0, "commute",                \
          { 2, 2, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 3, 3, 3, 2, 2, 2 }, { 0 } }, \
    }

/* Four weeks at Nogales-Deconcini (Arizona: no daylight saving to shift
 * the local week) for the forecast's harness (docs/forecast.md): weekdays
 * differ (Friday and Sunday busiest), every day varies, Wednesday of the
 * third week is a holiday (a flat day at 80% of a weekday's peak; not in
 * the registry), Saturday of the third week loses 3 lanes 15:00-17:00; standard lanes are
 * staffed reactively, Ready lanes follow the port's published plan. The
 * standard lanes stay within the registry's 8 passenger lanes (the
 * collector refuses more), demand scaled to them. */
#define WEEKS_QUEUES                                                                     \
    .nq = 2,                                                                             \
    .q = {                                                                               \
        { TAX_PASSENGER, TAX_STANDARD, 8, 75.0, 0.3, 384.0, "commute", STAFF24,          \
          { .min_lanes = 3, .max_lanes = 8, .open_above_s = 900, .close_below_s = 240,   \
            .delay_s = 600 } },                                                          \
        { TAX_PASSENGER, TAX_READY, 4, 55.0, 0.3, 200.0, "commute",                      \
          { 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2 }, { 0 } }, \
    }
#define WEEKS_VARIATION                                                                  \
    .weeks = { .weekday = { 1.0, 0.9, 0.9, 0.95, 1.15, 0.85, 1.1 }, .day_noise = 0.08,    \
               .holiday_day = 17, .holiday_profile = "flat", .holiday_factor = 0.8 }

static const scen_t s_builtin[] = {
    { .name = "steady-light", .about = "Otay Mesa, light steady traffic, fixed lanes, queue detector",
      .crossing = "250601", .direction = "northbound", .start_h = 8, .hours = 12,
      .demand_noise = 0.08, .nq = 2,
      .q = { { TAX_PASSENGER, TAX_STANDARD, 10, 75.0, 0.3, 250.0, "flat",
               { 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6 }, { 0 } },
             { TAX_PASSENGER, TAX_READY, 3, 55.0, 0.3, 100.0, "flat",
               { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 }, { 0 } } },
      .s = { COUNTS, TAGS, .queue_detector = true, .qdet_every_s = 30, .qdet_noise = 0.10 } },

    { .name = "peak", .about = "San Ysidro-like morning rush, waits rising past 90 min and falling",
      .crossing = "250401", .direction = "northbound", .start_h = 0, .hours = 24,
      .demand_noise = 0.06, PEAK_QUEUES, .s = { COUNTS, TAGS, .qdet_every_s = 30 } },

    { .name = "lane-closure-surge",
      .about = "Otay Mesa, 3 of the open lanes close for 90 min while demand surges 40%; staffing reacts after 15 min",
      .crossing = "250601", .direction = "northbound", .start_h = 6, .hours = 10,
      .demand_noise = 0.08, .nq = 2,
      .q = { { TAX_PASSENGER, TAX_STANDARD, 10, 75.0, 0.3, 330.0, "flat", STAFF24,
               { .min_lanes = 5, .max_lanes = 10, .open_above_s = 1200, .close_below_s = 240,
                 .delay_s = 900 } },
             { TAX_PASSENGER, TAX_READY, 3, 55.0, 0.3, 110.0, "flat",
               { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 }, { 0 } } },
      .s = { COUNTS, TAGS, .queue_detector = true, .qdet_every_s = 30, .qdet_noise = 0.10 },
      .incident = { .at_h = 3.0, .for_h = 1.5, .queue = 0, .lanes_closed = 3,
                    .demand_factor = 1.4 } },

    { .name = "detector-drift", .about = "peak traffic; the queue-entry detector undercounts 5%",
      .crossing = "250401", .direction = "northbound", .start_h = 0, .hours = 24,
      .demand_noise = 0.06, PEAK_QUEUES,
      .s = { COUNTS_MISS(0.055), TAGS, .qdet_every_s = 30 } },

    { .name = "reader-outage", .about = "peak traffic; the booth tag reader is down 05:00-09:00, in the rush",
      .crossing = "250401", .direction = "northbound", .start_h = 0, .hours = 24,
      .demand_noise = 0.06, PEAK_QUEUES,
      .s = { COUNTS, TAGS, .qdet_every_s = 30, .reader_outage_h = { 5.0, 9.0 } } },

    { .name = "no-tags", .about = "peak traffic with no re-identification at all: counts only",
      .crossing = "250401", .direction = "northbound", .start_h = 0, .hours = 24,
      .demand_noise = 0.06, PEAK_QUEUES, .s = { COUNTS, .qdet_every_s = 30 } },

    { .name = "pedestrian", .about = "San Ysidro pedestrians: 30 s / 18 s service, morning rush, queue cameras",
      .crossing = "250401", .direction = "northbound", .start_h = 0, .hours = 24,
      .demand_noise = 0.08, .nq = 2,
      .q = { { TAX_PEDESTRIAN, TAX_STANDARD, 16, 30.0, 0.4, 2300.0, "walkers",
               { 4, 4, 4, 6, 10, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 12, 12, 10, 10,
                 8, 6, 6, 4 }, { 0 } },
             { TAX_PEDESTRIAN, TAX_READY, 6, 18.0, 0.4, 900.0, "walkers",
               { 2, 2, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 3, 3, 3, 2, 2, 2 }, { 0 } } },
      .s = { COUNTS, .tag_share = 0.2, .read_entry = 0.9, .read_booth = 0.95, .booth_skew_s = 1.0,
             .queue_detector = true, .qdet_every_s = 30, .qdet_noise = 0.15 } },

    { .name = "commercial-fast", .about = "Otay Mesa commercial: trucks (~2 min) and FAST lanes, transponders",
      .crossing = "250602", .direction = "northbound", .start_h = 0, .hours = 20,
      .demand_noise = 0.08, .nq = 2,
      .q = { { TAX_COMMERCIAL, TAX_STANDARD, 7, 120.0, 0.5, 200.0, "trucks",
               { 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 4, 2, 1, 1, 1, 1 }, { 0 } },
             { TAX_COMMERCIAL, TAX_FAST, 3, 70.0, 0.4, 140.0, "trucks",
               { 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 1, 1, 1, 1, 1 }, { 0 } } },
      .s = { COUNTS, .tag_share = 0.7, .read_entry = 0.95, .read_booth = 0.98, .booth_skew_s = 3.0,
             .qdet_every_s = 30 } },

    { .name = "weeks", .about = "Nogales, 4 weeks: weekdays differ, daily variation, a holiday, an incident, reactive staffing, a lane plan",
      .crossing = "260401", .direction = "northbound", .start_h = 0, .hours = 4 * 168,
      .demand_noise = 0.06, WEEKS_QUEUES, WEEKS_VARIATION,
      .s = { COUNTS, TAGS, .qdet_every_s = 30 },
      .incident = { .at_h = 19 * 24 + 15, .for_h = 2.0, .queue = 0, .lanes_closed = 3,
                    .demand_factor = 1.0 } },

    { .name = "weeks-short", .about = "Nogales, 8 days of light traffic: the forecast's integration test",
      .crossing = "260401", .direction = "northbound", .start_h = 0, .hours = 8 * 24,
      .demand_noise = 0.06, .nq = 1,
      .q = { { TAX_PASSENGER, TAX_STANDARD, 6, 75.0, 0.3, 180.0, "commute",
               { 2, 2, 2, 2, 3, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2 }, { 0 } } },
      .weeks = { .weekday = { 1.0, 0.9, 0.9, 0.95, 1.15, 0.85, 1.1 }, .day_noise = 0.08 },
      .s = { COUNTS, .qdet_every_s = 30 } },
};

int scen_count(void) { return (int)(sizeof s_builtin / sizeof s_builtin[0]); }

const scen_t *scen_at(int i) { return i >= 0 && i < scen_count() ? &s_builtin[i] : NULL; }

int scen_find(const char *name, scen_t *out)
{
    for (int i = 0; i < scen_count(); i++)
        if (strcmp(s_builtin[i].name, name) == 0) {
            *out = s_builtin[i];
            return 0;
        }
    return -1;
}
