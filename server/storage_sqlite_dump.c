/*
 * storage_sqlite_dump.c: the SQLite backend as the source of `migrate`: walks
 * every table and hands each row to a srv_dump_sink (storage.h), in an order
 * that satisfies the destination's foreign keys. Run inside a read
 * transaction, so the copy is one snapshot even while a server writes.
 */
#include <stdio.h>

#include "storage_sqlite_int.h"

/* One table's rows, each passed to a row callback with the statement. */
typedef int (*dump_row_fn)(sqlite3_stmt *st, const srv_dump_sink *sink, fs_err *err);

static int dump_table(sq_storage *s, const char *sql, dump_row_fn row, const srv_dump_sink *sink,
                      fs_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, "reading for migrate", err);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = row(st, sink, err);
    if (rc == 0 && step != SQLITE_DONE)
        rc = sq_fail(s, "reading for migrate", err);
    sqlite3_finalize(st);
    return rc;
}

static const char *text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

static int row_user(sqlite3_stmt *st, const srv_dump_sink *sink, fs_err *err)
{
    srv_user u = {.id = sqlite3_column_int64(st, 0),
                  .role = (srv_role)sqlite3_column_int(st, 2),
                  .manager_id = sqlite3_column_int64(st, 3),
                  .floor = (uint64_t)sqlite3_column_int64(st, 4)};
    snprintf(u.name, sizeof(u.name), "%s", text(st, 1));
    return sink->user(sink->arg, &u, err);
}

static int row_device(sqlite3_stmt *st, const srv_dump_sink *sink, fs_err *err)
{
    srv_device d = {.id = sqlite3_column_int64(st, 0),
                    .user_id = sqlite3_column_int64(st, 1),
                    .replica = (uint64_t)sqlite3_column_int64(st, 2),
                    .created_at = sqlite3_column_int64(st, 4),
                    .last_seen_at = sqlite3_column_int64(st, 5),
                    .revoked_at = sqlite3_column_int64(st, 6),
                    .cursor = (uint64_t)sqlite3_column_int64(st, 7),
                    .prior_replica = (uint64_t)sqlite3_column_int64(st, 9)};
    snprintf(d.name, sizeof(d.name), "%s", text(st, 3));
    if (sqlite3_column_bytes(st, 8) != SRV_HASH_LEN)
        return fs_err_set(err, FS_ECORRUPT, "device %lld has a damaged token hash",
                          (long long)d.id);
    return sink->device(sink->arg, &d, sqlite3_column_blob(st, 8), err);
}

static int row_code(sqlite3_stmt *st, const srv_dump_sink *sink, fs_err *err)
{
    srv_code c = {.user_id = sqlite3_column_int64(st, 1),
                  .expires_at = sqlite3_column_int64(st, 2),
                  .used_at = sqlite3_column_int64(st, 3)};
    if (sqlite3_column_bytes(st, 0) != SRV_HASH_LEN)
        return fs_err_set(err, FS_ECORRUPT, "an enrollment code has a damaged hash");
    return sink->code(sink->arg, sqlite3_column_blob(st, 0), &c, err);
}

static int row_territory(sqlite3_stmt *st, const srv_dump_sink *sink, fs_err *err)
{
    return sink->territory(sink->arg, text(st, 0), sqlite3_column_int64(st, 1), err);
}

static int row_record(sqlite3_stmt *st, const srv_dump_sink *sink, fs_err *err)
{
    srv_record r = {.kind = (fs_kind)sqlite3_column_int(st, 0),
                    .id = (char *)text(st, 1),
                    .account_id = (char *)text(st, 2),
                    .owner = sqlite3_column_int64(st, 3),
                    .seq = (uint64_t)sqlite3_column_int64(st, 4),
                    .alive = sqlite3_column_int(st, 5) != 0,
                    .writer = sqlite3_column_int64(st, 6),
                    .state = (uint8_t *)sqlite3_column_blob(st, 7),
                    .state_len = (size_t)sqlite3_column_bytes(st, 7)};
    return sink->record(sink->arg, &r, err);
}

static int row_removal(sqlite3_stmt *st, const srv_dump_sink *sink, fs_err *err)
{
    return sink->removal(sink->arg, (uint64_t)sqlite3_column_int64(st, 0),
                         (fs_kind)sqlite3_column_int(st, 1), text(st, 2),
                         sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), err);
}

static const struct {
    const char *sql;
    dump_row_fn row;
} sq_dump_tables[] = {
    /* managers first: a rep's manager_id must exist in the destination */
    {"SELECT id, name, role, coalesce(manager_id, 0), floor FROM users ORDER BY role DESC, id",
     row_user},
    {"SELECT id, user_id, replica, name, created_at, last_seen_at, revoked_at, cursor,"
     " token_hash, prior_replica FROM devices ORDER BY id",
     row_device},
    {"SELECT hash, user_id, expires_at, used_at FROM codes", row_code},
    {"SELECT account_id, owner FROM territory", row_territory},
    /* in the table's order: the destination keys records by (kind, id) and
     * takes their seqs as they are, and no index has seq first to sort by */
    {"SELECT kind, id, account_id, owner, seq, alive, writer, state FROM records", row_record},
    {"SELECT seq, kind, id, old_owner, new_owner FROM removals ORDER BY seq", row_removal},
};

int sq_dump(srv_storage *base, const srv_dump_sink *sink, fs_err *err)
{
    sq_storage *s = (sq_storage *)base;
    char server_id[SRV_SERVER_ID_LEN + 1];
    uint64_t last;
    int rc = base->ops->server_id(base, server_id, err);
    if (rc == 0)
        rc = sq_last_seq(base, &last, err);
    if (rc == 0)
        rc = sink->meta(sink->arg, server_id, last, err);
    for (size_t i = 0; rc == 0 && i < sizeof(sq_dump_tables) / sizeof(sq_dump_tables[0]); i++)
        rc = dump_table(s, sq_dump_tables[i].sql, sq_dump_tables[i].row, sink, err);
    return rc == 0 ? sink->finish(sink->arg, err) : rc;
}
