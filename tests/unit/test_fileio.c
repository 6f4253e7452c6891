/* test_fileio — common/fileio: a buffer larger than a pipe's capacity
 * arrives whole through a pipe read in small pieces by another thread
 * (short writes); a bad descriptor fails with its errno. */
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

static void test_bad_descriptor(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(fileio_write_all(-1, "x", 1), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(fileio_write_all(-1, "", 0), 0);   /* nothing to write */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_buffer_through_a_pipe),
        cmocka_unit_test(test_bad_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
