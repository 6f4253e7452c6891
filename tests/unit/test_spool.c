/* test_spool — the agent's on-disk spool: append/read, recovery after a
 * restart, a torn tail cut (never replayed), corruption in the middle,
 * release of durable segments, and the disk budget's alarm and gap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "spool.h"

static char *s_dir;

static int s_setup(void **state)
{
    (void)state;
    s_dir = proc_tmpdir();
    return s_dir ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    proc_rm_rf(s_dir);
    free(s_dir);
    return 0;
}

static spool_t *s_open(uint64_t budget, uint64_t segment)
{
    spool_opts_t o = { .budget_bytes = budget, .segment_bytes = segment, .sync = false };
    return spool_open(s_dir, &o, 4242);
}

/* A recognisable payload for seq: its bytes are a function of seq. */
static void s_payload(uint64_t seq, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seq * 31 + i);
}

static void s_append_n(spool_t *sp, uint64_t n, size_t len)
{
    uint8_t buf[4096];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t seq = spool_next_seq(sp);
        s_payload(seq, buf, len);
        assert_int_equal(spool_append(sp, buf, len, 1000 + (int64_t)seq), 0);
    }
}

static void s_expect(spool_t *sp, uint64_t seq, size_t len)
{
    uint8_t *got = NULL, want[4096];
    size_t glen = 0;
    assert_int_equal(spool_read(sp, seq, &got, &glen), 0);
    assert_int_equal(glen, len);
    s_payload(seq, want, len);
    assert_memory_equal(got, want, len);
    free(got);
}

static char *s_last_segment(void)
{
    static char path[1024];
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s/seg-*.log | tail -1", s_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(path, sizeof path, p));
    pclose(p);
    path[strcspn(path, "\n")] = '\0';
    return path;
}

static void test_append_read_reopen(void **state)
{
    (void)state;
    spool_t *sp = s_open(1 << 20, 64 << 10);
    assert_non_null(sp);
    assert_int_equal(spool_epoch(sp), 4242);
    assert_int_equal(spool_next_seq(sp), 1);
    s_append_n(sp, 10, 100);
    assert_int_equal(spool_first_seq(sp), 1);
    assert_int_equal(spool_last_seq(sp), 10);
    s_expect(sp, 7, 100);
    assert_int_equal(spool_time_of(sp, 7), 1007);
    uint8_t *b;
    size_t l;
    assert_int_equal(spool_read(sp, 11, &b, &l), 1);
    spool_close(&sp);
    assert_null(sp);

    /* A restart keeps the epoch, the batches and the numbering. */
    spool_opts_t o = { .budget_bytes = 1 << 20, .segment_bytes = 64 << 10 };
    sp = spool_open(s_dir, &o, 9999);
    assert_non_null(sp);
    assert_int_equal(spool_epoch(sp), 4242);
    assert_int_equal(spool_first_seq(sp), 1);
    assert_int_equal(spool_next_seq(sp), 11);
    for (uint64_t s = 1; s <= 10; s++)
        s_expect(sp, s, 100);
    spool_close(&sp);
}

static void test_torn_tail_is_cut(void **state)
{
    (void)state;
    spool_t *sp = s_open(1 << 20, 64 << 10);
    s_append_n(sp, 5, 200);
    spool_close(&sp);
    /* kill -9 in the middle of a write: half a record at the end. */
    char *seg = s_last_segment();
    struct stat st;
    stat(seg, &st);
    assert_int_equal(truncate(seg, st.st_size - 50), 0);

    sp = s_open(1 << 20, 64 << 10);
    assert_non_null(sp);
    assert_int_equal(spool_last_seq(sp), 4);
    s_expect(sp, 4, 200);
    uint8_t *b;
    size_t l;
    assert_int_equal(spool_read(sp, 5, &b, &l), 1);
    /* The cut tail is gone from the file: new records follow good ones. */
    s_append_n(sp, 1, 200);
    assert_int_equal(spool_last_seq(sp), 5);
    spool_close(&sp);
    sp = s_open(1 << 20, 64 << 10);
    assert_int_equal(spool_last_seq(sp), 5);
    s_expect(sp, 5, 200);
    spool_close(&sp);
}

static void test_flipped_byte_is_detected(void **state)
{
    (void)state;
    spool_t *sp = s_open(1 << 20, 64 << 10);
    s_append_n(sp, 3, 100);
    spool_close(&sp);
    char *seg = s_last_segment();
    int fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    /* Inside the payload of the last record. */
    struct stat st;
    fstat(fd, &st);
    uint8_t x;
    assert_int_equal(pread(fd, &x, 1, st.st_size - 10), 1);
    x ^= 0x40;
    assert_int_equal(pwrite(fd, &x, 1, st.st_size - 10), 1);
    close(fd);
    sp = s_open(1 << 20, 64 << 10);
    assert_int_equal(spool_last_seq(sp), 2);
    s_expect(sp, 2, 100);
    spool_close(&sp);
}

static void test_release_deletes_durable_segments(void **state)
{
    (void)state;
    /* 100-byte payloads + 28-byte headers, 1 KiB segments: 8 per segment. */
    spool_t *sp = s_open(1 << 20, 1024);
    s_append_n(sp, 40, 100);
    uint64_t before = spool_bytes(sp);
    spool_release(sp, 20);
    assert_true(spool_bytes(sp) < before);
    assert_true(spool_first_seq(sp) > 1 && spool_first_seq(sp) <= 21);
    s_expect(sp, 21, 100);
    s_expect(sp, 40, 100);
    uint8_t *b;
    size_t l;
    assert_int_equal(spool_read(sp, 1, &b, &l), 1);
    /* The active segment stays, even when everything is durable. */
    spool_release(sp, 40);
    s_expect(sp, 40, 100);
    assert_int_equal(spool_dropped_through(sp), 0);
    spool_close(&sp);
}

static void test_budget_drops_oldest_with_alarm(void **state)
{
    (void)state;
    spool_t *sp = s_open(4096, 1024);
    s_append_n(sp, 100, 100);
    /* Never above the budget, the newest kept, the oldest gone and said so. */
    assert_true(spool_bytes(sp) <= 4096);
    assert_true(spool_drops(sp) > 0);
    assert_true(spool_dropped_through(sp) >= 60);
    assert_int_equal(spool_first_seq(sp), spool_dropped_through(sp) + 1);
    s_expect(sp, 100, 100);
    uint8_t *b;
    size_t l;
    assert_int_equal(spool_read(sp, 1, &b, &l), 1);
    spool_close(&sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_read_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_is_cut, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte_is_detected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_release_deletes_durable_segments, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_budget_drops_oldest_with_alarm, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
