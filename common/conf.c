/* conf — see conf.h. libconfig parses the file (it reports syntax errors
 * with line numbers); getopt_long parses the command line. */
#include "conf.h"

#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strings we allocated, so defaults (string literals) are never freed. */
#define CONF_MAX_OPTS 64
static char *s_owned[CONF_MAX_OPTS];

static void s_print_help(const conf_opt_t *opts, int n, const char *prog,
                         const char *summary)
{
    printf("Usage: %s [OPTIONS]\n%s\n\nOptions (also settable in the --config file as name = value;):\n",
           prog, summary);
    printf("  --%-22s %s\n", "config FILE", "read settings from FILE (libconfig syntax)");
    printf("  --%-22s %s\n", "help", "print this help and exit");
    for (int i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        printf("  --%-22s %s\n", left, opts[i].help);
    }
}

static int s_set_str(int i, const conf_opt_t *o, const char *v)
{
    free(s_owned[i]);
    s_owned[i] = strdup(v);
    if (!s_owned[i])
        return -1;
    *(char **)o->target = s_owned[i];
    return 0;
}

static int s_set_from_text(int i, const conf_opt_t *o, const char *v, const char *where)
{
    char *end;
    errno = 0;
    switch (o->kind) {
    case CONF_STR:
        return s_set_str(i, o, v);
    case CONF_INT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end) {
            fprintf(stderr, "%s: --%s wants an integer, got '%s'\n", where, o->name, v);
            return -1;
        }
        *(long *)o->target = x;
        return 0;
    }
    case CONF_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || end == v || *end) {
            fprintf(stderr, "%s: --%s wants a number, got '%s'\n", where, o->name, v);
            return -1;
        }
        *(double *)o->target = x;
        return 0;
    }
    case CONF_FLAG:
        *(bool *)o->target = true;
        return 0;
    }
    return -1;
}

static int s_set_from_setting(int i, const conf_opt_t *o, config_setting_t *s,
                              const char *file)
{
    int line = config_setting_source_line(s);
    int type = config_setting_type(s);
    switch (o->kind) {
    case CONF_STR:
        if (type == CONFIG_TYPE_STRING)
            return s_set_str(i, o, config_setting_get_string(s));
        break;
    case CONF_INT:
        if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
            *(long *)o->target = (long)config_setting_get_int64(s);
            return 0;
        }
        break;
    case CONF_DOUBLE:
        if (type == CONFIG_TYPE_FLOAT || type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
            *(double *)o->target = type == CONFIG_TYPE_FLOAT
                                       ? config_setting_get_float(s)
                                       : (double)config_setting_get_int64(s);
            return 0;
        }
        break;
    case CONF_FLAG:
        if (type == CONFIG_TYPE_BOOL) {
            *(bool *)o->target = config_setting_get_bool(s);
            return 0;
        }
        break;
    }
    static const char *want[] = { "a string", "an integer", "a number", "true or false" };
    fprintf(stderr, "%s:%d: setting '%s' wants %s\n", file, line, o->name, want[o->kind]);
    return -1;
}

static int s_load_file(const conf_opt_t *opts, int n, const char *file)
{
    config_t cfg;
    config_init(&cfg);
    int rc = 0;
    if (config_read_file(&cfg, file) != CONFIG_TRUE) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            fprintf(stderr, "%s: cannot read config file\n", file);
        else
            fprintf(stderr, "%s:%d: %s\n", file, config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return -1;
    }
    config_setting_t *root = config_root_setting(&cfg);
    int count = config_setting_length(root);
    for (int k = 0; k < count && rc == 0; k++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)k);
        const char *name = config_setting_name(s);
        int i;
        for (i = 0; i < n; i++)
            if (strcmp(opts[i].name, name) == 0)
                break;
        if (i == n) {
            fprintf(stderr, "%s:%d: unknown setting '%s'\n", file,
                    config_setting_source_line(s), name);
            rc = -1;
        } else {
            rc = s_set_from_setting(i, &opts[i], s, file);
        }
    }
    config_destroy(&cfg);
    return rc;
}

int conf_parse(const conf_opt_t *opts, int n, int argc, char **argv,
               const char *prog, const char *summary)
{
    if (n > CONF_MAX_OPTS - 2)
        return -1;
    struct option lo[CONF_MAX_OPTS + 1];
    memset(lo, 0, sizeof lo);
    for (int i = 0; i < n; i++) {
        lo[i].name = opts[i].name;
        lo[i].has_arg = opts[i].kind == CONF_FLAG ? no_argument : required_argument;
        lo[i].val = 1000 + i;
    }
    lo[n].name = "config";
    lo[n].has_arg = required_argument;
    lo[n].val = 'c';
    lo[n + 1].name = "help";
    lo[n + 1].val = 'h';

    /* First pass: only --config and --help, so the file is applied before
     * the command line overrides it. */
    const char *file = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'h') {
            s_print_help(opts, n, prog, summary);
            return 1;
        }
        if (c == 'c')
            file = optarg;
    }
    if (file && s_load_file(opts, n, file) != 0)
        return -1;

    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'c' || c == 'h')
            continue;
        if (c == '?' || c == ':')
            return -1; /* getopt already said which option */
        int i = c - 1000;
        if (s_set_from_text(i, &opts[i], optarg, "command line") != 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[optind]);
        return -1;
    }
    return 0;
}

void conf_free(const conf_opt_t *opts, int n)
{
    for (int i = 0; i < n && i < CONF_MAX_OPTS; i++) {
        if (s_owned[i]) {
            if (opts[i].kind == CONF_STR && *(char **)opts[i].target == s_owned[i])
                *(char **)opts[i].target = NULL;
            free(s_owned[i]);
            s_owned[i] = NULL;
        }
    }
}
