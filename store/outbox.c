/*
 * outbox.c: the queue of local changes waiting for the server (see outbox.h for
 * the states an entry moves through).
 *
 * The invariant that makes acknowledgement safe: taking a batch stamps the
 * entries it covers with the batch number, and completing the batch touches
 * only entries carrying that number and still in flight. A change queued while
 * the batch was out has no batch number, so it stays pending even though the
 * record it belongs to was just acknowledged.
 */
#include "store_int.h"

#include "fieldsync/outbox.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Runs a prepared statement to completion and finalizes it. */
static int finish(fs_store *st, sqlite3_stmt *s, const char *what, fs_err *err)
{
    int step = sqlite3_step(s);
    fs_store_finish(st, s);
    return step == SQLITE_DONE ? 0 : fs_store_sqlerr(st, step, err, what);
}

static int encode_change(const fs_state *state, uint8_t **out, size_t *len, fs_err *err)
{
    Fieldsync__RecordState pb = FIELDSYNC__RECORD_STATE__INIT;
    Fieldsync__Change ch = FIELDSYNC__CHANGE__INIT;
    Fieldsync__VersionVectorEntry *vvs = NULL;
    Fieldsync__Event *evs = NULL;
    *out = NULL;
    int rc = fs_state_to_pb(state, &pb, &vvs, &evs, err);
    if (rc == 0) {
        ch.state = &pb;
        ch.has_queued_at = 1;
        ch.queued_at = (int64_t)time(NULL);
        *len = fieldsync__change__get_packed_size(&ch);
        *out = malloc(*len > 0 ? *len : 1);
        if (*out == NULL)
            rc = fs_err_set(err, FS_ENOMEM, "queueing a change: out of memory");
        else
            fieldsync__change__pack(&ch, *out);
    }
    fs_state_pb_storage_free(vvs, evs, state->nevents);
    return rc;
}

/* Binds (kind, id) as ?1, ?2 and the encoded change (if any) as ?3, and runs sql. */
static int run_on_record(fs_store *st, const char *sql, const fs_state *state, const uint8_t *blob,
                         size_t len, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, (int)state->kind);
    sqlite3_bind_text(s, 2, state->id, -1, SQLITE_STATIC);
    if (blob != NULL)
        sqlite3_bind_blob(s, 3, blob, (int)len, SQLITE_STATIC);
    return finish(st, s, "queueing a change", err);
}

/* The record's oldest pending entry: pending entries of one record coalesce into it. */
#define OLDEST_PENDING                                                                             \
    "(SELECT MIN(seq) FROM outbox INDEXED BY outbox_by_record "                                    \
    "WHERE kind = ?1 AND id = ?2 AND status = 0)"

/*
 * Only whole record states travel, so a newer pending entry of a record covers
 * every older pending one: the record keeps one pending entry, at the position
 * of its oldest (a record edited all day is not pushed behind everything queued
 * since), holding the newest state. Entries in flight or refused are never
 * touched: a change queued while a batch is out gets an entry of its own, which
 * the batch's acknowledgement leaves alone. Several pending entries of one
 * record only arise when a batch goes back to pending; the next change of the
 * record folds them into the oldest.
 */
int fs_outbox_append(fs_store *st, const fs_state *state, fs_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = encode_change(state, &buf, &len, err);
    if (rc == 0)
        rc = run_on_record(st, "UPDATE outbox SET change = ?3 WHERE seq = " OLDEST_PENDING, state,
                           buf, len, err);
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = run_on_record(st,
                           "INSERT INTO outbox(kind, id, change, queued_at) "
                           "VALUES(?1, ?2, ?3, CAST(strftime('%s', 'now') AS INTEGER))",
                           state, buf, len, err);
    else if (rc == 0)
        rc = run_on_record(st,
                           "DELETE FROM outbox INDEXED BY outbox_by_record WHERE kind = ?1 AND "
                           "id = ?2 AND status = 0 AND seq > " OLDEST_PENDING,
                           state, NULL, 0, err);
    free(buf);
    return rc;
}

int fs_outbox_has(fs_store *st, fs_kind kind, const char *id, bool *has, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *has = false;
    int rc =
        fs_store_prepare(st, "SELECT 1 FROM outbox WHERE kind = ? AND id = ? LIMIT 1", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, (int)kind);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    *has = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "reading the outbox");
    fs_store_finish(st, s);
    return rc;
}

