/*
 * run.c: one sync run: push the outbox in batches, then pull pages until the
 * server has no more, then (for a resync) sweep.
 *
 * Nothing acknowledged locally can be lost here: a batch leaves the outbox only
 * through fs_outbox_complete with an answer that was validated whole against
 * the batch (sync_wire.h); a failed or unanswered push returns the batch to
 * pending; a pulled page commits with its cursor or not at all. Every retry
 * after a failure therefore sends states the server may already have, and
 * joins make that harmless.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#include "fieldsync/log.h"
#include "loop.h"

static void step(fs_sync *s);

/* Returns a batch's entries to pending (when taken) and frees it. */
static void drop_batch(fs_sync *s, fs_push_batch *b)
{
    fs_err err;
    if (b->taken && fs_outbox_fail(s->st, &b->items, &err) != 0)
        fs_log(FS_LOG_WARN,
               "sync: returning a batch to the outbox: %s (it returns at the next start)",
               fs_err_message(&err));
    fs_outbox_batch_clear(&b->items);
    free(b->body.bytes);
    memset(b, 0, sizeof(*b));
}

static void release(fs_sync *s)
{
    fs_err err;
    if (s->req != NULL) {
        fs_http_cancel(s->http, s->req);
        s->req = NULL;
    }
    drop_batch(s, &s->sent);
    drop_batch(s, &s->next);
    fs_secret_free(s->token);
    s->token = NULL;
    free(s->snap);
    s->snap = NULL;
    s->snap_on = false;
    /* an initial load's open batch: the run ends, what it pulled is kept */
    if (fs_store_load_flush(s->st, &err) != 0)
        fs_log(FS_LOG_WARN, "sync: keeping the pulled records: %s (they are pulled again)",
               fs_err_message(&err));
    s->running = false;
    s->phase = FS_PHASE_NONE;
}

static void report_done(fs_sync *s, int code)
{
    s->res.code = code;
    s->res.message = code != 0 ? s->reason : NULL;
    s->res.resync = s->resync;
    if (s->cb.run_done != NULL)
        s->cb.run_done(s->cb.arg, &s->res);
}

/* The time left: the states still to come at the rate of the pull so far
 * (the server said how many a pull from cursor 0 gives); -1 when unknown. */
static int64_t eta_ms(const fs_sync *s, uint64_t records, bool more)
{
    if (!more)
        return 0;
    int64_t elapsed = fs_loop_now_ms() - s->pull_start_ms;
    if (s->phase != FS_PHASE_PULL || s->total == 0 || records == 0 || elapsed <= 0)
        return -1;
    uint64_t left = s->total > records ? s->total - records : 0;
    return (int64_t)((double)left * (double)elapsed / (double)records);
}

static void progress(fs_sync *s, bool more)
{
    fs_sync_progress *p = &s->progress;
    int64_t elapsed = fs_loop_now_ms() - s->run_start_ms;
    p->phase = s->phase == FS_PHASE_PUSH ? "push" : (s->resync ? "resync" : "pull");
    p->resync = s->resync;
    p->records = s->phase == FS_PHASE_PUSH ? s->res.pushed + s->res.refused : s->res.pulled;
    p->total = s->phase == FS_PHASE_PUSH ? 0 : s->total;
    p->bytes = s->res.bytes_up + s->res.bytes_down;
    p->rate = elapsed > 0 ? (double)p->records * 1000.0 / (double)elapsed : 0;
    p->eta_ms = eta_ms(s, p->records, more);
    p->more = more;
    p->cursor = s->cursor;
    if (s->cb.progress != NULL)
        s->cb.progress(s->cb.arg, p);
}

/* The run failed locally (store) or on a malformed answer: error state, backoff. */
static void fail(fs_sync *s, int code, const char *what, const fs_err *err)
{
    release(s);
    fs_sync_run_failed(s, FS_SYNC_ERROR, code, -1, "%s: %s", what, fs_err_message(err));
    report_done(s, code);
}

static void fail_http(fs_sync *s, const fs_http_resp *r, const char *what)
{
    release(s);
    fs_sync_http_failed(s, r, what);
    report_done(s, s->state == FS_SYNC_OFFLINE ? FS_ENET : FS_EIO);
}

static void account(fs_sync *s, const fs_http_resp *r)
{
    s->req = NULL;
    fs_sync_clock_observe(s, r);
    s->res.requests++;
    s->res.bytes_up += r->bytes_up;
    s->res.bytes_down += r->bytes_down;
    s->res.wait_ms += (uint64_t)(r->elapsed_ms > 0 ? r->elapsed_ms : 0);
}

