/* sensor — the agent's input contract: one sensor event per text line.
 *
 *   <time_ms> lane   <lane_id> <mode> <type> open|closed
 *   <time_ms> arrive <mode> <type> [n]
 *   <time_ms> depart <lane_id> [n]
 *   <time_ms> queue  <mode> <type> <count>
 *   <time_ms> tag    entry|booth <mode> <type> <hash>
 *
 * Owns parsing and the per-stream checks (line numbers, time never going
 * backwards). Pure: no I/O, so every rule is unit-tested on strings.
 * docs/sensor-input.md is the user-facing description. */
#ifndef POE_SENSOR_H
#define POE_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taxonomy.h"
#include "wire.h"

#define SENSOR_MAX_LINE 512
#define SENSOR_HASH_MAX 128
#define SENSOR_MAX_N 10000          /* units in one arrive/depart line */
#define SENSOR_MAX_QUEUE 100000     /* units a queue detector may report */

enum sensor_kind { SENSOR_LANE, SENSOR_ARRIVE, SENSOR_DEPART, SENSOR_QUEUE, SENSOR_TAG };

typedef struct {
    int64_t t_ms;
    enum sensor_kind kind;
    enum tax_mode mode;              /* lane, arrive, queue, tag */
    enum tax_type type;
    char lane_id[WIRE_LANE_ID_MAX + 1]; /* lane, depart */
    bool open;                       /* lane */
    uint32_t n;                      /* arrive/depart count, queue length */
    bool booth;                      /* tag: false = entry read, true = booth read */
    char hash[SENSOR_HASH_MAX + 1];  /* tag */
} sensor_event_t;

/* One input stream's parsing state. */
typedef struct {
    uint64_t line_no;     /* of the last line given */
    uint64_t good, bad;   /* event lines accepted / rejected */
    int64_t last_t_ms;    /* newest time accepted, for the backwards check */
} sensor_parser_t;

enum sensor_result { SENSOR_EVENT = 0, SENSOR_NONE = 1, SENSOR_BAD = -1 };

void sensor_parser_init(sensor_parser_t *p);

/* Parse one line (without or with its trailing newline). SENSOR_EVENT fills
 * ev; SENSOR_NONE for blank and # comment lines; SENSOR_BAD with a specific
 * reason in why ("unknown event 'leave'", "time goes backwards: ...").
 * Counts good/bad lines in p. */
enum sensor_result sensor_parse_line(sensor_parser_t *p, const char *line,
                                     sensor_event_t *ev, char *why, size_t whylen);

/* Format ev back as a line (for the simulator and tests); returns length. */
int sensor_format(const sensor_event_t *ev, char *buf, size_t len);

#endif
