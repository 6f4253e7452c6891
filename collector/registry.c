/* registry — see registry.h.
 *
 * Owns reading the crossing list (libconfig, format in docs/registry.md),
 * checking every entry, and the id index. Entries are kept in one array in
 * file order (reg_at); a second array of pointers into it, sorted by id,
 * serves reg_find by binary search. The registry is immutable once loaded,
 * so both arrays are built once and never touched again.
 *
 * Each rejected entry is logged exactly once, with the first problem found,
 * as "<file>:<line>: crossing <n>: <reason>" where n counts list elements
 * from 1 — so an operator can fix a file entry by entry. */
#include "registry.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zone.h"

/* More lanes than any real port has (San Ysidro, the largest, has 34
 * passenger lanes): a bigger number is a typo, not a port. */
#define REG_MAX_LANES 64

#define REG_DEFAULT_TZDIR "/usr/share/zoneinfo"

struct registry {
    reg_crossing_t *v;              /* good entries, file order */
    size_t n;
    const reg_crossing_t **by_id;   /* the same entries, sorted by id */
};

/* Where the entry being checked sits, for messages. */
typedef struct {
    const char *file;
    unsigned n;                     /* 1-based position in the list */
    const config_setting_t *entry;  /* the list element */
} s_where_t;

static const char *s_entry_keys[] = {
    "id", "bwt_id", "border", "name", "port_name", "crossing_name",
    "other_name", "cbsa_office", "us_tz", "other_tz", "max_lanes", "lanes", "hours", "directions", NULL
};

const char *const reg_methods[] = { "sensors", "manual", "rfid", "bluetooth", "unknown", NULL };

/* ---- messages ------------------------------------------------------------ */

/* Line of the setting a problem is about, falling back to the entry's own
 * line when the setting is absent. */
static int s_line(const s_where_t *w, const config_setting_t *at)
{
    return (int)config_setting_source_line(at ? at : w->entry);
}

static void s_reject(const s_where_t *w, const config_setting_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_reject(const s_where_t *w, const config_setting_t *at, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    log_error("%s:%d: crossing %u: %s", w->file, s_line(w, at), w->n, why);
}

/* ---- field checks -------------------------------------------------------- */

static bool s_key_known(const char *name, const char *const *keys)
{
    for (; *keys; keys++)
        if (strcmp(*keys, name) == 0)
            return true;
    return false;
}

/* A typo such as "pedestrain" must not silently become a missing (zero)
 * value, so every member of a group has to be a key we know. */
static int s_check_keys(const s_where_t *w, const config_setting_t *group,
                        const char *const *keys, const char *prefix)
{
    int len = config_setting_length(group);
    for (int i = 0; i < len; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!name || !s_key_known(name, keys)) {
            s_reject(w, s, "unknown key '%s%s'", prefix, name ? name : "?");
            return -1;
        }
    }
    return 0;
}

/* Copy string member key into buf. A missing optional member leaves "". */
static int s_get_str(const s_where_t *w, const char *key, bool required,
                     char *buf, size_t size)
{
    const config_setting_t *s = config_setting_get_member(w->entry, key);
    buf[0] = '\0';
    if (!s) {
        if (required)
            s_reject(w, NULL, "missing %s", key);
        return required ? -1 : 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        s_reject(w, s, "%s must be a quoted string", key);
        return -1;
    }
    const char *v = config_setting_get_string(s);
    if (strlen(v) >= size) {
        s_reject(w, s, "%s longer than %zu bytes", key, size - 1);
        return -1;
    }
    if (required && !*v) {
        s_reject(w, s, "%s is empty", key);
        return -1;
    }
    memcpy(buf, v, strlen(v) + 1);
    return 0;
}

