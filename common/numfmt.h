/* numfmt — numbers into text without printf, for the hot paths.
 *
 * The collector writes every sample into an rrdcached UPDATE line: at
 * hundreds of thousands of samples a second, printf's format parsing and
 * its exact binary-to-decimal conversion of doubles (%g) were a fifth of
 * the ingest's time (docs/performance.md 1d). These write the same text
 * rrdcached reads back (strtod/strtoul) with a fixed precision instead.
 * Each writes no terminating NUL and returns the number of bytes written. */
#ifndef POE_NUMFMT_H
#define POE_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Longest output of numfmt_i64 and numfmt_fixed9. */
#define NUMFMT_MAX 32

/* v in decimal ("-12", "0"). */
size_t numfmt_i64(char *out, int64_t v);

/* v with at most 9 decimals, trailing zeros dropped ("12.5", "3", "-0.25");
 * "U" (RRD's unknown) when v is not finite or |v| >= 1e9, where 9 decimals
 * would not fit the integer arithmetic (no measured quantity gets there). */
size_t numfmt_fixed9(char *out, double v);

#endif
