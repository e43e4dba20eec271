/*
 * project.c: projections of a record's visible value into the per-kind tables
 * and the FTS5 index that lists and search run on (schema.c, version 2).
 *
 * A projection row exists exactly while the record is visible; it is rewritten
 * whole (delete + insert, keyed by the records rowid) on every save, inside the
 * caller's transaction, so it can never disagree with the committed state. The
 * FTS row follows the same rule, except that a pulled page under a deferring
 * owner queues its records in search_backlog instead: maintenance indexes them
 * later (fs_store_index_backlog), FTS5 being a third of a pull's cost.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Projection table of each kind, indexed by kind. */
static const char *const kind_table[] = {
    [FIELDSYNC__RECORD_KIND__ACCOUNT] = "accounts",
    [FIELDSYNC__RECORD_KIND__CONTACT] = "contacts",
    [FIELDSYNC__RECORD_KIND__VISIT] = "visits",
    [FIELDSYNC__RECORD_KIND__OPPORTUNITY] = "opportunities",
    [FIELDSYNC__RECORD_KIND__TRANSACTION] = "transactions",
};

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

static int run(fs_store *st, sqlite3_stmt *s, fs_err *err)
{
    int step = sqlite3_step(s);
    fs_store_finish(st, s);
    return step == SQLITE_DONE ? 0 : fs_store_sqlerr(st, step, err, "updating a projection");
}

/* Prepares sql and binds rid as parameter 1. */
static int prep(fs_store *st, const char *sql, int64_t rid, sqlite3_stmt **s, fs_err *err)
{
    int rc = fs_store_prepare(st, sql, s, err);
    if (rc == 0)
        sqlite3_bind_int64(*s, 1, rid);
    return rc;
}

static int put_search(fs_store *st, int64_t rid, const char *name, const char *body, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "INSERT INTO search(rowid, name, body) VALUES(?, ?, ?)", rid, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 2, nz(name), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, nz(body), -1, SQLITE_STATIC);
    return run(st, s, err);
}

static int project_account(fs_store *st, int64_t rid, const Fieldsync__Account *a, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "INSERT INTO accounts VALUES(?, ?, ?, ?, ?, ?, ?)", rid, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 2, nz(a->id), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, nz(a->name), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, a->has_tier ? (int)a->tier : 0);
    sqlite3_bind_int(s, 5, a->has_funnel_stage ? (int)a->funnel_stage : 0);
    sqlite3_bind_text(s, 6, nz(a->owner), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, a->address != NULL ? nz(a->address->city) : "", -1, SQLITE_STATIC);
    return run(st, s, err);
}

static int project_contact(fs_store *st, int64_t rid, const Fieldsync__Contact *c, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "INSERT INTO contacts VALUES(?, ?, ?, ?)", rid, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 2, nz(c->id), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, nz(c->account_id), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, nz(c->name), -1, SQLITE_STATIC);
    return run(st, s, err);
}

/* Writes the record's FTS row now or, while the store defers search indexing
 * (pulled pages under a deferring owner: remote.c), queues its rid for
 * fs_store_index_backlog: a record the page inserted (fresh) with the others
 * when the page ends (fs_store_queue_page_search), one it changed now. */
static int index_search(fs_store *st, int64_t rid, const fs_state *state, bool fresh, fs_err *err)
{
    char *name = NULL, *body = NULL;
    sqlite3_stmt *s = NULL;
    if (!fs_store_kind_searchable(state->kind))
        return 0;
    if (st->defer_search && fresh) {
        if (st->page_first_rid == 0)
            st->page_first_rid = rid;
        return 0;
    } else if (st->defer_search) {
        int rc = prep(st, "INSERT OR IGNORE INTO search_backlog(rid) VALUES(?)", rid, &s, err);
        return rc != 0 ? rc : run(st, s, err);
    }
    int rc = fs_store_search_text(state, &name, &body, err);
    if (rc == 0)
        rc = put_search(st, rid, name, body, err);
    free(name);
    free(body);
    return rc;
}

