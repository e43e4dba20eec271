/*
 * storage_sqlite_records.c: the SQLite backend, second half: territory,
 * records, the pull query, reassignment and tombstone gc (see storage.h for
 * the rules each keeps).
 *
 * A pull page merges two ascending streams, the territory's records and its
 * removals, each read with limit + 1 rows: the merge's first `limit` items are
 * then exactly the first `limit` of the union, and a leftover row proves `more`.
 */
#include <stdlib.h>
#include <string.h>

#include "storage_sqlite_int.h"

static sq_storage *sq(srv_storage *base)
{
    return (sq_storage *)base;
}

/* ------------------------------------------------------------------------- */
/* Territory and records */

int sq_territory_get(srv_storage *base, const char *account_id, int64_t *owner, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_TERRITORY_GET, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *owner = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return fs_err_set(err, FS_ENOTFOUND, "account %s has no owner yet", account_id);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, "reading the territory", err);
}

int sq_territory_set(srv_storage *base, const char *account_id, int64_t owner, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_TERRITORY_SET, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, owner);
    return sq_exec_stmt(s, st, "writing the territory", err);
}

int sq_record_get(srv_storage *base, fs_kind kind, const char *id, srv_record *out, fs_err *err)
{
    sq_storage *s = sq(base);
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = sq_stmt(s, SQ_RECORD_GET, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int(st, 1, (int)kind);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return fs_err_set(err, FS_ENOTFOUND, "no record %s", id);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return sq_fail(s, "reading a record", err);
    }
    out->kind = kind;
    out->seq = (uint64_t)sqlite3_column_int64(st, 1);
    out->alive = sqlite3_column_int(st, 2) != 0;
    out->state_len = (size_t)sqlite3_column_bytes(st, 3);
    out->id = strdup(id);
    out->state = malloc(out->state_len ? out->state_len : 1);
    int mrc = sq_dup_text(st, 0, &out->account_id);
    if (out->state != NULL)
        memcpy(out->state, sqlite3_column_blob(st, 3), out->state_len);
    sqlite3_reset(st);
    if (mrc != 0 || out->id == NULL || out->state == NULL) {
        srv_record_clear(out);
        return fs_err_set(err, FS_ENOMEM, "out of memory reading record %s", id);
    }
    return 0;
}

static void bind_record(sqlite3_stmt *st, const srv_record *r)
{
    sqlite3_bind_int(st, 1, (int)r->kind);
    sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)r->seq);
    sqlite3_bind_int(st, 5, r->alive ? 1 : 0);
    sqlite3_bind_blob(st, 6, r->state, (int)r->state_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, r->owner);
    sqlite3_bind_int64(st, 8, r->writer);
}

int sq_record_put(srv_storage *base, const srv_record *r, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st;
    if (r->stored) { /* in place, unless it moved to another account or owner */
        if ((st = sq_stmt(s, SQ_RECORD_UPDATE, err)) == NULL)
            return FS_EIO;
        bind_record(st, r);
        int rc = sq_exec_stmt(s, st, "writing a record", err);
        if (rc != 0 || sqlite3_changes(s->db) == 1)
            return rc;
    }
    if ((st = sq_stmt(s, SQ_RECORD_PUT, err)) == NULL)
        return FS_EIO;
    bind_record(st, r);
    return sq_exec_stmt(s, st, "writing a record", err);
}

/* ------------------------------------------------------------------------- */
/* Pull */