/* ------------------------------------------------------------------------- */
/* Push */

static void notify_joined(fs_sync *s, const fs_outbox_batch *batch, const fs_sync_push_answer *a)
{
    if (s->cb.record_changed == NULL)
        return;
    for (size_t i = 0; i < a->n; i++) {
        const fs_state *sent = batch->items[i].state;
        /* the server knew events the device did not: the local state changed */
        const fs_state *joined = a->results[i].joined; /* the state sent when not applied */
        if (joined != NULL && fs_vv_compare(&joined->vv, &sent->vv) != FS_VV_EQUAL)
            s->cb.record_changed(s->cb.arg, sent->kind, sent->id, false);
    }
}

/* Takes the next batch from the outbox into b and encodes and gzips it, while
 * the server still works on the batch before; b->taken stays false when
 * nothing is pending. */
static int take_batch(fs_sync *s, fs_push_batch *b, fs_err *err)
{
    int64_t t0 = fs_loop_now_ms();
    int rc = fs_outbox_take(s->st, s->opts.push_count, &b->items, err);
    s->res.store_ms += (uint64_t)(fs_loop_now_ms() - t0);
    if (rc != 0 || b->items.n == 0) {
        fs_outbox_batch_clear(&b->items);
        return rc;
    }
    b->taken = true;
    rc = fs_sync_encode_push(&b->items, s->opts.push_bytes, &b->nsent, &b->body.bytes, &b->body.len,
                             err);
    return rc != 0 ? rc : fs_http_body_gzip(&b->body, s->opts.gzip_min, err);
}

static void on_push_done(void *arg, const fs_http_resp *r);

/* The prepared batch becomes the one in flight and goes out at once. */
static int send_next(fs_sync *s, fs_err *err)
{
    s->sent = s->next;
    memset(&s->next, 0, sizeof(s->next));
    fs_http_body body = s->sent.body;
    s->sent.body.bytes = NULL;
    int rc =
        fs_http_post(s->http, s->url, "/v1/push", body, s->token, on_push_done, s, &s->req, err);
    if (rc == 0)
        fs_http_kick(s->http);
    return rc;
}

/* Applies the answer to a batch that left the flight; on failure the batch
 * goes back to pending. */
static int complete(fs_sync *s, fs_push_batch *done, const fs_sync_push_answer *a, fs_err *err)
{
    int64_t t0 = fs_loop_now_ms();
    int rc = fs_outbox_complete(s->st, &done->items, a->results, a->n, err);
    s->res.store_ms += (uint64_t)(fs_loop_now_ms() - t0);
    if (rc != 0) {
        drop_batch(s, done);
        return rc;
    }
    done->taken = false;
    if (a->skipped > 0)
        fs_log(FS_LOG_WARN,
               "sync: the server acknowledged %zu change(s) with a state outside the record "
               "limits; kept the local state (the first: %s)",
               a->skipped, a->skip_why);
    s->res.skipped += a->skipped;
    notify_joined(s, &done->items, a);
    s->res.pushed += a->n - a->refused;
    s->res.refused += a->refused;
    if (a->refused > 0)
        fs_log(FS_LOG_WARN, "sync: the server refused %zu change(s): see fieldsync outbox",
               a->refused);
    drop_batch(s, done);
    return 0;
}

/*
 * The batches are pipelined: the next one is taken and encoded while the
 * server works on the one in flight, and goes out as soon as its answer
 * arrives, before that answer is applied. Each batch keeps its own number, so
 * its acknowledgement touches only its own entries (outbox.h).
 */
static void on_push_done(void *arg, const fs_http_resp *r)
{
    fs_sync *s = arg;
    fs_sync_push_answer a = {0};
    fs_err err;
    account(s, r);
    if (r->outcome != FS_HTTP_OK || r->status != 200) {
        fail_http(s, r, "push");
        return;
    }
    int rc = fs_sync_decode_push(r->body, r->len, &s->sent.items, s->sent.nsent, &a, &err);
    if (rc != 0) {
        fail(s, rc, "push: the server's answer was refused", &err);
        return;
    }
    fs_push_batch done = s->sent;
    memset(&s->sent, 0, sizeof(s->sent));
    if (s->next.taken && (rc = send_next(s, &err)) != 0)
        drop_batch(s, &done);
    else
        rc = complete(s, &done, &a, &err);
    fs_sync_push_answer_clear(&a);
    if (rc == 0 && s->sent.taken)
        rc = take_batch(s, &s->next, &err);
    if (rc != 0) {
        fail(s, rc, "push", &err);
        return;
    }
    progress(s, true);
    if (!s->sent.taken)
        step(s);
}