static bool s_all_digits(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static const config_setting_t *s_member(const s_where_t *w, const char *key)
{
    return config_setting_get_member(w->entry, key);
}

static int s_parse_ids(const s_where_t *w, reg_crossing_t *c)
{
    if (s_get_str(w, "id", true, c->id, sizeof c->id) < 0)
        return -1;
    if (!tax_crossing_id_valid(c->id)) {
        s_reject(w, s_member(w, "id"), "id '%s' is not 6 digits", c->id);
        return -1;
    }
    if (s_get_str(w, "bwt_id", true, c->bwt_id, sizeof c->bwt_id) < 0)
        return -1;
    if (!s_all_digits(c->bwt_id, 8)) {
        s_reject(w, s_member(w, "bwt_id"), "bwt_id '%s' is not 8 digits", c->bwt_id);
        return -1;
    }
    /* CBP's bwtId is the 2-digit field office followed by the port number. */
    if (strcmp(c->bwt_id + 2, c->id) != 0) {
        s_reject(w, s_member(w, "bwt_id"), "bwt_id '%s' does not end in id '%s'",
                 c->bwt_id, c->id);
        return -1;
    }
    return 0;
}

static int s_parse_border(const s_where_t *w, reg_crossing_t *c)
{
    char b[8];
    if (s_get_str(w, "border", true, b, sizeof b) < 0)
        return -1;
    if (strcmp(b, "CA") == 0) {
        c->border = TAX_BORDER_CA;
    } else if (strcmp(b, "MX") == 0) {
        c->border = TAX_BORDER_MX;
    } else {
        s_reject(w, s_member(w, "border"), "border '%s' is not CA or MX", b);
        return -1;
    }
    return 0;
}

static int s_parse_names(const s_where_t *w, reg_crossing_t *c)
{
    if (s_get_str(w, "name", true, c->name, sizeof c->name) < 0)
        return -1;
    if (s_get_str(w, "port_name", false, c->port_name, sizeof c->port_name) < 0)
        return -1;
    if (s_get_str(w, "crossing_name", false, c->crossing_name, sizeof c->crossing_name) < 0)
        return -1;
    if (s_get_str(w, "cbsa_office", false, c->cbsa_office, sizeof c->cbsa_office) < 0)
        return -1;
    if (c->cbsa_office[0] && c->border != TAX_BORDER_CA) {
        s_reject(w, s_member(w, "cbsa_office"), "cbsa_office '%s' on a crossing of the Mexican border",
                 c->cbsa_office);
        return -1;
    }
    return s_get_str(w, "other_name", false, c->other_name, sizeof c->other_name);
}

/* A zone name is looked up as a path, so refuse anything that could leave
 * the zoneinfo tree before touching the file system. */
static bool s_tz_name_safe(const char *z)
{
    if (!*z || *z == '/' || strstr(z, ".."))
        return false;
    for (const char *p = z; *p; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || strchr("/_+-.", *p);
        if (!ok)
            return false;
    }
    return true;
}

/* True when zone names a compiled zone: the file must exist and start with
 * the TZif magic, which also rules out zone.tab, tzdata.zi and friends.
 * TZDIR is honoured the way glibc honours it. */
static bool s_tz_exists(const char *zone)
{
    if (!s_tz_name_safe(zone))
        return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    int len = snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : REG_DEFAULT_TZDIR, zone);
    if (len < 0 || (size_t)len >= sizeof path)
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char magic[4];
    bool ok = fread(magic, 1, sizeof magic, f) == sizeof magic &&
              memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

static int s_parse_tz(const s_where_t *w, const char *key, char *buf, size_t size)
{
    if (s_get_str(w, key, true, buf, size) < 0)
        return -1;
    if (!s_tz_exists(buf)) {
        s_reject(w, s_member(w, key), "%s '%s' is not a known time zone", key, buf);
        return -1;
    }
    return 0;
}

static int s_parse_lanes(const s_where_t *w, reg_crossing_t *c)
{
    static const char *keys[] = { "passenger", "pedestrian", "commercial", NULL };
    const config_setting_t *g = s_member(w, "max_lanes");
    if (!g) {
        s_reject(w, NULL, "missing max_lanes");
        return -1;
    }
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        s_reject(w, g, "max_lanes must be a group { passenger = N; ... }");
        return -1;
    }
    if (s_check_keys(w, g, keys, "max_lanes.") < 0)
        return -1;
    for (int m = 1; m <= TAX_NMODES; m++) {
        const char *name = tax_mode_name((enum tax_mode)m);
        const config_setting_t *s = config_setting_get_member(g, name);
        /* Every mode is required: 0 has to be said, so a forgotten line
         * cannot pass for a port without that mode. */
        if (!s) {
            s_reject(w, g, "missing max_lanes.%s", name);
            return -1;
        }
        if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
            s_reject(w, s, "max_lanes.%s must be an integer", name);
            return -1;
        }
        long long v = config_setting_get_int64(s);
        if (v < 0 || v > REG_MAX_LANES) {
            s_reject(w, s, "max_lanes.%s = %lld is outside 0..%d", name, v, REG_MAX_LANES);
            return -1;
        }
        c->max_lanes[m] = (int)v;
    }
    return 0;
}


