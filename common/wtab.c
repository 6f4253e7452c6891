/* wtab — see wtab.h. */
#include "wtab.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define WTAB_MAX_COLS 16
/* Vehicles per hour or lanes: anything above is a typo, and the users
 * convert values to int. */
#define WTAB_MAX_VALUE 1e6

struct wtab {
    bool has[TAX_NQUEUES];
    double v[TAX_NQUEUES][WTAB_HOURS];
    char tz[64];
};

wtab_t *wtab_new(void) { return calloc(1, sizeof(wtab_t)); }

void wtab_destroy(wtab_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

void wtab_set_daily(wtab_t *self, int queue, const double day[24])
{
    for (int h = 0; h < WTAB_HOURS; h++)
        self->v[queue][h] = day[h % 24];
    self->has[queue] = true;
}

void wtab_set(wtab_t *self, int queue, int h, double v)
{
    self->v[queue][((h % WTAB_HOURS) + WTAB_HOURS) % WTAB_HOURS] = v;
    self->has[queue] = true;
}

void wtab_clear(wtab_t *self, int queue) { self->has[queue] = false; }

bool wtab_has(const wtab_t *self, int queue) { return self->has[queue]; }

const char *wtab_timezone(const wtab_t *self) { return self->tz[0] ? self->tz : NULL; }

/* "# timezone: ZONE" names the clock of the hours; other comments are free. */
static int s_directive(wtab_t *self, const char *buf, const char *path, int line)
{
    const char *p = buf + 1;
    p += strspn(p, " \t");
    if (strncmp(p, "timezone:", 9) != 0)
        return 0;
    p += 9;
    p += strspn(p, " \t");
    size_t n = strcspn(p, " \t\r\n");
    if (n == 0 || n >= sizeof self->tz || p[n + strspn(p + n, " \t\r\n")] != '\0') {
        log_error("%s:%d: \"# timezone:\" needs one zone name such as UTC or America/Tijuana",
                  path, line);
        return -1;
    }
    memcpy(self->tz, p, n);
    self->tz[n] = '\0';
    return 0;
}

int wtab_save(const wtab_t *self, const char *path, const char *tz)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    if (tz)
        fprintf(f, "# timezone: %s\n", tz);
    fputs("hour_of_week", f);
    for (int q = 0; q < TAX_NQUEUES; q++) {
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(q, &m, &t);
        if (self->has[q])
            fprintf(f, ",%s-%s", tax_mode_name(m), tax_type_name(t));
    }
    fputc('\n', f);
    for (int h = 0; h < WTAB_HOURS; h++) {
        bool changed = h == 0;
        for (int q = 0; q < TAX_NQUEUES && !changed; q++)
            changed = self->has[q] && self->v[q][h] != self->v[q][h - 1];
        if (!changed)
            continue;
        fprintf(f, "%d", h);
        for (int q = 0; q < TAX_NQUEUES; q++)
            if (self->has[q])
                fprintf(f, ",%g", self->v[q][h]);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

double wtab_get(const wtab_t *self, int queue, int h)
{
    return self->v[queue][((h % WTAB_HOURS) + WTAB_HOURS) % WTAB_HOURS];
}

/* Split a CSV line in place on commas; trailing newline and blanks
 * around cells are removed. Returns the number of cells. */
static int s_split(char *line, char *cells[], int max)
{
    line[strcspn(line, "\r\n")] = '\0';
    int n = 0;
    char *p = line;
    while (n < max) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        cells[n++] = p;
        if (!comma)
            return n;
        p = comma + 1;
    }
    return -1;
}

static int s_parse_header(char *cells[], int n, int cols[], const char *path, int line)
{
    if (strcmp(cells[0], "hour_of_week") != 0) {
        log_error("%s:%d: first column must be hour_of_week, not '%s'", path, line, cells[0]);
        return -1;
    }
    for (int i = 1; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s", cells[i]);
        char *dash = strchr(name, '-');
        enum tax_mode m;
        enum tax_type t;
        if (!dash || (*dash = '\0', tax_mode_parse(name, &m) != 0) ||
            tax_type_parse(dash + 1, &t) != 0) {
            log_error("%s:%d: column '%s' is not <mode>-<type> (e.g. passenger-standard)", path,
                      line, cells[i]);
            return -1;
        }
        cols[i] = tax_queue_index(m, t);
    }
    return 0;
}

static int s_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > WTAB_MAX_VALUE)
        return -1;
    *out = v;
    return 0;
}

