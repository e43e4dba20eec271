/*
 * test_sync_backoff.c: the retry schedule of the sync engine: full jitter
 * stays within [0, min(cap, base * 2^(n-1))], reaches both ends, never
 * overflows, and the server's Retry-After is a floor (capped at an hour);
 * Retry-After values parse as seconds or HTTP dates and garbage is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fieldsync/sync.h"

static uint64_t rng = 42;

static uint32_t next_rnd(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 32);
}

static void test_jitter_stays_within_the_exponential_window(void **state)
{
    (void)state;
    for (unsigned attempt = 1; attempt <= 12; attempt++) {
        int64_t window = 1000ll << (attempt - 1);
        if (window > 300000)
            window = 300000;
        int64_t lo = window, hi = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t d = fs_sync_backoff_ms(attempt, 1000, 300000, -1, next_rnd());
            assert_true(d >= 0);
            assert_true(d <= window);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* full jitter: the whole window is used, not just its end */
        assert_true(lo < window / 10 + 1);
        assert_true(hi > window - window / 10 - 1);
    }
}

static void test_jitter_extremes_are_zero_and_the_window(void **state)
{
    (void)state;
    assert_int_equal(fs_sync_backoff_ms(1, 1000, 300000, -1, 0), 0);
    assert_int_equal(fs_sync_backoff_ms(1, 1000, 300000, -1, UINT32_MAX), 1000);
    assert_int_equal(fs_sync_backoff_ms(3, 1000, 300000, -1, UINT32_MAX), 4000);
}

static void test_cap_holds_for_huge_attempt_counts(void **state)
{
    (void)state;
    assert_int_equal(fs_sync_backoff_ms(10000, 1000, 300000, -1, UINT32_MAX), 300000);
    assert_int_equal(fs_sync_backoff_ms(UINT32_MAX, 1000, 300000, -1, UINT32_MAX), 300000);
    assert_true(fs_sync_backoff_ms(64, 1000, 300000, -1, 12345) <= 300000);
}

static void test_retry_after_is_a_floor_and_is_capped(void **state)
{
    (void)state;
    assert_int_equal(fs_sync_backoff_ms(1, 1000, 300000, 5000, 0), 5000);
    assert_int_equal(fs_sync_backoff_ms(1, 1000, 300000, 5000, UINT32_MAX), 5000);
    /* jitter above the floor wins */
    assert_int_equal(fs_sync_backoff_ms(10, 1000, 300000, 5000, UINT32_MAX), 300000);
    /* a hostile server cannot park the device for days */
    assert_int_equal(fs_sync_backoff_ms(1, 1000, 300000, 86400000ll * 30, 0), 3600000);
}

static void test_retry_after_parses_seconds_and_dates(void **state)
{
    (void)state;
    assert_int_equal(fs_sync_retry_after_ms("1", 0), 1000);
    assert_int_equal(fs_sync_retry_after_ms(" 120 \r\n", 0), 120000);
    assert_int_equal(fs_sync_retry_after_ms("0", 0), 0);
    /* 784111777 = Sun, 06 Nov 1994 08:49:37 GMT */
    assert_int_equal(fs_sync_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30),
                     30000);
    assert_int_equal(fs_sync_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30), 0);
    assert_int_equal(fs_sync_retry_after_ms("99999999999999999999", 0), 3600000);
}

static void test_retry_after_refuses_garbage(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "   ",
                         "abc",
                         "-1",
                         "5x",
                         "1.5",
                         "Sun, 06 Nov 1994 08:49:37",
                         "Xyz, 06 Foo 1994 08:49:37 GMT",
                         "Sun, 32 Nov 1994 08:49:37 GMT",
                         "Sun, 06 Nov 1994 25:49:37 GMT trailing"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fs_sync_retry_after_ms(bad[i], 0), -1);
    assert_int_equal(fs_sync_retry_after_ms(NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jitter_stays_within_the_exponential_window),
        cmocka_unit_test(test_jitter_extremes_are_zero_and_the_window),
        cmocka_unit_test(test_cap_holds_for_huge_attempt_counts),
        cmocka_unit_test(test_retry_after_is_a_floor_and_is_capped),
        cmocka_unit_test(test_retry_after_parses_seconds_and_dates),
        cmocka_unit_test(test_retry_after_refuses_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