static int project_visit(fs_store *st, int64_t rid, const Fieldsync__Visit *v, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "INSERT INTO visits VALUES(?, ?, ?, ?, ?, ?, ?)", rid, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 2, nz(v->id), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, nz(v->account_id), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, v->has_planned_at ? v->planned_at : 0);
    if (v->next_step != NULL)
        sqlite3_bind_text(s, 5, v->next_step, -1, SQLITE_STATIC);
    if (v->next_step_date != NULL && v->next_step_date[0] != '\0')
        sqlite3_bind_text(s, 6, v->next_step_date, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 7, v->has_next_step_done && v->next_step_done);
    return run(st, s, err);
}

static int project_opportunity(fs_store *st, int64_t rid, const Fieldsync__Opportunity *o,
                               fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "INSERT INTO opportunities VALUES(?, ?, ?, ?, ?, ?)", rid, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 2, nz(o->id), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, nz(o->account_id), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, o->has_stage ? (int)o->stage : 0);
    sqlite3_bind_text(s, 5, nz(o->stage_entered_date), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, o->amount != NULL ? o->amount->minor_units : 0);
    return run(st, s, err);
}

static int project_transaction(fs_store *st, int64_t rid, const Fieldsync__Transaction *t,
                               fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st, "INSERT INTO transactions VALUES(?, ?, ?, ?, ?)", rid, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 2, nz(t->id), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, nz(t->account_id), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, nz(t->date), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, t->amount != NULL ? t->amount->minor_units : 0);
    return run(st, s, err);
}

int fs_store_unproject(fs_store *st, int64_t rid, fs_kind kind, fs_err *err)
{
    char sql[96];
    sqlite3_stmt *s = NULL;
    if (kind < FS_KIND_MIN || kind > FS_KIND_MAX)
        return 0;
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rid = ?", kind_table[kind]);
    int rc = prep(st, sql, rid, &s, err);
    if (rc == 0)
        rc = run(st, s, err);
    if (rc == 0 && (rc = prep(st, "DELETE FROM search WHERE rowid = ?", rid, &s, err)) == 0)
        rc = run(st, s, err);
    return rc;
}

