/*
 * calendar.c: day numbers of the proleptic Gregorian calendar (see calendar.h),
 * after Howard Hinnant's days_from_civil / civil_from_days: exact for every
 * year the record dates allow, with no time zone in the arithmetic.
 */
#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "json_record.h"

static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

bool fs_cal_day(const char *s, long *day)
{
    if (s == NULL || !fs_json_valid_date(s))
        return false;
    *day = days_from_civil(atol(s), atol(s + 5), atol(s + 8));
    return true;
}

void fs_cal_date(long day, char out[FS_DATE_SIZE])
{
    long y, m, d;
    civil_from_days(day, &y, &m, &d);
    /* the modulos only tell the compiler the widths: y is 1 .. 9999 for dates
     * that parse, m 1 .. 12, d 1 .. 31 */
    snprintf(out, FS_DATE_SIZE, "%04u-%02u-%02u", (unsigned)(y % 10000), (unsigned)(m % 100),
             (unsigned)(d % 100));
}

int fs_cal_weekday(long day)
{
    /* 1970-01-01 was a Thursday (3) */
    long w = (day + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

void fs_cal_week(long day, char out[FS_WEEK_SIZE])
{
    /* the week belongs to the year of its Thursday */
    long thursday = day - fs_cal_weekday(day) + 3, y, m, d;
    civil_from_days(thursday, &y, &m, &d);
    long week = (thursday - days_from_civil(y, 1, 1)) / 7 + 1;
    snprintf(out, FS_WEEK_SIZE, "%04u-W%02u", (unsigned)(y % 10000), (unsigned)(week % 100));
}

long fs_cal_local_day(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return days_from_civil(tm.tm_year + 1900L, tm.tm_mon + 1L, tm.tm_mday);
}

int64_t fs_cal_local_midnight(long day)
{
    long y, m, d;
    civil_from_days(day, &y, &m, &d);
    struct tm tm = {
        .tm_year = (int)(y - 1900), .tm_mon = (int)(m - 1), .tm_mday = (int)d, .tm_isdst = -1};
    return (int64_t)mktime(&tm);
}
