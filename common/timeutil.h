/* timeutil — wall-clock and monotonic time in milliseconds, and ISO-8601.
 *
 * poenet works in event time (Unix epoch milliseconds stamped by sensors);
 * these helpers are the only place that reads the system clocks. */
#ifndef POE_TIMEUTIL_H
#define POE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Unix epoch milliseconds (CLOCK_REALTIME). */
int64_t tu_now_ms(void);

/* Milliseconds from an arbitrary origin that never jumps (CLOCK_MONOTONIC). */
int64_t tu_mono_ms(void);

/* Format epoch seconds as "2026-11-27T21:32:35Z" into buf (>= 21 bytes).
 * Returns buf. */
char *tu_iso8601(int64_t epoch_s, char *buf, size_t len);

#endif
