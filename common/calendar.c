/*
 * calendar.c: local calendar days (calendar.h). "Today" is read from the wall
 * clock in the local time zone; stepping N days goes through mktime at noon,
 * so a daylight saving change (a 23- or 25-hour day) never skips or repeats a
 * day. (Day arithmetic on dates, without a time zone: daemon/calendar.c.)
 */
#include "fieldsync/calendar.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fs_calendar_day(int days, char out[FS_DATE_SIZE])
{
    fs_calendar_day_from((int64_t)time(NULL), days, out);
}

void fs_calendar_day_from(int64_t now_s, int days, char out[FS_DATE_SIZE])
{
    time_t now = (time_t)now_s;
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_mday += days;
    tm.tm_hour = 12;
    tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm); /* normalises the day, month and year */
    localtime_r(&t, &tm);
    strftime(out, FS_DATE_SIZE, "%Y-%m-%d", &tm);
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool fs_calendar_valid(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s == NULL || strlen(s) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap(y));
}
