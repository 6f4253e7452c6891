/* cdp — drive headless Chromium from a test over the DevTools protocol on
 * a pipe (--remote-debugging-pipe: Chromium reads commands on its fd 3 and
 * writes replies and events on fd 4, each a JSON text ended by a NUL).
 * No websocket, no npm, no browser download: Debian's `chromium`.
 *
 * One page (target) per browser, attached in flat mode; console errors,
 * uncaught exceptions and error log entries (failed loads, CSP
 * violations) are collected while waiting for replies. Every wait is
 * bounded. */
#ifndef POE_TEST_CDP_H
#define POE_TEST_CDP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CDP_MAX_ERRORS 64

typedef struct {
    pid_t pid;
    int to_fd, from_fd;          /* our ends: commands out, replies in */
    char *buf;                   /* bytes read, not yet split */
    size_t len, cap;
    int next_id;
    char session[128];           /* the page's session id */
    char *errors[CDP_MAX_ERRORS];/* console errors etc., malloc'ed */
    int nerrors;
} cdp_t;

/* The chromium binary: $POE_CHROMIUM, else /usr/bin/chromium when it is
 * executable; NULL when there is none. */
const char *cdp_chromium(void);

/* Start chromium headless (profile in profile_dir, stderr to log_path) with
 * a window of width x height and open one blank page. 0, or -1 (stopped). */
int cdp_start(cdp_t *c, const char *profile_dir, const char *log_path, int width, int height);

/* Send method with params (taken over; NULL for none) to the page (or the
 * browser when to_page is false) and wait up to timeout_ms for the reply.
 * Returns its "result" (new reference), NULL on an error reply or timeout
 * (the reason printed). */
json_t *cdp_call(cdp_t *c, bool to_page, const char *method, json_t *params, int timeout_ms);

/* Navigate and wait until the JS expression cond is true (polled), at
 * most timeout_ms. 0 or -1. */
int cdp_goto(cdp_t *c, const char *url, const char *cond, int timeout_ms);

/* Evaluate a JS expression (promises awaited); the value as JSON (new
 * reference) or NULL on an exception. */
json_t *cdp_eval(cdp_t *c, const char *expr);

/* PNG of the page (full height when full_page) into path. 0 or -1. */
int cdp_screenshot(cdp_t *c, const char *path, bool full_page);

/* Forget the errors collected so far (before loading the next page). */
void cdp_clear_errors(cdp_t *c);

/* Quit the browser and free everything. */
void cdp_stop(cdp_t *c);

#endif