/* ---- lane types, hours, directions (all optional) -------------------------- */

static const config_setting_t *s_group(const s_where_t *w, const config_setting_t *parent,
                                       const char *key, const char *label)
{
    const config_setting_t *g = config_setting_get_member(parent, key);
    if (g && config_setting_type(g) != CONFIG_TYPE_GROUP) {
        s_reject(w, g, "%s must be a group { ... }", label);
        return (const config_setting_t *)-1;
    }
    return g;
}

#define S_BAD ((const config_setting_t *)-1)

/* lanes = { passenger = { standard = N; ready = N; nexus_sentri = N; fast = N; }; ... };
 * Types not named are not served (0); standard defaults to max_lanes. */
static int s_parse_type_lanes(const s_where_t *w, reg_crossing_t *c)
{
    static const char *modes[] = { "passenger", "pedestrian", "commercial", NULL };
    static const char *types[] = { "standard", "ready", "nexus_sentri", "fast", NULL };
    for (int m = 1; m <= TAX_NMODES; m++)
        c->type_lanes[m][TAX_STANDARD] = c->max_lanes[m];
    const config_setting_t *g = s_group(w, w->entry, "lanes", "lanes");
    if (g == S_BAD)
        return -1;
    if (!g)
        return 0;
    if (s_check_keys(w, g, modes, "lanes.") < 0)
        return -1;
    for (int m = 1; m <= TAX_NMODES; m++) {
        const char *mn = tax_mode_name((enum tax_mode)m);
        char label[48];
        snprintf(label, sizeof label, "lanes.%s", mn);
        const config_setting_t *mg = s_group(w, g, mn, label);
        if (mg == S_BAD)
            return -1;
        if (!mg)
            continue;
        snprintf(label, sizeof label, "lanes.%s.", mn);
        if (s_check_keys(w, mg, types, label) < 0)
            return -1;
        for (int t = 1; t <= TAX_NTYPES; t++) {
            const config_setting_t *s = config_setting_get_member(mg, tax_type_name((enum tax_type)t));
            if (!s)
                continue;
            long long v = config_setting_get_int64(s);
            if ((config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) ||
                v < 0 || v > c->max_lanes[m]) {
                s_reject(w, s, "lanes.%s.%s must be an integer in 0..max_lanes.%s (%d)", mn,
                         tax_type_name((enum tax_type)t), mn, c->max_lanes[m]);
                return -1;
            }
            c->type_lanes[m][t] = (int)v;
        }
    }
    return 0;
}

/* A list or array of strings, each handed to take(). */
static int s_each_string(const s_where_t *w, const config_setting_t *s, const char *label,
                         int (*take)(const s_where_t *, const config_setting_t *, const char *,
                                     void *),
                         void *arg)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
        s_reject(w, s, "%s must be a list of strings [ \"...\", ... ]", label);
        return -1;
    }
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            s_reject(w, e, "%s must be a list of strings", label);
            return -1;
        }
        if (take(w, e, config_setting_get_string(e), arg) < 0)
            return -1;
    }
    return 0;
}

