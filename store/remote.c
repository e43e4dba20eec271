/*
 * remote.c: applying a page of pulled states to the store.
 *
 * One page is one transaction, with the pull cursor in it: after a crash the
 * device either has the page and the cursor past it, or neither, and pulls the
 * page again (joins are idempotent, so a page applied twice changes nothing).
 * A page commits with synchronous=NORMAL: the WAL is not flushed for it, so a
 * power cut may lose the last pages applied, and with them their cursor; they
 * are pulled again. Nothing of the device's own is at stake: the next FULL
 * commit (any local write) or checkpoint flushes the pages before it, and WAL
 * checksums keep the database consistent either way. The setting is FULL again
 * before the function returns, whatever happened. Under a deferring owner
 * the page's records get their search rows from maintenance (store.h). During
 * an initial load a page is a savepoint of the load's batch (load.c).
 *
 * Removals delete the local copy of a record that left the rep's territory,
 * unless the outbox still holds a local change of it: a write is never dropped
 * silently, so such a record is kept and reported.
 */
#include "remote_int.h"

#include "fieldsync/outbox.h"

#include <stdlib.h>
#include <string.h>

void fs_apply_report_clear(fs_apply_report *r)
{
    if (r == NULL)
        return;
    fs_refs_free(r->kept_refs, r->kept);
    fs_refs_free(r->changed_refs, r->changed);
    fs_refs_free(r->removed_refs, r->removed);
    memset(r, 0, sizeof(*r));
}

int fs_store_ref_append(fs_ref **refs, size_t n, fs_kind kind, const char *id, fs_err *err)
{
    fs_ref *grown = realloc(*refs, (n + 1) * sizeof(*grown));
    if (grown == NULL)
        return fs_err_set(err, FS_ENOMEM, "applying a pull page: out of memory");
    *refs = grown;
    grown[n].kind = kind;
    grown[n].id = fs_store_strdup(id);
    if (grown[n].id == NULL)
        return fs_err_set(err, FS_ENOMEM, "applying a pull page: out of memory");
    return 0;
}

int fs_store_apply_removal(fs_store *st, const fs_ref *ref, fs_apply_report *r, fs_err *err)
{
    fs_state *state = NULL;
    int64_t rid = 0;
    bool pending = false;
    if (ref->id == NULL)
        return fs_err_set(err, FS_ECORRUPT, "the server sent a removal without an id");
    int rc = fs_store_load(st, ref->kind, ref->id, &rid, &state, err);
    fs_state_free(state);
    if (rc != 0 || rid == 0)
        return rc;
    if ((rc = fs_outbox_has(st, ref->kind, ref->id, &pending, err)) != 0)
        return rc;
    if (pending) {
        rc = fs_store_ref_append(&r->kept_refs, r->kept, ref->kind, ref->id, err);
        r->kept += rc == 0;
        return rc;
    }
    rc = fs_store_remove(st, rid, err);
    if (rc == 0)
        rc = fs_store_ref_append(&r->removed_refs, r->removed, ref->kind, ref->id, err);
    if (rc == 0)
        r->removed++;
    return rc;
}

/* The normal pull's step for one state: join it and note whether it changed. */
static int join_state(fs_store *st, const fs_state *state, void *ctx, fs_apply_report *r,
                      fs_err *err)
{
    (void)ctx;
    bool changed = false;
    int rc = fs_store_join_save(st, state, &changed, err);
    if (rc == 0 && changed)
        rc = fs_store_ref_append(&r->changed_refs, r->changed, state->kind, state->id, err);
    if (rc != 0)
        return rc;
    r->applied++;
    r->changed += changed;
    return 0;
}

/* The cursor and the snapshot position, inside the page's transaction. */
static int save_pos(fs_store *st, const fs_pull_pos *pos, fs_err *err)
{
    int rc = fs_store_meta_set_u64(st, FS_META_CURSOR, pos->cursor, err);
    if (rc == 0 && pos->snapshot != NULL)
        rc = fs_store_meta_set(st, FS_META_PULL_SNAPSHOT, pos->snapshot, pos->snapshot_len, err);
    else if (rc == 0)
        rc = fs_store_meta_delete(st, FS_META_PULL_SNAPSHOT, err);
    return rc;
}