/* Sends the first batch of the push phase and prepares the one after it;
 * false when the outbox has nothing pending. */
static bool push_start(fs_sync *s)
{
    fs_err err;
    int rc = take_batch(s, &s->next, &err);
    if (rc == 0 && !s->next.taken)
        return false;
    if (rc == 0)
        rc = send_next(s, &err);
    if (rc == 0)
        rc = take_batch(s, &s->next, &err);
    if (rc != 0)
        fail(s, rc, "push", &err);
    return true;
}

/* ------------------------------------------------------------------------- */
/* Pull */

static bool pull_at(fs_sync *s, uint64_t cursor, const uint8_t *snap, size_t snap_len);

static void notify_refs(fs_sync *s, const fs_ref *refs, size_t n, bool removed)
{
    for (size_t i = 0; s->cb.record_changed != NULL && i < n; i++)
        s->cb.record_changed(s->cb.arg, refs[i].kind, refs[i].id, removed);
}

static int begin_resync(fs_sync *s, fs_err *err)
{
    int rc = fs_store_resync_begin(s->st, err);
    if (rc != 0)
        return rc;
    fs_log(FS_LOG_INFO, "sync: resync: pulling everything from the start");
    memset(&s->rs, 0, sizeof(s->rs));
    s->resync = true;
    s->resync_begun = true;
    s->cursor = 0;
    return 0;
}

/* The snapshot position of the pull in flight as the wire takes it: NULL for
 * none, "" to begin one. */
static const uint8_t *sent_snapshot(const fs_sync *s)
{
    if (!s->snap_on)
        return NULL;
    return s->snap != NULL ? s->snap : (const uint8_t *)"";
}

/* Where the stored position says the pull goes on: from cursor 0, a snapshot
 * (begun, or the one a restart interrupted). */
static int load_snapshot(fs_sync *s, fs_err *err)
{
    free(s->snap);
    s->snap = NULL;
    s->snap_len = 0;
    s->snap_on = s->cursor == 0;
    if (!s->snap_on)
        return 0;
    int rc = fs_store_meta_get(s->st, FS_META_PULL_SNAPSHOT, &s->snap, &s->snap_len, err);
    return rc == FS_ENOTFOUND ? 0 : rc;
}

static void finish_resync(fs_sync *s)
{
    fs_ref *removed = NULL;
    size_t n = 0;
    fs_err err;
    int rc = fs_store_resync_finish(s->st, &s->rs, &removed, &n, &err);
    if (rc != 0) {
        fail(s, rc, "resync: removing records the server no longer gives", &err);
        return;
    }
    notify_refs(s, removed, n, true);
    fs_refs_free(removed, n);
    s->res.removed += n;
    s->res.rs.added = s->rs.added;
    s->res.rs.updated = s->rs.updated;
    s->res.rs.removed = s->rs.removed;
    s->res.rs.conflicts = s->rs.conflicts;
    s->res.rs.kept_local = s->rs.kept_local;
    s->res.rs.restored = s->rs.restored;
    fs_log(FS_LOG_INFO,
           "sync: resync done: %zu added, %zu updated, %zu removed, %zu conflicts, %zu kept local, "
           "%zu refused changes undone",
           s->rs.added, s->rs.updated, s->rs.removed, s->rs.conflicts, s->rs.kept_local,
           s->rs.restored);
}

/* What a page says besides its states: whether the user writes, the device
 * names, and (a pull from 0) how many states the pull gives. Each is written
 * only when it changed: a write is a commit, and every page says read_only. */
static int keep_page_extras(fs_sync *s, const fs_sync_pull_page *p, fs_err *err)
{
    uint64_t read_only = 0;
    int rc = fs_store_meta_get_u64(s->st, FS_META_READ_ONLY, &read_only, err);
    if (p->has_total)
        s->total = p->total;
    if (rc == 0 && p->read_only >= 0 && read_only != (uint64_t)p->read_only)
        rc = fs_store_meta_set_u64(s->st, FS_META_READ_ONLY, (uint64_t)p->read_only, err);
    if (rc == 0 && p->devices != NULL)
        rc = fs_store_meta_set(s->st, FS_META_DEVICES, p->devices, p->devices_len, err);
    return rc;
}

