/* test_fileio — common/fileio: a buffer larger than a pipe's capacity
 * arrives whole through a pipe read in small pieces by another thread
 * (short writes), and so do more pieces than one writev takes; a bad
 * descriptor fails with its errno. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fileio.h"

enum { S_LEN = 1 << 20 };

typedef struct {
    int fd;
    char *got;
    size_t n;
} s_reader_t;

static void *s_read(void *arg)
{
    s_reader_t *r = arg;
    char piece[777];
    ssize_t k;
    while ((k = read(r->fd, piece, sizeof piece)) > 0) {
        memcpy(r->got + r->n, piece, (size_t)k);
        r->n += (size_t)k;
    }
    return NULL;
}

/* What write(fd, arg) puts into a pipe, read by another thread in small
 * pieces, is S_LEN bytes equal to data. */
static void s_through_a_pipe(const char *data, int (*write)(int fd, void *arg), void *arg)
{
    s_reader_t r = { .got = malloc(S_LEN) };
    assert_non_null(r.got);
    int p[2];
    assert_int_equal(pipe(p), 0);
    r.fd = p[0];
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_read, &r), 0);
    assert_int_equal(write(p[1], arg), 0);
    close(p[1]);
    pthread_join(th, NULL);
    close(p[0]);
    assert_int_equal(r.n, S_LEN);
    assert_memory_equal(r.got, data, S_LEN);
    free(r.got);
}

static int s_write_whole(int fd, void *arg)
{
    return fileio_write_all(fd, arg, S_LEN);
}

static void test_whole_buffer_through_a_pipe(void **state)
{
    (void)state;
    char *data = malloc(S_LEN);
    assert_non_null(data);
    for (size_t i = 0; i < S_LEN; i++)
        data[i] = (char)(i * 7 + i / 4096);
    s_through_a_pipe(data, s_write_whole, data);
    free(data);
}

enum { S_PIECES = 3000 };

static int s_write_pieces(int fd, void *arg)
{
    return fileio_writev_all(fd, arg, S_PIECES);
}

/* Pieces, more than IOV_MAX of them and some empty, arrive whole and in
 * order through a pipe read in small pieces (short writevs). */
static void test_pieces_through_a_pipe(void **state)
{
    (void)state;
    char *data = malloc(S_LEN);
    struct iovec *iov = malloc(S_PIECES * sizeof *iov);
    assert_non_null(data);
    assert_non_null(iov);
    for (size_t i = 0; i < S_LEN; i++)
        data[i] = (char)(i * 13 + i / 999);
    size_t off = 0;
    for (size_t i = 0; i < S_PIECES; i++) {
        size_t len = i == S_PIECES - 1 ? S_LEN - off : (i % 7 == 3 ? 0 : (i * 31) % 600);
        iov[i] = (struct iovec){ data + off, len };
        off += len;
    }
    assert_true(off == S_LEN);
    s_through_a_pipe(data, s_write_pieces, iov);
    free(iov);
    free(data);
}

static void test_bad_descriptor(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(fileio_write_all(-1, "x", 1), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(fileio_write_all(-1, "", 0), 0);   /* nothing to write */
    struct iovec iov[] = { { "x", 1 } };
    errno = 0;
    assert_int_equal(fileio_writev_all(-1, iov, 1), -1);
    assert_int_equal(errno, EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_buffer_through_a_pipe),
        cmocka_unit_test(test_pieces_through_a_pipe),
        cmocka_unit_test(test_bad_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
