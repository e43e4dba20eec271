/*
 * resync.c: the store's side of a forced resync: a mark-and-sweep over
 * records.resync_mark (see fieldsync/store_resync.h).
 *
 * The invariant: while a resync is active, every record the server has given
 * since it began carries the current epoch, and that mark commits in the same
 * transaction as the page and its cursor. So whatever point a crash stops the
 * pull at, resuming from the stored cursor and then sweeping removes exactly
 * the records the full pull did not return. Records with pending outbox
 * entries are never swept: their local changes have not reached the server.
 *
 * Changes the server refused as READ_ONLY are another matter: they never will
 * reach it (a manager's device writes nothing), and keeping them kept the
 * local value wrong for good, since a join keeps a write the server never saw.
 * So a record whose outbox entries are all such refusals takes the server's
 * state as it is and those entries go (the report counts it as restored); one
 * the server no longer gives is swept. Other refusals (a record outside the
 * territory) stay: the rep can still fix and retry them.
 */
#include "remote_int.h"

#include "fieldsync/outbox.h"
#include "fieldsync/store_resync.h"

#include <stdlib.h>
#include <string.h>

static int step_done(fs_store *st, sqlite3_stmt *s, const char *what, fs_err *err)
{
    int step = sqlite3_step(s);
    fs_store_finish(st, s);
    return step == SQLITE_DONE ? 0 : fs_store_sqlerr(st, step, err, what);
}

int fs_store_resync_begin(fs_store *st, fs_err *err)
{
    uint64_t epoch = 0;
    int rc = fs_store_begin(st, err);
    if (rc == 0)
        rc = fs_store_meta_get_u64(st, FS_META_RESYNC_EPOCH, &epoch, err);
    if (rc == 0)
        rc = fs_store_meta_set_u64(st, FS_META_RESYNC_EPOCH, epoch + 1, err);
    if (rc == 0)
        rc = fs_store_meta_set_u64(st, FS_META_RESYNC_ACTIVE, 1, err);
    if (rc == 0)
        rc = fs_store_meta_set_u64(st, FS_META_CURSOR, 0, err);
    if (rc == 0)
        rc = fs_store_meta_delete(st, FS_META_PULL_SNAPSHOT, err);
    if (rc == 0)
        rc = fs_store_commit(st, err);
    if (rc != 0)
        fs_store_rollback(st);
    return rc;
}

int fs_store_resync_active(fs_store *st, bool *active, fs_err *err)
{
    uint64_t v = 0;
    int rc = fs_store_meta_get_u64(st, FS_META_RESYNC_ACTIVE, &v, err);
    *active = rc == 0 && v != 0;
    return rc;
}

/* Whether the record exists locally (before the join). */
static int exists(fs_store *st, const fs_state *state, bool *found, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, "SELECT 1 FROM records WHERE kind = ? AND id = ?", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, (int)state->kind);
    sqlite3_bind_text(s, 2, state->id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    *found = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "looking up a record during resync");
    fs_store_finish(st, s);
    return rc;
}

static int mark(fs_store *st, const fs_state *state, uint64_t epoch, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, "UPDATE records SET resync_mark = ? WHERE kind = ? AND id = ?",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)epoch);
    sqlite3_bind_int(s, 2, (int)state->kind);
    sqlite3_bind_text(s, 3, state->id, -1, SQLITE_STATIC);
    return step_done(st, s, "marking a record seen during resync", err);
}

/* What a resync page's states share: the epoch they are marked with, and the
 * counts of this page (added to the caller's only when the page commits). */
typedef struct resync_page {
    uint64_t epoch;
    fs_store_resync_report counts;
} resync_page;

/* The server's state in place of a local one whose changes it refused. */
static int restore(fs_store *st, const fs_state *state, fs_err *err)
{
    int64_t rid = 0;
    fs_state *local = NULL;
    int rc = fs_store_load(st, state->kind, state->id, &rid, &local, err);
    fs_state_free(local);
    if (rc == 0)
        rc = fs_store_save(st, rid, state, err);
    if (rc == 0)
        fs_store_observe(st, state);
    return rc;
}

static int apply_state(fs_store *st, const fs_state *state, void *ctx, fs_apply_report *r,
                       fs_err *err)
{
    resync_page *pg = ctx;
    bool found = false, changed = false, refused = false;
    int rc = exists(st, state, &found, err);
    if (rc == 0 && found)
        rc = fs_outbox_drop_read_only(st, state->kind, state->id, &refused, err);
    if (rc == 0 && refused)
        rc = restore(st, state, err);
    else if (rc == 0)
        rc = fs_store_join_save(st, state, &changed, err);
    if (rc == 0)
        rc = mark(st, state, pg->epoch, err);
    if (rc == 0 && (changed || refused))
        rc = fs_store_ref_append(&r->changed_refs, r->changed, state->kind, state->id, err);
    if (rc != 0)
        return rc;
    r->applied++;
    r->changed += changed || refused;
    pg->counts.added += !found;
    pg->counts.updated += found && changed;
    pg->counts.restored += refused;
    return 0;
}

int fs_store_resync_apply(fs_store *st, fs_state *const *states, size_t nstates,
                          const fs_ref *removals, size_t nremovals, uint64_t cursor,
                          fs_store_resync_report *acc, fs_apply_report *report, fs_err *err)
{
    fs_pull_pos pos = {.cursor = cursor};
    return fs_store_resync_apply_pulled(st, states, nstates, removals, nremovals, &pos, acc, report,
                                        err);
}

