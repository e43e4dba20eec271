/*
 * storage_sqlite_users.c: the SQLite backend's users (teams and floors
 * included), devices and enrollment codes (see storage.h for what each
 * keeps). storage_sqlite.c holds the connection and the ops table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_sqlite_int.h"

static sq_storage *sq(srv_storage *base)
{
    return (sq_storage *)base;
}

/* ------------------------------------------------------------------------- */
/* Users */

static void sq_read_user(sqlite3_stmt *st, srv_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(st, 0);
    snprintf(u->name, sizeof(u->name), "%s", (const char *)sqlite3_column_text(st, 1));
    u->role = (srv_role)sqlite3_column_int(st, 2);
    u->manager_id = sqlite3_column_int64(st, 3);
    u->floor = (uint64_t)sqlite3_column_int64(st, 4);
}

int sq_user_add(srv_storage *base, const char *name, srv_role role, int64_t manager_id, int64_t *id,
                fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_USER_ADD, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)role);
    if (manager_id != 0)
        sqlite3_bind_int64(st, 3, manager_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return fs_err_set(err, FS_EEXIST, "user %s already exists: pick another name", name);
    if (rc != SQLITE_DONE)
        return sq_fail(s, "adding a user", err);
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int sq_user_one(sq_storage *s, sqlite3_stmt *st, srv_user *out, const char *what,
                       fs_err *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sq_read_user(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return fs_err_set(err, FS_ENOTFOUND, "no user %s: `fieldsync-server user list` shows them",
                          what);
    return rc == SQLITE_ROW ? 0 : sq_fail(s, "reading a user", err);
}

int sq_user_get(srv_storage *base, const char *name, srv_user *out, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(sq(base), SQ_USER_GET, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return sq_user_one(sq(base), st, out, name, err);
}

int sq_user_get_id(srv_storage *base, int64_t id, srv_user *out, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(sq(base), SQ_USER_GET_ID, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, id);
    return sq_user_one(sq(base), st, out, "with that id", err);
}

/* Runs a listing statement, appending each row through read into a growing
 * array of elem-sized items. */
static int sq_collect(sq_storage *s, sqlite3_stmt *st, size_t elem,
                      void (*read)(sqlite3_stmt *, void *), void **out, size_t *n, fs_err *err)
{
    uint8_t *items = NULL;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            uint8_t *ni = realloc(items, ncap * elem);
            if (ni == NULL) {
                sqlite3_reset(st);
                free(items);
                return fs_err_set(err, FS_ENOMEM, "out of memory listing");
            }
            items = ni;
            cap = ncap;
        }
        read(st, items + count * elem);
        count++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(items);
        return sq_fail(s, "listing", err);
    }
    *out = items;
    *n = count;
    return 0;
}

static void sq_read_user_v(sqlite3_stmt *st, void *u)
{
    sq_read_user(st, u);
}

int sq_user_list(srv_storage *base, srv_user **out, size_t *n, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(sq(base), SQ_USER_LIST, err);
    if (st == NULL)
        return FS_EIO;
    return sq_collect(sq(base), st, sizeof(srv_user), sq_read_user_v, (void **)out, n, err);
}

int sq_user_set_manager(srv_storage *base, int64_t id, int64_t manager_id, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_USER_SET_MANAGER, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, id);
    if (manager_id != 0)
        sqlite3_bind_int64(st, 2, manager_id);
    int rc = sq_exec_stmt(s, st, "changing a user's manager", err);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        return fs_err_set(err, FS_ENOTFOUND, "no user with id %lld", (long long)id);
    return rc;
}

int sq_raise_floor(srv_storage *base, int64_t id, uint64_t floor, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_RAISE_FLOOR, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (int64_t)floor);
    return sq_exec_stmt(s, st, "raising a tombstone floor", err);
}

/* ------------------------------------------------------------------------- */
/* Devices */

static void sq_read_device(sqlite3_stmt *st, void *out)
{
    srv_device *d = out;
    memset(d, 0, sizeof(*d));
    d->id = sqlite3_column_int64(st, 0);
    d->user_id = sqlite3_column_int64(st, 1);
    d->replica = (uint64_t)sqlite3_column_int64(st, 2);
    snprintf(d->name, sizeof(d->name), "%s", (const char *)sqlite3_column_text(st, 3));
    d->created_at = sqlite3_column_int64(st, 4);
    d->last_seen_at = sqlite3_column_int64(st, 5);
    d->revoked_at = sqlite3_column_int64(st, 6);
    d->cursor = (uint64_t)sqlite3_column_int64(st, 7);
    d->prior_replica = (uint64_t)sqlite3_column_int64(st, 8);
}

