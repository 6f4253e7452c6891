/* frag — the per-crossing parts of the big public documents, rendered
 * once and kept between renders while nothing they show can have changed.
 *
 * At 10,000 series every document of a state version was rendered whole
 * (/v1/crossings as one jansson tree of 3 million nodes, every
 * /v1/crossings/{id} a second time), though a render follows the few
 * crossings an agent's batch touched. A cache holds, per crossing of the
 * state (state order), one fragment: the crossing's compact JSON text as
 * the document shows it, made by a render function (feed.c's
 * feed_crossing_fragment, view_cbp.c's port fragments) that also
 * says until when the text stays valid with time alone. A fragment is
 * kept while
 *   - the crossing's change counter (xstate_t.changes: commits, official
 *     values, forecast runs, notices) is the one it was rendered at,
 *   - the staleness limit is the same, and
 *   - the wall time is in [rendered at, valid until): a queue turning
 *     stale, the hours' next minute, a notice window, an age in seconds
 *     end it; a clock that went back ends it too.
 * Otherwise it is rendered again. Documents are then the fragments joined
 * into an envelope that jansson rendered with an empty array ("[]") where
 * they go (CBP's XML: between its head and tail): byte for byte what
 * rendering the whole document gives (tests/unit/test_frag.c). A value
 * that changes every second in every fragment (CBP's clock) is a hole
 * filled at each second rather than a reason to render all again.
 *
 * A fragment's text is held once: rendered on the heap, then, once a
 * document of all the fragments was joined, only in that document (its
 * memfd at 10,000 series), read from its file by the next join
 * (frag_cache_join).
 *
 * Ownership: a cache belongs to the thread that owns the state (the main
 * loop) and is read and written only there. A fragment's text, its fill
 * and the documents' head and tail are immutable bodies (http_cache.h):
 * a crossing's own document is a body in parts referencing them, so
 * the HTTP workers share those bytes, never written again, as every
 * published body's. */
#ifndef POE_FRAG_H
#define POE_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "http_cache.h"
#include "state.h"

/* x's fragment at now_ms (malloc'ed, NULL when memory ran out) and in
 * *valid_until_ms until when it stays the same (see above). */
typedef char *(*frag_render_fn)(const state_t *st, const xstate_t *x, int64_t now_ms,
                                int64_t stale_after_ms, int64_t *valid_until_ms);

/* A part of a fragment that changes every second while the rest stays
 * (CBP's per-port clock): the render function writes the JSON string
 * FRAG_HOLE (a lone NUL, which no other text holds) in its place, and the
 * documents get fill's text there instead (malloc'ed JSON made by
 * jansson, for x at now_ms; NULL when out of memory), made once per
 * second of an update. */
#define FRAG_HOLE "\"\\u0000\""
typedef char *(*frag_fill_fn)(const xstate_t *x, int64_t now_ms);

typedef struct frag_cache frag_cache_t;

/* fill NULL: fragments have no hole. */
frag_cache_t *frag_cache_new(frag_render_fn render, frag_fill_fn fill);
void frag_cache_destroy(frag_cache_t **self_p);

/* Bring every crossing's fragment of st up to date at now_ms (a new state
 * or limit starts the cache over). 0, or -1 when memory ran out for some
 * (logged once per update): those have no fragment until a later update
 * makes one, and documents that include them fail. */
int frag_cache_update(frag_cache_t *self, state_t *st, int64_t now_ms, int64_t stale_after_ms);

/* The same in steps, so that a render of every crossing (a burst of
 * agents' batches changes them all: ~180 ms of jansson at 10,000 series)
 * does not hold the loop's other work (docs/performance.md §1p): looks at
 * the fragments from where the last step stopped, and stops once one has
 * been rendered at or past deadline_mono_ms (tu_mono_ms). The state may
 * move between steps; a fragment that changed after its sweep passed it
 * is rendered in the next sweep. 1 when a whole sweep found every
 * fragment current (then a frag_cache_update renders nothing more unless
 * the state moves), 0 when stopped before (call again), -1 when memory
 * ran out for some (logged). Start each render with frag_cache_restart
 * (a new state or limit starts over by itself). */
int frag_cache_step(frag_cache_t *self, state_t *st, int64_t now_ms, int64_t stale_after_ms,
                    int64_t deadline_mono_ms);
void frag_cache_restart(frag_cache_t *self);

/* Fragments rendered (not kept) by the last update, or by the steps since
 * frag_cache_restart, and held. */
size_t frag_cache_rendered(const frag_cache_t *self);
size_t frag_cache_count(const frag_cache_t *self);

/* envelope with the fragments [i0, i0 + n) joined by ',' in place of its
 * last "[]": a body of one reference (from HTTP_CACHE_MEMFD_MIN bytes on,
 * written straight into a memfd: http_cache_body_gather). NULL when
 * envelope is NULL or has no "[]", a fragment is missing, or memory ran
 * out.
 * A document of every fragment becomes where their texts are kept: each
 * fragment's own render is freed and its text read from the document's
 * file from then on (the next join, the documents of one fragment), until
 * it is rendered again. Held once, not on the heap and in the document. */
http_cache_body_t *frag_cache_join(frag_cache_t *self, const char *envelope, size_t i0,
                                   size_t n);

/* head, the fragments [i0, i0 + n) with sep between them, then tail, as
 * frag_cache_join (documents that are not JSON). NULL as for
 * frag_cache_join. */
http_cache_body_t *frag_cache_wrap(frag_cache_t *self, const char *head, const char *sep,
                                   const char *tail, size_t i0, size_t n);

/* Documents of one fragment each (a crossing's own document): from now
 * on every update makes each fragment, once rendered, a document of its
 * own: head + the fragment (its hole filled) + tail, as a body in parts
 * (http_cache_body_parts) that copies no byte. It is made again when the
 * fragment is rendered again, its fill is of a new second, or head or
 * tail change (an envelope's time, every second): the fragment's bytes
 * stay where they are, shared by the documents of every second
 * (docs/performance.md §1p). 0, or -1 when memory ran out (logged; no
 * documents until a later call). */
int frag_cache_docs(frag_cache_t *self, const char *head, const char *tail);

/* The same with head through the '[' of envelope's last "[]" and tail from
 * its ']' (as frag_cache_join places a fragment). -1 (no documents) when
 * envelope is NULL or has no "[]". */
int frag_cache_docs_in(frag_cache_t *self, const char *envelope);

/* Fragment i's document as the last update made it, a reference for the
 * caller; NULL without documents, when fragment i has none (memory, or
 * no fragment), or i is not a crossing of the cache. */
http_cache_body_t *frag_cache_doc(const frag_cache_t *self, size_t i);

/* Fragment i alone (its hole filled), copied; NULL as for frag_cache_join. */
http_cache_body_t *frag_cache_copy(frag_cache_t *self, size_t i);

/* Bytes of fragment text the cache holds on its own: rendered since the
 * last document of them all was joined (frag_cache_join). */
size_t frag_cache_own_bytes(const frag_cache_t *self);

#endif
