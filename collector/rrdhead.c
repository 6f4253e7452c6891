/* rrdhead — see rrdhead.h. */
#include "rrdhead.h"

#include <errno.h>
#include <fcntl.h>
/* librrd exposes its file layout (rrd_format.h) only to programs that
 * ask for the deprecated in-memory API; we use none of that API, only the
 * on-disk structs, whose version 0003 layout has not changed since 1.2. */
#define RRD_EXPORT_DEPRECATED
#include <rrd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Files this large in header counts are not ours (and would overflow). */
#define RRDHEAD_MAX_COUNT 100000

static int s_fail(char *why, size_t whylen, const char *what)
{
    if (why && whylen)
        snprintf(why, whylen, "%s", what);
    return -2;
}

static int s_read(int fd, void *buf, size_t len, off_t off)
{
    ssize_t n = pread(fd, buf, len, off);
    if (n < 0)
        return -1;
    if ((size_t)n != len) {
        errno = EIO;  /* a file shorter than its header */
        return -1;
    }
    return 0;
}

int rrdhead_last_update_ms(const char *path, int64_t *last_ms, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    stat_head_t head;
    live_head_t live;
    int rc = s_read(fd, &head, sizeof head, 0);
    if (rc == 0) {
        if (memcmp(head.cookie, RRD_COOKIE, sizeof RRD_COOKIE) != 0)
            rc = s_fail(why, whylen, "no RRD cookie");
        else if (head.float_cookie != FLOAT_COOKIE)
            rc = s_fail(why, whylen, "another machine's number format");
        else if (strncmp(head.version, "0003", 4) < 0)
            rc = s_fail(why, whylen, "a format before version 0003");
        else if (head.ds_cnt > RRDHEAD_MAX_COUNT || head.rra_cnt > RRDHEAD_MAX_COUNT)
            rc = s_fail(why, whylen, "impossible data source or archive count");
    }
    if (rc == 0) {
        off_t off = (off_t)(sizeof head + head.ds_cnt * sizeof(ds_def_t) +
                            head.rra_cnt * sizeof(rra_def_t));
        rc = s_read(fd, &live, sizeof live, off);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (rc == 0 && (live.last_up_usec < 0 || live.last_up_usec >= 1000000))
        rc = s_fail(why, whylen, "impossible fraction of a second in the last update");
    if (rc == 0)
        *last_ms = (int64_t)live.last_up * 1000 + live.last_up_usec / 1000;
    return rc;
}