int fs_outbox_drop_read_only(fs_store *st, fs_kind kind, const char *id, bool *dropped, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *dropped = false;
    int rc = fs_store_prepare(st,
                              "DELETE FROM outbox WHERE kind = ?1 AND id = ?2 AND status = 2 "
                              "AND reason = ?3 AND NOT EXISTS (SELECT 1 FROM outbox "
                              "WHERE kind = ?1 AND id = ?2 AND (status <> 2 OR reason IS NOT ?3))",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, (int)kind);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, FIELDSYNC__REFUSAL__REASON__READ_ONLY);
    rc = finish(st, s, "dropping refused outbox entries", err);
    *dropped = rc == 0 && sqlite3_changes(st->db) > 0;
    return rc;
}

int fs_outbox_recover(fs_store *st, fs_err *err)
{
    return fs_store_exec(st, "UPDATE outbox SET status = 0, batch = NULL WHERE status = 1", err);
}

/* ------------------------------------------------------------------------- */
/* Take */

void fs_outbox_batch_clear(fs_outbox_batch *batch)
{
    if (batch == NULL)
        return;
    for (size_t i = 0; i < batch->n; i++)
        fs_state_free(batch->items[i].state);
    free(batch->items);
    memset(batch, 0, sizeof(*batch));
}

/* Marks the pending entries of item's record up to item->last_seq in flight. */
static int mark_in_flight(fs_store *st, int64_t batch, const fs_outbox_item *item, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st,
                              "UPDATE outbox INDEXED BY outbox_by_record SET status = 1, "
                              "batch = ? WHERE status = 0 AND kind = ? AND id = ? AND seq <= ?",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, batch);
    sqlite3_bind_int(s, 2, (int)item->state->kind);
    sqlite3_bind_text(s, 3, item->state->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, item->last_seq);
    return finish(st, s, "marking outbox entries in flight", err);
}

/* The state entry seq's Change holds (encode_change wrote it). */
static int change_state(sqlite3_stmt *s, int col, int64_t seq, fs_state **out, fs_err *err)
{
    Fieldsync__Change *ch = fieldsync__change__unpack(NULL, (size_t)sqlite3_column_bytes(s, col),
                                                      sqlite3_column_blob(s, col));
    int rc = ch != NULL && ch->state != NULL
                 ? fs_state_from_pb(out, ch->state, err)
                 : fs_err_set(err, FS_ECORRUPT,
                              "outbox entry %lld does not hold a change: the store is damaged "
                              "(fieldsync check tells more)",
                              (long long)seq);
    if (ch != NULL)
        fieldsync__change__free_unpacked(ch, NULL);
    return rc;
}

/* One item per record with pending entries, oldest first, holding the state of
 * its newest entry: the record as its last local change left it. The walk
 * goes down the pending entries in seq order and stops at max records: each
 * row is the first pending entry of its record, and the record's index gives
 * its last one. (A GROUP BY over the whole outbox read every pending entry for
 * every batch: quadratic in a long offline queue.) The entries are read
 * anyway, so their states cost no page of the records table: loading each
 * record instead was a quarter of the device's push. A pull may have joined
 * the record since; the server has what it joined, and answers the same
 * joined state either way. */
static int collect(fs_store *st, size_t max, fs_outbox_batch *batch, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(
        st,
        "SELECT kind, id, seq, last, (SELECT change FROM outbox WHERE seq = last) FROM "
        "(SELECT kind, id, seq, (SELECT MAX(seq) FROM outbox AS l INDEXED BY outbox_by_record "
        "WHERE l.kind = o.kind AND l.id = o.id AND l.status = 0) AS last "
        "FROM outbox AS o INDEXED BY outbox_by_status WHERE status = 0 AND NOT EXISTS "
        "(SELECT 1 FROM outbox AS e INDEXED BY outbox_by_record WHERE e.kind = o.kind AND "
        "e.id = o.id AND e.seq < o.seq AND e.status = 0) ORDER BY seq LIMIT ?)",
        &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
    batch->items = calloc(max, sizeof(*batch->items));
    if (batch->items == NULL)
        rc = fs_err_set(err, FS_ENOMEM, "taking an outbox batch: out of memory");
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        fs_outbox_item *item = &batch->items[batch->n];
        int64_t last = sqlite3_column_int64(s, 3);
        if ((rc = change_state(s, 4, last, &item->state, err)) != 0)
            break;
        if (item->state->kind != (fs_kind)sqlite3_column_int(s, 0) ||
            strcmp(item->state->id, (const char *)sqlite3_column_text(s, 1)) != 0) {
            rc = fs_err_set(err, FS_ECORRUPT,
                            "outbox entry %lld holds another record's change: the store is "
                            "damaged (fieldsync check tells more)",
                            (long long)last);
            fs_state_free(item->state);
            item->state = NULL;
            break;
        }
        item->first_seq = sqlite3_column_int64(s, 2);
        item->last_seq = last;
        batch->n++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "reading the outbox");
    fs_store_finish(st, s);
    return rc;
}

