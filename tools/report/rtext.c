/* rtext — see rtext.h. The catalogs are collector/catalog.c's (one loader,
 * one set of checks); this module adds what a report needs beyond a web
 * page: the list of keys the report must find, {placeholder} filling in C,
 * and the locale's way of writing numbers and dates. */
#include "rtext.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"

struct rtext {
    catalog_t *cat;
    const char *lang;
};

/* Every key the report asks for, checked at load so that an old or
 * hand-edited catalog is refused up front instead of printing a raw key.
 * tests/unit/test_report_i18n.c checks that each "report.*" literal in
 * tools/report/ is here. */
static const char *const s_keys[] = {
    "report.decimal", "report.date",
    "report.month.1", "report.month.2", "report.month.3", "report.month.4", "report.month.5",
    "report.month.6", "report.month.7", "report.month.8", "report.month.9", "report.month.10",
    "report.month.11", "report.month.12",
    "report.day.0", "report.day.1", "report.day.2", "report.day.3", "report.day.4",
    "report.day.5", "report.day.6",
    "report.dir.northbound", "report.dir.southbound",
    "report.mode.passenger", "report.mode.pedestrian", "report.mode.commercial",
    "report.lane.standard", "report.lane.ready", "report.lane.nexus_sentri", "report.lane.fast",
    "report.queue",
    "report.bn.title", "report.bn.intro", "report.bn.col.rank", "report.bn.col.crossing",
    "report.bn.col.direction", "report.bn.col.queue", "report.bn.col.above",
    "report.bn.col.utilisation", "report.bn.col.service", "report.bn.col.arrivals",
    "report.bn.col.need", "report.bn.lower_bound", "report.bn.needs_title",
    "report.bn.needs_intro", "report.bn.needs_head", "report.bn.col.day",
    "report.hours.title", "report.hours.other_side", "report.hours.intro",
    "report.hours.col.side", "report.hours.col.zone", "report.hours.col.posted",
    "report.hours.col.observed", "report.hours.col.compared", "report.hours.col.open",
    "report.side.US", "report.side.other", "report.hours.unknown", "report.hours.unknown_why",
    "report.hours.obs_detail", "report.conf.high", "report.conf.medium", "report.conf.low",
    "report.source.posted", "report.source.observed", "report.source.unknown",
    "report.hours.arrivals", "report.hours.mismatch", "report.hours.win.open_side",
    "report.hours.win.from_us", "report.hours.win.to_us", "report.hours.win.from_other",
    "report.hours.win.minutes", "report.hours.win.arr_nb", "report.hours.win.arr_sb",
    "report.hours.all_week", "report.hours.days", "report.hours.run.opens",
    "report.hours.run.closes", "report.hours.run.first", "report.hours.run.last",
    "report.hours.both_share", "report.hours.schedule",
    "report.off.title", "report.off.intro", "report.off.col.pairs", "report.off.col.mae",
    "report.off.col.bias", "report.off.col.lag", "report.off.col.lag_read", "report.off.col.x5",
    "report.off.col.x15", "report.off.col.age50", "report.off.col.age90",
    "report.off.col.pending", "report.off.none",
};

static const char *s_known(const char *tag)
{
    for (int i = 0; tag && i < CATALOG_NLANGS; i++) {
        size_t n = strlen(catalog_langs[i]);
        if (strncmp(tag, catalog_langs[i], n) == 0 && (tag[n] == '\0' || tag[n] == '_' ||
                                                       tag[n] == '-' || tag[n] == '.'))
            return catalog_langs[i];
    }
    return NULL;
}

const char *rtext_pick_lang(const char *opt)
{
    if (opt)
        return s_known(opt) && strlen(opt) == 2 ? s_known(opt) : NULL;
    /* POSIX precedence: the first of these that is set and non-empty decides. */
    const char *vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            const char *l = s_known(v);
            return l ? l : "en";
        }
    }
    return "en";
}

static int s_has_en(const char *dir)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/en.json", dir);
    return access(p, R_OK) == 0;
}

const char *rtext_default_dir(char *buf, size_t len)
{
    /* A binary built in a source tree reads that tree's catalogs, so a
     * build never runs with an older installed copy; an installed binary
     * has no tree around it and reads the installed ones. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        /* <tree>/build/bin/poe-report -> <tree>/tools/report/i18n */
        snprintf(buf, len, "%s/../../tools/report/i18n", exe);
        if (s_has_en(buf))
            return buf;
    }
    snprintf(buf, len, "%s", RTEXT_INSTALLED);
    return buf;
}

