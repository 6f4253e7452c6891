/* session — per-agent delivery state on the collector: which batches of an
 * agent's current session are archived, as a small state machine.
 *
 * An agent is one crossing direction. Each agent run has an epoch; within
 * it, batches carry seq 1, 2, 3, ... The collector takes only the next
 * sequence number, acknowledges again what it already has (a resend), and
 * asks for a resend when it sees a gap. Pure: tested without sockets. */
#ifndef POE_SESSION_H
#define POE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"
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
    uint64_t acked_seq;     /* every seq <= this of epoch was accepted by rrdcached */
    uint64_t durable_seq;   /* every seq <= this of epoch is on the archive's disk */
    uint64_t high_seq;      /* highest seq of epoch ever accepted: a rollback leaves it, so
                             * what is accepted again at or below it is a resend */
    int64_t last_seen_ms;   /* wall clock of the last frame */
    bool solo;              /* ingest commits its next batch alone: the last group it was
                             * in was refused, maybe for its rows (not persisted) */
    int64_t newest_ms;      /* newest sample time archived */
    uint64_t batches, duplicates, gaps, dropped;
    uint64_t bad_lines;     /* sensor lines the agent reported rejecting */
    uint64_t refused[REJ_MAX]; /* samples refused, by reason (this collector's run) */
    int64_t refused_log_ms;    /* ingest's last log line about them (rate limit) */
    uint64_t refused_logged;   /* their total at that line */
    uint64_t spool_batches; /* agent status from its heartbeats */
    int64_t oldest_unacked_ms;
    /* The CURVE key (Z85) whose batches feed this series, and when it was
     * last heard: a second sender is refused while it lasts (ingest.c).
     * Not persisted: after a restart the owner, or the first sender, has it. */
    char source[41];
    int64_t source_ms;
    int64_t source_log_ms;      /* ingest's last line about a refused sender (rate limit) */
    uint64_t source_refused;    /* batches of other senders refused since that line */
    int source_log_code;        /* the reason of that line: another one is said at once */
    double tokens;          /* rate limit: samples it may still send now */
    int64_t tokens_ms;      /* when tokens were last refilled */
} sess_t;

typedef struct sess_table sess_table_t;

sess_table_t *sess_table_new(void);
void sess_table_destroy(sess_table_t **self_p);

/* The session of an agent, created on first sight. NULL on OOM. */
sess_t *sess_get(sess_table_t *self, const char *crossing, enum tax_dir dir);
/* The session of crossing/dir, NULL when there is none (never adds one). */
const sess_t *sess_find(const sess_table_t *self, const char *crossing, enum tax_dir dir);

/* Whether seq, about to be accepted, was accepted before in this epoch
 * (rrdcached lost it and the session rolled back): what it fed besides the
 * archive — hours learned, the upstream — has it already. */
bool sess_is_resend(const sess_t *s, uint64_t seq);

/* dst becomes a copy of src (its memory reused): what another thread may
 * read while src goes on changing. 0, or -1 out of memory (dst as before). */
int sess_table_copy(sess_table_t *dst, const sess_table_t *src);

size_t sess_count(const sess_table_t *self);
const sess_t *sess_at(const sess_table_t *self, size_t i);
sess_t *sess_at_mut(sess_table_t *self, size_t i);

/* Judge a batch. A newer epoch starts a new session; when the collector
 * has no record of an epoch's earlier batches (its state was lost), the
 * first batch it sees is taken as the start — the archive's time guard
 * keeps anything already archived from counting twice. dropped_through
 * (0 = none) says the agent lost every seq up to it for good: a gap that
 * ends there is skipped instead of waited for. */
enum sess_verdict sess_judge(sess_t *s, uint64_t epoch, uint64_t seq, uint64_t dropped_through);

/* Token bucket: true (and the samples taken) when the agent may send n
 * samples now at `rate` per second with a burst of `burst`. */
bool sess_take_tokens(sess_t *s, double n, double rate, double burst, int64_t now_ms);

/* Record that batch seq of the current epoch was accepted by rrdcached. */
void sess_commit(sess_t *s, uint64_t seq);

/* Everything accepted so far is now on disk. Returns how many sessions
 * moved. */
size_t sess_mark_durable(sess_table_t *self);

/* rrdcached lost what it had accepted: every session goes back to its
 * durable point, so agents resend the rest. Returns how many moved. */
size_t sess_rollback(sess_table_t *self);

/* Persist epochs and durable seqs (write to a temporary file, fsync,
 * rename), so that duplicates are still recognised after a restart. */
int sess_save(const sess_table_t *self, const char *path);

/* The file's text (malloc'ed, *len bytes): each session's epoch with
 * durable[i] as session i's durable seq (NULL: its own). NULL when out of
 * memory. */
char *sess_text(const sess_table_t *self, const uint64_t *durable, size_t *len);

/* Write text as path: a temporary file, fsync, rename. 0, or -1 logged.
 * Blocks on the disk: the collector calls it off its loop (ingest_sessions.c). */
int sess_write_file(const char *path, const char *text, size_t len);

/* Load what sess_save wrote; a missing file is an empty table (0). A bad
 * line is reported with file:line and skipped. */
int sess_load(sess_table_t *self, const char *path);

const char *sess_verdict_name(enum sess_verdict v);

#endif
