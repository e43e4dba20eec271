/*
 * storage_pg_users.c: the PostgreSQL backend's users, devices and enrollment
 * codes (see storage.h for what each keeps). Inserts that may meet a taken
 * name or replica id use ON CONFLICT DO NOTHING: a constraint error would
 * abort the caller's whole transaction, and enrollment retries a clashing
 * replica id inside it.
 */
#include <stdlib.h>
#include <string.h>

#include "storage_pg_int.h"

static pg_storage *pg(srv_storage *base)
{
    return (pg_storage *)base;
}

/* Copies every row of r through read into a malloc'd array of elem-sized
 * items. */
static int pg_collect(PGresult *r, size_t elem, void (*read)(const PGresult *, int, void *),
                      void **out, size_t *n, fs_err *err)
{
    int rows = PQntuples(r);
    uint8_t *items = calloc(rows ? (size_t)rows : 1, elem);
    if (items == NULL) {
        PQclear(r);
        return fs_err_set(err, FS_ENOMEM, "out of memory listing %d rows", rows);
    }
    for (int i = 0; i < rows; i++)
        read(r, i, items + (size_t)i * elem);
    PQclear(r);
    *out = items;
    *n = (size_t)rows;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Users */

static void read_user(const PGresult *r, int row, void *out)
{
    srv_user *u = out;
    memset(u, 0, sizeof(*u));
    u->id = pg_i64(r, row, 0);
    snprintf(u->name, sizeof(u->name), "%s", pg_text(r, row, 1));
    u->role = (srv_role)pg_i64(r, row, 2);
    u->manager_id = pg_i64(r, row, 3);
    u->floor = (uint64_t)pg_i64(r, row, 4);
}

int pg_user_add(srv_storage *base, const char *name, srv_role role, int64_t manager_id, int64_t *id,
                fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_text(&p, name);
    pg_param_i64(&p, role);
    if (manager_id != 0)
        pg_param_i64(&p, manager_id);
    else
        pg_param_null(&p);
    int rc = pg_run(pg(base), PG_USER_ADD, &p, &r, "adding a user", err);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = fs_err_set(err, FS_EEXIST, "user %s already exists: pick another name", name);
    else if (id != NULL)
        *id = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

static int user_one(pg_storage *s, enum pg_stmt idx, const pg_params *p, srv_user *out,
                    const char *what, fs_err *err)
{
    PGresult *r;
    int rc = pg_run(s, idx, p, &r, "reading a user", err);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = fs_err_set(err, FS_ENOTFOUND, "no user %s: `fieldsync-server user list` shows them",
                        what);
    else
        read_user(r, 0, out);
    PQclear(r);
    return rc;
}

int pg_user_get(srv_storage *base, const char *name, srv_user *out, fs_err *err)
{
    pg_params p = {0};
    pg_param_text(&p, name);
    return user_one(pg(base), PG_USER_GET, &p, out, name, err);
}

int pg_user_get_id(srv_storage *base, int64_t id, srv_user *out, fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, id);
    return user_one(pg(base), PG_USER_GET_ID, &p, out, "with that id", err);
}

int pg_user_list(srv_storage *base, srv_user **out, size_t *n, fs_err *err)
{
    PGresult *r;
    int rc = pg_run(pg(base), PG_USER_LIST, NULL, &r, "listing users", err);
    return rc ? rc : pg_collect(r, sizeof(srv_user), read_user, (void **)out, n, err);
}

int pg_user_set_manager(srv_storage *base, int64_t id, int64_t manager_id, fs_err *err)
{
    pg_params p = {0};
    size_t changed = 0;
    pg_param_i64(&p, id);
    if (manager_id != 0)
        pg_param_i64(&p, manager_id);
    else
        pg_param_null(&p);
    int rc = pg_exec(pg(base), PG_USER_SET_MANAGER, &p, &changed, "changing a user's manager", err);
    if (rc == 0 && changed == 0)
        return fs_err_set(err, FS_ENOTFOUND, "no user with id %lld", (long long)id);
    return rc;
}

int pg_raise_floor(srv_storage *base, int64_t id, uint64_t floor, fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, id);
    pg_param_i64(&p, (int64_t)floor);
    return pg_exec(pg(base), PG_RAISE_FLOOR, &p, NULL, "raising a tombstone floor", err);
}

/* ------------------------------------------------------------------------- */
/* Devices */

static void read_device(const PGresult *r, int row, void *out)
{
    srv_device *d = out;
    memset(d, 0, sizeof(*d));
    d->id = pg_i64(r, row, 0);
    d->user_id = pg_i64(r, row, 1);
    d->replica = (uint64_t)pg_i64(r, row, 2);
    snprintf(d->name, sizeof(d->name), "%s", pg_text(r, row, 3));
    d->created_at = pg_i64(r, row, 4);
    d->last_seen_at = pg_i64(r, row, 5);
    d->revoked_at = pg_i64(r, row, 6);
    d->cursor = (uint64_t)pg_i64(r, row, 7);
    d->prior_replica = (uint64_t)pg_i64(r, row, 8);
}

