/*
 * outbox.h: the store's queue of local changes waiting for the server (store/outbox.c).
 *
 * Every local put or delete queues the record's new state (a protobuf Change) in
 * the same transaction as the change itself. A record has at most one pending
 * entry: a change of a record that has one replaces its state there, keeping its
 * place in the queue (only whole states travel, so the newer state covers the
 * older); otherwise the change is appended. Entries are FIFO by sequence number
 * and move through these states:
 *
 *   pending --take--> in flight --ack--> (removed)
 *                        |  \--refuse--> refused (kept, listed with its reason)
 *                        \--fail / restart--> pending
 *
 * Entries in flight or refused are never replaced: a change queued while its
 * record is in flight gets an entry of its own. Taking a batch coalesces: all
 * pending entries of one record (several after a batch went back to pending)
 * travel as one state, the record's latest. Acknowledging removes exactly the entries that
 * were taken, never ones queued after the batch was taken, and joins the
 * server's answer into the local state in the same transaction. A refused entry
 * does not hold back the entries behind it.
 */
#ifndef FIELDSYNC_OUTBOX_H
#define FIELDSYNC_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/record.h"
#include "fieldsync/store.h"

typedef enum fs_outbox_status {
    FS_OUTBOX_PENDING = 0,
    FS_OUTBOX_IN_FLIGHT = 1,
    FS_OUTBOX_REFUSED = 2,
} fs_outbox_status;

/* One record of a batch being sent: its state and the entries it stands for. */
typedef struct fs_outbox_item {
    fs_state *state;   /* its newest entry's: its last local change (owned by the batch) */
    int64_t first_seq; /* the oldest entry it covers */
    int64_t last_seq;  /* the newest entry it covers */
} fs_outbox_item;

typedef struct fs_outbox_batch {
    int64_t id; /* batch number, recorded on its entries */
    fs_outbox_item *items;
    size_t n;
} fs_outbox_batch;

/*
 * Takes up to max records' pending entries, oldest record first, marks them in
 * flight and returns them coalesced, one item per record. An empty outbox gives
 * an empty batch (n == 0).
 */
int fs_outbox_take(fs_store *st, size_t max, fs_outbox_batch *batch, fs_err *err);
void fs_outbox_batch_clear(fs_outbox_batch *batch);

/* The server's answer for one item of a batch (PushResult). */
typedef struct fs_outbox_result {
    const fs_state *joined; /* the server's state after the join, or NULL if refused */
    int reason;             /* Refusal.Reason when refused */
    const char *message;    /* Refusal.message when refused (may be NULL) */
    bool unchanged;         /* joined is the state sent: the local state holds it already */
} fs_outbox_result;

/*
 * Completes a batch in one transaction: results[i] answers batch->items[i].
 * Joined items: the server's state is joined into the local state (not when
 * unchanged: it is the state sent, which the local state holds) and the
 * entries taken for the item are removed. Refused items: those entries become refused with
 * the reason. Items beyond nresults go back to pending.
 */
int fs_outbox_complete(fs_store *st, const fs_outbox_batch *batch, const fs_outbox_result *results,
                       size_t nresults, fs_err *err);
/* The send failed as a whole: every entry of the batch goes back to pending. */
int fs_outbox_fail(fs_store *st, const fs_outbox_batch *batch, fs_err *err);

/* One outbox entry, for listing. */
typedef struct fs_outbox_entry {
    int64_t seq;
    fs_kind kind;
    char *id;
    fs_outbox_status status;
    int reason;        /* refused only */
    char *message;     /* refused only, may be NULL */
    int64_t queued_at; /* Unix seconds */
} fs_outbox_entry;

/* Entries in FIFO order; status < 0 lists all, otherwise only that status. */
int fs_outbox_list(fs_store *st, int status, size_t limit, fs_outbox_entry **out, size_t *n,
                   fs_err *err);
void fs_outbox_entries_free(fs_outbox_entry *e, size_t n);

/* Number of entries with status (status < 0: all). */
int fs_outbox_count(fs_store *st, int status, size_t *n, fs_err *err);

/* A refused entry: send it again (back to pending) or drop it (the change stays
 * in the local state; it is only no longer pushed). FS_ENOTFOUND if seq is not
 * a refused entry. */
int fs_outbox_retry(fs_store *st, int64_t seq, fs_err *err);
int fs_outbox_drop(fs_store *st, int64_t seq, fs_err *err);

/*
 * Refused entries whose reason is CLOCK_AHEAD go back to pending (in one
 * statement) when the HLC their record is pushed with has a wall clock part of
 * at most bound_ms (the server's clock as this device estimates it, Unix ms);
 * *n says how many. Entries still ahead stay refused.
 */
int fs_outbox_retry_clock_ahead(fs_store *st, uint64_t bound_ms, size_t *n, fs_err *err);
/* The entries refused CLOCK_AHEAD, and the greatest wall clock time (Unix ms)
 * their records are dated with (0 when none): when the last can go again. */
int fs_outbox_clock_ahead(fs_store *st, size_t *n, uint64_t *until_ms, fs_err *err);

#endif