int fs_outbox_take(fs_store *st, size_t max, fs_outbox_batch *batch, fs_err *err)
{
    uint64_t number = 0;
    memset(batch, 0, sizeof(*batch));
    if (max == 0)
        return fs_err_set(err, FS_EINVAL, "outbox batch of size 0");
    if (max > FS_STORE_APPLY_MAX) /* the server takes pages of this size at most */
        max = FS_STORE_APPLY_MAX;
    /* unflushed: a power cut undoes it, and in-flight entries go back to
     * pending at the next open anyway */
    int rc = fs_store_begin_unflushed(st, err);
    if (rc != 0)
        return rc;
    rc = fs_store_meta_get_u64(st, "outbox_batch", &number, err);
    if (rc == 0)
        rc = fs_store_meta_set_u64(st, "outbox_batch", ++number, err);
    batch->id = (int64_t)number;
    if (rc == 0)
        rc = collect(st, max, batch, err);
    for (size_t i = 0; rc == 0 && i < batch->n; i++)
        rc = mark_in_flight(st, batch->id, &batch->items[i], err);
    rc = fs_store_end_unflushed(st, rc, err);
    if (rc != 0)
        fs_outbox_batch_clear(batch);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Complete */

/* Applies sql (parameters: batch, kind, id, then extra ones bound by the caller's
 * reason/message) to the in-flight entries of one item. */
static int settle(fs_store *st, const char *sql, int64_t batch, const fs_outbox_item *item,
                  const fs_outbox_result *res, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, batch);
    sqlite3_bind_int(s, 2, (int)item->state->kind);
    sqlite3_bind_text(s, 3, item->state->id, -1, SQLITE_STATIC);
    if (res != NULL) {
        sqlite3_bind_int(s, 4, res->reason);
        if (res->message != NULL)
            sqlite3_bind_text(s, 5, res->message, -1, SQLITE_STATIC);
    }
    return finish(st, s, "updating the outbox", err);
}

/* One record's in-flight entries, found by the record's index: without
 * statistics SQLite picks outbox_by_status, and every item then walked the
 * whole batch. */
#define OUTBOX_ITEM "outbox INDEXED BY outbox_by_record"
#define WHERE_ITEM " WHERE batch = ?1 AND kind = ?2 AND id = ?3 AND status = 1"

static int complete_item(fs_store *st, int64_t batch, const fs_outbox_item *item,
                         const fs_outbox_result *res, fs_err *err)
{
    bool changed = false;
    if (res == NULL)
        return settle(st, "UPDATE " OUTBOX_ITEM " SET status = 0, batch = NULL" WHERE_ITEM, batch,
                      item, NULL, err);
    if (res->joined == NULL)
        return settle(st,
                      "UPDATE " OUTBOX_ITEM " SET status = 2, reason = ?4, message = ?5" WHERE_ITEM,
                      batch, item, res, err);
    if (res->joined->kind != item->state->kind || res->joined->id == NULL ||
        strcmp(res->joined->id, item->state->id) != 0)
        return fs_err_set(err, FS_ECORRUPT,
                          "the server answered for a different record than %s %s was sent",
                          fs_kind_name(item->state->kind), item->state->id);
    /* the state sent is the local one or an ancestor of it: joining it changes nothing */
    int rc = res->unchanged ? 0 : fs_store_join_save(st, res->joined, &changed, err);
    return rc != 0 ? rc : settle(st, "DELETE FROM " OUTBOX_ITEM WHERE_ITEM, batch, item, NULL, err);
}

/* Unflushed: a power cut may undo an acknowledgement, whose entries then go
 * back to pending and are pushed again; joins make that harmless, and the
 * server answers the joined state again. */
int fs_outbox_complete(fs_store *st, const fs_outbox_batch *batch, const fs_outbox_result *results,
                       size_t nresults, fs_err *err)
{
    int rc = fs_store_begin_unflushed(st, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < batch->n; i++)
        rc = complete_item(st, batch->id, &batch->items[i], i < nresults ? &results[i] : NULL, err);
    if (rc == 0)
        rc = fs_store_save_hlc(st, err);
    return fs_store_end_unflushed(st, rc, err);
}

int fs_outbox_fail(fs_store *st, const fs_outbox_batch *batch, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(
        st, "UPDATE outbox SET status = 0, batch = NULL WHERE batch = ? AND status = 1", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, batch->id);
    return finish(st, s, "returning a batch to the outbox", err);
}

/* ------------------------------------------------------------------------- */
/* Inspection and refused entries */

void fs_outbox_entries_free(fs_outbox_entry *e, size_t n)
{
    for (size_t i = 0; e != NULL && i < n; i++) {
        free(e[i].id);
        free(e[i].message);
    }
    free(e);
}

