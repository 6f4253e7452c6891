/* source — where the agent's sensor lines come from: a replay file (or
 * standard input) read at a chosen speed, or a listening Unix or TCP socket
 * that sensor gateways connect to.
 *
 * Owns reading and line splitting, one sensor parser per stream (so line
 * numbers and the time order are per stream), and the report of every bad
 * line as "<origin>:<line>: <reason>". Parsed events go to the sink. */
#ifndef POE_SOURCE_H
#define POE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor.h"

struct event_base;

typedef struct {
    /* Apply an event; -1 with a reason rejects it like a bad line. */
    int (*on_event)(void *arg, const sensor_event_t *ev, char *why, size_t whylen);
    /* A replay reached its end (not called for listeners). */
    void (*on_eof)(void *arg);
    void *arg;
    uint64_t *bad_lines;   /* incremented for every rejected line */
} src_sink_t;

typedef struct source source_t;

/* Replay path ("-" = standard input). speed: 1 = real time, 10 = ten times
 * faster, 0 = as fast as possible. NULL if the file cannot be opened. */
source_t *src_replay_new(struct event_base *base, const char *path, double speed,
                         const src_sink_t *sink);

/* Listen on "unix:/path" or "tcp://127.0.0.1:PORT"; each connection is a
 * stream of lines. NULL on a bad spec or bind failure (reason logged). */
source_t *src_listen_new(struct event_base *base, const char *spec, const src_sink_t *sink);

/* Stop or resume reading a replay (backpressure while the outbox is full).
 * No effect on listeners: live sensors cannot be paused. */
void src_pause(source_t *self, bool paused);

void src_destroy(source_t **self_p);

#endif
