/* output — poe-sim's two files: the sensor event stream and the truth.
 *
 * Sensor lines are collected with their time stamps and written sorted by
 * time (stable: equal stamps keep the order they were made in), because a
 * skewed reader clock stamps reads out of order and the agent's contract
 * is that time never goes backwards within a stream. The truth is one line
 * per vehicle in arrival order:
 *
 *   <arrive_ms> <depart_ms> <mode> <type> <lane_id> */
#ifndef POE_SIM_OUTPUT_H
#define POE_SIM_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "sensor.h"

typedef struct out out_t;

out_t *out_new(void);
void out_destroy(out_t **self_p);

/* Keep one sensor event (formatted by the agent's own sensor_format, so
 * the stream is valid input by construction). 0 or -1 (out of memory). */
int out_event(out_t *self, const sensor_event_t *ev);

/* Keep a comment line, written before the events. */
int out_comment(out_t *self, const char *text);

size_t out_count(const out_t *self);

/* Write the comments and the events sorted by time. 0 or -1 (logged). */
int out_write_events(out_t *self, const char *path);

/* Write the truth of every vehicle of a finished model. 0 or -1. */
int out_write_truth(const model_t *m, const scen_t *sc, const char *path);

#endif
