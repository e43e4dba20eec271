/*
 * storage_pg_records.c: the PostgreSQL backend's territory, records, pull,
 * reassignment and tombstone gc (see storage.h for the rules each keeps).
 *
 * A pull reads both of its streams (records, removals) in one REPEATABLE READ
 * snapshot and only below that snapshot's horizon (storage_pg.c): changes of
 * transactions still running, or that started after the oldest one still
 * running, wait for a later pull. When the page is the last one, next_cursor
 * is the horizon - 1: every number up to it is final.
 */
#include <stdlib.h>
#include <string.h>

#include "storage_pg_int.h"

static pg_storage *pg(srv_storage *base)
{
    return (pg_storage *)base;
}

/* ------------------------------------------------------------------------- */
/* Territory and records */

int pg_territory_get(srv_storage *base, const char *account_id, int64_t *owner, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_text(&p, account_id);
    int rc = pg_run(pg(base), PG_TERRITORY_GET, &p, &r, "reading the territory", err);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = fs_err_set(err, FS_ENOTFOUND, "account %s has no owner yet", account_id);
    else
        *owner = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

int pg_territory_set(srv_storage *base, const char *account_id, int64_t owner, fs_err *err)
{
    pg_params p = {0};
    pg_param_text(&p, account_id);
    pg_param_i64(&p, owner);
    return pg_exec(pg(base), PG_TERRITORY_SET, &p, NULL, "writing the territory", err);
}

/* A malloc'd copy of a bytea value (at least one byte allocated). */
static uint8_t *dup_bytes(const PGresult *r, int row, int col, size_t *len)
{
    *len = (size_t)PQgetlength(r, row, col);
    uint8_t *b = malloc(*len ? *len : 1);
    if (b != NULL)
        memcpy(b, PQgetvalue(r, row, col), *len);
    return b;
}

int pg_record_get(srv_storage *base, fs_kind kind, const char *id, srv_record *out, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    memset(out, 0, sizeof(*out));
    pg_param_i64(&p, kind);
    pg_param_text(&p, id);
    int rc = pg_run(pg(base), PG_RECORD_GET, &p, &r, "reading a record", err);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return fs_err_set(err, FS_ENOTFOUND, "no record %s", id);
    }
    out->kind = kind;
    out->seq = (uint64_t)pg_i64(r, 0, 1);
    out->alive = pg_i64(r, 0, 2) != 0;
    out->id = strdup(id);
    out->state = dup_bytes(r, 0, 3, &out->state_len);
    int mrc = pg_dup(r, 0, 0, &out->account_id);
    PQclear(r);
    if (mrc != 0 || out->id == NULL || out->state == NULL) {
        srv_record_clear(out);
        return fs_err_set(err, FS_ENOMEM, "out of memory reading record %s", id);
    }
    return 0;
}

int pg_record_put(srv_storage *base, const srv_record *r, fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, r->kind);
    pg_param_text(&p, r->id);
    pg_param_text(&p, r->account_id);
    pg_param_i64(&p, (int64_t)r->seq);
    pg_param_i64(&p, r->alive ? 1 : 0);
    pg_param_bytes(&p, r->state, r->state_len);
    pg_param_i64(&p, r->owner);
    pg_param_i64(&p, r->writer);
    return pg_exec(pg(base), PG_RECORD_PUT, &p, NULL, "writing a record", err);
}

/* ------------------------------------------------------------------------- */
/* Pull */

/* Reads one stream's rows (states when the result has a fourth column). */
static int pull_stream(pg_storage *s, enum pg_stmt idx, const pg_params *p, srv_pull_item **out,
                       size_t *n, fs_err *err)
{
    PGresult *r;
    *out = NULL;
    *n = 0;
    int rc = pg_run(s, idx, p, &r, "reading a pull page", err);
    if (rc != 0)
        return rc;
    int rows = PQntuples(r);
    bool with_state = PQnfields(r) > 3;
    srv_pull_item *items = calloc(rows ? (size_t)rows : 1, sizeof(*items));
    for (int i = 0; items != NULL && i < rows; i++) {
        srv_pull_item *it = &items[i];
        it->seq = (uint64_t)pg_i64(r, i, 0);
        it->kind = (fs_kind)pg_i64(r, i, 1);
        *n = (size_t)i + 1;
        if (pg_dup(r, i, 2, &it->id) != 0 ||
            (with_state && (it->state = dup_bytes(r, i, 3, &it->state_len)) == NULL))
            rc = FS_ENOMEM;
        if (rc != 0)
            break;
    }
    PQclear(r);
    *out = items;
    if (items == NULL || rc != 0)
        return fs_err_set(err, FS_ENOMEM, "out of memory reading a pull page");
    return 0;
}