static int s_take_rule(const s_where_t *w, const config_setting_t *at, const char *text, void *arg)
{
    hours_mode_t *hm = arg;
    char why[256];
    if (hm->nrules == HOURS_MAX_RULES) {
        s_reject(w, at, "more than %d hours rules for one mode", HOURS_MAX_RULES);
        return -1;
    }
    if (hours_parse_rule(text, &hm->rules[hm->nrules], why, sizeof why) < 0) {
        s_reject(w, at, "%s", why);
        return -1;
    }
    hm->nrules++;
    hm->always = hm->nrules == 1 && strcmp(text, "24h") == 0;
    return 0;
}

static int s_take_closed(const s_where_t *w, const config_setting_t *at, const char *text, void *arg)
{
    hours_side_t *h = arg;
    if (h->nclosed == HOURS_MAX_CLOSED) {
        s_reject(w, at, "more than %d closed dates", HOURS_MAX_CLOSED);
        return -1;
    }
    if (hours_parse_closure(text, &h->closed[h->nclosed]) < 0) {
        s_reject(w, at, "closed date '%s' is not MM-DD or MM-DAY#N (e.g. 11-thu#4, 05-mon#L)", text);
        return -1;
    }
    h->nclosed++;
    return 0;
}

/* side = "unknown" or { source = "..."; all = [...]; passenger = [...]; ...; closed = [...]; } */
static int s_parse_side(const s_where_t *w, const config_setting_t *s, const char *side,
                        hours_side_t *h)
{
    static const char *keys[] = { "source", "all", "passenger", "pedestrian", "commercial", "closed", NULL };
    memset(h, 0, sizeof *h);
    if (!s)
        return 0;
    if (config_setting_type(s) == CONFIG_TYPE_STRING && strcmp(config_setting_get_string(s), "unknown") == 0)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        s_reject(w, s, "hours.%s must be \"unknown\" or a group { ... }", side);
        return -1;
    }
    char label[48];
    snprintf(label, sizeof label, "hours.%s.", side);
    if (s_check_keys(w, s, keys, label) < 0)
        return -1;
    const config_setting_t *src = config_setting_get_member(s, "source");
    if (src && (config_setting_type(src) != CONFIG_TYPE_STRING ||
                strlen(config_setting_get_string(src)) >= sizeof h->source)) {
        s_reject(w, src, "hours.%s.source must be a string of at most %zu bytes", side,
                 sizeof h->source - 1);
        return -1;
    }
    if (src)
        snprintf(h->source, sizeof h->source, "%s", config_setting_get_string(src));
    const config_setting_t *all = config_setting_get_member(s, "all");
    for (int m = 1; m <= TAX_NMODES; m++) {
        const config_setting_t *ms = config_setting_get_member(s, tax_mode_name((enum tax_mode)m));
        const config_setting_t *use = ms ? ms : all;
        snprintf(label, sizeof label, "hours.%s.%s", side, ms ? tax_mode_name((enum tax_mode)m) : "all");
        if (use && s_each_string(w, use, label, s_take_rule, &h->mode[m]) < 0)
            return -1;
        if (h->mode[m].nrules)
            h->known = true;
    }
    const config_setting_t *cl = config_setting_get_member(s, "closed");
    snprintf(label, sizeof label, "hours.%s.closed", side);
    return cl ? s_each_string(w, cl, label, s_take_closed, h) : 0;
}

