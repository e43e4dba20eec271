/*
 * report.c: the records the daemon's reports count (report.pipeline, .team,
 * .weekly in docs/socket-api.md), read in one pass each: every visible
 * opportunity with the owner of its account, the visits of a date range, and
 * the accounts per funnel stage. The counting itself (stage on a day, stale,
 * per currency) is the daemon's (daemon/pipeline.c, daemon/report.c): it reads
 * fields the projections do not hold, such as the stage history and the
 * currency, from the visible value.
 */
#include "store_int.h"

/* Every opportunity counts, so this is a pass over the table; the account's
 * owner and name come by its primary key (records(kind, id), then
 * accounts.rid). */
const char fs_store_each_opportunity_sql[] =
    "SELECT r.state, coalesce(a.owner, ''), a.name FROM opportunities o "
    "JOIN records r ON r.rid = o.rid "
    "LEFT JOIN records ra ON ra.kind = 1 AND ra.id = o.account_id "
    "LEFT JOIN accounts a ON a.rid = ra.rid";

/* A range of visits_by_date. */
const char fs_store_each_visit_sql[] =
    "SELECT r.state FROM visits v JOIN records r ON r.rid = v.rid "
    "WHERE v.planned_at >= ?1 AND v.planned_at < ?2 ORDER BY v.planned_at, v.id";

/* accounts_by_stage alone: a covering index, already grouped. */
const char fs_store_funnel_sql[] = "SELECT stage, count(*) FROM accounts GROUP BY stage";

/* Decodes the visible value of a state in column 0 of s (a projection row
 * exists only while the record is visible). */
static int visible_of(sqlite3_stmt *s, ProtobufCMessage **m, fs_err *err)
{
    fs_state *state = NULL;
    int rc = fs_state_decode_stored(&state, sqlite3_column_blob(s, 0),
                                    (size_t)sqlite3_column_bytes(s, 0), err);
    if (rc == 0)
        rc = fs_record_visible(state, m, err);
    fs_state_free(state);
    return rc;
}

int fs_store_each_opportunity(fs_store *st, fs_opportunity_fn fn, void *ctx, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, fs_store_each_opportunity_sql, &s, err);
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        ProtobufCMessage *m = NULL;
        if ((rc = visible_of(s, &m, err)) != 0)
            break;
        rc = fn(ctx, (const Fieldsync__Opportunity *)m, (const char *)sqlite3_column_text(s, 1),
                (const char *)sqlite3_column_text(s, 2));
        protobuf_c_message_free_unpacked(m, NULL);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "reading the opportunities");
    fs_store_finish(st, s);
    return rc;
}

int fs_store_each_visit(fs_store *st, int64_t from, int64_t to, fs_visit_fn fn, void *ctx,
                        fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, fs_store_each_visit_sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        ProtobufCMessage *m = NULL;
        if ((rc = visible_of(s, &m, err)) != 0)
            break;
        rc = fn(ctx, (const Fieldsync__Visit *)m);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "reading the visits");
    fs_store_finish(st, s);
    return rc;
}

int fs_store_funnel(fs_store *st, size_t count[FS_FUNNEL_COUNT], fs_err *err)
{
    sqlite3_stmt *s = NULL;
    for (size_t i = 0; i < FS_FUNNEL_COUNT; i++)
        count[i] = 0;
    int rc = fs_store_prepare(st, fs_store_funnel_sql, &s, err);
    if (rc != 0)
        return rc;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        int stage = sqlite3_column_int(s, 0);
        if (stage >= 0 && stage < FS_FUNNEL_COUNT) /* else a stage from a newer build */
            count[stage] = (size_t)sqlite3_column_int64(s, 1);
    }
    if (step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "counting the funnel");
    fs_store_finish(st, s);
    return rc;
}
