/*
 * calendar.h: calendar days for the pipeline rules and reports. A day is a
 * number (days since 1970-01-01), so "10 days after" and "longer than the
 * cycle" are subtractions, and weeks are ISO 8601 weeks (Monday first).
 * Record dates are "YYYY-MM-DD" (docs/socket-api.md); instants (`*_at`) fall
 * on the day of the daemon's local time zone, as today's date does.
 */
#ifndef FS_DAEMON_CALENDAR_H
#define FS_DAEMON_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "fieldsync/calendar.h" /* FS_DATE_SIZE, and today: fs_calendar_day */
/* "YYYY-Www" and its NUL. */
#define FS_WEEK_SIZE 9

/* The day of a "YYYY-MM-DD" calendar date; false when s is not one. */
bool fs_cal_day(const char *s, long *day);
/* The "YYYY-MM-DD" of day. */
void fs_cal_date(long day, char out[FS_DATE_SIZE]);
/* 0 for Monday .. 6 for Sunday. */
int fs_cal_weekday(long day);
/* The ISO 8601 week of day, "2026-W48". */
void fs_cal_week(long day, char out[FS_WEEK_SIZE]);
/* The local day of instant t (Unix seconds), and the instant its local
 * midnight begins. */
long fs_cal_local_day(int64_t t);
int64_t fs_cal_local_midnight(long day);

#endif
