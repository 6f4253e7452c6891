/* output — the reports as Markdown (for people) and CSV (for
 * spreadsheets): the ranked bottleneck table with lanes needed per hour of
 * the week, and the hours comparison of one crossing. Formatting only; the
 * figures come from bottleneck.c and hourswin.c. The Markdown's words,
 * numbers and dates come from the language of ctx->tx / h->tx (rtext.h);
 * the CSV is always English column names and plain numbers. Every writer
 * returns 0 or -1 (write error, logged once). */
#ifndef POE_REPORT_OUTPUT_H
#define POE_REPORT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "bottleneck.h"
#include "hourswin.h"
#include "registry.h"
#include "rtext.h"

typedef struct {
    int64_t from, to;
    double target_s;
    const registry_t *reg;       /* names; may be NULL */
    const rtext_t *tx;           /* the Markdown's language */
} out_bn_ctx_t;

int out_bn_markdown(FILE *f, const out_bn_ctx_t *ctx, const bn_result_t *r, size_t n);
/* One row per queue (ranked), and a second file with one row per queue and
 * hour of the week. */
int out_bn_csv(FILE *f, const out_bn_ctx_t *ctx, const bn_result_t *r, size_t n);
int out_bn_hourly_csv(FILE *f, const bn_result_t *r, size_t n);

/* The hours comparison of one mode of a crossing. */
typedef struct {
    enum tax_mode mode;
    char rules[2][400];          /* each side's posted rules as text, "unknown" */
    char observed[2][400];       /* each side's observed hours (learned from its lanes), "unknown (why)" */
    char obs_detail[2][160];     /* weeks, confidence, exceptions; "" when unknown */
    const char *source[2];       /* the hours compared: "posted", "observed" (posted unknown), "unknown" */
    /* The same facts as fields, for the Markdown's words (rules and
     * observed above are the CSV's English text). */
    bool rules_known[2], obs_known[2];
    int obs_weeks[2], obs_exc[2];
    double obs_conf[2];
    const char *obs_level[2];    /* "high", "medium", "low" */
    char obs_why[2][160];        /* the learner's own note (English), "" none */
    int open_min[2];             /* minutes per week each side is open (-1 unknown) */
    hw_span_t windows[64];
    int nwin, win_minutes;
    hw_span_t runs[2][32];       /* open stretches per side */
    int nruns[2];
    double demand_total[TAX_NDIRS];
    double both_open_share;      /* share of demand when both sides are open (NAN unknown) */
    bool sched[HW_HOURS];
    int sched_hours;
    double sched_share;
    char sched_text[600];
} out_hours_mode_t;

typedef struct {
    const reg_crossing_t *c;
    int64_t from, to, week_start;
    double share;
    out_hours_mode_t modes[TAX_NMODES];
    int nmodes;
    const rtext_t *tx;           /* the Markdown's language */
} out_hours_t;

int out_hours_markdown(FILE *f, const out_hours_t *h);
int out_hours_csv(FILE *f, const out_hours_t *h);

#endif
