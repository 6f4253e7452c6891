/* netns — see netns.h. */
#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define NETNS_MAX_LINES 4096

char *netns_get(const char *ns, int port, const char *path)
{
    char nspath[128];
    snprintf(nspath, sizeof nspath, "/run/netns/%s", ns);
    int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(nspath, O_RDONLY | O_CLOEXEC);
    char *body = NULL;
    if (self >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0) {
        int status = 0;
        body = proc_http_get(port, path, &status);
        if (status != 200) {
            free(body);
            body = NULL;
        }
        if (setns(self, CLONE_NEWNET) != 0) {
            perror("setns back");
            exit(2);
        }
    }
    if (fd >= 0)
        close(fd);
    if (self >= 0)
        close(self);
    return body;
}

json_t *netns_get_json(const char *ns, int port, const char *path)
{
    char *body = netns_get(ns, port, path);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return j;
}

double netns_metric(const char *ns, int port, const char *sample)
{
    char *text = netns_get(ns, port, "/metrics");
    double v = -1;
    char want[160];
    snprintf(want, sizeof want, "\n%s ", sample);
    const char *p = text ? strstr(text, want) : NULL;
    if (p)
        v = atof(p + strlen(want));
    free(text);
    return v;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *netns_queues(const char *ns, int port)
{
    json_t *j = netns_get_json(ns, port, "/v1/crossings");
    if (!j)
        return NULL;
    json_t *keys = json_array();
    size_t i, k, q;
    json_t *c, *d, *qu;
    json_array_foreach(json_object_get(j, "crossings"), i, c) {
        json_array_foreach(json_object_get(c, "directions"), k, d) {
            json_array_foreach(json_object_get(d, "queues"), q, qu) {
                json_t *upd = json_object_get(qu, "updated");
                if (!upd || json_is_null(upd))
                    continue;
                char line[96];
                snprintf(line, sizeof line, "%s/%s/%s/%s",
                         json_string_value(json_object_get(c, "id")),
                         json_string_value(json_object_get(d, "direction")),
                         json_string_value(json_object_get(qu, "mode")),
                         json_string_value(json_object_get(qu, "lane")));
                json_array_append_new(keys, json_string(line));
            }
        }
    }
    json_decref(j);
    size_t n = json_array_size(keys);
    char **v = calloc(n + 1, sizeof *v);
    for (i = 0; i < n; i++)
        v[i] = (char *)json_string_value(json_array_get(keys, i));
    qsort(v, n, sizeof *v, s_cmp_str);
    size_t len = 1;
    for (i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    char *out = calloc(1, len);
    for (i = 0; i < n; i++) {
        strcat(out, v[i]);
        strcat(out, "\n");
    }
    free(v);
    json_decref(keys);
    return out;
}

char *netns_union(char **parts, int n, const char (*skip)[8], int nskip)
{
    char *all[NETNS_MAX_LINES];
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!parts[i])
            continue;
        char *copy = strdup(parts[i]);
        for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && m < NETNS_MAX_LINES;
             l = strtok_r(NULL, "\n", &save)) {
            bool skipped = false;
            for (int k = 0; k < nskip; k++)
                skipped = skipped || strncmp(l, skip[k], strlen(skip[k])) == 0;
            if (!skipped)
                all[m++] = strdup(l);
        }
        free(copy);
    }
    qsort(all, (size_t)m, sizeof all[0], s_cmp_str);
    size_t len = 1;
    for (int i = 0; i < m; i++)
        len += strlen(all[i]) + 1;
    char *out = calloc(1, len);
    /* A queue two regions both have (a second source) is one line. */
    for (int i = 0; i < m; i++) {
        if (i == 0 || strcmp(all[i], all[i - 1]) != 0) {
            strcat(out, all[i]);
            strcat(out, "\n");
        }
    }
    for (int i = 0; i < m; i++)
        free(all[i]);
    return out;
}

char *netns_history(const char *ns, int port, const char *queue, long from, long to,
                    double *events)
{
    char c[8], d[16], m[16], l[24], path[256];
    if (sscanf(queue, "%7[^/]/%15[^/]/%15[^/]/%23s", c, d, m, l) != 4)
        return NULL;
    snprintf(path, sizeof path,
             "/v1/history?crossing=%s&direction=%s&mode=%s&lane=%s&from=%ld&to=%ld&step=60", c,
             d, m, l, from, to);
    json_t *j = netns_get_json(ns, port, path);
    if (!j)
        return NULL;
    size_t i, cap = 64, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    json_t *row;
    json_array_foreach(json_object_get(j, "rows"), i, row) {
        long t = (long)json_integer_value(json_array_get(row, 0));
        if (t <= from || t > to)
            continue;
        char cell[128];
        int n = snprintf(cell, sizeof cell, "%ld", t);
        for (int col = 2; col <= 4; col++) {
            json_t *v = json_array_get(row, (size_t)col);
            if (json_is_number(v)) {
                n += snprintf(cell + n, sizeof cell - (size_t)n, " %.6g", json_number_value(v));
                if (col < 4 && events)
                    *events += json_number_value(v);
            } else {
                n += snprintf(cell + n, sizeof cell - (size_t)n, " -");
            }
        }
        if (len + (size_t)n + 2 > cap) {
            cap = (len + (size_t)n + 2) * 2;
            out = realloc(out, cap);
        }
        memcpy(out + len, cell, (size_t)n);
        len += (size_t)n;
        out[len++] = ';';
        out[len] = '\0';
    }
    json_decref(j);
    return out;
}
