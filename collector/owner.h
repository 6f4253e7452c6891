/* owner — one sender per series: which key may feed a crossing direction
 * at the national (or any upstream) collector.
 *
 * A regional collector's key forwards for many crossings. When the
 * allowlist names the crossings a region owns (zap.h: `crossings`), only
 * that region's keys may send them: another sender is refused as
 * second_source while the owner feeds the series (two regions run the same
 * crossing: the owner wins), as not_owner otherwise (a region forwards a
 * crossing assigned elsewhere); a region with a list sends nothing else
 * (not_owner). Without an owner, the sender a series has (sess_t.source)
 * keeps it while still allowed and heard from in the last
 * OWNER_LAPSE_MS; keys of one named region, or keys bound to that very
 * crossing direction, count as one sender (a key being rotated). What a
 * refusal does to the batch (acknowledged, or held by its sender) is
 * ingest's: docs/security.md.
 * Pure: works on the allowlist and a session, tested without sockets. */
#ifndef POE_OWNER_H
#define POE_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "stats.h"
#include "zap.h"

#define OWNER_LAPSE_MS 120000

/* May key (allowed by zap) send crossing's series s now? 0, or -1 with
 * *code (REJ_NOT_OWNER, REJ_SECOND_SOURCE) and a reason naming both
 * senders ("region r2 does not own crossing 250401 (region r1 does)"). */
int owner_check(const zap_t *zap, const char *key, const char *crossing, const sess_t *s,
                int64_t now_ms, char *why, size_t len, enum stats_reject *code);

/* key's batch passed owner_check: it is the series' sender now. A
 * different sender than before (the owner taking over, a lapsed one
 * replaced) starts a new session: its epochs and seqs are its own; the
 * archive's time guard keeps rows from counting twice. */
void owner_take(const zap_t *zap, sess_t *s, const char *key, int64_t now_ms);

#endif
