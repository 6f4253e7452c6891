/* notices — see notices.h. The file:
 *
 *   notices = (
 *     { crossing = "250401"; kind = "construction";
 *       from = "2026-12-01T06:00-08:00"; until = "2027-01-15T00:00Z";
 *       text = { en = "Lane 5 closed for construction.";
 *                es = "Carril 5 cerrado por obras."; }; }
 *   );
 */
#include "notices.h"

#include <libconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

const char *const notices_kinds[] = { "construction", "hours", "lane_closed", "other", NULL };
const char *const notices_langs[NOTICES_NLANGS] = { "en", "es", "fr" };

struct notices {
    notice_t *v;
    size_t n;
};

static bool s_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int s_num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int notices_parse_time(const char *s, int64_t *out)
{
    /* YYYY-MM-DDTHH:MM */
    if (!s || strlen(s) < 17 || !s_digits(s, 4) || s[4] != '-' || !s_digits(s + 5, 2) ||
        s[7] != '-' || !s_digits(s + 8, 2) || (s[10] != 'T' && s[10] != ' ') ||
        !s_digits(s + 11, 2) || s[13] != ':' || !s_digits(s + 14, 2))
        return -1;
    int y = s_num(s, 4), mo = s_num(s + 5, 2), d = s_num(s + 8, 2);
    int h = s_num(s + 11, 2), mi = s_num(s + 14, 2), sec = 0;
    const char *p = s + 16;
    if (*p == ':') {
        if (!s_digits(p + 1, 2))
            return -1;
        sec = s_num(p + 1, 2);
        p += 3;
    }
    int off = 0;
    if (*p == 'Z' && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && s_digits(p + 1, 2) && p[3] == ':' && s_digits(p + 4, 2) &&
               p[6] == '\0') {
        int oh = s_num(p + 1, 2), om = s_num(p + 4, 2);
        if (oh > 14 || om > 59)
            return -1;
        off = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else {
        return -1;   /* a zone is required: a notice read in another zone must not move */
    }
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 2000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        return -1;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = mi, .tm_sec = sec };
    *out = (int64_t)timegm(&tm) - off;
    return 0;
}

/* UTF-8 without control characters. */
static bool s_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || (*p < 0x20) || *p == 0x7F || (n == 1 && *p < 0xC2))
            return false;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return false;
    }
    return true;
}

static void s_free_one(notice_t *n)
{
    for (int i = 0; i < NOTICES_NLANGS; i++)
        free(n->text[i]);
    memset(n, 0, sizeof *n);
}

/* One entry into n; -1 with the reason logged as file:line. */
static int s_entry(const char *path, const config_setting_t *e, const registry_t *reg, notice_t *n)
{
    char why[160] = "";
    const char *crossing = NULL, *kind = NULL, *from = NULL, *until = NULL;
    const config_setting_t *bad = e;
    n->line = (int)config_setting_source_line(e);
    for (int i = 0; i < config_setting_length(e); i++) {
        const config_setting_t *s = config_setting_get_elem(e, (unsigned)i);
        const char *k = config_setting_name(s);
        if (strcmp(k, "crossing") && strcmp(k, "kind") && strcmp(k, "from") && strcmp(k, "until") &&
            strcmp(k, "text")) {
            bad = s;
            snprintf(why, sizeof why, "unknown setting '%s'", k);
            goto fail;
        }
    }
    if (!config_setting_is_group(e)) {
        snprintf(why, sizeof why, "a notice is a group { ... }");
        goto fail;
    }
    if (!config_setting_lookup_string(e, "crossing", &crossing)) {
        snprintf(why, sizeof why, "'crossing' (a string) is required");
        goto fail;
    }
    if (!reg || !reg_find(reg, crossing)) {
        bad = config_setting_get_member(e, "crossing");
        snprintf(why, sizeof why, "unknown crossing '%.16s' (not in the registry)", crossing);
        goto fail;
    }
    snprintf(n->crossing, sizeof n->crossing, "%s", crossing);
    if (!config_setting_lookup_string(e, "kind", &kind))
        kind = "other";
    bool known = false;
    for (int i = 0; notices_kinds[i]; i++)
        known = known || strcmp(kind, notices_kinds[i]) == 0;
    if (!known) {
        bad = config_setting_get_member(e, "kind");
        snprintf(why, sizeof why, "unknown kind '%.20s' (construction, hours, lane_closed, other)", kind);
        goto fail;
    }
    snprintf(n->kind, sizeof n->kind, "%s", kind);
    const char *names[2] = { "from", "until" };
    const char **vals[2] = { &from, &until };
    int64_t *outs[2] = { &n->from_s, &n->until_s };
    for (int i = 0; i < 2; i++) {
        if (!config_setting_lookup_string(e, names[i], vals[i]) ||
            notices_parse_time(*vals[i], outs[i]) != 0) {
            const config_setting_t *m = config_setting_get_member(e, names[i]);
            bad = m ? m : e;
            snprintf(why, sizeof why, "'%s' must be a date and time with its zone, "
                     "\"2026-12-01T06:00-08:00\" or \"2026-12-01T14:00Z\"", names[i]);
            goto fail;
        }
    }
    if (n->until_s <= n->from_s) {
        bad = config_setting_get_member(e, "until");
        snprintf(why, sizeof why, "'until' (%s) is not after 'from' (%s)", until, from);
        goto fail;
    }
    const config_setting_t *text = config_setting_get_member(e, "text");
    if (!text || !config_setting_is_group(text) || config_setting_length(text) == 0) {
        bad = text ? text : e;
        snprintf(why, sizeof why, "'text' must be a group with at least one of en, es, fr");
        goto fail;
    }
    for (int i = 0; i < config_setting_length(text); i++) {
        const config_setting_t *t = config_setting_get_elem(text, (unsigned)i);
        const char *lang = config_setting_name(t), *v = config_setting_get_string(t);
        int li = -1;
        for (int k = 0; k < NOTICES_NLANGS; k++)
            if (strcmp(lang, notices_langs[k]) == 0)
                li = k;
        bad = t;
        if (li < 0) {
            snprintf(why, sizeof why, "text in unknown language '%s' (en, es, fr)", lang);
            goto fail;
        }
        if (!v || !*v || strlen(v) > NOTICES_MAX_TEXT) {
            snprintf(why, sizeof why, "text.%s must be a string of 1 to %d bytes", lang, NOTICES_MAX_TEXT);
            goto fail;
        }
        if (!s_text_ok(v) || strstr(v, "]]>")) {
            snprintf(why, sizeof why, "text.%s is not UTF-8 text without control characters and ']]>'", lang);
            goto fail;
        }
        if (!(n->text[li] = strdup(v))) {
            snprintf(why, sizeof why, "out of memory");
            goto fail;
        }
    }
    return 0;
fail:
    log_error("%s:%d: notice: %s", path, (int)config_setting_source_line(bad), why);
    s_free_one(n);
    return -1;
}

