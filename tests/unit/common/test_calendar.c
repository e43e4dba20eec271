/*
 * test_calendar.c: local calendar days (common/calendar.c): "today" follows the
 * time zone, not UTC; stepping days across a daylight saving change neither
 * skips nor repeats a day; real dates only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "fieldsync/calendar.h"

static void use_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* 2026-11-23 23:30:00 UTC */
#define LATE_EVENING_UTC 1795476600

static void test_today_is_the_local_day(void **state)
{
    (void)state;
    char d[FS_DATE_SIZE];
    use_zone("UTC0");
    fs_calendar_day_from(LATE_EVENING_UTC, 0, d);
    assert_string_equal(d, "2026-11-23");
    use_zone("CET-1"); /* 00:30 in Berlin: already the next day */
    fs_calendar_day_from(LATE_EVENING_UTC, 0, d);
    assert_string_equal(d, "2026-11-24");
    use_zone("TST+12"); /* 11:30 the same day twelve hours west */
    fs_calendar_day_from(LATE_EVENING_UTC, 0, d);
    assert_string_equal(d, "2026-11-23");
    fs_calendar_day_from(LATE_EVENING_UTC, -24, d);
    assert_string_equal(d, "2026-10-30");
}

static void test_steps_cross_daylight_saving_changes(void **state)
{
    (void)state;
    char d[FS_DATE_SIZE];
    use_zone("CET-1CEST,M3.5.0,M10.5.0/3");
    /* 2026-03-28 23:30 local (22:30 UTC): the night the clocks go forward */
    int64_t before_spring = 1774737000;
    for (int i = 0; i < 3; i++) {
        static const char *const want[] = {"2026-03-28", "2026-03-29", "2026-03-30"};
        fs_calendar_day_from(before_spring, i, d);
        assert_string_equal(d, want[i]);
    }
    /* 2026-10-25 00:30 local (22:30 UTC the day before): the clocks go back */
    fs_calendar_day_from(1792881000, 1, d);
    assert_string_equal(d, "2026-10-26");
    fs_calendar_day_from(1792881000, 366, d);
    assert_string_equal(d, "2027-10-26");
}

static void test_valid_dates(void **state)
{
    (void)state;
    assert_true(fs_calendar_valid("2028-02-29"));
    assert_true(fs_calendar_valid("2000-02-29"));
    assert_false(fs_calendar_valid("1900-02-29"));
    assert_false(fs_calendar_valid("2026-02-30"));
    assert_false(fs_calendar_valid("2026-13-01"));
    assert_false(fs_calendar_valid("2026-1-01"));
    assert_false(fs_calendar_valid("0000-01-01"));
    assert_false(fs_calendar_valid("2026-01-01 "));
    assert_false(fs_calendar_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_today_is_the_local_day),
        cmocka_unit_test(test_steps_cross_daylight_saving_changes),
        cmocka_unit_test(test_valid_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