static int apply_page(fs_sync *s, const fs_sync_pull_page *p, fs_err *err)
{
    fs_apply_report rep = {0};
    fs_pull_pos pos = {p->next_cursor, p->snapshot, p->snapshot_len};
    int64_t t0 = fs_loop_now_ms();
    int rc = s->resync ? fs_store_resync_apply_pulled(s->st, p->states, p->nstates, p->removals,
                                                      p->nremovals, &pos, &s->rs, &rep, err)
                       : fs_store_apply_pulled(s->st, p->states, p->nstates, p->removals,
                                               p->nremovals, &pos, &rep, err);
    if (rc == 0)
        rc = keep_page_extras(s, p, err);
    s->res.store_ms += (uint64_t)(fs_loop_now_ms() - t0);
    if (rc != 0)
        return rc;
    s->cursor = p->next_cursor;
    if (p->skipped > 0)
        fs_log(FS_LOG_WARN,
               "sync: skipped %zu pulled record(s) this device cannot store; the rest of the page "
               "is applied (the first: %s)",
               p->skipped, p->skip_why);
    s->res.skipped += p->skipped;
    s->res.pulled += rep.applied;
    s->res.changed += rep.changed;
    s->res.removed += rep.removed;
    notify_refs(s, rep.changed_refs, rep.changed, false);
    notify_refs(s, rep.removed_refs, rep.removed, true);
    fs_apply_report_clear(&rep);
    return 0;
}

/*
 * One resync begins per run. A server that asks again during it (of the pull
 * from 0, or of a later page, as servers before the full flag was honoured
 * below the floor did) would have it start over forever: the run stops, and
 * the next one, after the backoff, resumes the resync.
 */
static void on_resync_required(fs_sync *s)
{
    fs_err err;
    int rc;
    if (s->resync_begun) {
        fs_err_set(&err, FS_ECORRUPT,
                   "the server asked for a resync again, of a pull from cursor %llu during the "
                   "resync this run began (is fieldsync-server up to date?)",
                   (unsigned long long)s->cursor);
        fail(s, FS_ECORRUPT, "pull", &err);
        return;
    }
    if ((rc = begin_resync(s, &err)) != 0 || (rc = load_snapshot(s, &err)) != 0) {
        fail(s, rc, "resync: starting", &err);
        return;
    }
    s->phase = FS_PHASE_PUSH; /* pending changes go first */
    step(s);
}

static void on_pull_done(void *arg, const fs_http_resp *r)
{
    fs_sync *s = arg;
    fs_sync_pull_page p = {0};
    fs_err err;
    account(s, r);
    if (r->outcome != FS_HTTP_OK || r->status != 200) {
        fail_http(s, r, "pull");
        return;
    }
    int rc =
        fs_sync_decode_pull(r->body, r->len, s->cursor, sent_snapshot(s), s->snap_len, &p, &err);
    if (rc != 0) {
        fail(s, rc, "pull: the server's answer was refused", &err);
        return;
    }
    if (p.resync_required) {
        on_resync_required(s);
        return;
    }
    bool more = p.more;
    /* a server that always has more must not hold the run forever */
    bool capped = more && ++s->pages >= s->opts.pull_pages_max;
    /* ask for the next page before applying this one, so the server prepares it
     * while the store works; a failed apply cancels it (release) */
    if (more && !capped && !pull_at(s, p.next_cursor, p.snapshot, p.snapshot_len)) {
        fs_sync_pull_page_clear(&p);
        return;
    }
    rc = apply_page(s, &p, &err);
    fs_sync_pull_page_clear(&p);
    if (rc != 0) {
        fail(s, rc, "pull: applying a page", &err);
        return;
    }
    progress(s, more);
    if (capped) {
        fs_err_set(&err, FS_ETOOBIG,
                   "stopped after %u pages in one run with the server still saying more (cursor "
                   "%llu): the next run goes on from there",
                   s->opts.pull_pages_max, (unsigned long long)s->cursor);
        fail(s, FS_ETOOBIG, "pull", &err);
        return;
    }
    if (more)
        return; /* the next page is on its way */
    int64_t t0 = fs_loop_now_ms();
    rc = fs_store_load_finish(s->st, &err); /* builds the indexes an initial load left out */
    s->res.store_ms += (uint64_t)(fs_loop_now_ms() - t0);
    if (rc != 0) {
        fail(s, rc, "pull: indexing the records", &err);
        return;
    }
    if (s->resync) {
        finish_resync(s);
        if (!s->running)
            return;
    }
    release(s);
    fs_sync_run_succeeded(s);
    report_done(s, 0);
}

/* Keeps the snapshot position a pull is sent with (NULL: none, unless the pull
 * is from 0, which begins one). */
