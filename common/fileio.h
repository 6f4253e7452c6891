/* fileio — the one write loop: all of a buffer to a file descriptor, past
 * short writes and signals. Used where a whole file or memfd is written
 * (the sessions file, the docroot's documents, a body's memfd), and its
 * gathering form for documents in pieces. */
#ifndef POE_FILEIO_H
#define POE_FILEIO_H

#include <stddef.h>
#include <sys/uio.h>

/* Write len bytes of data to fd. 0, or -1 with errno (EIO when the
 * descriptor took nothing). */
int fileio_write_all(int fd, const void *data, size_t len);

/* Write the n pieces of iov to fd in order, IOV_MAX at a time (one
 * writev each when the descriptor takes them whole: a document joined
 * from hundreds of pieces goes in a few calls, not one per piece). iov is
 * advanced in place past what was written. 0, or -1 with errno as
 * fileio_write_all. */
int fileio_writev_all(int fd, struct iovec *iov, size_t n);

#endif
