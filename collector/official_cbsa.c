/* official_cbsa — CBSA's bwt-eng.csv into official records (official.h).
 *
 * UTF-8 with a byte-order mark; fields separated by ";;" (each line ends
 * with one too), a header line, then one row per CBSA office: office,
 * location, "Last updated" (local "YYYY-MM-DD HH:MM ZZZ"), commercial and
 * travellers waits into Canada, and the "U.S. bound" columns (always "--",
 * not read: the US side comes from CBP). The office name is the only key;
 * the registry maps it to a crossing (cbsa_office). Commercial is the
 * commercial standard queue, travellers the passenger standard queue, of
 * the direction entering Canada. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "official.h"
#include "zone.h"

#define CBSA_NFIELDS 7
#define CBSA_FIELD_MAX 200

/* Split one line into trimmed fields (copied into f). Returns the count. */
static int s_fields(const char *line, size_t len, char f[][CBSA_FIELD_MAX], int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len && n < max) {
        const char *sep = NULL;
        for (size_t k = i; k + 1 < len; k++)
            if (line[k] == ';' && line[k + 1] == ';') {
                sep = line + k;
                break;
            }
        size_t end = sep ? (size_t)(sep - line) : len;
        size_t a = i, b = end;
        while (a < b && isspace((unsigned char)line[a]))
            a++;
        while (b > a && isspace((unsigned char)line[b - 1]))
            b--;
        snprintf(f[n++], CBSA_FIELD_MAX, "%.*s", (int)(b - a), line + a);
        if (!sep)
            break;
        i = end + 2;
    }
    return n;
}

/* "No Delay" and the other listed texts, or "N minute(s)", "N hour(s)",
 * "1 hour 5 minutes". Returns 0 with *st (and *wait_s when a number), or
 * the reason the text is refused. */
static int s_wait(const char *t, enum off_status *st, bool *has, int32_t *wait_s,
                  enum off_reason *why)
{
    *has = false;
    *st = off_status_parse(t);
    if (*st == OFF_ST_NO_DELAY) {
        *has = true;
        *wait_s = 0;
        return 0;
    }
    if (*st != OFF_ST_NONE)
        return 0;
    long total = 0;
    int parts = 0;
    const char *p = t;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) {
            *why = OFF_R_BAD_VALUE;
            return -1;
        }
        while (*end == ' ')
            end++;
        long unit;
        if (strncasecmp(end, "minute", 6) == 0)
            unit = 1, end += 6;
        else if (strncasecmp(end, "hour", 4) == 0)
            unit = 60, end += 4;
        else {
            *why = OFF_R_BAD_VALUE;
            return -1;
        }
        if (*end == 's' || *end == 'S')
            end++;
        if (v < 0 || v > OFF_MAX_WAIT_MIN) {
            *why = OFF_R_IMPOSSIBLE;
            return -1;
        }
        total += v * unit;
        parts++;
        while (*end == ' ')
            end++;
        p = end;
    }
    if (parts == 0) {
        *why = OFF_R_BAD_VALUE;
        return -1;
    }
    if (total > OFF_MAX_WAIT_MIN) {
        *why = OFF_R_IMPOSSIBLE;
        return -1;
    }
    *st = total == 0 ? OFF_ST_NO_DELAY : OFF_ST_DELAY;
    *has = true;
    *wait_s = (int32_t)(total * 60);
    return 0;
}

static void s_row(off_doc_t *doc, char f[][CBSA_FIELD_MAX], int nf, const registry_t *reg,
                  int64_t now_s, const reg_crossing_t **seen)
{
    doc->ports++;
    if (nf < CBSA_NFIELDS - 1) { /* a row cut short */
        doc->reasons[OFF_R_BAD_VALUE]++;
        return;
    }
    const reg_crossing_t *r = reg_find_cbsa(reg, f[0]);
    if (!r) {
        doc->reasons[OFF_R_UNKNOWN_PORT]++;
        return;
    }
    if (!off_take_port(doc, seen, r))
        return;
    int y, mo, d, h, mi;
    char abbr[8];
    int64_t updated = 0;
    if (strcmp(f[2], "--") != 0) {
        if (sscanf(f[2], "%4d-%2d-%2d %2d:%2d %7s", &y, &mo, &d, &h, &mi, abbr) < 5 ||
            mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
            zone_to_utc(r->other_tz, y, mo, d, h, mi, &updated) != 0) {
            doc->reasons[OFF_R_BAD_TIME]++;
            return;
        }
        if (updated > now_s + OFF_MAX_SKEW_S) {
            doc->reasons[OFF_R_FUTURE]++;
            return;
        }
    }
    static const struct {
        int field;
        enum tax_mode mode;
    } cols[] = { { 3, TAX_COMMERCIAL }, { 5, TAX_PASSENGER } };
    for (size_t i = 0; i < 2; i++) {
        off_rec_t rec = { .reg = r, .dir = reg_dir_into(r, "CA"), .mode = cols[i].mode,
                          .type = TAX_STANDARD, .updated_s = updated };
        enum off_reason why = OFF_R_BAD_VALUE;
        if (s_wait(f[cols[i].field], &rec.status, &rec.has_wait, &rec.wait_s, &why) != 0) {
            doc->reasons[why]++;
            continue;
        }
        if (off_push(doc, &rec) != 0)
            doc->reasons[OFF_R_BAD_VALUE]++;
    }
}

int off_parse_cbsa(const char *body, size_t len, const registry_t *reg, int64_t now_s,
                   off_doc_t *doc)
{
    memset(doc, 0, sizeof *doc);
    doc->source = OFF_CBSA;
    if (len > OFF_MAX_DOC_BYTES)
        return off_refuse(doc, OFF_R_TOO_LARGE);
    if (len == 0)
        return off_refuse(doc, OFF_R_SYNTAX);
    if (off_looks_html(body, len))
        return off_refuse(doc, OFF_R_NOT_DATA);
    if (!off_utf8_valid(body, len))
        return off_refuse(doc, OFF_R_CHARSET);
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
        body += 3, len -= 3;
    char f[CBSA_NFIELDS + 1][CBSA_FIELD_MAX];
    size_t lines = 0, cap = 16;
    const reg_crossing_t **seen = malloc(cap * sizeof *seen);
    if (!seen)
        return off_refuse(doc, OFF_R_TOO_LARGE);
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(body + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - body) : len;
        size_t l = end - i;
        if (l > 0 && body[i + l - 1] == '\r')
            l--;
        if (l > 0) {
            int nf = s_fields(body + i, l, f, CBSA_NFIELDS + 1);
            if (lines++ == 0) {
                if (strcasecmp(f[0], "Customs Office") != 0 || nf < CBSA_NFIELDS - 1) {
                    free(seen);
                    return off_refuse(doc, OFF_R_SHAPE);
                }
            } else {
                if (doc->ports_imported == cap) {
                    const reg_crossing_t **v = realloc(seen, 2 * cap * sizeof *v);
                    if (!v)
                        break;
                    seen = v, cap *= 2;
                }
                s_row(doc, f, nf, reg, now_s, seen);
            }
        }
        i = end + 1;
    }
    free(seen);
    if (lines == 0)
        return off_refuse(doc, OFF_R_SYNTAX);
    if (doc->ports == 0)
        return off_refuse(doc, OFF_R_EMPTY);
    return 0;
}