static int s_parse_hours(const s_where_t *w, reg_crossing_t *c)
{
    static const char *keys[] = { "us", "other", NULL };
    const config_setting_t *g = s_group(w, w->entry, "hours", "hours");
    if (g == S_BAD || (g && s_check_keys(w, g, keys, "hours.") < 0))
        return -1;
    if (!g)
        return 0;
    if (s_parse_side(w, config_setting_get_member(g, "us"), "us", &c->hours[HOURS_US]) < 0)
        return -1;
    return s_parse_side(w, config_setting_get_member(g, "other"), "other", &c->hours[HOURS_OTHER]);
}

static int s_dir_str(const s_where_t *w, const config_setting_t *g, const char *dir,
                     const char *key, char *buf, size_t size)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING || strlen(config_setting_get_string(s)) >= size) {
        s_reject(w, s, "directions.%s.%s must be a string of at most %zu bytes", dir, key, size - 1);
        return -1;
    }
    snprintf(buf, size, "%s", config_setting_get_string(s));
    return 0;
}

static bool s_method_known(const char *m)
{
    for (const char *const *p = reg_methods; *p; p++)
        if (strcmp(*p, m) == 0)
            return true;
    return false;
}

/* directions = { northbound = { agent = "..."; method = "..."; segment_from = "..."; segment_to = "..."; }; ... } */
static int s_parse_directions(const s_where_t *w, reg_crossing_t *c)
{
    static const char *keys[] = { "northbound", "southbound", NULL };
    static const char *dkeys[] = { "agent", "method", "segment_from", "segment_to", NULL };
    for (int d = 0; d < TAX_NDIRS; d++)
        snprintf(c->dirs[d].method, sizeof c->dirs[d].method, "unknown");
    const config_setting_t *g = s_group(w, w->entry, "directions", "directions");
    if (g == S_BAD || (g && s_check_keys(w, g, keys, "directions.") < 0))
        return -1;
    for (int d = 1; g && d <= TAX_NDIRS; d++) {
        const char *dn = tax_dir_name((enum tax_dir)d);
        char label[48];
        snprintf(label, sizeof label, "directions.%s", dn);
        const config_setting_t *dg = s_group(w, g, dn, label);
        if (dg == S_BAD)
            return -1;
        if (!dg)
            continue;
        reg_direction_t *rd = &c->dirs[d - 1];
        strcat(label, ".");
        if (s_check_keys(w, dg, dkeys, label) < 0 ||
            s_dir_str(w, dg, dn, "agent", rd->agent, sizeof rd->agent) < 0 ||
            s_dir_str(w, dg, dn, "method", rd->method, sizeof rd->method) < 0 ||
            s_dir_str(w, dg, dn, "segment_from", rd->segment_from, sizeof rd->segment_from) < 0 ||
            s_dir_str(w, dg, dn, "segment_to", rd->segment_to, sizeof rd->segment_to) < 0)
            return -1;
        if (!s_method_known(rd->method)) {
            s_reject(w, config_setting_get_member(dg, "method"),
                     "directions.%s.method '%s' is not sensors, manual, rfid, bluetooth or unknown",
                     dn, rd->method);
            return -1;
        }
    }
    return 0;
}

/* Fill *c from one list element. 0 when good; -1 when rejected (logged). */
static int s_parse_entry(const s_where_t *w, reg_crossing_t *c)
{
    memset(c, 0, sizeof *c);
    if (config_setting_type(w->entry) != CONFIG_TYPE_GROUP) {
        s_reject(w, NULL, "not a group { ... }");
        return -1;
    }
    if (s_check_keys(w, w->entry, s_entry_keys, "") < 0 ||
        s_parse_ids(w, c) < 0 || s_parse_border(w, c) < 0 ||
        s_parse_names(w, c) < 0 ||
        s_parse_tz(w, "us_tz", c->us_tz, sizeof c->us_tz) < 0 ||
        s_parse_tz(w, "other_tz", c->other_tz, sizeof c->other_tz) < 0 ||
        s_parse_lanes(w, c) < 0 || s_parse_type_lanes(w, c) < 0 ||
        s_parse_hours(w, c) < 0 || s_parse_directions(w, c) < 0)
        return -1;
    return 0;
}

