/* nginx — see nginx.h. */
#include "nginx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

const char *ngx_binary(void)
{
    if (access("/usr/sbin/nginx", X_OK) == 0)
        return "/usr/sbin/nginx";
    const char *path = getenv("PATH");
    static char found[512];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n && n < sizeof found - 8) {
            snprintf(found, sizeof found, "%.*s/nginx", (int)n, path);
            if (access(found, X_OK) == 0)
                return found;
        }
        path += n + (path[n] == ':');
    }
    return NULL;
}

/* The site with its POENET lines replaced. */
static int s_write_site(const char *site_conf, const char *out, int port, const char *docroot,
                        int coll_port)
{
    FILE *in = fopen(site_conf, "r"), *o = fopen(out, "w");
    if (!in || !o) {
        fprintf(stderr, "nginx: cannot read %s or write %s\n", site_conf, out);
        if (in)
            fclose(in);
        if (o)
            fclose(o);
        return -1;
    }
    char line[1024];
    int replaced = 0;
    while (fgets(line, sizeof line, in)) {
        if (strstr(line, "# POENET listen")) {
            fprintf(o, "    listen 127.0.0.1:%d;\n", port);
            replaced++;
        } else if (strstr(line, "# POENET publish-dir")) {
            fprintf(o, "    root %s;\n", docroot);
            replaced++;
        } else if (strstr(line, "# POENET collector")) {
            fprintf(o, "    set $poenet_collector 127.0.0.1:%d;\n", coll_port);
            replaced++;
        } else {
            fputs(line, o);
        }
    }
    fclose(in);
    if (fclose(o) != 0 || replaced != 3) {
        fprintf(stderr, "nginx: %s lacks its three POENET lines\n", site_conf);
        return -1;
    }
    return 0;
}

/* Let others traverse path's directories (adding o+x where it lacks, never
 * taking anything away: /tmp keeps its sticky bit) and read the last. */
static void s_let_through(const char *path, bool last_readable)
{
    char p[600];
    snprintf(p, sizeof p, "%s", path);
    for (bool last = true;; last = false) {
        struct stat st;
        if (stat(p, &st) == 0) {
            mode_t want = st.st_mode | S_IXOTH | (last && last_readable ? S_IROTH : 0);
            if ((want & 07777) != (st.st_mode & 07777))
                chmod(p, want & 07777);
        }
        char *s = strrchr(p, '/');
        if (!s || s == p)
            break;
        *s = '\0';
    }
}

int ngx_configure(ngx_t *n, const char *dir, const char *site_conf, int port,
                  const char *docroot, int coll_port)
{
    memset(n, 0, sizeof *n);
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    n->port = port;
    char path[700], site[700], tmp[700];
    snprintf(site, sizeof site, "%s/site.conf", dir);
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    if ((mkdir(dir, 0755) != 0 && access(dir, W_OK) != 0) ||
        (mkdir(tmp, 0777) != 0 && access(tmp, W_OK) != 0) ||
        s_write_site(site_conf, site, port, docroot, coll_port) != 0)
        return -1;
    bool root = geteuid() == 0;
    if (root) { /* the worker runs as nobody: it must reach the docroot */
        chmod(tmp, 0777);
        s_let_through(docroot, true);
    }
    snprintf(path, sizeof path, "%s/nginx.conf", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "worker_processes 1;\n"
            "daemon off;\n"
            "%s"
            "pid %s/nginx.pid;\n"
            "error_log %s/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            "    keepalive_requests 1000000;\n"
            "    keepalive_timeout 60s;\n"
            "    open_file_cache max=256 inactive=10s;\n"
            "    open_file_cache_valid 1s;\n"
            "    client_body_temp_path %s/body;\n"
            "    proxy_temp_path %s/proxy;\n"
            "    fastcgi_temp_path %s/fastcgi;\n"
            "    uwsgi_temp_path %s/uwsgi;\n"
            "    scgi_temp_path %s/scgi;\n"
            "    include %s;\n"
            "}\n",
            root ? "user nobody nogroup;\n" : "", dir, dir, tmp, tmp, tmp, tmp, tmp, site);
    return fclose(f) == 0 ? 0 : -1;
}

static void s_conf_arg(const ngx_t *n, char *conf, size_t len)
{
    snprintf(conf, len, "%s/nginx.conf", n->dir);
}

int ngx_check(const ngx_t *n)
{
    const char *bin = ngx_binary();
    char conf[700], log[700];
    s_conf_arg(n, conf, sizeof conf);
    snprintf(log, sizeof log, "%s/nginx-t.log", n->dir);
    if (!bin)
        return -1;
    /* -e: nginx opens its default error log before reading ours. */
    char elog[700];
    snprintf(elog, sizeof elog, "%s/error.log", n->dir);
    const char *argv[] = { bin, "-t", "-q", "-e", elog, "-p", n->dir, "-c", conf, NULL };
    pid_t pid = proc_spawn(argv, log);
    int status = 0;
    if (pid < 0 || proc_wait_exit(pid, 20000, &status) != 0) {
        if (pid > 0)
            proc_stop(pid, 1000);
        return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int ngx_start(ngx_t *n)
{
    const char *bin = ngx_binary();
    if (!bin) {
        fprintf(stderr, "nginx: not installed (make deps)\n");
        return -1;
    }
    char conf[700], log[700], elog[700];
    s_conf_arg(n, conf, sizeof conf);
    snprintf(log, sizeof log, "%s/nginx.log", n->dir);
    snprintf(elog, sizeof elog, "%s/error.log", n->dir);
    const char *argv[] = { bin, "-e", elog, "-p", n->dir, "-c", conf, NULL };
    n->pid = proc_spawn(argv, log);
    if (n->pid < 0 || proc_wait_tcp(n->port, 10000) != 0) {
        fprintf(stderr, "nginx: did not start on port %d (see %s and %s)\n", n->port, log, elog);
        ngx_stop(n);
        return -1;
    }
    return 0;
}

void ngx_stop(ngx_t *n)
{
    if (n->pid > 0)
        proc_stop(n->pid, 5000);
    n->pid = 0;
}

int ngx_docroot_put(const char *docroot, const char *file, const char *data, size_t len)
{
    char p[1200];
    if (snprintf(p, sizeof p, "%s/%s", docroot, file) >= (int)sizeof p)
        return -1;
    for (char *q = p + 1; (q = strchr(q, '/')); q++) {
        *q = '\0';
        if (mkdir(p, 0755) != 0 && access(p, F_OK) != 0)
            return -1;
        *q = '/';
    }
    FILE *f = fopen(p, "w");
    if (!f || fwrite(data, 1, len, f) != len) {
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}
