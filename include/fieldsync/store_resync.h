/*
 * store_resync.h: the store's side of a forced resync (store/resync.c).
 *
 * A forced resync pulls every record from cursor 0 and must then drop the
 * local records the server no longer gives this device. That is a
 * mark-and-sweep over a per-record mark (records.resync_mark, schema 3):
 * beginning a resync picks a new epoch and resets the pull cursor; every state
 * applied during the resync is marked with the epoch in the same transaction
 * as the page and its cursor; finishing removes every record not marked,
 * except records with pending outbox entries (unsynced local changes are
 * never dropped). A record whose outbox entries the server all refused as
 * READ_ONLY (a manager's device) is put back to the server's state (or swept),
 * those entries dropped: they can never be pushed. The epoch and an "active" flag live in
 * sync_meta, so a resync interrupted by a crash or restart resumes from the last applied page and
 * sweeps correctly.
 */
#ifndef FIELDSYNC_STORE_RESYNC_H
#define FIELDSYNC_STORE_RESYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "fieldsync/error.h"
#include "fieldsync/store.h"

/* sync_meta keys */
#define FS_META_RESYNC_EPOCH "resync_epoch"   /* uint64: the current or last epoch */
#define FS_META_RESYNC_ACTIVE "resync_active" /* uint64: 1 while a resync must finish */

typedef struct fs_store_resync_report {
    size_t added;      /* records the device did not have */
    size_t updated;    /* existing records whose state changed */
    size_t removed;    /* removals applied (left the territory) and swept: not given */
    size_t conflicts;  /* records with a field in conflict after the sweep */
    size_t kept_local; /* not given by the server but kept: pending outbox entries */
    size_t restored;   /* changes refused READ_ONLY, dropped: the record is the server's
                        * again (or swept, when not given) */
} fs_store_resync_report;

/* Starts a resync in one transaction: a new epoch, active, pull cursor 0 and
 * no snapshot. */
int fs_store_resync_begin(fs_store *st, fs_err *err);
/* Whether a resync was begun and not finished (also across restarts). */
int fs_store_resync_active(fs_store *st, bool *active, fs_err *err);

/*
 * fs_store_apply_remote for a resync page: the same joins, removals and cursor in
 * one transaction, and every state is marked seen. acc (optional) accumulates
 * added, updated and removed (the page's removals that deleted a record);
 * report (optional) as fs_store_apply_remote's.
 */
int fs_store_resync_apply(fs_store *st, fs_state *const *states, size_t nstates,
                          const fs_ref *removals, size_t nremovals, uint64_t cursor,
                          fs_store_resync_report *acc, fs_apply_report *report, fs_err *err);
/* The same with the page's whole position (fs_store_apply_pulled). */
int fs_store_resync_apply_pulled(fs_store *st, fs_state *const *states, size_t nstates,
                                 const fs_ref *removals, size_t nremovals, const fs_pull_pos *pos,
                                 fs_store_resync_report *acc, fs_apply_report *report, fs_err *err);

/*
 * Ends the resync in one transaction: sweeps unmarked records (keeping those with
 * outbox entries), counts conflicts, clears the active flag. acc (optional)
 * receives removed (adding the swept), kept_local and conflicts; removed_refs
 * (optional) which records were swept (free with fs_refs_free(*removed_refs,
 * *nremoved)).
 * FS_ESTATE when no resync is active.
 */
int fs_store_resync_finish(fs_store *st, fs_store_resync_report *acc, fs_ref **removed_refs,
                           size_t *nremoved, fs_err *err);

/* Number of records with a field in conflict (status). */
int fs_store_conflict_count(fs_store *st, size_t *n, fs_err *err);

#endif