/* ---- the whole file ------------------------------------------------------ */

static int s_read_file(config_t *cfg, const char *path)
{
    if (config_read_file(cfg, path) == CONFIG_TRUE)
        return 0;
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
        log_error("%s: cannot read registry file", path);
    else
        log_error("%s:%d: %s", path, config_error_line(cfg), config_error_text(cfg));
    return -1;
}

/* The crossings list. A file without one is not a registry at all (say, a
 * collector.conf given by mistake), which is worth refusing outright rather
 * than starting with nothing. Other top-level settings are counted as bad
 * in *nbad, like bad entries. */
static const config_setting_t *s_find_list(const config_t *cfg, const char *path, int *nbad)
{
    const config_setting_t *root = config_root_setting(cfg);
    const config_setting_t *list = config_setting_get_member(root, "crossings");
    if (!list) {
        log_error("%s: no 'crossings = ( ... );' list: not a registry file", path);
        return NULL;
    }
    if (config_setting_type(list) != CONFIG_TYPE_LIST) {
        log_error("%s:%d: 'crossings' must be a list ( { ... }, ... )", path,
                  (int)config_setting_source_line(list));
        return NULL;
    }
    int len = config_setting_length(root);
    for (int i = 0; i < len; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        if (s != list) {
            log_error("%s:%d: unknown setting '%s'", path,
                      (int)config_setting_source_line(s), config_setting_name(s));
            (*nbad)++;
        }
    }
    return list;
}

static int s_cmp_ptr_by_id(const void *a, const void *b)
{
    const reg_crossing_t *x = *(const reg_crossing_t *const *)a;
    const reg_crossing_t *y = *(const reg_crossing_t *const *)b;
    int c = strcmp(x->id, y->id);
    /* Ties in file order (all point into one array), so the entry kept for
     * a duplicated id is always the first one in the file. */
    return c ? c : (x > y) - (x < y);
}

static void s_sort_by_id(registry_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        self->by_id[i] = &self->v[i];
    if (self->n > 1)
        qsort(self->by_id, self->n, sizeof *self->by_id, s_cmp_ptr_by_id);
}

/* Reject every entry whose id an earlier entry already has, then compact
 * the array, keeping file order, and rebuild the index. src[i] and nums[i]
 * are the source setting and list position of v[i]. Returns how many were
 * dropped, -1 when out of memory. */
static int s_drop_duplicates(registry_t *self, const config_setting_t **src,
                             const unsigned *nums, const char *path)
{
    bool *dup = calloc(self->n ? self->n : 1, sizeof *dup);
    if (!dup)
        return -1;
    s_sort_by_id(self);
    int ndup = 0;
    size_t first = 0;   /* start of the current run of equal ids */
    for (size_t i = 1; i < self->n; i++) {
        if (strcmp(self->by_id[i]->id, self->by_id[first]->id) != 0) {
            first = i;
            continue;
        }
        size_t k = (size_t)(self->by_id[i] - self->v);
        size_t f = (size_t)(self->by_id[first] - self->v);
        s_where_t w = { path, nums[k], src[k] };
        s_reject(&w, s_member(&w, "id"), "duplicate id '%s' (first at line %d)",
                 self->v[k].id, (int)config_setting_source_line(src[f]));
        dup[k] = true;
        ndup++;
    }
    size_t j = 0;
    for (size_t i = 0; i < self->n; i++)
        if (!dup[i])
            self->v[j++] = self->v[i];
    self->n = j;
    free(dup);
    s_sort_by_id(self);
    return ndup;
}

/* Parse every list element into self->v; returns how many were rejected,
 * -1 when out of memory. */
