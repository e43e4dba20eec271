/*
 * demo.h: a generator of a realistic, deterministic book of business for one
 * rep (DOMAIN.md): accounts across the five tiers and the funnel, their
 * contacts, a season of visits with notes, objections and next steps,
 * opportunities across the pipeline, and transactions of the accounts that buy.
 * Used by the demo run, the benchmarks and the integration tests.
 */
#ifndef FIELDSYNC_DEMO_H
#define FIELDSYNC_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync.pb-c.h"

typedef struct fs_demo_opts {
    uint64_t seed;            /* same seed, same book */
    size_t accounts;          /* number of accounts */
    size_t contacts_per;      /* contacts per account (average) */
    size_t visits_per;        /* visits per account (average) */
    size_t opportunities_per; /* opportunities per account (average, may be 0) */
    size_t note_bytes;        /* approximate size of a visit's notes */
    const char *owner;        /* rep user name written into accounts */
    int64_t today;            /* Unix seconds of "today": dates are around it */
} fs_demo_opts;

/* Defaults: 300 accounts, 3 contacts, 6 visits, 1 opportunity, ~600-byte notes. */
fs_demo_opts fs_demo_opts_default(void);

/* Called once per generated record, accounts before what hangs off them. The
 * message is only valid during the call. A non-zero return stops generation and
 * is returned by fs_demo_generate. */
typedef int (*fs_demo_emit_fn)(void *ctx, Fieldsync__RecordKind kind,
                               const ProtobufCMessage *record);

int fs_demo_generate(const fs_demo_opts *opts, fs_demo_emit_fn emit, void *ctx, fs_err *err);

/* "YYYY-MM-DD" of Unix time t (UTC) into buf (at least 11 bytes). */
void fs_demo_date(int64_t t, char *buf);

#endif
