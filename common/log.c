/* log — see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *s_prog = "poenet";
static enum log_level s_level = LOG_LVL_INFO;

void log_init(const char *prog, enum log_level level)
{
    if (prog)
        s_prog = prog;
    s_level = level;
}

int log_level_parse(const char *s, enum log_level *out)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_init_named(const char *prog, const char *level)
{
    enum log_level lvl = LOG_LVL_INFO;
    log_init(prog, lvl);
    if (level && log_level_parse(level, &lvl) != 0)
        log_warn("unknown --log-level '%s', using info", level);
    log_init(prog, lvl);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *tags[] = { "ERROR", "WARN", "INFO", "DEBUG" };
    if (level > s_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines whole when several processes share
     * a terminal or a test log. */
    fprintf(stderr, "%s.%03ldZ %s %s %s\n", when, ts.tv_nsec / 1000000L,
            s_prog, tags[level], line);
}