notices_t *notices_load(const char *path, const registry_t *reg, int *nbad)
{
    *nbad = 0;
    config_t cfg;
    config_init(&cfg);
    if (config_read_file(&cfg, path) != CONFIG_TRUE) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            log_error("%s: cannot read notices file", path);
        else
            log_error("%s:%d: %s", path, config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return NULL;
    }
    const config_setting_t *list = config_lookup(&cfg, "notices");
    if (!list || !config_setting_is_list(list)) {
        log_error("%s:%d: no 'notices = ( { ... }, ... );' list", path,
                  list ? (int)config_setting_source_line(list) : 1);
        config_destroy(&cfg);
        return NULL;
    }
    notices_t *self = calloc(1, sizeof *self);
    int len = config_setting_length(list);
    if (len > NOTICES_MAX) {
        log_error("%s: %d notices, at most %d are read", path, len, NOTICES_MAX);
        *nbad += len - NOTICES_MAX;
        len = NOTICES_MAX;
    }
    if (self && len > 0)
        self->v = calloc((size_t)len, sizeof *self->v);
    if (!self || (len > 0 && !self->v)) {
        log_error("%s: out of memory", path);
        free(self);
        config_destroy(&cfg);
        return NULL;
    }
    for (int i = 0; i < len; i++) {
        if (s_entry(path, config_setting_get_elem(list, (unsigned)i), reg, &self->v[self->n]) == 0)
            self->n++;
        else
            (*nbad)++;
    }
    config_destroy(&cfg);
    return self;
}

void notices_destroy(notices_t **self_p)
{
    notices_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        s_free_one(&self->v[i]);
    free(self->v);
    free(self);
    *self_p = NULL;
}

size_t notices_count(const notices_t *self) { return self ? self->n : 0; }

size_t notices_valid(const notices_t *self, const char *crossing, int64_t now_s,
                     const notice_t **out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; self && i < self->n && k < max; i++) {
        const notice_t *n = &self->v[i];
        if (strcmp(n->crossing, crossing) == 0 && n->from_s <= now_s && now_s < n->until_s)
            out[k++] = n;
    }
    return k;
}

int64_t notices_next_change(const notices_t *self, const char *crossing, int64_t now_s)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; self && i < self->n; i++) {
        const notice_t *n = &self->v[i];
        if (strcmp(n->crossing, crossing) != 0)
            continue;
        if (n->from_s > now_s && n->from_s < next)
            next = n->from_s;
        if (n->until_s > now_s && n->until_s < next)
            next = n->until_s;
    }
    return next;
}
