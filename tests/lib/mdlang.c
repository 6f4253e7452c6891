/* mdlang — see mdlang.h. */
#include "mdlang.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Words and phrases of the English templates (tools/report/i18n/en.json)
 * that are not also Spanish or French words ("minutes", "utilisation",
 * "service" are left out for that reason). Case-sensitive, as written. */
const char *const mdlang_english_words[] = {
    "Bottlenecks", "Target wait", "target", "Waits", "estimates", "Ranked", "worst first", "rank",
    "crossing", "direction", "queue", "h/week", "service/lane", "arrivals/week", "most lanes needed",
    "lower bound", "Lanes needed", "lanes needed", "Each cell", "bold", "no data", "day",
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
    "Hours of operation", "other side", "Archive from", "Demand", "side", "zone", "posted",
    "observed", "compared", "open h/week", "unknown", "weeks", "confidence", "high", "medium", "low",
    "Archived arrivals", "northbound", "southbound", "Mismatch windows", "open side", "US local",
    "US", "opens", "closes", "first hour", "last hour", "open all week", "Share of arrivals",
    "Recommended common schedule", "covers", "passenger", "pedestrian", "commercial", "standard",
    "Official waits", "Period", "pairs", "MAE", "bias", "lag", "age", "No queue",
    "to", "from", "and", "the", "of", "by", "per", "with", "while", "where", "See",
    NULL,
};

/* A letter of a word: ASCII letters and every byte of a UTF-8 sequence, so
 * "âge" does not contain the word "age". */
static bool s_wordc(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? true : c >= 0x80; }

static const char *s_find_word(const char *md, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = md; (p = strstr(p, w)); p++) {
        bool before = p > md && s_wordc((unsigned char)p[-1]) && s_wordc((unsigned char)w[0]);
        bool after = s_wordc((unsigned char)p[n]) && s_wordc((unsigned char)w[n - 1]);
        if (!before && !after)
            return p;
    }
    return NULL;
}

static void s_context(const char *md, const char *p, char *why, size_t whylen, const char *what)
{
    const char *s = p - md > 30 ? p - 30 : md;
    snprintf(why, whylen, "%s in: ...%.70s...", what, s);
}

int mdlang_check(const char *md, const char *lang, char *why, size_t whylen)
{
    const char *raw = strstr(md, "report.");
    if (raw) {
        s_context(md, raw, why, whylen, "raw catalog key");
        return -1;
    }
    if (strcmp(lang, "en") == 0)
        return 0;
    for (int i = 0; mdlang_english_words[i]; i++) {
        const char *p = s_find_word(md, mdlang_english_words[i]);
        if (p) {
            char what[80];
            snprintf(what, sizeof what, "English \"%s\" in the %s report", mdlang_english_words[i], lang);
            s_context(md, p, why, whylen, what);
            return -1;
        }
    }
    return 0;
}
