/*
 * test_log.c: the leveled logger drops what is above its level and writes one
 * whole line per message with its level, libraries' messages included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/log.h"

static void messages_above_level_are_dropped(void **state)
{
    (void)state;
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    fs_log_set_stream(f);
    fs_log_set_ident("testlog");
    fs_log_set_level(FS_LOG_WARN);
    fs_log(FS_LOG_INFO, "hidden %d", 1);
    fs_log(FS_LOG_DEBUG, "hidden %d", 2);
    fs_log(FS_LOG_WARN, "shown %d", 3);
    fs_log(FS_LOG_ERROR, "shown %d", 4);
    fclose(f);
    fs_log_set_stream(NULL);
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, "testlog["));
    assert_non_null(strstr(buf, "warn: shown 3\n"));
    assert_non_null(strstr(buf, "error: shown 4\n"));
}

static void level_names_round_trip_and_bad_names_fail(void **state)
{
    (void)state;
    fs_log_level l;
    for (int i = FS_LOG_ERROR; i <= FS_LOG_DEBUG; i++) {
        assert_int_equal(fs_log_level_from_name(fs_log_level_name((fs_log_level)i), &l), 0);
        assert_int_equal(l, i);
    }
    assert_int_equal(fs_log_level_from_name("warning", &l), 0);
    assert_int_equal(l, FS_LOG_WARN);
    assert_int_equal(fs_log_level_from_name("loud", &l), -1);
    assert_int_equal(fs_log_level_from_name(NULL, &l), -1);
    assert_string_equal(fs_log_level_name((fs_log_level)42), "unknown");
}

static void long_messages_are_truncated_not_overflowed(void **state)
{
    (void)state;
    static char buf[16384];
    memset(buf, 0, sizeof(buf));
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    fs_log_set_stream(f);
    fs_log_set_level(FS_LOG_INFO);
    char big[10000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fs_log(FS_LOG_INFO, "%s", big);
    fclose(f);
    fs_log_set_stream(NULL);
    size_t n = strlen(buf);
    assert_true(n > 1000 && n < 4096);
    assert_int_equal(buf[n - 1], '\n');
}

static void lib_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void lib_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fs_log_lib(FS_LOG_WARN, "http", fmt, ap);
    va_end(ap);
}

static void library_messages_become_one_prefixed_line(void **state)
{
    (void)state;
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    fs_log_set_stream(f);
    fs_log_set_level(FS_LOG_INFO);
    lib_log("Failed to bind to port %u: %s\nmore detail\n", 8080u, "in use");
    fclose(f);
    fs_log_set_stream(NULL);
    assert_non_null(strstr(buf, "warn: http: Failed to bind to port 8080: in use\n"));
    assert_null(strstr(buf, "more detail"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_above_level_are_dropped),
        cmocka_unit_test(level_names_round_trip_and_bad_names_fail),
        cmocka_unit_test(long_messages_are_truncated_not_overflowed),
        cmocka_unit_test(library_messages_become_one_prefixed_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