int pg_device_add(srv_storage *base, const srv_device *d, const uint8_t *token_hash, int64_t *id,
                  fs_err *err)
{
    pg_storage *s = pg(base);
    pg_params p = {0};
    PGresult *r;
    pg_param_i64(&p, (int64_t)d->replica);
    int rc = pg_run(s, PG_REPLICA_USED, &p, &r, "checking a replica id", err);
    if (rc != 0)
        return rc;
    bool used = PQntuples(r) > 0;
    PQclear(r);
    if (used)
        return fs_err_set(err, FS_EEXIST, "replica id already used");
    p = (pg_params){0};
    pg_param_i64(&p, d->user_id);
    pg_param_i64(&p, (int64_t)d->replica);
    pg_param_text(&p, d->name);
    pg_param_bytes(&p, token_hash, SRV_HASH_LEN);
    pg_param_i64(&p, d->created_at);
    pg_param_i64(&p, (int64_t)d->prior_replica);
    if ((rc = pg_run(s, PG_DEVICE_ADD, &p, &r, "adding a device", err)) != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = fs_err_set(err, FS_EEXIST, "replica id or token already used");
    else if (id != NULL)
        *id = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

int pg_device_by_token(srv_storage *base, const uint8_t *token_hash, srv_device *out, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_bytes(&p, token_hash, SRV_HASH_LEN);
    int rc = pg_run(pg(base), PG_DEVICE_BY_TOKEN, &p, &r, "looking up a device", err);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = fs_err_set(err, FS_ENOTFOUND, "unknown device token");
    else
        read_device(r, 0, out);
    PQclear(r);
    return rc;
}

int pg_replica_owners(srv_storage *base, uint64_t replica, srv_device **out, size_t *n, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_i64(&p, (int64_t)replica);
    int rc = pg_run(pg(base), PG_REPLICA_OWNERS, &p, &r, "looking up a replica id", err);
    return rc ? rc : pg_collect(r, sizeof(srv_device), read_device, (void **)out, n, err);
}

int pg_device_list(srv_storage *base, int64_t user_id, srv_device **out, size_t *n, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    if (user_id != 0)
        pg_param_i64(&p, user_id);
    int rc = pg_run(pg(base), user_id ? PG_DEVICE_LIST : PG_DEVICE_LIST_ALL, &p, &r,
                    "listing devices", err);
    return rc ? rc : pg_collect(r, sizeof(srv_device), read_device, (void **)out, n, err);
}

int pg_device_revoke(srv_storage *base, int64_t id, int64_t now, fs_err *err)
{
    pg_params p = {0};
    size_t changed = 0;
    pg_param_i64(&p, id);
    pg_param_i64(&p, now);
    int rc = pg_exec(pg(base), PG_DEVICE_REVOKE, &p, &changed, "revoking a device", err);
    if (rc == 0 && changed == 0)
        return fs_err_set(err, FS_ENOTFOUND,
                          "no device %lld: `fieldsync-server device list` shows them",
                          (long long)id);
    return rc;
}

int pg_device_seen(srv_storage *base, int64_t id, int64_t now, bool set_cursor, uint64_t cursor,
                   fs_err *err)
{
    pg_params p = {0};
    pg_param_i64(&p, id);
    pg_param_i64(&p, now);
    if (set_cursor)
        pg_param_i64(&p, (int64_t)cursor);
    return pg_exec(pg(base), set_cursor ? PG_DEVICE_SEEN_CURSOR : PG_DEVICE_SEEN, &p, NULL,
                   "recording a device's visit", err);
}

/* ------------------------------------------------------------------------- */
/* Enrollment codes */

int pg_code_add(srv_storage *base, const uint8_t *code_hash, int64_t user_id, int64_t expires_at,
                fs_err *err)
{
    pg_params p = {0};
    pg_param_bytes(&p, code_hash, SRV_HASH_LEN);
    pg_param_i64(&p, user_id);
    pg_param_i64(&p, expires_at);
    return pg_exec(pg(base), PG_CODE_ADD, &p, NULL, "storing an enrollment code", err);
}

int pg_code_get(srv_storage *base, const uint8_t *code_hash, srv_code *out, fs_err *err)
{
    pg_params p = {0};
    PGresult *r;
    pg_param_bytes(&p, code_hash, SRV_HASH_LEN);
    int rc = pg_run(pg(base), PG_CODE_GET, &p, &r, "reading an enrollment code", err);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 0) {
        rc = fs_err_set(err, FS_ENOTFOUND, "unknown enrollment code");
    } else {
        out->user_id = pg_i64(r, 0, 0);
        out->expires_at = pg_i64(r, 0, 1);
        out->used_at = pg_i64(r, 0, 2);
    }
    PQclear(r);
    return rc;
}

int pg_code_use(srv_storage *base, const uint8_t *code_hash, int64_t now, fs_err *err)
{
    pg_params p = {0};
    size_t changed = 0;
    pg_param_bytes(&p, code_hash, SRV_HASH_LEN);
    pg_param_i64(&p, now);
    int rc = pg_exec(pg(base), PG_CODE_USE, &p, &changed, "using an enrollment code", err);
    if (rc == 0 && changed == 0)
        return fs_err_set(err, FS_EEXIST, "enrollment code already used");
    return rc;
}