/* One data row: stores values at hour h (filled forward later). */
static int s_parse_row(char *cells[], int n, int ncols, const int cols[], double rows[][WTAB_HOURS],
                       bool set[][WTAB_HOURS], int *last_h, const char *path, int line)
{
    if (n != ncols) {
        log_error("%s:%d: %d fields, the header has %d", path, line, n, ncols);
        return -1;
    }
    double h;
    if (s_number(cells[0], &h) != 0 || h != floor(h) || h >= WTAB_HOURS || (int)h <= *last_h) {
        log_error("%s:%d: hour_of_week '%s' is not a whole number 0-167 above the previous row",
                  path, line, cells[0]);
        return -1;
    }
    *last_h = (int)h;
    for (int i = 1; i < n; i++) {
        if (!*cells[i])
            continue;
        double v;
        if (s_number(cells[i], &v) != 0) {
            log_error("%s:%d: column %d: '%s' is not a number in 0..%g", path, line, i + 1,
                      cells[i], WTAB_MAX_VALUE);
            return -1;
        }
        rows[cols[i]][(int)h] = v;
        set[cols[i]][(int)h] = true;
    }
    return 0;
}

/* Hold each given value until the next one, wrapping around the period
 * (a day when every row is within the first day, else the week). */
static void s_fill(wtab_t *self, double rows[][WTAB_HOURS], bool set[][WTAB_HOURS], int last_h)
{
    int period = last_h < 24 ? 24 : WTAB_HOURS;
    for (int q = 0; q < TAX_NQUEUES; q++) {
        int first = -1, lastset = -1;
        for (int h = 0; h < period; h++)
            if (set[q][h]) {
                if (first < 0)
                    first = h;
                lastset = h;
            }
        if (first < 0)
            continue;
        double cur = rows[q][lastset];
        for (int h = 0; h < WTAB_HOURS; h++) {
            int hp = h % period;
            if (set[q][hp])
                cur = rows[q][hp];
            else if (hp == 0)
                cur = rows[q][lastset];
            self->v[q][h] = cur;
        }
        self->has[q] = true;
    }
}

int wtab_load(wtab_t *self, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    double (*rows)[WTAB_HOURS] = calloc(TAX_NQUEUES, sizeof *rows);
    bool (*set)[WTAB_HOURS] = calloc(TAX_NQUEUES, sizeof *set);
    char buf[1024], *cells[WTAB_MAX_COLS + 1];
    int cols[WTAB_MAX_COLS + 1], ncols = 0, line = 0, last_h = -1, rc = rows && set ? 0 : -1;
    while (rc == 0 && fgets(buf, sizeof buf, f)) {
        line++;
        if (buf[0] == '#') {
            rc = s_directive(self, buf, path, line);
            continue;
        }
        if (strspn(buf, " \t\r\n") == strlen(buf))
            continue;
        int n = s_split(buf, cells, WTAB_MAX_COLS + 1);
        if (n < 0) {
            log_error("%s:%d: more than %d columns", path, line, WTAB_MAX_COLS);
            rc = -1;
        } else if (ncols == 0) {
            rc = n < 2 ? -1 : s_parse_header(cells, n, cols, path, line);
            if (n < 2)
                log_error("%s:%d: header needs hour_of_week and at least one queue", path, line);
            ncols = n;
        } else {
            rc = s_parse_row(cells, n, ncols, cols, rows, set, &last_h, path, line);
        }
    }
    if (rc == 0 && last_h < 0) {
        log_error("%s:%d: no data rows", path, line);
        rc = -1;
    }
    if (rc == 0)
        s_fill(self, rows, set, last_h);
    free(rows);
    free(set);
    fclose(f);
    return rc;
}
