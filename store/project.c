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

/* How a list column holds its field of the visible value. */
typedef enum cell {
    TEXT,         /* '' when unset */
    TEXT_OR_NULL, /* NULL when unset */
    DAY_OR_NULL,  /* NULL when unset or empty */
    ENUM,         /* 0 when unset */
    BOOL,         /* 0 when unset */
    INT64,        /* 0 when unset */
} cell;

/* A field of the kind's message, or (inner != 0) a field of a message field. */
typedef struct column {
    uint32_t field, inner;
    cell type;
} column;

#define MAX_COLUMNS 5

/* A kind's list table: parameter 1 is the rid, 2 the id, then the columns. */
typedef struct projection {
    const char *insert;
    size_t ncols;
    column cols[MAX_COLUMNS];
} projection;

/* The field numbers of fieldsync.proto, which protobuf never changes: the
 * columns are read from the visible value's bytes (fs_record_read_fields),
 * not from an unpacked message, which cost most of a projection.
 * test_store_project compares every column with the unpacked message's. */
static const projection projections[FS_KIND_MAX + 1] = {
    [FIELDSYNC__RECORD_KIND__ACCOUNT] = {"INSERT INTO accounts VALUES(?, ?, ?, ?, ?, ?, ?)",
                                         5,
                                         {{2, 0, TEXT},   /* name */
                                          {10, 0, ENUM},  /* tier */
                                          {11, 0, ENUM},  /* funnel_stage */
                                          {12, 0, TEXT},  /* owner */
                                          {5, 3, TEXT}}}, /* address.city */
    [FIELDSYNC__RECORD_KIND__CONTACT] = {"INSERT INTO contacts VALUES(?, ?, ?, ?)",
                                         2,
                                         {{2, 0, TEXT},   /* account_id */
                                          {3, 0, TEXT}}}, /* name */
    [FIELDSYNC__RECORD_KIND__VISIT] = {"INSERT INTO visits VALUES(?, ?, ?, ?, ?, ?, ?)",
                                       5,
                                       {{2, 0, TEXT},          /* account_id */
                                        {6, 0, INT64},         /* planned_at */
                                        {17, 0, TEXT_OR_NULL}, /* next_step */
                                        {18, 0, DAY_OR_NULL},  /* next_step_date */
                                        {19, 0, BOOL}}},       /* next_step_done */
    [FIELDSYNC__RECORD_KIND__OPPORTUNITY] = {"INSERT INTO opportunities VALUES(?, ?, ?, ?, ?, ?)",
                                             4,
                                             {{2, 0, TEXT},    /* account_id */
                                              {5, 0, ENUM},    /* stage */
                                              {10, 0, TEXT},   /* stage_entered_date */
                                              {7, 1, INT64}}}, /* amount.minor_units */
    [FIELDSYNC__RECORD_KIND__TRANSACTION] = {"INSERT INTO transactions VALUES(?, ?, ?, ?, ?)",
                                             3,
                                             {{2, 0, TEXT},    /* account_id */
                                              {3, 0, TEXT},    /* date */
                                              {4, 1, INT64}}}, /* amount.minor_units */
};

static bool is_text(cell type)
{
    return type == TEXT || type == TEXT_OR_NULL || type == DAY_OR_NULL;
}

/* Whether f, if set, has the wire type its column reads: the message's parser
 * refused the whole message otherwise. */
static bool fits(cell type, const fs_field_read *f)
{
    return !f->set || f->type == (is_text(type) ? FS_FIELD_WIRE_LEN : FS_FIELD_WIRE_VARINT);
}

/* Binds f (which fits) as parameter i the way the unpacked message's field
 * read: a string up to its first NUL, an enum's low 32 bits, a bool as any
 * non-zero varint. */
static void bind_cell(sqlite3_stmt *s, int i, cell type, const fs_field_read *f)
{
    const char *str = f->set && is_text(type) ? (const char *)f->bytes : "";
    int n = f->set && is_text(type) ? (int)strnlen(str, f->len) : 0;
    switch (type) {
    case TEXT:
        sqlite3_bind_text(s, i, str, n, SQLITE_STATIC);
        break;
    case TEXT_OR_NULL:
        if (f->set)
            sqlite3_bind_text(s, i, str, n, SQLITE_STATIC);
        break;
    case DAY_OR_NULL:
        if (n > 0)
            sqlite3_bind_text(s, i, str, n, SQLITE_STATIC);
        break;
    case ENUM:
        sqlite3_bind_int(s, i, (int)(int32_t)(uint32_t)f->number);
        break;
    case BOOL:
        sqlite3_bind_int(s, i, f->number != 0);
        break;
    case INT64:
        sqlite3_bind_int64(s, i, (int64_t)f->number);
        break;
    }
}

/* The kind's list row of the visible value buf[0..len). */
static int project_row(fs_store *st, int64_t rid, const fs_state *state, const projection *p,
                       const uint8_t *buf, size_t len, fs_err *err)
{
    uint32_t fields[MAX_COLUMNS];
    fs_field_read got[MAX_COLUMNS];
    sqlite3_stmt *s = NULL;
    for (size_t i = 0; i < p->ncols; i++)
        fields[i] = p->cols[i].field;
    int rc = fs_record_read_fields(buf, len, fields, p->ncols, got, err);
    for (size_t i = 0; rc == 0 && i < p->ncols; i++) {
        if (p->cols[i].inner != 0)
            rc = fs_record_read_nested(buf, len, fs_kind_descriptor(state->kind), p->cols[i].field,
                                       p->cols[i].inner, &got[i], err);
        if (rc == 0 && !fits(p->cols[i].type, &got[i]))
            rc = fs_err_set(err, FS_ECORRUPT,
                            "%s %s: field %u of its visible value has the wrong wire type; the "
                            "state is damaged (force a resync to repair it)",
                            fs_kind_name(state->kind), state->id, (unsigned)p->cols[i].field);
    }
    if (rc == 0 && (rc = prep(st, p->insert, rid, &s, err)) == 0) {
        sqlite3_bind_text(s, 2, state->id, -1, SQLITE_STATIC);
        for (size_t i = 0; i < p->ncols; i++)
            bind_cell(s, (int)i + 3, p->cols[i].type, &got[i]);
        rc = run(st, s, err); /* the statement reads the bound strings: clear them after */
    }
    for (size_t i = 0; i < p->ncols; i++)
        fs_field_read_clear(&got[i]);
    return rc;
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
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = fresh ? 0 : fs_store_unproject(st, rid, state->kind, err);
    if (rc != 0 || !fs_record_alive(state))
        return rc;
    /* a kind without a list table (one from a newer build): stored and
     * synced, not listed */
    const projection *p =
        state->kind >= FS_KIND_MIN && state->kind <= FS_KIND_MAX ? &projections[state->kind] : NULL;
    if (p != NULL && p->insert != NULL &&
        (rc = fs_record_visible_bytes(state, &buf, &len, err)) == 0)
        rc = project_row(st, rid, state, p, buf, len, err);
    free(buf);
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