/* Reads up to limit rows of one stream (states when with_state) into items. */
static int pull_stream(sq_storage *s, sqlite3_stmt *st, bool with_state, srv_pull_item *items,
                       size_t limit, size_t *n, fs_err *err)
{
    int rc = SQLITE_DONE;
    *n = 0;
    while (*n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        srv_pull_item *it = &items[*n];
        memset(it, 0, sizeof(*it));
        it->seq = (uint64_t)sqlite3_column_int64(st, 0);
        it->kind = (fs_kind)sqlite3_column_int(st, 1);
        int mrc = sq_dup_text(st, 2, &it->id);
        if (mrc == 0 && with_state) {
            it->state_len = (size_t)sqlite3_column_bytes(st, 3);
            it->state = malloc(it->state_len ? it->state_len : 1);
            if (it->state != NULL)
                memcpy(it->state, sqlite3_column_blob(st, 3), it->state_len);
        }
        (*n)++;
        if (mrc != 0 || it->id == NULL || (with_state && it->state == NULL)) {
            sqlite3_reset(st);
            return fs_err_set(err, FS_ENOMEM, "out of memory reading a pull page");
        }
    }
    if (*n < limit && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return sq_fail(s, "reading a pull page", err);
    }
    sqlite3_reset(st);
    return 0;
}

static sqlite3_stmt *pull_stmt(sq_storage *s, enum sq_stmt idx, const srv_user *user,
                               const srv_pull_query *q, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(s, idx, err);
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, (int64_t)q->cursor);
        sqlite3_bind_int64(st, 2, user->id);
        sqlite3_bind_int64(st, 3, (int64_t)q->limit + 1);
        /* "writer IS NOT ?4": unbound (NULL), it leaves nothing out */
        if (q->skip_writer != 0 && sqlite3_bind_parameter_count(st) >= 4)
            sqlite3_bind_int64(st, 4, q->skip_writer);
    }
    return st;
}

int sq_pull(srv_storage *base, const srv_user *user, const srv_pull_query *q, srv_pull_page *page,
            fs_err *err)
{
    sq_storage *s = sq(base);
    bool mgr = user->role == SRV_ROLE_MANAGER;
    size_t limit = q->limit;
    srv_pull_item *recs = calloc(limit + 1, sizeof(*recs));
    srv_pull_item *rems = calloc(limit + 1, sizeof(*rems));
    size_t nr = 0, nm = 0;
    int rc = FS_EIO;
    memset(page, 0, sizeof(*page));
    if (recs == NULL || rems == NULL) {
        rc = fs_err_set(err, FS_ENOMEM, "out of memory for a pull page of %zu", limit);
        goto done;
    }
    sqlite3_stmt *st = pull_stmt(s, mgr ? SQ_PULL_MANAGER : SQ_PULL_REP, user, q, err);
    if (st == NULL || (rc = pull_stream(s, st, true, recs, limit + 1, &nr, err)) != 0)
        goto done;
    st = pull_stmt(s, mgr ? SQ_REMOVALS_MANAGER : SQ_REMOVALS_REP, user, q, err);
    if (st == NULL || (rc = pull_stream(s, st, false, rems, limit + 1, &nm, err)) != 0) {
        rc = rc ? rc : FS_EIO;
        goto done;
    }
    if ((rc = srv_pull_merge(recs, nr, rems, nm, limit, q->max_bytes, page)) != 0) {
        rc = fs_err_set(err, rc, "out of memory for a pull page");
        goto done;
    }
    if (page->more) {
        page->next_cursor = page->items[page->n - 1].seq;
    } else {
        rc = sq_last_seq(base, &page->next_cursor, err);
        if (page->next_cursor < q->cursor)
            page->next_cursor = q->cursor;
    }
done:
    srv_pull_items_free(recs, nr);
    srv_pull_items_free(rems, nm);
    if (rc != 0)
        srv_pull_page_clear(page);
    return rc;
}

/* Runs a snapshot statement (bound but for its last parameter, the row
 * count) into a new array of up to limit items. */
static int snapshot_stream(sq_storage *s, sqlite3_stmt *st, int limit_param, bool with_state,
                           size_t limit, srv_pull_item **items, size_t *n, fs_err *err)
{
    *n = 0;
    *items = calloc(limit ? limit : 1, sizeof(**items));
    if (*items == NULL) {
        sqlite3_reset(st);
        return fs_err_set(err, FS_ENOMEM, "out of memory for a snapshot page of %zu", limit);
    }
    sqlite3_bind_int64(st, limit_param, (int64_t)limit);
    return pull_stream(s, st, with_state, *items, limit, n, err);
}