static int apply_in_transaction(fs_store *st, const char *what, fs_state *const *states,
                                size_t nstates, const fs_ref *removals, size_t nremovals,
                                const fs_pull_pos *pos, fs_store_state_fn apply_state, void *ctx,
                                fs_apply_report *r, fs_err *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nstates; i++)
        rc = states[i] == NULL
                 ? fs_err_set(err, FS_EINVAL, "%s page: state %zu is missing", what, i)
                 : apply_state(st, states[i], ctx, r, err);
    for (size_t i = 0; rc == 0 && i < nremovals; i++)
        rc = fs_store_apply_removal(st, &removals[i], r, err);
    if (rc == 0)
        rc = fs_store_save_hlc(st, err);
    if (rc == 0)
        rc = save_pos(st, pos, err);
    return rc;
}

/* What one page's transaction (or savepoint) works on. */
typedef struct page_work {
    const char *what;
    fs_state *const *states;
    size_t nstates;
    const fs_ref *removals;
    size_t nremovals;
    const fs_pull_pos *pos;
    fs_store_state_fn apply_state;
    void *ctx;
    fs_apply_report *r;
} page_work;

static int work_page(fs_store *st, void *arg, fs_err *err)
{
    page_work *w = arg;
    st->page_first_rid = 0;
    int rc = apply_in_transaction(st, w->what, w->states, w->nstates, w->removals, w->nremovals,
                                  w->pos, w->apply_state, w->ctx, w->r, err);
    return rc == 0 ? fs_store_queue_page_search(st, err) : rc;
}

/* The page in a transaction of its own, committed without flushing the WAL. */
static int apply_alone(fs_store *st, page_work *w, fs_err *err)
{
    int rc = fs_store_begin_unflushed(st, err);
    if (rc != 0)
        return rc;
    return fs_store_end_unflushed(st, work_page(st, w, err), err);
}

int fs_store_apply_page(fs_store *st, const char *what, fs_state *const *states, size_t nstates,
                        const fs_ref *removals, size_t nremovals, const fs_pull_pos *pos,
                        fs_store_state_fn apply_state, void *ctx, fs_apply_report *report,
                        fs_err *err)
{
    fs_apply_report local = {0};
    fs_apply_report *r = report != NULL ? report : &local;
    memset(r, 0, sizeof(*r));
    if (nstates > FS_STORE_APPLY_MAX || nremovals > FS_STORE_APPLY_MAX)
        return fs_err_set(err, FS_ETOOBIG,
                          "a %s page of %zu states and %zu removals is over "
                          "the limit of %d each: ask for smaller pages",
                          what, nstates, nremovals, FS_STORE_APPLY_MAX);
    page_work w = {what, states, nstates, removals, nremovals, pos, apply_state, ctx, r};
    fs_hlc saved = st->hlc;
    st->defer_search = st->defer_maintenance;
    int rc = st->loading ? fs_store_load_page(st, work_page, &w, nstates, err)
                         : apply_alone(st, &w, err);
    if (rc != 0) {
        st->hlc = saved; /* the clock follows what committed */
        fs_apply_report_clear(r);
    }
    fs_apply_report_clear(&local);
    st->defer_search = false;
    return rc;
}

int fs_store_apply_pulled(fs_store *st, fs_state *const *states, size_t nstates,
                          const fs_ref *removals, size_t nremovals, const fs_pull_pos *pos,
                          fs_apply_report *report, fs_err *err)
{
    return fs_store_apply_page(st, "pull", states, nstates, removals, nremovals, pos, join_state,
                               NULL, report, err);
}

int fs_store_apply_remote(fs_store *st, fs_state *const *states, size_t nstates,
                          const fs_ref *removals, size_t nremovals, uint64_t cursor,
                          fs_apply_report *report, fs_err *err)
{
    fs_pull_pos pos = {.cursor = cursor};
    return fs_store_apply_pulled(st, states, nstates, removals, nremovals, &pos, report, err);
}
