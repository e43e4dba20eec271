/*
 * test_daemon_framer.c: the line framer that protects fieldsyncd from hostile
 * clients: lines split across reads, CRLF, the hard line cap (with or without a
 * newline in sight) and a buffer that never grows past the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "framer.h"

/* Feeds data through fs_framer_space/commit, as a socket read would. */
static int feed(fs_framer *f, const char *data, size_t n)
{
    while (n > 0) {
        char *p;
        size_t room;
        int rc = fs_framer_space(f, &p, &room);
        if (rc != 0)
            return rc;
        size_t k = n < room ? n : room;
        memcpy(p, data, k);
        fs_framer_commit(f, k);
        data += k;
        n -= k;
    }
    return 0;
}

static void lines_split_across_reads_are_joined(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 100);
    char *line;
    size_t len;
    assert_int_equal(feed(&f, "{\"a\":", 5), 0);
    assert_int_equal(fs_framer_next(&f, &line, &len), 0);
    assert_true(fs_framer_partial(&f));
    assert_int_equal(feed(&f, "1}\n{\"b\":2}\r\n\n", 13), 0);
    assert_int_equal(fs_framer_next(&f, &line, &len), 1);
    assert_string_equal(line, "{\"a\":1}");
    assert_int_equal(len, 7);
    assert_int_equal(fs_framer_next(&f, &line, &len), 1);
    assert_string_equal(line, "{\"b\":2}"); /* CR stripped */
    assert_int_equal(fs_framer_next(&f, &line, &len), 1);
    assert_int_equal(len, 0); /* the empty line is returned, the caller skips it */
    assert_int_equal(fs_framer_next(&f, &line, &len), 0);
    assert_false(fs_framer_partial(&f));
    fs_framer_clear(&f);
}

static void line_of_exactly_max_bytes_is_accepted(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 4096);
    char buf[4097];
    memset(buf, 'x', 4096);
    buf[4096] = '\n';
    assert_int_equal(feed(&f, buf, sizeof(buf)), 0);
    char *line;
    size_t len;
    assert_int_equal(fs_framer_next(&f, &line, &len), 1);
    assert_int_equal(len, 4096);
    fs_framer_clear(&f);
}

static void line_over_max_without_newline_is_refused(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 4096);
    char buf[5000];
    memset(buf, 'x', sizeof(buf));
    int rc = feed(&f, buf, sizeof(buf));
    char *line;
    size_t len;
    if (rc == 0)
        rc = fs_framer_next(&f, &line, &len);
    assert_int_equal(rc, FS_ETOOBIG);
    /* once overflowed, the stream stays refused */
    assert_int_equal(fs_framer_next(&f, &line, &len), FS_ETOOBIG);
    fs_framer_clear(&f);
}

static void line_over_max_with_newline_is_refused(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 4096);
    char buf[4099];
    memset(buf, 'y', sizeof(buf));
    buf[4097] = '\n'; /* 4097 bytes then newline: one over */
    feed(&f, buf, 4098);
    char *line;
    size_t len;
    assert_int_equal(fs_framer_next(&f, &line, &len), FS_ETOOBIG);
    fs_framer_clear(&f);
}

static void endless_line_never_grows_buffer_past_cap(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 65536);
    char chunk[8192];
    memset(chunk, 'z', sizeof(chunk));
    int rc = 0;
    size_t fed = 0;
    for (int i = 0; i < 100000 && rc == 0; i++) { /* up to 800 MB offered */
        rc = feed(&f, chunk, sizeof(chunk));
        char *line;
        size_t len;
        if (rc == 0)
            rc = fs_framer_next(&f, &line, &len);
        fed += sizeof(chunk);
    }
    assert_int_equal(rc, FS_ETOOBIG);
    assert_true(f.cap <= 65536 + 2);
    assert_true(fed <= 65536 + 2 * sizeof(chunk));
    fs_framer_clear(&f);
}

static void many_small_lines_reuse_the_buffer(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 1024);
    char *line;
    size_t len;
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(feed(&f, "{\"jsonrpc\":\"2.0\"}\n", 18), 0);
        assert_int_equal(fs_framer_next(&f, &line, &len), 1);
        assert_int_equal(len, 17);
    }
    assert_true(f.cap <= 4096);
    fs_framer_clear(&f);
}

static void pipelined_lines_survive_compaction(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 64);
    char *line;
    size_t len;
    /* lines straddle buffer boundaries so compaction moves a partial line */
    for (int i = 0; i < 5000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "line-%d\n", i);
        assert_int_equal(feed(&f, buf, (size_t)n), 0);
        if (i % 3 == 2) {
            for (int j = i - 2; j <= i; j++) {
                char want[32];
                snprintf(want, sizeof(want), "line-%d", j);
                assert_int_equal(fs_framer_next(&f, &line, &len), 1);
                assert_string_equal(line, want);
            }
        }
    }
    fs_framer_clear(&f);
}

static void buffer_full_of_complete_lines_is_not_an_overflow(void **state)
{
    (void)state;
    fs_framer f;
    fs_framer_init(&f, 64);
    char *line;
    size_t len;
    int rc = 0, sent = 0;
    size_t partial = 0;
    while (rc == 0) {
        char *p;
        size_t room;
        rc = fs_framer_space(&f, &p, &room);
        if (rc == 0) {
            size_t k = room < 8 ? room : 8;
            memcpy(p, "abcdefg\n", k);
            fs_framer_commit(&f, k);
            sent += k == 8;
            partial = k == 8 ? 0 : k;
        }
    }
    assert_int_equal(rc, FS_EBUSY);
    int got = 0;
    while (fs_framer_next(&f, &line, &len) == 1) {
        assert_string_equal(line, "abcdefg");
        got++;
    }
    assert_int_equal(got, sent);
    assert_int_equal(feed(&f, "tail\n", 5), 0);
    char want[16];
    snprintf(want, sizeof(want), "%.*stail", (int)partial, "abcdefg");
    assert_int_equal(fs_framer_next(&f, &line, &len), 1);
    assert_string_equal(line, want);
    fs_framer_clear(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_split_across_reads_are_joined),
        cmocka_unit_test(line_of_exactly_max_bytes_is_accepted),
        cmocka_unit_test(line_over_max_without_newline_is_refused),
        cmocka_unit_test(line_over_max_with_newline_is_refused),
        cmocka_unit_test(endless_line_never_grows_buffer_past_cap),
        cmocka_unit_test(many_small_lines_reuse_the_buffer),
        cmocka_unit_test(pipelined_lines_survive_compaction),
        cmocka_unit_test(buffer_full_of_complete_lines_is_not_an_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
