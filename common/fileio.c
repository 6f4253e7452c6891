/* fileio — see fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

int fileio_write_all(int fd, const void *data, size_t len)
{
    struct iovec iov = { (void *)data, len };
    return fileio_writev_all(fd, &iov, 1);
}

int fileio_writev_all(int fd, struct iovec *iov, size_t n)
{
    while (n > 0) {
        if (iov->iov_len == 0) {
            iov++, n--;
            continue;
        }
        ssize_t w = writev(fd, iov, (int)(n < IOV_MAX ? n : IOV_MAX));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++, n--;
        }
        if (left > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}
