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

static void test_whole_buffer_through_a_pipe(void **state)
{
    (void)state;
    char *data = malloc(S_LEN);
    s_reader_t r = { .got = malloc(S_LEN) };
    assert_non_null(data);
    assert_non_null(r.got);
    for (size_t i = 0; i < S_LEN; i++)
        data[i] = (char)(i * 7 + i / 4096);
    int p[2];
    assert_int_equal(pipe(p), 0);
    r.fd = p[0];
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_read, &r), 0);
    assert_int_equal(fileio_write_all(p[1], data, S_LEN), 0);
    close(p[1]);
    pthread_join(th, NULL);
    close(p[0]);
    assert_int_equal(r.n, S_LEN);
    assert_memory_equal(r.got, data, S_LEN);
    free(data);
    free(r.got);
}

/* Pieces, more than IOV_MAX of them and some empty, arrive whole and in
 * order through a pipe read in small pieces (short writevs). */
static void test_pieces_through_a_pipe(void **state)
{
    (void)state;
    enum { N = 3000 };
    char *data = malloc(S_LEN);
    s_reader_t r = { .got = malloc(S_LEN) };
    struct iovec *iov = malloc(N * sizeof *iov);
    assert_non_null(data);
    assert_non_null(r.got);
    assert_non_null(iov);
    for (size_t i = 0; i < S_LEN; i++)
        data[i] = (char)(i * 13 + i / 999);
    size_t off = 0;
    for (size_t i = 0; i < N; i++) {
        size_t len = i == N - 1 ? S_LEN - off : (i % 7 == 3 ? 0 : (i * 31) % 600);
        iov[i] = (struct iovec){ data + off, len };
        off += len;
    }
    assert_true(off == S_LEN);
    int p[2];
    assert_int_equal(pipe(p), 0);
    r.fd = p[0];
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_read, &r), 0);
    assert_int_equal(fileio_writev_all(p[1], iov, N), 0);
    close(p[1]);
    pthread_join(th, NULL);
    close(p[0]);
    assert_int_equal(r.n, S_LEN);
    assert_memory_equal(r.got, data, S_LEN);
    free(iov);
    free(data);
    free(r.got);
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
