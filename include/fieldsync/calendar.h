/*
 * calendar.h: the dates a rep types and sees (common/calendar.c).
 *
 * Dates ("YYYY-MM-DD": a visit's next step, an opportunity's stage date) are
 * calendar days of the rep, in the local time zone (TZ, else
 * /etc/localtime), not in UTC: at 00:30 in Berlin "today" is already the new
 * day. fs_calendar_day is the one place "today" comes from, in fieldsyncd
 * (defaults of followups and report.pipeline) and in the fieldsync CLI
 * (`today`, `tomorrow`, `+N`); both run as the rep on the rep's laptop. Stored
 * instants stay UTC (Unix seconds, HLC timestamps); only their display and
 * entry are local.
 */
#ifndef FIELDSYNC_CALENDAR_H
#define FIELDSYNC_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes of a date with its NUL: "YYYY-MM-DD". */
#define FS_DATE_SIZE 11

/* The local calendar day `days` after today (negative: before) into out. */
void fs_calendar_day(int days, char out[FS_DATE_SIZE]);
/* The same, `days` after the local day of the instant now_s (Unix seconds). */
void fs_calendar_day_from(int64_t now_s, int days, char out[FS_DATE_SIZE]);

/* Whether s is a real calendar day "YYYY-MM-DD" (years 1-9999). */
bool fs_calendar_valid(const char *s);

#endif