static int read_entry(sqlite3_stmt *s, fs_outbox_entry *e, fs_err *err)
{
    e->seq = sqlite3_column_int64(s, 0);
    e->kind = (fs_kind)sqlite3_column_int(s, 1);
    e->id = fs_store_strdup((const char *)sqlite3_column_text(s, 2));
    e->status = (fs_outbox_status)sqlite3_column_int(s, 3);
    e->reason = sqlite3_column_int(s, 4);
    e->message = fs_store_strdup((const char *)sqlite3_column_text(s, 5));
    e->queued_at = sqlite3_column_int64(s, 6);
    if (e->id == NULL || (sqlite3_column_type(s, 5) != SQLITE_NULL && e->message == NULL))
        return fs_err_set(err, FS_ENOMEM, "listing the outbox: out of memory");
    return 0;
}

int fs_outbox_list(fs_store *st, int status, size_t limit, fs_outbox_entry **out, size_t *n,
                   fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *out = NULL;
    *n = 0;
    if (limit == 0 || limit > 100000)
        limit = 100000;
    int rc = fs_store_prepare(st,
                              "SELECT seq, kind, id, status, reason, message, queued_at FROM "
                              "outbox WHERE ?1 < 0 OR status = ?1 ORDER BY seq LIMIT ?2",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, status);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            fs_outbox_entry *grown = realloc(*out, cap * sizeof(**out));
            if (grown == NULL) {
                rc = fs_err_set(err, FS_ENOMEM, "listing the outbox: out of memory");
                break;
            }
            *out = grown;
        }
        memset(&(*out)[*n], 0, sizeof(**out));
        rc = read_entry(s, &(*out)[(*n)++], err);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "listing the outbox");
    fs_store_finish(st, s);
    if (rc != 0) {
        fs_outbox_entries_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int fs_outbox_count(fs_store *st, int status, size_t *n, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    int rc =
        fs_store_prepare(st, "SELECT count(*) FROM outbox WHERE ?1 < 0 OR status = ?1", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, status);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(s, 0);
    else
        rc = fs_store_sqlerr(st, step, err, "counting the outbox");
    fs_store_finish(st, s);
    return rc;
}

/* The wall clock part of the HLC a record's state is pushed with (records.hlc:
 * its greatest, fs_record_hlc); the server judges CLOCK_AHEAD by its writes. */
#define RECORD_WALL_MS                                                                             \
    "((SELECT hlc FROM records AS r WHERE r.kind = outbox.kind AND r.id = outbox.id) >> 16)"

/*
 * The record's greatest HLC also counts writes of other devices the server
 * already holds, which it does not judge; those were at most --clock-skew
 * ahead of the server when it took them, so an entry waits at most that much
 * longer than it needs to.
 */
int fs_outbox_retry_clock_ahead(fs_store *st, uint64_t bound_ms, size_t *n, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    int rc = fs_store_prepare(st,
                              "UPDATE outbox SET status = 0, batch = NULL, reason = NULL, "
                              "message = NULL WHERE status = 2 AND reason = ?1 AND " RECORD_WALL_MS
                              " <= ?2",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD);
    sqlite3_bind_int64(s, 2, bound_ms > INT64_MAX ? INT64_MAX : (sqlite3_int64)bound_ms);
    rc = finish(st, s, "sending changes dated ahead of the server's clock again", err);
    if (rc == 0)
        *n = (size_t)sqlite3_changes(st->db);
    return rc;
}

int fs_outbox_clock_ahead(fs_store *st, size_t *n, uint64_t *until_ms, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    *until_ms = 0;
    int rc = fs_store_prepare(st,
                              "SELECT count(*), max(" RECORD_WALL_MS ") FROM outbox "
                              "WHERE status = 2 AND reason = ?1",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *n = (size_t)sqlite3_column_int64(s, 0);
        *until_ms = (uint64_t)sqlite3_column_int64(s, 1);
    } else {
        rc = fs_store_sqlerr(st, step, err, "counting the changes dated ahead of the server");
    }
    fs_store_finish(st, s);
    return rc;
}

static int on_refused(fs_store *st, const char *sql, int64_t seq, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, seq);
    rc = finish(st, s, "updating a refused outbox entry", err);
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = fs_err_set(err, FS_ENOTFOUND, "outbox entry %lld is not a refused entry",
                        (long long)seq);
    return rc;
}

int fs_outbox_retry(fs_store *st, int64_t seq, fs_err *err)
{
    return on_refused(st,
                      "UPDATE outbox SET status = 0, batch = NULL, reason = NULL, message = NULL "
                      "WHERE seq = ? AND status = 2",
                      seq, err);
}

int fs_outbox_drop(fs_store *st, int64_t seq, fs_err *err)
{
    return on_refused(st, "DELETE FROM outbox WHERE seq = ? AND status = 2", seq, err);
}