int sq_snapshot_records(srv_storage *base, int64_t owner, fs_kind kind, const char *after_id,
                        int64_t skip_writer, size_t limit, srv_pull_item **items, size_t *n,
                        fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_SNAPSHOT_RECORDS, err);
    *items = NULL;
    *n = 0;
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_int(st, 2, (int)kind);
    sqlite3_bind_text(st, 3, after_id != NULL ? after_id : "", -1, SQLITE_STATIC);
    if (skip_writer != 0) /* unbound, "writer IS NOT NULL" leaves nothing out */
        sqlite3_bind_int64(st, 4, skip_writer);
    return snapshot_stream(s, st, 5, true, limit, items, n, err);
}

int sq_snapshot_removals(srv_storage *base, int64_t owner, uint64_t after, uint64_t upto,
                         size_t limit, srv_pull_item **items, size_t *n, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_SNAPSHOT_REMOVALS, err);
    *items = NULL;
    *n = 0;
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_int64(st, 2, (int64_t)after);
    sqlite3_bind_int64(st, 3, (int64_t)upto);
    return snapshot_stream(s, st, 4, false, limit, items, n, err);
}

/* The one number statement idx gives for user (bound as ?1). */
static int user_number(sq_storage *s, enum sq_stmt idx, const srv_user *user, uint64_t *out,
                       const char *what, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(s, idx, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, user->id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, what, err);
}

int sq_pull_count(srv_storage *base, const srv_user *user, uint64_t *n, fs_err *err)
{
    return user_number(sq(base),
                       user->role == SRV_ROLE_MANAGER ? SQ_PULL_COUNT_MANAGER : SQ_PULL_COUNT_REP,
                       user, n, "counting a pull's records", err);
}

int sq_floor_get(srv_storage *base, const srv_user *user, uint64_t *floor, fs_err *err)
{
    return user_number(sq(base), SQ_FLOOR_GET, user, floor, "reading the tombstone floor", err);
}

/* ------------------------------------------------------------------------- */
/* Reassignment */

typedef struct ref_list {
    fs_kind *kinds;
    char **ids;
    size_t n, cap;
} ref_list;

static void ref_list_clear(ref_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    free(l->kinds);
    free(l->ids);
}

static int ref_list_read(sq_storage *s, const char *account_id, ref_list *l, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_ACCOUNT_RECORDS, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->n == l->cap) {
            size_t ncap = l->cap ? l->cap * 2 : 64;
            fs_kind *nk = realloc(l->kinds, ncap * sizeof(*nk));
            if (nk != NULL)
                l->kinds = nk;
            char **ni = nk ? realloc(l->ids, ncap * sizeof(*ni)) : NULL;
            if (ni == NULL) {
                sqlite3_reset(st);
                return fs_err_set(err, FS_ENOMEM, "out of memory reassigning %s", account_id);
            }
            l->ids = ni;
            l->cap = ncap;
        }
        l->kinds[l->n] = (fs_kind)sqlite3_column_int(st, 0);
        if (sq_dup_text(st, 1, &l->ids[l->n]) != 0 || l->ids[l->n] == NULL) {
            sqlite3_reset(st);
            return fs_err_set(err, FS_ENOMEM, "out of memory reassigning %s", account_id);
        }
        l->n++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, "listing an account's records", err);
}

/* Gives one record its new owner and a new seq, and the old owner a removal
 * with the same seq. */
