/*
 * storage_pg_load.c: the PostgreSQL backend as the destination of `migrate`:
 * a srv_dump_sink (storage.h) that inserts every row with its original ids,
 * keeps the server id (devices know the server by it) and, at the end, moves
 * the identity counters past the copied ids and the change numbers past the
 * source's last one, so every device's cursor stays valid. The destination
 * must be empty: migrate copies a database, it does not merge two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_pg_int.h"

enum ld_stmt {
    LD_EMPTY,
    LD_SERVER_ID,
    LD_USER,
    LD_DEVICE,
    LD_CODE,
    LD_TERRITORY,
    LD_REMOVAL,
    LD_IDENTITIES,
    LD_COUNT
};

static const char *const ld_sql[LD_COUNT] = {
    [LD_EMPTY] = "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM records)",
    [LD_SERVER_ID] = "UPDATE meta SET value = $1 WHERE key = 'server_id'",
    [LD_USER] = "INSERT INTO users(id, name, role, manager_id, floor) VALUES ($1, $2, $3, $4, $5)",
    [LD_DEVICE] = "INSERT INTO devices(id, user_id, replica, name, token_hash, created_at,"
                  " last_seen_at, revoked_at, cursor, prior_replica)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    [LD_CODE] = "INSERT INTO codes(hash, user_id, expires_at, used_at) VALUES ($1, $2, $3, $4)",
    [LD_TERRITORY] = "INSERT INTO territory(account_id, owner) VALUES ($1, $2)",
    [LD_REMOVAL] = "INSERT INTO removals(seq, kind, id, old_owner, new_owner)"
                   " VALUES ($1, $2, $3, $4, $5)",
    [LD_IDENTITIES] = "SELECT setval(pg_get_serial_sequence('users', 'id'),"
                      " (SELECT coalesce(max(id), 0) + 1 FROM users), false),"
                      " setval(pg_get_serial_sequence('devices', 'id'),"
                      " (SELECT coalesce(max(id), 0) + 1 FROM devices), false)",
};

struct pg_loader {
    bool prepared[LD_COUNT];
    uint64_t last_seq; /* the source's */
};

static int ld_exec(pg_storage *s, enum ld_stmt idx, const pg_params *p, PGresult **out, fs_err *err)
{
    char name[16];
    PGresult *r;
    snprintf(name, sizeof(name), "ld%d", (int)idx);
    int rc =
        pg_run_named(s, name, ld_sql[idx], &s->loader->prepared[idx], p, &r, "copying rows", err);
    if (rc == 0 && out != NULL)
        *out = r;
    else
        PQclear(r);
    return rc;
}

static void param_opt(pg_params *p, int64_t v)
{
    if (v != 0)
        pg_param_i64(p, v);
    else
        pg_param_null(p);
}

static int ld_meta(void *arg, const char *server_id, uint64_t last_seq, fs_err *err)
{
    pg_storage *s = arg;
    PGresult *r;
    pg_params p = {0};
    int rc = ld_exec(s, LD_EMPTY, NULL, &r, err);
    if (rc != 0)
        return rc;
    int64_t rows = pg_i64(r, 0, 0);
    PQclear(r);
    if (rows != 0)
        return fs_err_set(err, FS_EEXIST,
                          "PostgreSQL %s already has users or records: migrate into an empty "
                          "database",
                          s->where);
    s->loader->last_seq = last_seq;
    pg_param_text(&p, server_id);
    return ld_exec(s, LD_SERVER_ID, &p, NULL, err);
}

static int ld_user(void *arg, const srv_user *u, fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, u->id);
    pg_param_text(&p, u->name);
    pg_param_i64(&p, u->role);
    param_opt(&p, u->manager_id);
    pg_param_i64(&p, (int64_t)u->floor);
    return ld_exec(arg, LD_USER, &p, NULL, err);
}

static int ld_device(void *arg, const srv_device *d, const uint8_t *token_hash, fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, d->id);
    pg_param_i64(&p, d->user_id);
    pg_param_i64(&p, (int64_t)d->replica);
    pg_param_text(&p, d->name);
    pg_param_bytes(&p, token_hash, SRV_HASH_LEN);
    pg_param_i64(&p, d->created_at);
    pg_param_i64(&p, d->last_seen_at);
    pg_param_i64(&p, d->revoked_at);
    pg_param_i64(&p, (int64_t)d->cursor);
    pg_param_i64(&p, (int64_t)d->prior_replica);
    return ld_exec(arg, LD_DEVICE, &p, NULL, err);
}

static int ld_code(void *arg, const uint8_t *hash, const srv_code *c, fs_err *err)
{
    pg_params p = {0};
    pg_param_bytes(&p, hash, SRV_HASH_LEN);
    pg_param_i64(&p, c->user_id);
    pg_param_i64(&p, c->expires_at);
    pg_param_i64(&p, c->used_at);
    return ld_exec(arg, LD_CODE, &p, NULL, err);
}

static int ld_territory(void *arg, const char *account_id, int64_t owner, fs_err *err)
{
    pg_params p = {0};
    pg_param_text(&p, account_id);
    pg_param_i64(&p, owner);
    return ld_exec(arg, LD_TERRITORY, &p, NULL, err);
}

static int ld_record(void *arg, const srv_record *r, fs_err *err)
{
    return pg_record_put(&((pg_storage *)arg)->base, r, err);
}

static int ld_removal(void *arg, uint64_t seq, fs_kind kind, const char *id, int64_t old_owner,
                      int64_t new_owner, fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, (int64_t)seq);
    pg_param_i64(&p, kind);
    pg_param_text(&p, id);
    pg_param_i64(&p, old_owner);
    pg_param_i64(&p, new_owner);
    return ld_exec(arg, LD_REMOVAL, &p, NULL, err);
}

static int ld_finish(void *arg, fs_err *err)
{
    pg_storage *s = arg;
    int rc = ld_exec(s, LD_IDENTITIES, NULL, NULL, err);
    return rc ? rc : pg_keep_ahead(s, s->loader->last_seq, err);
}

int pg_load(srv_storage *base, srv_dump_sink *sink, fs_err *err)
{
    pg_storage *s = (pg_storage *)base;
    if (s->loader == NULL && (s->loader = calloc(1, sizeof(*s->loader))) == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    *sink = (srv_dump_sink){.arg = s,
                            .meta = ld_meta,
                            .user = ld_user,
                            .device = ld_device,
                            .code = ld_code,
                            .territory = ld_territory,
                            .record = ld_record,
                            .removal = ld_removal,
                            .finish = ld_finish};
    return 0;
}
