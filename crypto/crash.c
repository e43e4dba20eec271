/*
 * crash.c: the crash-point hook (see crash.h). Deliberately tiny: it must be
 * safe to call anywhere, from any thread, and never fail.
 */
#include "fieldsync/crash.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Hits of the armed point so far; only the armed name is ever counted. */
static atomic_ulong armed_hits;

/* Parses "name" or "name@N" from spec; true when it names point at count n. */
static int spec_matches(const char *spec, const char *name, unsigned long *nth)
{
    const char *at = strrchr(spec, '@');
    size_t len = at != NULL ? (size_t)(at - spec) : strlen(spec);
    if (len != strlen(name) || memcmp(spec, name, len) != 0)
        return 0;
    *nth = 1;
    if (at != NULL) {
        char *end = NULL;
        unsigned long n = strtoul(at + 1, &end, 10);
        if (end == at + 1 || *end != '\0' || n == 0)
            return 0; /* a malformed count arms nothing rather than the wrong hit */
        *nth = n;
    }
    return 1;
}

void fs_crash_point(const char *name)
{
    const char *spec = getenv(FS_CRASH_ENV);
    unsigned long nth;
    if (spec == NULL || name == NULL || !spec_matches(spec, name, &nth))
        return;
    if (atomic_fetch_add(&armed_hits, 1) + 1 == nth)
        raise(SIGKILL);
}
