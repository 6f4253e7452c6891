/* wire — the codec between agent and collector (protobuf-c, poenet.proto).
 *
 * Owns framing limits and the structural checks that every decoded message
 * passes before anyone reads it: frame size, which body is set, bounded
 * repeated fields, known enums, a well-formed crossing id and lane ids.
 * Semantic checks that need the registry or the clock live in the
 * collector's validate module. */
#ifndef POE_WIRE_H
#define POE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poenet.pb-c.h"

#define WIRE_MAX_FRAME (1024 * 1024)   /* also the ZMQ_MAXMSGSIZE of every socket */
#define WIRE_MAX_QUEUE_SAMPLES 4096
#define WIRE_MAX_LANE_SAMPLES 4096
#define WIRE_LANE_ID_MAX 32

/* Which samples of a batch passed validation: bit i is sample i. A bit a
 * sample, not a bool: ingest keeps one per batch in flight, and a bool a
 * sample made 8 KB of each a page of resident memory. */
typedef struct {
    uint64_t w[WIRE_MAX_QUEUE_SAMPLES / 64];
} wire_mask_t;
_Static_assert(WIRE_MAX_QUEUE_SAMPLES == WIRE_MAX_LANE_SAMPLES && WIRE_MAX_QUEUE_SAMPLES % 64 == 0,
               "one mask type for queue and lane samples");

static inline void wire_mask_put(wire_mask_t *m, size_t i, bool v)
{
    uint64_t bit = (uint64_t)1 << (i % 64);
    m->w[i / 64] = v ? m->w[i / 64] | bit : m->w[i / 64] & ~bit;
}

static inline bool wire_mask_has(const wire_mask_t *m, size_t i)
{
    return (m->w[i / 64] >> (i % 64)) & 1;
}

typedef struct {
    int64_t t_end_ms;
    int mode, type;               /* enum tax_mode, enum tax_type */
    uint32_t arrivals, departures, lanes_open;
    bool has_queue_len;
    uint32_t queue_len;
    uint32_t tt_count, tt_sum_s, tt_max_s; /* tt_count == 0: no travel times */
} wire_queue_sample_t;

typedef struct {
    int64_t t_end_ms;
    char lane_id[WIRE_LANE_ID_MAX + 1];
    int mode, type;
    uint32_t departures;
    bool open;
} wire_lane_sample_t;

/* True when s is 1..32 characters of [A-Za-z0-9_-]. */
bool wire_lane_id_valid(const char *s);

/* The interval lengths agents may aggregate over and collectors accept: a
 * part of a second that divides it (WIRE_INTERVAL_MIN_MS..1000: 100, 125,
 * 200, 250, 500), or whole seconds that divide a minute (1000..60000), so
 * intervals aligned to the epoch tile every second and every minute. Below
 * 100 ms a sample per queue and lane would outnumber the events it counts. */
#define WIRE_INTERVAL_MIN_MS 100
bool wire_interval_valid(int64_t interval_ms);

/* Decode one frame. On success returns 0 and *out owns the message (free
 * with wire_free). On failure returns -1, *out is NULL and why holds a
 * one-line reason ("frame too large: 2000000 bytes", "batch: mode 9
 * unknown in queue sample 3", ...). */
int wire_decode(const void *buf, size_t len, Poenet__Envelope **out,
                char *why, size_t whylen);
void wire_free(Poenet__Envelope **msg_p);

/* What a collector refused of one batch (protocol 2, Ack fields 6..8):
 * samples per reason, with the earliest refused sample end. Reason names
 * are 1..WIRE_REASON_MAX characters of [a-z_] (wire_decode checks). */
#define WIRE_MAX_REFUSED 32
#define WIRE_REASON_MAX 32

typedef struct {
    char reason[WIRE_REASON_MAX + 1];
    uint32_t samples;
    uint64_t first_t_end_ms;      /* 0 = not given */
} wire_refused_t;

typedef struct {
    uint64_t seq;                 /* the batch they belong to */
    int64_t collector_ms;         /* the collector's clock when it judged the batch */
    size_t n;
    wire_refused_t v[WIRE_MAX_REFUSED];
} wire_refusals_t;

/* Add n samples refused for reason with end t_end_ms (kept: the earliest).
 * -1 when the reason is not a valid name or the table is full. */
int wire_refusals_add(wire_refusals_t *r, const char *reason, uint32_t n, uint64_t t_end_ms);

/* Read an Ack's refusals into *out (n = 0 when it carries none). */
void wire_refusals_from_ack(const Poenet__Ack *ack, wire_refusals_t *out);

/* Pack small control messages into a malloc'ed buffer; NULL on OOM. */
uint8_t *wire_pack_ack(uint64_t epoch, uint64_t acked_seq, uint64_t durable_seq, bool resend,
                       const char *error, size_t *len);
/* The same, with what was refused of the batch just judged (NULL or n = 0:
 * nothing, and the Ack is byte-for-byte a protocol-1 one). */
uint8_t *wire_pack_ack_refused(uint64_t epoch, uint64_t acked_seq, uint64_t durable_seq,
                               bool resend, const char *error, const wire_refusals_t *refused,
                               size_t *len);
/* An agent's status, carried by its heartbeats. */
typedef struct {
    const char *crossing;
    int direction;
    uint64_t spool_batches;
    uint64_t oldest_unacked_ms;
} wire_agent_status_t;

/* A refusal that says nothing about delivery (the agent is misconfigured:
 * unknown crossing, bad interval): the agent logs it and keeps its state. */
uint8_t *wire_pack_refusal(uint64_t epoch, const char *error, size_t *len);

/* status is NULL for the collector's heartbeats. */
uint8_t *wire_pack_heartbeat(uint64_t epoch, uint64_t t_ms, const wire_agent_status_t *status,
                             size_t *len);

/* A batch being filled by an agent. */
typedef struct wire_batch wire_batch_t;

wire_batch_t *wire_batch_new(const char *crossing, int direction, uint64_t epoch,
                             uint32_t interval_ms);
void wire_batch_destroy(wire_batch_t **self_p);
/* Append a sample; -1 when the batch is full (caller packs and resets). */
int wire_batch_add_queue(wire_batch_t *self, const wire_queue_sample_t *q);
int wire_batch_add_lane(wire_batch_t *self, const wire_lane_sample_t *l);
size_t wire_batch_count(const wire_batch_t *self);
/* Pack as an Envelope with the given seq into a malloc'ed buffer, then empty
 * the batch for reuse. NULL on OOM. */
uint8_t *wire_batch_pack(wire_batch_t *self, uint64_t seq, uint64_t bad_lines,
                         size_t *len);

/* Copy of a packed batch with dropped_through set (the spool lost batches
 * after this one was written). Returns a new malloc'ed buffer or NULL when
 * buf is not a batch (or one wire_decode refuses for a field number). */
uint8_t *wire_batch_restamp(const uint8_t *buf, size_t len, uint64_t dropped_through,
                            size_t *out_len);

#endif
