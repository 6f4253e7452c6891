/* session — per-agent delivery state on the collector: which batches of an
 * agent's current session are archived, as a small state machine.
 *
 * An agent is one crossing direction. Each agent run has an epoch; within
 * it, batches carry seq 1, 2, 3, ... The collector takes only the next
 * sequence number, acknowledges again what it already has (a resend), and
 * asks for a resend when it sees a gap. Pure: tested without sockets. */
#ifndef POE_SESSION_H
#define POE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "taxonomy.h"

enum sess_verdict {
    SESS_ACCEPT,      /* the next batch: archive it, then sess_commit */
    SESS_DUPLICATE,   /* already archived: acknowledge again, do not apply */
    SESS_GAP,         /* a batch is missing before this one: ask for a resend */
    SESS_STALE_EPOCH  /* from an agent run that a newer one replaced */
};

typedef struct {
    char crossing[7];
    enum tax_dir dir;
    uint64_t epoch;
    uint64_t acked_seq;     /* every seq <= this of epoch is archived */
    int64_t last_seen_ms;   /* wall clock of the last frame */
    int64_t newest_ms;      /* newest sample time archived */
    uint64_t batches, duplicates, gaps;
    uint64_t bad_lines;     /* sensor lines the agent reported rejecting */
} sess_t;

typedef struct sess_table sess_table_t;

sess_table_t *sess_table_new(void);
void sess_table_destroy(sess_table_t **self_p);

/* The session of an agent, created on first sight. NULL on OOM. */
sess_t *sess_get(sess_table_t *self, const char *crossing, enum tax_dir dir);

size_t sess_count(const sess_table_t *self);
const sess_t *sess_at(const sess_table_t *self, size_t i);

/* Judge a batch. A newer epoch starts a new session; when the collector
 * has no record of an epoch's earlier batches (it restarted), the first
 * batch it sees is taken as the start — the archive's time guard keeps
 * anything already archived from counting twice. */
enum sess_verdict sess_judge(sess_t *s, uint64_t epoch, uint64_t seq);

/* Record that batch seq of the current epoch is archived. */
void sess_commit(sess_t *s, uint64_t seq);

const char *sess_verdict_name(enum sess_verdict v);

#endif
