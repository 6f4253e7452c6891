/* official_text — names, the listed status texts and the checks both
 * official parsers share (see official.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "official.h"

const char *off_source_name(enum off_source s)
{
    return s == OFF_CBP ? "CBP" : s == OFF_CBSA ? "CBSA" : "?";
}

const char *off_status_name(enum off_status s)
{
    static const char *const names[OFF_ST_MAX] = {
        "none", "delay", "no_delay", "update_pending", "lanes_closed", "not_applicable", "no_data"
    };
    return (unsigned)s < OFF_ST_MAX ? names[s] : "?";
}

const char *off_reason_name(enum off_reason r)
{
    static const char *const names[OFF_R_MAX] = {
        "transport", "timeout", "http_status", "redirects", "too_large", "not_data",
        "charset", "syntax", "shape", "empty", "unknown_port", "duplicate_port",
        "impossible", "future", "bad_time", "bad_value"
    };
    return (unsigned)r < OFF_R_MAX ? names[r] : "?";
}

enum off_status off_status_parse(const char *text)
{
    static const struct {
        const char *text;
        enum off_status st;
    } map[] = {
        { "delay", OFF_ST_DELAY },
        { "no delay", OFF_ST_NO_DELAY },
        { "update pending", OFF_ST_UPDATE_PENDING },
        { "lanes closed", OFF_ST_LANES_CLOSED },
        { "closed", OFF_ST_LANES_CLOSED },
        { "n/a", OFF_ST_NOT_APPLICABLE },
        { "not applicable", OFF_ST_NOT_APPLICABLE },
        { "--", OFF_ST_NO_DATA },
    };
    if (!text)
        return OFF_ST_NONE;
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].text) == n && strncasecmp(text, map[i].text, n) == 0)
            return map[i].st;
    return OFF_ST_NONE;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool off_utf8_valid(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (i + n >= len) /* the sequence runs past the end */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

bool off_looks_html(const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && isspace((unsigned char)buf[i]))
        i++;
    if (i >= len || buf[i] != '<')
        return false;
    size_t rest = len - i < 16 ? len - i : 16;
    return strncasecmp(buf + i, "<!doctype html", rest < 14 ? rest : 14) == 0 ||
           strncasecmp(buf + i, "<html", rest < 5 ? rest : 5) == 0 ||
           strncasecmp(buf + i, "<head", rest < 5 ? rest : 5) == 0 ||
           strncasecmp(buf + i, "<body", rest < 5 ? rest : 5) == 0;
}

int off_refuse(off_doc_t *doc, enum off_reason r)
{
    doc->refused = true;
    doc->refused_why = r;
    doc->reasons[r]++;
    doc->n = 0;
    return -1;
}

int off_push(off_doc_t *doc, const off_rec_t *rec)
{
    if (doc->n == doc->cap) {
        size_t cap = doc->cap ? doc->cap * 2 : 256;
        off_rec_t *v = realloc(doc->recs, cap * sizeof *v);
        if (!v)
            return -1;
        doc->recs = v;
        doc->cap = cap;
    }
    doc->recs[doc->n++] = *rec;
    return 0;
}

void off_doc_free(off_doc_t *doc)
{
    if (!doc)
        return;
    free(doc->recs);
    doc->recs = NULL;
    doc->n = doc->cap = 0;
}

bool off_take_port(off_doc_t *doc, const reg_crossing_t **seen, const reg_crossing_t *r)
{
    for (size_t i = 0; i < doc->ports_imported; i++)
        if (seen[i] == r) {
            doc->reasons[OFF_R_DUPLICATE_PORT]++;
            return false;
        }
    seen[doc->ports_imported++] = r;
    return true;
}