int fs_store_resync_apply_pulled(fs_store *st, fs_state *const *states, size_t nstates,
                                 const fs_ref *removals, size_t nremovals, const fs_pull_pos *pos,
                                 fs_store_resync_report *acc, fs_apply_report *report, fs_err *err)
{
    resync_page pg = {0};
    fs_apply_report local = {0};
    fs_apply_report *r = report != NULL ? report : &local;
    uint64_t active = 0;
    int rc = fs_store_meta_get_u64(st, FS_META_RESYNC_EPOCH, &pg.epoch, err);
    if (rc == 0)
        rc = fs_store_meta_get_u64(st, FS_META_RESYNC_ACTIVE, &active, err);
    if (rc == 0 && !active)
        rc = fs_err_set(err, FS_ESTATE, "no resync is in progress");
    if (rc != 0) {
        if (report != NULL)
            memset(report, 0, sizeof(*report));
        return rc;
    }
    rc = fs_store_apply_page(st, "resync", states, nstates, removals, nremovals, pos, apply_state,
                             &pg, r, err);
    if (rc == 0 && acc != NULL) {
        acc->added += pg.counts.added;
        acc->updated += pg.counts.updated;
        acc->restored += pg.counts.restored;
        /* records that left the territory are gone before the sweep looks */
        acc->removed += r->removed;
    }
    fs_apply_report_clear(&local);
    return rc;
}

typedef struct unmarked {
    int64_t *rids;
    fs_ref *refs;
    size_t n;
} unmarked;

static void unmarked_clear(unmarked *u)
{
    fs_refs_free(u->refs, u->n);
    free(u->rids);
}

static int collect_unmarked(fs_store *st, uint64_t epoch, unmarked *u, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc =
        fs_store_prepare(st, "SELECT rid, kind, id FROM records WHERE resync_mark != ?", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)epoch);
    int step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t *grown = realloc(u->rids, (u->n + 1) * sizeof(*grown));
        if (grown == NULL) {
            rc = fs_err_set(err, FS_ENOMEM, "resync sweep: out of memory");
            break;
        }
        u->rids = grown;
        rc = fs_store_ref_append(&u->refs, u->n, (fs_kind)sqlite3_column_int(s, 1),
                                 (const char *)sqlite3_column_text(s, 2), err);
        if (rc == 0)
            u->rids[u->n++] = sqlite3_column_int64(s, 0);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "listing records for the resync sweep");
    fs_store_finish(st, s);
    return rc;
}

static int sweep(fs_store *st, fs_store_resync_report *acc, fs_ref **removed, size_t *nremoved,
                 fs_err *err)
{
    uint64_t epoch = 0, active = 0;
    unmarked u = {0};
    int rc = fs_store_meta_get_u64(st, FS_META_RESYNC_EPOCH, &epoch, err);
    if (rc == 0)
        rc = fs_store_meta_get_u64(st, FS_META_RESYNC_ACTIVE, &active, err);
    if (rc == 0 && !active)
        return fs_err_set(err, FS_ESTATE, "no resync is in progress");
    if (rc == 0)
        rc = collect_unmarked(st, epoch, &u, err);
    for (size_t i = 0; rc == 0 && i < u.n; i++) {
        bool pending = false, refused = false;
        rc = fs_outbox_drop_read_only(st, u.refs[i].kind, u.refs[i].id, &refused, err);
        if (rc == 0)
            rc = fs_outbox_has(st, u.refs[i].kind, u.refs[i].id, &pending, err);
        if (rc != 0 || pending) {
            acc->kept_local += rc == 0;
            continue;
        }
        acc->restored += refused;
        rc = fs_store_remove(st, u.rids[i], err);
        if (rc == 0)
            rc = fs_store_ref_append(removed, *nremoved, u.refs[i].kind, u.refs[i].id, err);
        if (rc == 0) {
            (*nremoved)++;
            acc->removed++;
        }
    }
    unmarked_clear(&u);
    if (rc == 0)
        rc = fs_store_conflict_count(st, &acc->conflicts, err);
    if (rc == 0)
        rc = fs_store_meta_set_u64(st, FS_META_RESYNC_ACTIVE, 0, err);
    return rc;
}

int fs_store_resync_finish(fs_store *st, fs_store_resync_report *acc, fs_ref **removed_refs,
                           size_t *nremoved, fs_err *err)
{
    fs_store_resync_report counts = {0};
    fs_ref *refs = NULL;
    size_t n = 0;
    int rc = fs_store_begin(st, err);
    if (rc == 0)
        rc = sweep(st, &counts, &refs, &n, err);
    if (rc == 0)
        rc = fs_store_commit(st, err);
    if (rc != 0) {
        fs_store_rollback(st);
        fs_refs_free(refs, n);
        return rc;
    }
    if (acc != NULL) {
        acc->removed += counts.removed;
        acc->restored += counts.restored;
        acc->kept_local += counts.kept_local;
        acc->conflicts = counts.conflicts;
    }
    if (removed_refs != NULL) {
        *removed_refs = refs;
        *nremoved = n;
    } else {
        fs_refs_free(refs, n);
    }
    return 0;
}

int fs_store_conflict_count(fs_store *st, size_t *n, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    int rc = fs_store_prepare(st, "SELECT count(*) FROM records WHERE has_conflict", &s, err);
    if (rc != 0)
        return rc;
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(s, 0);
    else
        rc = fs_store_sqlerr(st, step, err, "counting conflicts");
    fs_store_finish(st, s);
    return rc;
}
