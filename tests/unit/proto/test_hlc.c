/*
 * test_hlc.c: the hybrid logical clock: monotonic under any wall clock,
 * observes remote timestamps, equal wall clocks, logical overflow, saturation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fieldsync/record.h"

static void test_hlc_follows_an_advancing_wall_clock(void **state)
{
    (void)state;
    fs_hlc c = {0};
    uint64_t t1 = fs_hlc_now(&c, 1000);
    uint64_t t2 = fs_hlc_now(&c, 2000);
    assert_int_equal(t1, (uint64_t)1000 << FS_HLC_LOGICAL_BITS);
    assert_int_equal(t2, (uint64_t)2000 << FS_HLC_LOGICAL_BITS);
    assert_int_equal(fs_hlc_wall_ms(t2), 2000);
}

static void test_hlc_equal_wall_clock_advances_the_logical_part(void **state)
{
    (void)state;
    fs_hlc c = {0};
    uint64_t t1 = fs_hlc_now(&c, 5000);
    uint64_t t2 = fs_hlc_now(&c, 5000);
    uint64_t t3 = fs_hlc_now(&c, 5000);
    assert_int_equal(t2, t1 + 1);
    assert_int_equal(t3, t1 + 2);
    assert_int_equal(fs_hlc_wall_ms(t3), 5000);
}

static void test_hlc_stays_monotonic_when_the_wall_clock_goes_back(void **state)
{
    (void)state;
    fs_hlc c = {0};
    uint64_t t1 = fs_hlc_now(&c, 9000);
    uint64_t t2 = fs_hlc_now(&c, 100); /* clock stepped back */
    assert_true(t2 > t1);
    assert_int_equal(fs_hlc_wall_ms(t2), 9000);
}

static void test_hlc_orders_local_events_after_an_observed_remote_one(void **state)
{
    (void)state;
    fs_hlc c = {0};
    fs_hlc_now(&c, 1000);
    uint64_t remote = ((uint64_t)7000 << FS_HLC_LOGICAL_BITS) | 42;
    fs_hlc_observe(&c, remote);
    uint64_t t = fs_hlc_now(&c, 1001);
    assert_true(t > remote);
    assert_int_equal(t, remote + 1);
    /* once the wall clock passes the remote time, it is used again */
    assert_int_equal(fs_hlc_now(&c, 8000), (uint64_t)8000 << FS_HLC_LOGICAL_BITS);
}

static void test_hlc_ignores_an_older_remote_timestamp(void **state)
{
    (void)state;
    fs_hlc c = {0};
    uint64_t t1 = fs_hlc_now(&c, 5000);
    fs_hlc_observe(&c, 17);
    assert_int_equal(c.last, t1);
    assert_int_equal(fs_hlc_now(&c, 5000), t1 + 1);
}

static void test_hlc_logical_overflow_carries_into_milliseconds(void **state)
{
    (void)state;
    fs_hlc c = {0};
    uint64_t last = ((uint64_t)3000 << FS_HLC_LOGICAL_BITS) | 0xffff;
    fs_hlc_observe(&c, last);
    uint64_t t = fs_hlc_now(&c, 3000);
    assert_true(t > last);
    assert_int_equal(fs_hlc_wall_ms(t), 3001);
    assert_int_equal(t & 0xffff, 0);
}

static void test_hlc_many_events_in_one_millisecond_stay_unique(void **state)
{
    (void)state;
    fs_hlc c = {0};
    uint64_t prev = fs_hlc_now(&c, 10);
    for (int i = 0; i < 200000; i++) { /* more than 2^16 */
        uint64_t t = fs_hlc_now(&c, 10);
        assert_true(t > prev);
        prev = t;
    }
}

static void test_hlc_saturates_instead_of_wrapping(void **state)
{
    (void)state;
    fs_hlc c = {0};
    fs_hlc_observe(&c, UINT64_MAX);
    assert_int_equal(fs_hlc_now(&c, 1), UINT64_MAX);
    assert_int_equal(fs_hlc_now(&c, UINT64_MAX), UINT64_MAX);
    fs_hlc d = {0};
    /* a wall clock beyond 48 bits is clamped, not shifted out */
    uint64_t t = fs_hlc_now(&d, UINT64_MAX);
    assert_int_equal(fs_hlc_wall_ms(t), (UINT64_C(1) << 48) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hlc_follows_an_advancing_wall_clock),
        cmocka_unit_test(test_hlc_equal_wall_clock_advances_the_logical_part),
        cmocka_unit_test(test_hlc_stays_monotonic_when_the_wall_clock_goes_back),
        cmocka_unit_test(test_hlc_orders_local_events_after_an_observed_remote_one),
        cmocka_unit_test(test_hlc_ignores_an_older_remote_timestamp),
        cmocka_unit_test(test_hlc_logical_overflow_carries_into_milliseconds),
        cmocka_unit_test(test_hlc_many_events_in_one_millisecond_stay_unique),
        cmocka_unit_test(test_hlc_saturates_instead_of_wrapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