int fs_store_project(fs_store *st, int64_t rid, const fs_state *state, bool fresh, fs_err *err)
{
    ProtobufCMessage *m = NULL;
    int rc = fresh ? 0 : fs_store_unproject(st, rid, state->kind, err);
    if (rc != 0 || !fs_record_alive(state))
        return rc;
    if ((rc = fs_record_visible(state, &m, err)) != 0)
        return rc;
    switch (state->kind) {
    case FIELDSYNC__RECORD_KIND__ACCOUNT:
        rc = project_account(st, rid, (const Fieldsync__Account *)m, err);
        break;
    case FIELDSYNC__RECORD_KIND__CONTACT:
        rc = project_contact(st, rid, (const Fieldsync__Contact *)m, err);
        break;
    case FIELDSYNC__RECORD_KIND__VISIT:
        rc = project_visit(st, rid, (const Fieldsync__Visit *)m, err);
        break;
    case FIELDSYNC__RECORD_KIND__OPPORTUNITY:
        rc = project_opportunity(st, rid, (const Fieldsync__Opportunity *)m, err);
        break;
    case FIELDSYNC__RECORD_KIND__TRANSACTION:
        rc = project_transaction(st, rid, (const Fieldsync__Transaction *)m, err);
        break;
    default: /* a kind from a newer build: stored and synced, not listed */
        break;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc == 0 ? index_search(st, rid, state, fresh, err) : rc;
}

/* Rids are handed out above every rid in the table, so a page's new records
 * are the rows from its first one on. The + keeps SQLite off the (kind, id)
 * index, where it would walk every record of those kinds at every page (the
 * load of a book grew quadratic): only the page's range of the table is read. */
const char fs_store_page_search_sql[] =
    "INSERT OR IGNORE INTO search_backlog(rid) SELECT rid FROM records"
    " WHERE rid >= ? AND +kind IN (?, ?, ?) AND alive";

int fs_store_queue_page_search(fs_store *st, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int64_t first = st->page_first_rid;
    st->page_first_rid = 0;
    if (first == 0)
        return 0;
    int rc = prep(st, fs_store_page_search_sql, first, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 2, FIELDSYNC__RECORD_KIND__ACCOUNT);
    sqlite3_bind_int(s, 3, FIELDSYNC__RECORD_KIND__CONTACT);
    sqlite3_bind_int(s, 4, FIELDSYNC__RECORD_KIND__VISIT);
    return run(st, s, err);
}

/* Indexes one queued record as it stands now (state is NULL when it went):
 * whatever happened to it since it was queued (changed, deleted, its rid
 * reused), the FTS row ends up matching the committed state. A row already in
 * the index (indexed) is left alone: the triggers on records take a row out
 * before its record's state changes or goes (schema.c, version 7), so a row
 * that is there matches the committed state. */
static int index_queued(fs_store *st, int64_t rid, bool indexed, const void *state_bytes,
                        size_t len, fs_err *err)
{
    fs_state *state = NULL;
    if (indexed || state_bytes == NULL)
        return 0;
    int rc = fs_state_decode_stored(&state, state_bytes, len, err);
    if (rc == 0 && fs_record_alive(state))
        rc = index_search(st, rid, state, false, err);
    fs_state_free(state);
    return rc;
}

/* The first `limit` queued records in rid order, indexed in one transaction
 * and taken off the queue together (defer_search is false here: only a
 * pulled page's apply sets it). */
static int index_batch(fs_store *st, size_t limit, fs_err *err)
{
    sqlite3_stmt *s = NULL, *done = NULL;
    int64_t last = 0;
    int rc = fs_store_prepare(st,
                              "SELECT b.rid, d.id IS NOT NULL, r.state FROM search_backlog b"
                              " LEFT JOIN records r ON r.rid = b.rid"
                              " LEFT JOIN search_docsize d ON d.id = b.rid"
                              " ORDER BY b.rid LIMIT ?",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)limit);
    int step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        last = sqlite3_column_int64(s, 0);
        rc = index_queued(st, last, sqlite3_column_int(s, 1) != 0, sqlite3_column_blob(s, 2),
                          (size_t)sqlite3_column_bytes(s, 2), err);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "reading the search backlog");
    fs_store_finish(st, s);
    if (rc == 0 && last > 0 &&
        (rc = prep(st, "DELETE FROM search_backlog WHERE rid <= ?", last, &done, err)) == 0)
        rc = run(st, done, err);
    return rc;
}

int fs_store_index_backlog(fs_store *st, size_t limit, fs_err *err)
{
    int rc = fs_store_begin(st, err);
    if (rc != 0)
        return rc;
    rc = index_batch(st, limit > 0 ? limit : 1, err);
    rc = rc == 0 ? fs_store_commit(st, err) : rc;
    if (rc != 0)
        fs_store_rollback(st);
    return rc;
}

int fs_store_search_backlog(fs_store *st, uint64_t *n, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    int rc = fs_store_prepare(st, "SELECT count(*) FROM search_backlog", &s, err);
    if (rc != 0)
        return rc;
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(s, 0);
    else
        rc = fs_store_sqlerr(st, step, err, "counting the search backlog");
    fs_store_finish(st, s);
    return rc;
}

int fs_store_reproject_all(fs_store *st, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, "SELECT rid, state FROM records", &s, err);
    int step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        fs_state *state = NULL;
        int64_t rid = sqlite3_column_int64(s, 0);
        rc = fs_state_decode_stored(&state, sqlite3_column_blob(s, 1),
                                    (size_t)sqlite3_column_bytes(s, 1), err);
        if (rc == 0)
            rc = fs_store_project(st, rid, state, false, err);
        fs_state_free(state);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "rebuilding projections");
    fs_store_finish(st, s);
    return rc;
}
