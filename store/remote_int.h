/*
 * remote_int.h: the pieces of remote.c that a forced resync's page apply
 * (resync.c) shares, so a removal is handled the same way on both paths.
 */
#ifndef FIELDSYNC_REMOTE_INT_H
#define FIELDSYNC_REMOTE_INT_H

#include "store_int.h"

/* Appends a copy of (kind, id) to *refs (n entries before the call). */
int fs_store_ref_append(fs_ref **refs, size_t n, fs_kind kind, const char *id, fs_err *err);
/* Applies one removal inside the caller's transaction (kept when it has outbox
 * entries), updating r. */
int fs_store_apply_removal(fs_store *st, const fs_ref *ref, fs_apply_report *r, fs_err *err);

/* One state's work inside a page's transaction, recording what it did in r. */
typedef int (*fs_store_state_fn)(fs_store *st, const fs_state *state, void *ctx, fs_apply_report *r,
                                 fs_err *err);
/*
 * Applies one page in one transaction: every state through apply_state (ctx is
 * passed along), then the removals, the clock and the position. what names the
 * page in messages ("pull", "resync"). On an error nothing of the page stays and
 * *report is cleared. report may be NULL.
 */
int fs_store_apply_page(fs_store *st, const char *what, fs_state *const *states, size_t nstates,
                        const fs_ref *removals, size_t nremovals, const fs_pull_pos *pos,
                        fs_store_state_fn apply_state, void *ctx, fs_apply_report *report,
                        fs_err *err);

#endif