int sq_device_add(srv_storage *base, const srv_device *d, const uint8_t *token_hash, int64_t *id,
                  fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_REPLICA_USED, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, (int64_t)d->replica);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return fs_err_set(err, FS_EEXIST, "replica id already used");
    if (rc != SQLITE_DONE)
        return sq_fail(s, "checking a replica id", err);
    if ((st = sq_stmt(s, SQ_DEVICE_ADD, err)) == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, d->user_id);
    sqlite3_bind_int64(st, 2, (int64_t)d->replica);
    sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, token_hash, SRV_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, d->created_at);
    sqlite3_bind_int64(st, 6, (int64_t)d->prior_replica);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return fs_err_set(err, FS_EEXIST, "replica id or token already used");
    if (rc != SQLITE_DONE)
        return sq_fail(s, "adding a device", err);
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int sq_device_by_token(srv_storage *base, const uint8_t *token_hash, srv_device *out, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_DEVICE_BY_TOKEN, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_blob(st, 1, token_hash, SRV_HASH_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sq_read_device(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return fs_err_set(err, FS_ENOTFOUND, "unknown device token");
    return rc == SQLITE_ROW ? 0 : sq_fail(s, "looking up a device", err);
}

int sq_replica_owners(srv_storage *base, uint64_t replica, srv_device **out, size_t *n, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(sq(base), SQ_REPLICA_OWNERS, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, (int64_t)replica);
    return sq_collect(sq(base), st, sizeof(srv_device), sq_read_device, (void **)out, n, err);
}

int sq_device_list(srv_storage *base, int64_t user_id, srv_device **out, size_t *n, fs_err *err)
{
    sqlite3_stmt *st = sq_stmt(sq(base), user_id ? SQ_DEVICE_LIST : SQ_DEVICE_LIST_ALL, err);
    if (st == NULL)
        return FS_EIO;
    if (user_id)
        sqlite3_bind_int64(st, 1, user_id);
    return sq_collect(sq(base), st, sizeof(srv_device), sq_read_device, (void **)out, n, err);
}

int sq_device_revoke(srv_storage *base, int64_t id, int64_t now, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_DEVICE_REVOKE, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    int rc = sq_exec_stmt(s, st, "revoking a device", err);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        return fs_err_set(err, FS_ENOTFOUND,
                          "no device %lld: `fieldsync-server device list` shows them",
                          (long long)id);
    return rc;
}

int sq_device_seen(srv_storage *base, int64_t id, int64_t now, bool set_cursor, uint64_t cursor,
                   fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, set_cursor ? SQ_DEVICE_SEEN_CURSOR : SQ_DEVICE_SEEN, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    if (set_cursor)
        sqlite3_bind_int64(st, 3, (int64_t)cursor);
    return sq_exec_stmt(s, st, "recording a device's visit", err);
}

/* ------------------------------------------------------------------------- */
/* Enrollment codes */

int sq_code_add(srv_storage *base, const uint8_t *code_hash, int64_t user_id, int64_t expires_at,
                fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_CODE_ADD, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_blob(st, 1, code_hash, SRV_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, expires_at);
    return sq_exec_stmt(s, st, "storing an enrollment code", err);
}

int sq_code_get(srv_storage *base, const uint8_t *code_hash, srv_code *out, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_CODE_GET, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_blob(st, 1, code_hash, SRV_HASH_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->user_id = sqlite3_column_int64(st, 0);
        out->expires_at = sqlite3_column_int64(st, 1);
        out->used_at = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return fs_err_set(err, FS_ENOTFOUND, "unknown enrollment code");
    return rc == SQLITE_ROW ? 0 : sq_fail(s, "reading an enrollment code", err);
}

int sq_code_use(srv_storage *base, const uint8_t *code_hash, int64_t now, fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_CODE_USE, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_blob(st, 1, code_hash, SRV_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    int rc = sq_exec_stmt(s, st, "using an enrollment code", err);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        return fs_err_set(err, FS_EEXIST, "enrollment code already used");
    return rc;
}
