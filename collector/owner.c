/* owner — see owner.h. */
#include "owner.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "taxonomy.h"

static bool s_same_sender(const zap_entry_t *a, const zap_entry_t *b)
{
    if (a == b || (a->name[0] && strcmp(a->name, b->name) == 0))
        return true;
    return strcmp(a->crossing, "*") != 0 && strcmp(a->crossing, b->crossing) == 0 &&
           a->dir != 0 && a->dir == b->dir;
}

int owner_check(const zap_t *zap, const char *key, const char *crossing, const sess_t *s,
                int64_t now_ms, char *why, size_t len, enum stats_reject *code)
{
    const zap_entry_t *e = zap_lookup(zap, key);
    if (!e)
        return 0; /* not ours to judge: ingest's authorization refuses unknown keys */
    const char *owner = zap_owner(zap, crossing);
    const zap_entry_t *src = s->source[0] && strcmp(s->source, key) != 0
                                 ? zap_lookup(zap, s->source) : NULL;
    bool src_live = src && now_ms - s->source_ms < OWNER_LAPSE_MS;
    const char *dir = tax_dir_valid((int)s->dir) ? tax_dir_name(s->dir) : "?";
    char me[64], other[64];
    zap_describe(e, me, sizeof me);
    if (owner && strcmp(owner, e->name) != 0) {
        if (src_live && strcmp(src->name, owner) == 0) {
            *code = REJ_SECOND_SOURCE;
            snprintf(why, len, "series %s/%s already comes from region %s, its owner: the copy "
                     "of %s refused", crossing, dir, owner, me);
        } else {
            *code = REJ_NOT_OWNER;
            snprintf(why, len, "%s does not own crossing %s (region %s does)", me, crossing,
                     owner);
        }
        return -1;
    }
    if (!owner && e->owns > 0) {
        *code = REJ_NOT_OWNER;
        snprintf(why, len, "%s does not own crossing %s (its allowlist entry does not list it)",
                 me, crossing);
        return -1;
    }
    if (!owner && src_live && !s_same_sender(e, src)) {
        *code = REJ_SECOND_SOURCE;
        zap_describe(src, other, sizeof other);
        snprintf(why, len, "series %s/%s already comes from %s: the copy of %s refused (one "
                 "sender per series)", crossing, dir, other, me);
        return -1;
    }
    return 0;
}

void owner_take(const zap_t *zap, sess_t *s, const char *key, int64_t now_ms)
{
    if (strcmp(s->source, key) != 0) {
        const zap_entry_t *was = s->source[0] ? zap_lookup(zap, s->source) : NULL;
        const zap_entry_t *now = zap_lookup(zap, key);
        if (s->source[0] && (!was || !now || !s_same_sender(was, now))) {
            log_info("series %s/%s: now fed by key %.12s... (was %.12s...): a new session",
                     s->crossing, tax_dir_valid((int)s->dir) ? tax_dir_name(s->dir) : "?", key,
                     s->source);
            s->epoch = 0; /* the next batch starts the session, whatever its epoch */
        }
        snprintf(s->source, sizeof s->source, "%s", key);
    }
    s->source_ms = now_ms;
}