/* $1 cursor, $2 user, $3 rows, $4 horizon: what every pull statement takes. */
static void pull_params(pg_params *p, const srv_user *user, const srv_pull_query *q,
                        uint64_t horizon)
{
    *p = (pg_params){0};
    pg_param_i64(p, (int64_t)q->cursor);
    pg_param_i64(p, user->id);
    pg_param_i64(p, (int64_t)q->limit + 1); /* a leftover row proves `more` */
    pg_param_i64(p, (int64_t)horizon);
}

/* The page, in the open transaction's snapshot. */
static int pull_page(pg_storage *s, const srv_user *user, const srv_pull_query *q,
                     srv_pull_page *page, fs_err *err)
{
    bool mgr = user->role == SRV_ROLE_MANAGER;
    srv_pull_item *recs = NULL, *rems = NULL;
    size_t nr = 0, nm = 0;
    uint64_t horizon;
    pg_params p;
    int rc = pg_horizon(s, &horizon, err);
    if (rc != 0)
        return rc;
    pull_params(&p, user, q, horizon);
    if (!mgr && q->skip_writer != 0) /* $5: the device whose own pushes are left out */
        pg_param_i64(&p, q->skip_writer);
    else if (!mgr)
        pg_param_null(&p);
    rc = pull_stream(s, mgr ? PG_PULL_MANAGER : PG_PULL_REP, &p, &recs, &nr, err);
    pull_params(&p, user, q, horizon);
    if (rc == 0)
        rc = pull_stream(s, mgr ? PG_REMOVALS_MANAGER : PG_REMOVALS_REP, &p, &rems, &nm, err);
    if (rc == 0 && srv_pull_merge(recs, nr, rems, nm, q->limit, q->max_bytes, page) != 0)
        rc = fs_err_set(err, FS_ENOMEM, "out of memory for a pull page");
    if (rc == 0)
        page->next_cursor = page->more                ? page->items[page->n - 1].seq
                            : horizon - 1 > q->cursor ? horizon - 1
                                                      : q->cursor;
    srv_pull_items_free(recs, nr);
    srv_pull_items_free(rems, nm);
    return rc;
}

int pg_pull(srv_storage *base, const srv_user *user, const srv_pull_query *q, srv_pull_page *page,
            fs_err *err)
{
    pg_storage *s = pg(base);
    bool own = !s->in_txn; /* both streams and the horizon need one snapshot */
    memset(page, 0, sizeof(*page));
    int rc = own ? base->ops->begin(base, false, err) : 0;
    if (rc == 0)
        rc = pull_page(s, user, q, page, err);
    if (own && rc == 0)
        rc = base->ops->commit(base, err);
    if (own && rc != 0)
        base->ops->rollback(base);
    if (rc != 0)
        srv_pull_page_clear(page);
    return rc;
}

int pg_pull_count(srv_storage *base, const srv_user *user, uint64_t *n, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_i64(&p, user->id);
    int rc =
        pg_run(pg(base), user->role == SRV_ROLE_MANAGER ? PG_PULL_COUNT_MANAGER : PG_PULL_COUNT_REP,
               &p, &r, "counting a pull's records", err);
    if (rc == 0)
        *n = (uint64_t)pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

int pg_snapshot_records(srv_storage *base, int64_t owner, fs_kind kind, const char *after_id,
                        int64_t skip_writer, size_t limit, srv_pull_item **items, size_t *n,
                        fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, owner);
    pg_param_i64(&p, kind);
    pg_param_text(&p, after_id != NULL ? after_id : "");
    if (skip_writer != 0)
        pg_param_i64(&p, skip_writer);
    else
        pg_param_null(&p);
    pg_param_i64(&p, (int64_t)limit);
    return pull_stream(pg(base), PG_SNAPSHOT_RECORDS, &p, items, n, err);
}

