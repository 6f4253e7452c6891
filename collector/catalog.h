/* catalog — the message catalogs of the dashboards (dashboards/i18n/
 * <lang>.json: one flat JSON object of strings per language, the same keys
 * in each) and the language a request asks for.
 *
 * catalog_load reads and checks all of CATALOG_LANGS: each file must parse
 * (jansson's line and column in the error), hold only non-empty strings,
 * have exactly English's keys and, per key, the same {placeholders}. Any
 * fault is one specific error ("es.json: key 'count' missing (en.json has
 * it)") and the load fails: a half-translated page must not ship. The
 * collector checks them at start (--check too); tests/unit/test_i18n.c
 * checks the committed ones. Immutable once loaded; pure otherwise. */
#ifndef POE_CATALOG_H
#define POE_CATALOG_H

#include <stddef.h>

#define CATALOG_NLANGS 3
extern const char *const catalog_langs[CATALOG_NLANGS];   /* "en", "es", "fr" */

/* Longest Accept-Language header catalog_pick judges; longer is refused. */
#define CATALOG_MAX_ACCEPT 1024

typedef struct catalog catalog_t;

/* Load dir/<lang>.json for every language. NULL with the reason in why. */
catalog_t *catalog_load(const char *dir, char *why, size_t whylen);
void catalog_destroy(catalog_t **self_p);

/* The message of key in lang (English when lang is unknown); NULL when the
 * key does not exist. */
const char *catalog_get(const catalog_t *self, const char *lang, const char *key);

/* The words for the native feed's machine values in lang, as JSON:
 * {"lang", "status": {closed, closed_hours, stale, no_data}, "mode": {...},
 * "lane": {...}, "direction": {northbound, southbound}, "into": {US, MX,
 * CA}, "sev": {"0".."4"}}. Malloc'ed; NULL when out of memory. */
char *catalog_labels_json(const catalog_t *self, const char *lang);

/* Number of keys (the same in every language). */
size_t catalog_size(const catalog_t *self);

/* The language for an Accept-Language header value (NULL: none given):
 * the first range by quality (q=0 excluded) whose primary tag we have,
 * else "en". Returns the language, or NULL when the header is longer than
 * CATALOG_MAX_ACCEPT or malformed (reason in why). */
const char *catalog_pick(const char *accept_language, char *why, size_t whylen);

#endif
