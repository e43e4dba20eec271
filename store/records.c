/*
 * records.c: record rows: load and save a record's state (with its projections),
 * and the local operations on top of them: put, delete, get.
 *
 * A local put or delete is one transaction: the new state, its projections, the
 * persisted HLC and the outbox entry commit together or not at all, so an
 * acknowledged change always has its outbox entry and the reverse.
 */
#include "store_int.h"

#include "fieldsync/outbox.h"

#include <stdlib.h>
#include <string.h>

static int check_ref(fs_kind kind, const char *id, fs_err *err)
{
    if (fs_kind_descriptor(kind) == NULL)
        return fs_err_set(err, FS_EINVAL, "unknown record kind %d", (int)kind);
    if (id == NULL || id[0] == '\0')
        return fs_err_set(err, FS_EINVAL, "a %s needs an id", fs_kind_name(kind));
    if (strlen(id) > FS_STORE_ID_MAX)
        return fs_err_set(err, FS_EINVAL, "%s id is longer than %d bytes", fs_kind_name(kind),
                          FS_STORE_ID_MAX);
    return 0;
}

int fs_store_load(fs_store *st, fs_kind kind, const char *id, int64_t *rid, fs_state **state,
                  fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *rid = 0;
    *state = NULL;
    int rc =
        fs_store_prepare(st, "SELECT rid, state FROM records WHERE kind = ? AND id = ?", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int(s, 1, (int)kind);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        rc = fs_state_decode_stored(state, sqlite3_column_blob(s, 1),
                                    (size_t)sqlite3_column_bytes(s, 1), err);
        if (rc == 0)
            *rid = sqlite3_column_int64(s, 0);
    } else if (step != SQLITE_DONE) {
        rc = fs_store_sqlerr(st, step, err, "reading a record");
    }
    fs_store_finish(st, s);
    return rc;
}

static int has_conflict(const fs_state *state, bool *out, fs_err *err)
{
    fs_conflict *c = NULL;
    size_t n = 0;
    int rc = fs_record_conflicts(state, &c, &n, err);
    *out = rc == 0 && n > 0;
    fs_conflicts_free(c, n);
    return rc;
}

/* The row of state: an UPDATE of rid, or an INSERT of a new record (rid 0).
 * With if_new, an INSERT that finds the record already there does nothing and
 * leaves *saved false. Projections follow a row written. */
static int save_row(fs_store *st, int64_t rid, const fs_state *state, bool if_new, bool *saved,
                    fs_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    bool conflict = false;
    sqlite3_stmt *s = NULL;
    *saved = false;
    int rc = fs_state_encode(state, &buf, &len, err);
    if (rc == 0)
        rc = has_conflict(state, &conflict, err);
    if (rc == 0)
        rc = fs_store_prepare(st,
                              rid != 0 ? "UPDATE records SET state = ?, alive = ?, "
                                         "has_conflict = ?, hlc = ? WHERE rid = ?"
                              : if_new ? "INSERT INTO records(state, alive, has_conflict, hlc, "
                                         "kind, id) VALUES(?, ?, ?, ?, ?, ?) "
                                         "ON CONFLICT(kind, id) DO NOTHING"
                                       : "INSERT INTO records(state, alive, has_conflict, hlc, "
                                         "kind, id) VALUES(?, ?, ?, ?, ?, ?)",
                              &s, err);
    if (rc != 0)
        goto done;
    sqlite3_bind_blob(s, 1, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, fs_record_alive(state));
    sqlite3_bind_int(s, 3, conflict);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)fs_record_hlc(state));
    if (rid == 0) {
        sqlite3_bind_int(s, 5, (int)state->kind);
        sqlite3_bind_text(s, 6, state->id, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(s, 5, rid);
    }
    int step = sqlite3_step(s);
    if (step != SQLITE_DONE) {
        rc = fs_store_sqlerr(st, step, err, "saving a record");
        goto done;
    }
    if (rid == 0 && if_new && sqlite3_changes(st->db) == 0)
        goto done; /* the record is there */
    bool fresh = rid == 0;
    if (fresh)
        rid = sqlite3_last_insert_rowid(st->db);
    rc = fs_store_project(st, rid, state, fresh, err);
    *saved = rc == 0;
done:
    fs_store_finish(st, s);
    free(buf);
    return rc;
}

int fs_store_save(fs_store *st, int64_t rid, const fs_state *state, fs_err *err)
{
    bool saved;
    return save_row(st, rid, state, false, &saved, err);
}

int fs_store_remove(fs_store *st, int64_t rid, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int kind = 0;
    int rc = fs_store_prepare(st, "DELETE FROM records WHERE rid = ? RETURNING kind", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, rid);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        kind = sqlite3_column_int(s, 0);
        step = sqlite3_step(s);
    }
    fs_store_finish(st, s);
    if (step != SQLITE_DONE)
        return fs_store_sqlerr(st, step, err, "removing a record");
    return kind != 0 ? fs_store_unproject(st, rid, (fs_kind)kind, err) : 0;
}

/* Whether two states encode to the same bytes (canonical form makes this equality). */
static int same_state(const fs_state *a, const fs_state *b, bool *same, fs_err *err)
{
    uint8_t *ea = NULL, *eb = NULL;
    size_t la = 0, lb = 0;
    int rc = fs_state_encode(a, &ea, &la, err);
    if (rc == 0)
        rc = fs_state_encode(b, &eb, &lb, err);
    *same = rc == 0 && la == lb && (la == 0 || memcmp(ea, eb, la) == 0);
    free(ea);
    free(eb);
    return rc;
}