int pg_snapshot_removals(srv_storage *base, int64_t owner, uint64_t after, uint64_t upto,
                         size_t limit, srv_pull_item **items, size_t *n, fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, owner);
    pg_param_i64(&p, (int64_t)after);
    pg_param_i64(&p, (int64_t)upto);
    pg_param_i64(&p, (int64_t)limit);
    return pull_stream(pg(base), PG_SNAPSHOT_REMOVALS, &p, items, n, err);
}

int pg_floor_get(srv_storage *base, const srv_user *user, uint64_t *floor, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_i64(&p, user->id);
    int rc = pg_run(pg(base), PG_FLOOR_GET, &p, &r, "reading the tombstone floor", err);
    if (rc == 0)
        *floor = (uint64_t)pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Reassignment */

int pg_reassign(srv_storage *base, const char *account_id, int64_t new_owner, size_t *moved,
                fs_err *err)
{
    pg_storage *s = pg(base);
    int64_t old_owner;
    uint64_t first;
    size_t n = 0;
    pg_params p = {0};
    *moved = 0;
    int rc = pg_territory_get(base, account_id, &old_owner, err);
    if (rc != 0 || old_owner == new_owner)
        return rc;
    if ((rc = pg_territory_set(base, account_id, new_owner, err)) != 0)
        return rc;
    /* the first number, then as many more as there are records */
    if ((rc = pg_next_seq(base, &first, err)) != 0)
        return rc;
    pg_param_text(&p, account_id);
    pg_param_i64(&p, new_owner);
    pg_param_i64(&p, (int64_t)first - 1);
    pg_param_i64(&p, old_owner);
    if ((rc = pg_exec(s, PG_ACCOUNT_MOVE, &p, &n, "moving an account's records", err)) != 0)
        return rc;
    if (n > 0 && (uint64_t)s->drawn + n - 1 > PG_SEQ_PER_TXN)
        return fs_err_set(err, FS_ETOOBIG,
                          "account %s has more than %u records: too many to move in one "
                          "transaction",
                          account_id, PG_SEQ_PER_TXN);
    s->drawn += n > 0 ? (uint32_t)n - 1 : 0;
    *moved = n;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Tombstone gc */

static int gc_rep(pg_storage *s, const int64_t rep[3], int64_t seen_after, uint64_t last,
                  srv_gc_report *report, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_i64(&p, rep[0]);
    pg_param_i64(&p, rep[1]);
    pg_param_i64(&p, seen_after);
    int rc = pg_run(s, PG_GC_MIN_CURSOR, &p, &r, "reading device cursors", err);
    if (rc != 0)
        return rc;
    uint64_t target = PQgetisnull(r, 0, 0) ? last : (uint64_t)pg_i64(r, 0, 0);
    PQclear(r);
    if (target <= (uint64_t)rep[2])
        return 0;
    size_t tombstones = 0, removals = 0;
    p = (pg_params){0};
    pg_param_i64(&p, rep[0]);
    pg_param_i64(&p, (int64_t)target);
    rc = pg_exec(s, PG_GC_TOMBSTONES, &p, &tombstones, "collecting tombstones", err);
    if (rc == 0)
        rc = pg_exec(s, PG_GC_REMOVALS, &p, &removals, "collecting removals", err);
    if (rc == 0)
        rc = pg_raise_floor(&s->base, rep[0], target, err);
    if (rc == 0) {
        report->tombstones += tombstones;
        report->removals += removals;
        report->reps++;
    }
    return rc;
}

int pg_gc(srv_storage *base, int64_t now, int64_t horizon_s, srv_gc_report *report, fs_err *err)
{
    pg_storage *s = pg(base);
    PGresult *r;
    uint64_t last;
    memset(report, 0, sizeof(*report));
    int rc = pg_last_seq(base, &last, err);
    if (rc == 0)
        rc = pg_run(s, PG_GC_REPS, NULL, &r, "listing reps", err);
    if (rc != 0)
        return rc;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        int64_t rep[3] = {pg_i64(r, i, 0), pg_i64(r, i, 1), pg_i64(r, i, 2)};
        rc = gc_rep(s, rep, now - horizon_s, last, report, err);
    }
    PQclear(r);
    return rc;
}
