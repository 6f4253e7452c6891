/* output — see output.h. */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "textbuf.h"
#include "vec.h"

typedef struct {
    int64_t t_ms;
    uint64_t seq;
    char *line;
} out_line_t;

struct out {
    out_line_t *v;
    size_t n, cap;
    uint64_t seq;
    textbuf_t *comments;     /* "# text\n" lines; made by the first comment */
};

out_t *out_new(void) { return calloc(1, sizeof(out_t)); }

void out_destroy(out_t **self_p)
{
    out_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        free(self->v[i].line);
    free(self->v);
    textbuf_destroy(&self->comments);
    free(self);
    *self_p = NULL;
}

size_t out_count(const out_t *self) { return self->n; }

int out_event(out_t *self, const sensor_event_t *ev)
{
    if (VEC_RESERVE(self->v, self->cap, self->n + 1) != 0)
        return -1;
    char buf[SENSOR_MAX_LINE];
    sensor_format(ev, buf, sizeof buf);
    buf[strcspn(buf, "\n")] = '\0';
    char *line = strdup(buf);
    if (!line)
        return -1;
    self->v[self->n++] = (out_line_t){ .t_ms = ev->t_ms, .seq = self->seq++, .line = line };
    return 0;
}

int out_comment(out_t *self, const char *text)
{
    if (!self->comments)
        self->comments = textbuf_new();
    return textbuf_printf(self->comments, "# %s\n", text);
}

static int s_cmp(const void *a, const void *b)
{
    const out_line_t *x = a, *y = b;
    if (x->t_ms != y->t_ms)
        return x->t_ms < y->t_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int s_close(FILE *f, const char *path)
{
    int rc = ferror(f) ? -1 : 0;
    if (fclose(f) != 0 || rc != 0) {
        log_error("%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int out_write_events(out_t *self, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    qsort(self->v, self->n, sizeof *self->v, s_cmp);
    const char *comments = textbuf_data(self->comments);
    if (comments)
        fputs(comments, f);
    for (size_t i = 0; i < self->n; i++) {
        fputs(self->v[i].line, f);
        fputc('\n', f);
    }
    return s_close(f, path);
}

int out_write_truth(const model_t *m, const scen_t *sc, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < model_vehicles(m); i++) {
        const model_vehicle_t *v = model_vehicle(m, i);
        const scen_queue_t *q = &sc->q[v->qi];
        fprintf(f, "%" PRId64 " %" PRId64 " %s %s %s\n", v->arrive_ms, v->depart_ms,
                tax_mode_name(q->mode), tax_type_name(q->type), model_lane_id(m, v->lane));
    }
    return s_close(f, path);
}