int fs_store_join_save(fs_store *st, const fs_state *other, bool *changed, fs_err *err)
{
    fs_state *local = NULL, *joined = NULL;
    int64_t rid = 0;
    bool same = false;
    *changed = false;
    int rc = check_ref(other->kind, other->id, err);
    /* An initial load's records are new, nearly all: one statement looks the
     * key up and inserts. A new record takes other as it is, since the join of
     * nothing with a canonical (decoded) state is that state; one the store
     * holds goes on below. */
    if (rc == 0 && st->loading && (rc = save_row(st, 0, other, true, changed, err)) == 0 &&
        *changed) {
        fs_store_observe(st, other);
        return 0;
    }
    if (rc == 0)
        rc = fs_store_load(st, other->kind, other->id, &rid, &local, err);
    if (rc == 0 && local == NULL)
        rc = fs_state_new(&local, other->kind, other->id, err);
    if (rc == 0)
        rc = fs_record_join(&joined, local, other, err);
    if (rc == 0 && rid != 0) /* a new record is saved whatever it joined to */
        rc = same_state(local, joined, &same, err);
    if (rc == 0 && (!same || rid == 0)) {
        rc = fs_store_save(st, rid, joined, err);
        *changed = rc == 0;
    }
    if (rc == 0)
        fs_store_observe(st, other);
    fs_state_free(local);
    fs_state_free(joined);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Local operations */

/* The common tail of put and delete: save and queue, in the open transaction. */
static int save_local(fs_store *st, int64_t rid, const fs_state *state, fs_err *err)
{
    int rc = fs_store_save(st, rid, state, err);
    return rc == 0 ? fs_outbox_append(st, state, err) : rc;
}

int fs_store_put(fs_store *st, fs_kind kind, const char *id, const ProtobufCMessage *fields,
                 const uint32_t *cleared, size_t ncleared, fs_err *err)
{
    fs_state *state = NULL;
    int64_t rid = 0;
    uint64_t hlc = 0;
    int rc = check_ref(kind, id, err);
    if (rc != 0)
        return rc;
    if (fields != NULL && fields->descriptor != fs_kind_descriptor(kind))
        return fs_err_set(err, FS_EINVAL, "put of %s %s: the fields are not a %s message",
                          fs_kind_name(kind), id, fs_kind_name(kind));
    if ((rc = fs_store_begin(st, err)) != 0)
        return rc;
    rc = fs_store_load(st, kind, id, &rid, &state, err);
    if (rc == 0 && state == NULL)
        rc = fs_state_new(&state, kind, id, err);
    if (rc == 0)
        rc = fs_store_tick(st, &hlc, err);
    if (rc == 0)
        rc = fields != NULL
                 ? fs_record_write_msg(state, st->replica, hlc, fields, cleared, ncleared, err)
                 : fs_record_write(state, st->replica, hlc, NULL, 0, cleared, ncleared, err);
    if (rc == 0)
        rc = save_local(st, rid, state, err);
    if (rc == 0)
        rc = fs_store_commit(st, err);
    if (rc != 0)
        fs_store_rollback(st);
    fs_state_free(state);
    return rc;
}

int fs_store_delete_in(fs_store *st, fs_kind kind, const char *id, fs_err *err)
{
    fs_state *state = NULL;
    int64_t rid = 0;
    uint64_t hlc = 0;
    int rc = check_ref(kind, id, err);
    if (rc == 0)
        rc = fs_store_load(st, kind, id, &rid, &state, err);
    if (rc == 0 && (state == NULL || !fs_record_alive(state)))
        rc = fs_err_set(err, FS_ENOTFOUND, "no %s %s to delete", fs_kind_name(kind), id);
    if (rc == 0)
        rc = fs_store_tick(st, &hlc, err);
    if (rc == 0)
        rc = fs_record_delete(state, st->replica, hlc, err);
    if (rc == 0)
        rc = save_local(st, rid, state, err);
    fs_state_free(state);
    return rc;
}

int fs_store_delete(fs_store *st, fs_kind kind, const char *id, fs_err *err)
{
    int rc = check_ref(kind, id, err);
    if (rc == 0)
        rc = fs_store_begin(st, err);
    if (rc != 0)
        return rc;
    rc = fs_store_delete_in(st, kind, id, err);
    if (rc == 0)
        rc = fs_store_commit(st, err);
    if (rc != 0)
        fs_store_rollback(st);
    return rc;
}

int fs_store_get(fs_store *st, fs_kind kind, const char *id, fs_state **state,
                 ProtobufCMessage **visible, fs_err *err)
{
    fs_state *loaded = NULL;
    int64_t rid = 0;
    if (state != NULL)
        *state = NULL;
    if (visible != NULL)
        *visible = NULL;
    int rc = check_ref(kind, id, err);
    if (rc == 0)
        rc = fs_store_load(st, kind, id, &rid, &loaded, err);
    if (rc == 0 && loaded == NULL)
        rc = fs_err_set(err, FS_ENOTFOUND, "no %s %s in the store", fs_kind_name(kind), id);
    if (rc == 0 && visible != NULL && fs_record_alive(loaded))
        rc = fs_record_visible(loaded, visible, err);
    if (rc == 0 && state != NULL) {
        *state = loaded;
        loaded = NULL;
    }
    fs_state_free(loaded);
    return rc;
}