static int keep_snapshot(fs_sync *s, uint64_t cursor, const uint8_t *snap, size_t snap_len,
                         fs_err *err)
{
    uint8_t *copy = NULL;
    if (snap != NULL && (copy = malloc(snap_len)) == NULL)
        return fs_err_set(err, FS_ENOMEM, "pull: out of memory");
    if (copy != NULL)
        memcpy(copy, snap, snap_len);
    free(s->snap);
    s->snap = copy;
    s->snap_len = copy != NULL ? snap_len : 0;
    s->snap_on = cursor == 0;
    return 0;
}

/* Posts the pull of the page after cursor (and snapshot position snap) and
 * hands it to curl at once (it goes out even if the caller then blocks in the
 * store); false: the run failed. */
static bool pull_at(fs_sync *s, uint64_t cursor, const uint8_t *snap, size_t snap_len)
{
    uint8_t *body = NULL, digest[64];
    size_t len = 0, digest_len = 0;
    fs_err err;
    if (cursor == 0 && snap == NULL) /* the pull a total and an ETA are about */
        s->pull_start_ms = fs_loop_now_ms();
    int rc = keep_snapshot(s, cursor, snap, snap_len, &err);
    if (rc == 0)
        rc = fs_sync_devices_digest(s->st, digest, sizeof(digest), &digest_len, &err);
    /* a resync sweeps what it is not given: it must be given everything */
    fs_sync_pull_req rq = {.cursor = cursor,
                           .limit = s->opts.pull_limit,
                           .full = s->resync,
                           .devices_digest = digest,
                           .digest_len = digest_len,
                           .snapshot = sent_snapshot(s),
                           .snapshot_len = s->snap_len};
    if (rc == 0)
        rc = fs_sync_encode_pull(&rq, &body, &len, &err);
    if (rc == 0)
        rc = fs_http_post(s->http, s->url, "/v1/pull", (fs_http_body){body, len, false}, s->token,
                          on_pull_done, s, &s->req, &err);
    if (rc != 0) {
        fail(s, rc, "pull", &err);
        return false;
    }
    fs_http_kick(s->http);
    return true;
}

static void pull_next(fs_sync *s)
{
    pull_at(s, s->cursor, s->snap, s->snap_len);
}

/* ------------------------------------------------------------------------- */
/* The run */

static void step(fs_sync *s)
{
    if (s->phase == FS_PHASE_PUSH) {
        if (push_start(s))
            return;
        s->phase = FS_PHASE_PULL;
    }
    pull_next(s);
}

static int prepare(fs_sync *s, fs_err *err)
{
    bool active = false;
    int rc = fs_store_meta_get_secret(s->st, FS_META_DEVICE_TOKEN, &s->token, err);
    if (rc == 0)
        rc = fs_store_resync_active(s->st, &active, err);
    if (rc == 0 && s->want_resync && !active)
        rc = begin_resync(s, err);
    if (rc == 0 && active && !s->resync) {
        s->resync = true; /* an interrupted resync resumes where it stopped */
        memset(&s->rs, 0, sizeof(s->rs));
    }
    if (rc == 0)
        rc = fs_sync_clock_retry(s, err);
    if (rc == 0)
        rc = fs_store_meta_get_u64(s->st, FS_META_CURSOR, &s->cursor, err);
    if (rc == 0)
        rc = load_snapshot(s, err);
    /* everything from the start into a store without records: in bulk */
    if (rc == 0 && s->cursor == 0)
        rc = fs_store_load_begin(s->st, err);
    s->want_resync = false;
    return rc;
}

void fs_sync_run_start(fs_sync *s)
{
    fs_err err;
    if (s->running || s->url == NULL)
        return;
    fs_loop_timer_del(s->loop, s->t_debounce);
    s->t_debounce = NULL;
    memset(&s->res, 0, sizeof(s->res));
    s->running = true;
    s->rerun = false;
    s->resync = false;
    s->resync_begun = false;
    s->pages = 0;
    s->total = 0;
    memset(&s->progress, 0, sizeof(s->progress));
    s->run_start_ms = fs_loop_now_ms();
    s->phase = FS_PHASE_PUSH;
    int rc = prepare(s, &err);
    if (rc != 0) {
        fail(s, rc, "starting a sync", &err);
        return;
    }
    fs_sync_set_state(s, FS_SYNC_SYNCING, s->resync ? "resync" : NULL);
    step(s);
}

void fs_sync_run_abort(fs_sync *s)
{
    if (s->running)
        release(s);
}
