/* catalog — see catalog.h. The catalogs are small (a few hundred keys), so
 * they stay as jansson objects; lookups are hash lookups. */
#include "catalog.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const catalog_langs[CATALOG_NLANGS] = { "en", "es", "fr" };

struct catalog {
    json_t *lang[CATALOG_NLANGS];
};

static int s_lang_index(const char *lang)
{
    for (int i = 0; lang && i < CATALOG_NLANGS; i++)
        if (strcmp(lang, catalog_langs[i]) == 0)
            return i;
    return -1;
}

/* The {name} placeholders of s, sorted and joined by ',' into buf. */
static void s_placeholders(const char *s, char *buf, size_t len)
{
    char names[16][32];
    int n = 0;
    for (const char *p = s; (p = strchr(p, '{')) && n < 16; p++) {
        const char *e = p + 1;
        while (isalnum((unsigned char)*e) || *e == '_')
            e++;
        if (*e == '}' && e > p + 1 && (size_t)(e - p - 1) < sizeof names[0])
            snprintf(names[n++], sizeof names[0], "%.*s", (int)(e - p - 1), p + 1);
    }
    for (int i = 1; i < n; i++)   /* insertion sort: a handful at most */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[32];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s{%s}", i ? "," : "", names[i]);
}

static json_t *s_read(const char *dir, const char *lang, char *why, size_t whylen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.json", dir, lang);
    json_error_t err;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        snprintf(why, whylen, "%s.json:%d:%d: %s", lang, err.line, err.column, err.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        snprintf(why, whylen, "%s.json: not a JSON object", lang);
        json_decref(j);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            snprintf(why, whylen, "%s.json: key '%s' is not a non-empty string", lang, key);
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* Catalog l against English: the same keys, the same placeholders. */
static int s_compare(const json_t *en, const json_t *l, const char *lang, char *why, size_t whylen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)en, key, v) {
        json_t *o = json_object_get(l, key);
        if (!o) {
            snprintf(why, whylen, "%s.json: key '%s' missing (en.json has it)", lang, key);
            return -1;
        }
        char a[256], b[256];
        s_placeholders(json_string_value(v), a, sizeof a);
        s_placeholders(json_string_value(o), b, sizeof b);
        if (strcmp(a, b) != 0) {
            snprintf(why, whylen, "%s.json: key '%s' has placeholders '%s', en.json '%s'", lang, key, b,
                     a);
            return -1;
        }
    }
    json_object_foreach((json_t *)l, key, v) {
        if (!json_object_get(en, key)) {
            snprintf(why, whylen, "%s.json: key '%s' is not in en.json", lang, key);
            return -1;
        }
    }
    return 0;
}

catalog_t *catalog_load(const char *dir, char *why, size_t whylen)
{
    catalog_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < CATALOG_NLANGS; i++) {
        self->lang[i] = s_read(dir, catalog_langs[i], why, whylen);
        if (!self->lang[i] ||
            (i > 0 && s_compare(self->lang[0], self->lang[i], catalog_langs[i], why, whylen) != 0)) {
            catalog_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void catalog_destroy(catalog_t **self_p)
{
    catalog_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < CATALOG_NLANGS; i++)
        json_decref(self->lang[i]);
    free(self);
    *self_p = NULL;
}

const char *catalog_get(const catalog_t *self, const char *lang, const char *key)
{
    int i = s_lang_index(lang);
    return json_string_value(json_object_get(self->lang[i < 0 ? 0 : i], key));
}

size_t catalog_size(const catalog_t *self) { return json_object_size(self->lang[0]); }

/* One range "tag[;q=v]" of [p, e): its primary tag into tag, its quality
 * (0..1000). -1 when malformed. */
static int s_range(const char *p, const char *e, char *tag, size_t taglen, int *q)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    const char *t = p;
    while (p < e && (isalpha((unsigned char)*p) || *p == '-' || *p == '*' || isdigit((unsigned char)*p)))
        p++;
    if (p == t)
        return -1;
    size_t n = 0;
    while (t + n < p && t[n] != '-')
        n++;
    if (n >= taglen)
        n = taglen - 1;
    for (size_t i = 0; i < n; i++)
        tag[i] = (char)tolower((unsigned char)t[i]);
    tag[n] = '\0';
    *q = 1000;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p == e)
        return 0;
    if (*p != ';')
        return -1;
    p++;
    while (p < e && *p == ' ')
        p++;
    if (e - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
        return -1;
    p += 2;
    /* qvalue: 0[.ddd] or 1[.000] */
    if (*p != '0' && *p != '1')
        return -1;
    int v = (*p - '0') * 1000, scale = 100;
    p++;
    if (p < e && *p == '.') {
        for (p++; p < e && isdigit((unsigned char)*p) && scale; p++, scale /= 10)
            v += (*p - '0') * scale;
    }
    while (p < e && *p == ' ')
        p++;
    if (p != e || v > 1000)
        return -1;
    *q = v;
    return 0;
}

const char *catalog_pick(const char *al, char *why, size_t whylen)
{
    if (!al)
        return "en";
    size_t len = strlen(al);
    if (len > CATALOG_MAX_ACCEPT) {
        snprintf(why, whylen, "Accept-Language header of %zu bytes (at most %d)", len,
                 CATALOG_MAX_ACCEPT);
        return NULL;
    }
    const char *best = "en";
    int bestq = 0;
    for (const char *p = al; *p;) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        char tag[16];
        int q;
        bool blank = true;
        for (const char *s = p; s < e; s++)
            blank = blank && (*s == ' ' || *s == '\t');
        if (!blank) {
            if (s_range(p, e, tag, sizeof tag, &q) != 0) {
                snprintf(why, whylen, "malformed Accept-Language range '%.*s'",
                         (int)(e - p > 40 ? 40 : e - p), p);
                return NULL;
            }
            int i = s_lang_index(tag);
            if (i >= 0 && q > bestq) {
                best = catalog_langs[i];
                bestq = q;
            }
        }
        p = *e ? e + 1 : e;
    }
    return best;
}

char *catalog_labels_json(const catalog_t *self, const char *lang)
{
    static const char *const groups[][8] = {
        { "status", "closed", "closed_hours", "stale", "no_data", NULL },
        { "mode", "passenger", "pedestrian", "commercial", NULL },
        { "lane", "standard", "ready", "nexus_sentri", "fast", NULL },
        { "dir", "northbound_short", "southbound_short", NULL },
        { "into", "US", "MX", "CA", NULL },
        { "sev", "0", "1", "2", "3", "4", NULL },
    };
    json_t *root = json_pack("{s:s}", "lang", lang);
    for (size_t g = 0; root && g < sizeof groups / sizeof groups[0]; g++) {
        json_t *o = json_object();
        for (int k = 1; o && groups[g][k]; k++) {
            char key[64], name[32];
            snprintf(key, sizeof key, "%s.%s", groups[g][0], groups[g][k]);
            /* "northbound_short" is the catalog's key; the feed says "northbound" */
            snprintf(name, sizeof name, "%s", groups[g][k]);
            char *suffix = strstr(name, "_short");
            if (suffix)
                *suffix = '\0';
            const char *t = catalog_get(self, lang, key);
            if (t && json_object_set_new(o, name, json_string(t))) {
                json_decref(o);
                o = NULL;
            }
        }
        if (!o || json_object_set_new(root, strcmp(groups[g][0], "dir") == 0 ? "direction" : groups[g][0], o)) {
            json_decref(root);
            root = NULL;
        }
    }
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return out;
}
