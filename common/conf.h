/* conf — settings from the command line and from a config file, one table.
 *
 * Each daemon describes its settings once, as a table of conf_opt_t; the
 * same names work as long options (--http 127.0.0.1:8080) and as libconfig
 * settings in the file given with --config (http = "127.0.0.1:8080";).
 * The command line wins over the file. --help prints the table. */
#ifndef POE_CONF_H
#define POE_CONF_H

#include <stdbool.h>

enum conf_kind { CONF_STR, CONF_INT, CONF_DOUBLE, CONF_FLAG };

typedef struct {
    const char *name;     /* long option and config key */
    enum conf_kind kind;
    void *target;         /* char **, long *, double *, bool * */
    const char *arg;      /* placeholder shown by --help, NULL for flags */
    const char *help;
} conf_opt_t;

/* Fill targets from argv and from the file named by --config (if any).
 * Targets keep their defaults when a setting is absent. Strings are
 * strdup'ed (free with conf_free). Returns 0 on success, 1 when --help was
 * printed (caller exits 0), -1 on a bad option or config line (already
 * reported on stderr with file and line). Prints positional arguments as
 * errors: none of our daemons take any. */
int conf_parse(const conf_opt_t *opts, int nopts, int argc, char **argv,
               const char *prog, const char *summary);

/* Free strings conf_parse allocated. */
void conf_free(const conf_opt_t *opts, int nopts);

#endif