rtext_t *rtext_load(const char *dir, const char *lang, char *why, size_t whylen)
{
    char inner[400] = "";
    rtext_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    self->lang = s_known(lang) ? s_known(lang) : "en";
    self->cat = catalog_load(dir, inner, sizeof inner);
    if (!self->cat) {
        snprintf(why, whylen, "report catalogs in %s: %s", dir, inner);
        rtext_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < sizeof s_keys / sizeof *s_keys; i++)
        if (!catalog_get(self->cat, "en", s_keys[i])) {
            snprintf(why, whylen, "report catalogs in %s: en.json: key '%s' missing (poe-report needs it)",
                     dir, s_keys[i]);
            rtext_destroy(&self);
            return NULL;
        }
    return self;
}

void rtext_destroy(rtext_t **self_p)
{
    rtext_t *self = *self_p;
    if (!self)
        return;
    catalog_destroy(&self->cat);
    free(self);
    *self_p = NULL;
}

const char *rtext_lang(const rtext_t *self) { return self->lang; }

const char *rtext_get(const rtext_t *self, const char *key)
{
    const char *s = catalog_get(self->cat, self->lang, key);
    if (!s) {
        log_error("report catalog: no key '%s' (a key missing from rtext.c's list)", key);
        return key;
    }
    return s;
}

/* Fills {name} placeholders from the name/value pairs in ap. */
static const char *s_fill(const char *tmpl, char *buf, size_t len, va_list ap)
{
    const char *names[16], *vals[16];
    int n = 0;
    for (const char *k; n < 16 && (k = va_arg(ap, const char *));) {
        names[n] = k;
        vals[n++] = va_arg(ap, const char *);
    }
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < len;) {
        const char *v = NULL;
        size_t skip = 0;
        if (*p == '{') {
            const char *e = strchr(p, '}');
            for (int i = 0; e && i < n; i++)
                if (strlen(names[i]) == (size_t)(e - p - 1) && strncmp(p + 1, names[i], (size_t)(e - p - 1)) == 0) {
                    v = vals[i];
                    skip = (size_t)(e - p + 1);
                }
        }
        if (v) {
            int w = snprintf(buf + o, len - o, "%s", v);
            o = w < 0 ? o : o + (size_t)w >= len ? len - 1 : o + (size_t)w;
            p += skip;
        } else {
            buf[o++] = *p++;
        }
    }
    buf[o < len ? o : len - 1] = '\0';
    return buf;
}

const char *rtext_fmt(const rtext_t *self, char *buf, size_t len, const char *key, ...)
{
    va_list ap;
    va_start(ap, key);
    s_fill(rtext_get(self, key), buf, len, ap);
    va_end(ap);
    return buf;
}

const char *rtext_num(const rtext_t *self, double v, int decimals, char *buf, size_t len)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "–");
        return buf;
    }
    snprintf(buf, len, "%.*f", decimals, v);
    char *dot = strchr(buf, '.');
    const char *mark = rtext_get(self, "report.decimal");
    if (dot && strcmp(mark, ".") != 0 && strlen(mark) == 1)
        *dot = mark[0];
    return buf;
}

const char *rtext_date(const rtext_t *self, int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char key[32], day[16], year[16], hm[16];
    snprintf(key, sizeof key, "report.month.%d", tm.tm_mon + 1);
    snprintf(day, sizeof day, "%d", tm.tm_mday);
    snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
    snprintf(hm, sizeof hm, "%02d:%02d", tm.tm_hour, tm.tm_min);
    return rtext_fmt(self, buf, len, "report.date", "month", rtext_get(self, key), "day", day,
                     "year", year, "time", hm, NULL);
}

const char *rtext_day(const rtext_t *self, int d)
{
    static const char *const keys[7] = { "report.day.0", "report.day.1", "report.day.2",
                                         "report.day.3", "report.day.4", "report.day.5",
                                         "report.day.6" };
    return d >= 0 && d < 7 ? rtext_get(self, keys[d]) : "?";
}

const char *rtext_word(const rtext_t *self, const char *group, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "report.%s.%s", group, name);
    const char *s = catalog_get(self->cat, self->lang, key);
    return s ? s : name;   /* "?" of an invalid enum stays "?" */
}

const char *rtext_phrase(const rtext_t *self, const char *group, const char *phrase, char *buf,
                         size_t len)
{
    size_t o = 0;
    for (const char *p = phrase; *p && o + 1 < len; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
        if (alnum)
            buf[o++] = *p;
        else if (o > 0 && buf[o - 1] != '_')
            buf[o++] = '_';
    }
    buf[o] = '\0';
    const char *t = rtext_word(self, group, buf);
    return t == buf ? phrase : t;
}
