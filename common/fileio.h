/* fileio — the one write loop: all of a buffer to a file descriptor, past
 * short writes and signals. Used where a whole file or memfd is written
 * (the sessions file, the docroot's documents, a body's memfd). */
#ifndef POE_FILEIO_H
#define POE_FILEIO_H

#include <stddef.h>

/* Write len bytes of data to fd. 0, or -1 with errno (EIO when the
 * descriptor took nothing). */
int fileio_write_all(int fd, const void *data, size_t len);

#endif
