/* rtext — the words of poe-report's Markdown in one language: a view over
 * the report's message catalogs (tools/report/i18n/<lang>.json, loaded and
 * cross-checked by collector/catalog.c exactly as the dashboards' are) plus
 * the locale's number and date conventions (decimal comma in es and fr,
 * 24-hour clock, month names written out).
 *
 * rtext_load fails (reason in why) when a catalog is missing or corrupt,
 * when the languages disagree on keys or placeholders, or when a key the
 * report needs (rtext.c's list) is absent: a report never shows a raw key.
 * CSV output never goes through here: it stays English and machine-readable.
 * Immutable once loaded. */
#ifndef POE_REPORT_RTEXT_H
#define POE_REPORT_RTEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct rtext rtext_t;

/* The language from --lang (NULL: not given) or else the environment's
 * LC_ALL / LC_MESSAGES / LANG prefix ("es_MX.UTF-8" -> "es"); "en" when
 * none names one of ours. NULL when --lang names a language we lack. */
const char *rtext_pick_lang(const char *opt);

/* The catalogs directory when --i18n is not given: the source tree's as
 * seen from the running binary (build/bin/poe-report -> tools/report/i18n)
 * when it holds en.json, else the installed one (RTEXT_INSTALLED). */
#define RTEXT_INSTALLED "/usr/local/share/poenet/report/i18n"
const char *rtext_default_dir(char *buf, size_t len);

rtext_t *rtext_load(const char *dir, const char *lang, char *why, size_t whylen);
void rtext_destroy(rtext_t **self_p);
const char *rtext_lang(const rtext_t *self);

/* The message of key (checked at load; a key missing from the list is a
 * programmer error: it is returned raw and logged). */
const char *rtext_get(const rtext_t *self, const char *key);

/* key's message with {name} placeholders replaced by the values of the
 * NULL-terminated name, value, ... pairs. Returns buf. */
const char *rtext_fmt(const rtext_t *self, char *buf, size_t len, const char *key, ...);

/* v with the given decimals and the language's decimal mark; "–" for NaN. */
const char *rtext_num(const rtext_t *self, double v, int decimals, char *buf, size_t len);

/* "2 March 2026, 14:05 UTC" in the language's order and month names. */
const char *rtext_date(const rtext_t *self, int64_t t, char *buf, size_t len);

/* Day d of the week (0 = Monday), abbreviated. */
const char *rtext_day(const rtext_t *self, int d);

/* The names of the taxonomy's machine values, e.g. rtext_word(t, "dir", "northbound"). */
const char *rtext_word(const rtext_t *self, const char *group, const char *name);

/* An English phrase another module writes (e.g. the hours learner's
 * "fewer than 3 weeks observed") in the language: key report.<group>.<the
 * phrase with '_' for each run of other characters than letters and
 * digits>, built in buf; the phrase itself when there is no such key. */
const char *rtext_phrase(const rtext_t *self, const char *group, const char *phrase, char *buf,
                         size_t len);

#endif
