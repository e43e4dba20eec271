/*
 * backoff.c: how long the sync engine waits before trying again.
 *
 * "Full jitter": the n-th retry waits a uniformly random time between 0 and
 * min(cap, base * 2^(n-1)). Spreading retries over the whole window (rather
 * than around its end) keeps a fleet of laptops that lost the same server at
 * the same moment from coming back in lockstep. The server's Retry-After is a
 * floor: it knows when it will have room again.
 */
#include "fieldsync/sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Retry-After values beyond this are treated as this: a broken or hostile server
 * must not park the device for days. */
#define RETRY_AFTER_MAX_MS 3600000

int64_t fs_sync_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
                           int64_t retry_after_ms, uint32_t rnd)
{
    uint64_t window = base_ms;
    for (unsigned i = 1; i < attempt && window < cap_ms; i++)
        window *= 2;
    if (window > cap_ms)
        window = cap_ms;
    /* rnd / 2^32 * (window + 1) without floating point: uniform in [0, window] */
    int64_t delay = (int64_t)(((uint64_t)rnd * (window + 1)) >> 32);
    if (retry_after_ms > RETRY_AFTER_MAX_MS)
        retry_after_ms = RETRY_AFTER_MAX_MS;
    return delay < retry_after_ms ? retry_after_ms : delay;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the form HTTP/1.1 servers send. */
static int64_t parse_http_date(const char *v)
{
    char wday[4], mon[4], zone[4];
    int day, year, hh, mm, ss, used = 0;
    if (sscanf(v, "%3[A-Za-z], %d %3s %d %d:%d:%d %3s%n", wday, &day, mon, &year, &hh, &mm, &ss,
               zone, &used) != 8 ||
        strcmp(zone, "GMT") != 0 || v[used] != '\0')
        return -1;
    struct tm tm = {0};
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0)
            tm.tm_mon = i;
    if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh > 23 || mm > 59 ||
        ss > 60 || hh < 0 || mm < 0 || ss < 0)
        return -1;
    tm.tm_mday = day;
    tm.tm_year = year - 1900;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    return (int64_t)timegm(&tm);
}

int64_t fs_sync_retry_after_ms(const char *value, int64_t now_s)
{
    if (value == NULL)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' ||
                     value[n - 1] == '\n'))
        n--;
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, value, n);
    buf[n] = '\0';
    if (strspn(buf, "0123456789") == n) {
        if (n > 9) /* over 31 years: cap rather than overflow */
            return RETRY_AFTER_MAX_MS;
        return (int64_t)strtol(buf, NULL, 10) * 1000;
    }
    int64_t at = parse_http_date(buf);
    if (at < 0)
        return -1;
    return at <= now_s ? 0 : (at - now_s) * 1000;
}