static int s_parse_list(registry_t *self, const config_setting_t *list, const char *path)
{
    size_t len = (size_t)config_setting_length(list);
    size_t cap = len ? len : 1;
    self->v = calloc(cap, sizeof *self->v);
    self->by_id = calloc(cap, sizeof *self->by_id);
    const config_setting_t **src = calloc(cap, sizeof *src);
    unsigned *nums = calloc(cap, sizeof *nums);
    int bad = -1;
    if (self->v && self->by_id && src && nums) {
        bad = 0;
        for (size_t i = 0; i < len; i++) {
            s_where_t w = { path, (unsigned)i + 1, config_setting_get_elem(list, (unsigned)i) };
            if (s_parse_entry(&w, &self->v[self->n]) < 0) {
                bad++;
                continue;
            }
            src[self->n] = w.entry;
            nums[self->n++] = w.n;
        }
        int ndup = s_drop_duplicates(self, src, nums, path);
        bad = ndup < 0 ? -1 : bad + ndup;
    }
    free(src);
    free(nums);
    return bad;
}

registry_t *reg_load(const char *path, int *nbad)
{
    int bad = 0;
    if (nbad)
        *nbad = 0;
    if (!path || !*path) {
        log_error("registry: no file given");
        return NULL;
    }
    config_t cfg;
    config_init(&cfg);
    registry_t *self = NULL;
    const config_setting_t *list;
    if (s_read_file(&cfg, path) == 0 && (list = s_find_list(&cfg, path, &bad))) {
        self = calloc(1, sizeof *self);
        int nb = self ? s_parse_list(self, list, path) : -1;
        if (nb < 0) {
            log_error("%s: out of memory loading the registry", path);
            reg_destroy(&self);
        } else {
            bad += nb;   /* totals are the caller's to report */
        }
    }
    config_destroy(&cfg);
    if (nbad)
        *nbad = bad;
    return self;
}

void reg_destroy(registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    registry_t *self = *self_p;
    free(self->v);
    free(self->by_id);
    free(self);
    *self_p = NULL;
}

size_t reg_count(const registry_t *self)
{
    return self ? self->n : 0;
}

const reg_crossing_t *reg_at(const registry_t *self, size_t i)
{
    return self && i < self->n ? &self->v[i] : NULL;
}

static int s_cmp_key_by_id(const void *key, const void *elem)
{
    return strcmp((const char *)key, (*(const reg_crossing_t *const *)elem)->id);
}

const reg_crossing_t *reg_find(const registry_t *self, const char *id)
{
    if (!self || !id || !self->n)
        return NULL;
    const reg_crossing_t *const *hit =
        bsearch(id, self->by_id, self->n, sizeof *self->by_id, s_cmp_key_by_id);
    return hit ? *hit : NULL;
}

const reg_crossing_t *reg_find_cbsa(const registry_t *self, const char *name)
{
    if (!self || !name || !*name)
        return NULL;
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->v[i].cbsa_office, name) == 0)
            return &self->v[i];
    return NULL;
}

enum tax_dir reg_dir_into(const reg_crossing_t *c, const char *country)
{
    for (int d = TAX_NORTHBOUND; d <= TAX_SOUTHBOUND; d++)
        if (strcmp(tax_dir_into(c->border, (enum tax_dir)d), country) == 0)
            return (enum tax_dir)d;
    return (enum tax_dir)0;
}

const char *reg_side_tz(const reg_crossing_t *c, enum hours_side side)
{
    return side == HOURS_US ? c->us_tz : c->other_tz;
}

enum hours_state reg_hours_at(const reg_crossing_t *c, enum tax_dir d, enum tax_mode m, int64_t t)
{
    if (!c || !tax_dir_valid(d) || !tax_mode_valid(m))
        return HOURS_UNKNOWN;
    enum hours_side side = hours_side_of(c->border, d);
    if (!c->hours[side].known)
        return HOURS_UNKNOWN;
    struct tm lt;
    if (zone_local(reg_side_tz(c, side), t, &lt, NULL, 0) != 0)
        return HOURS_UNKNOWN;
    return hours_state_local(&c->hours[side], m, &lt);
}
