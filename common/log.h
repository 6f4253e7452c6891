/* log — the one place both daemons write diagnostics.
 *
 * Owns the process-wide log level and the output format: one line per event
 * on stderr, "<ISO time> <prog> <LEVEL> message", so that systemd's journal,
 * a terminal and a test harness all read the same thing. */
#ifndef POE_LOG_H
#define POE_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Set the program name shown on every line and the most verbose level
 * printed. Safe to call again (e.g. after parsing options). */
void log_init(const char *prog, enum log_level level);

/* log_init with a level given by name (a --log-level option); an unknown
 * name is reported and info is used. */
void log_init_named(const char *prog, const char *level);

/* Parse "error|warn|info|debug"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