static int move_record(sq_storage *s, fs_kind kind, const char *id, int64_t old_owner,
                       int64_t new_owner, fs_err *err)
{
    uint64_t seq;
    int rc = sq_next_seq(&s->base, &seq, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, SQ_RECORD_MOVE, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int(st, 1, (int)kind);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    sqlite3_bind_int64(st, 4, new_owner);
    if ((rc = sq_exec_stmt(s, st, "moving a record", err)) != 0)
        return rc;
    if ((st = sq_stmt(s, SQ_REMOVAL_ADD, err)) == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, (int64_t)seq);
    sqlite3_bind_int(st, 2, (int)kind);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, old_owner);
    sqlite3_bind_int64(st, 5, new_owner);
    return sq_exec_stmt(s, st, "recording a removal", err);
}

int sq_reassign(srv_storage *base, const char *account_id, int64_t new_owner, size_t *moved,
                fs_err *err)
{
    sq_storage *s = sq(base);
    int64_t old_owner;
    ref_list l = {0};
    *moved = 0;
    int rc = sq_territory_get(base, account_id, &old_owner, err);
    if (rc != 0 || old_owner == new_owner)
        return rc;
    if ((rc = sq_territory_set(base, account_id, new_owner, err)) != 0)
        return rc;
    if ((rc = ref_list_read(s, account_id, &l, err)) != 0)
        goto done;
    for (size_t i = 0; i < l.n && rc == 0; i++)
        rc = move_record(s, l.kinds[i], l.ids[i], old_owner, new_owner, err);
    if (rc == 0)
        *moved = l.n;
done:
    ref_list_clear(&l);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Tombstone gc */

static int gc_rep(sq_storage *s, int64_t rep, int64_t manager, uint64_t floor, int64_t seen_after,
                  uint64_t last, srv_gc_report *r, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(s, SQ_GC_MIN_CURSOR, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, rep);
    sqlite3_bind_int64(st, 2, manager);
    sqlite3_bind_int64(st, 3, seen_after);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return sq_fail(s, "reading device cursors", err);
    }
    uint64_t target =
        sqlite3_column_type(st, 0) == SQLITE_NULL ? last : (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (target <= floor)
        return 0;
    static const enum sq_stmt steps[] = {SQ_GC_TOMBSTONES, SQ_GC_REMOVALS};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if ((st = sq_stmt(s, steps[i], err)) == NULL)
            return FS_EIO;
        sqlite3_bind_int64(st, 1, rep);
        sqlite3_bind_int64(st, 2, (int64_t)target);
        int rc = sq_exec_stmt(s, st, "collecting tombstones", err);
        if (rc != 0)
            return rc;
        size_t changed = (size_t)sqlite3_changes(s->db);
        *(steps[i] == SQ_GC_TOMBSTONES ? &r->tombstones : &r->removals) += changed;
    }
    r->reps++;
    return sq_raise_floor(&s->base, rep, target, err);
}

int sq_gc(srv_storage *base, int64_t now, int64_t horizon_s, srv_gc_report *report, fs_err *err)
{
    sq_storage *s = sq(base);
    uint64_t last;
    memset(report, 0, sizeof(*report));
    int rc = sq_last_seq(base, &last, err);
    if (rc != 0)
        return rc;
    /* Read the reps first: gc_rep's statements must not run while this one
     * is stepping. */
    sqlite3_stmt *st = sq_stmt(s, SQ_GC_REPS, err);
    if (st == NULL)
        return FS_EIO;
    int64_t(*reps)[3] = NULL;
    size_t n = 0, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            void *nr = realloc(reps, cap * sizeof(*reps));
            if (nr == NULL) {
                sqlite3_reset(st);
                free(reps);
                return fs_err_set(err, FS_ENOMEM, "out of memory in gc");
            }
            reps = nr;
        }
        for (int c = 0; c < 3; c++)
            reps[n][c] = sqlite3_column_int64(st, c);
        n++;
    }
    sqlite3_reset(st);
    rc = rc == SQLITE_DONE ? 0 : sq_fail(s, "listing reps", err);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = gc_rep(s, reps[i][0], reps[i][1], (uint64_t)reps[i][2], now - horizon_s, last, report,
                    err);
    free(reps);
    return rc;
}
