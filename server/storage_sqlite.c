/*
 * storage_sqlite.c: the SQLite backend of srv_storage_ops (see storage.h),
 * first part: the connection, schema, transactions, the change sequence and
 * the ops table. Users, devices and enrollment codes are in
 * storage_sqlite_users.c; records, pulls, reassignment and gc in
 * storage_sqlite_records.c; migrate's source in storage_sqlite_dump.c.
 *
 * One database file in WAL mode with synchronous=FULL: a push acknowledged to a
 * device survives a crash of the server or of the machine. Each pool thread has
 * its own connection; writers serialise on SQLite's write lock (BEGIN
 * IMMEDIATE, busy timeout), readers run beside them on their WAL snapshot.
 * Because writes are serialised, change sequence numbers commit in order: a
 * reader never sees seq n+1 before n (a PostgreSQL backend must keep that).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "storage_sqlite_int.h"

#define SQ_SCHEMA_VERSION 6
/* Per connection: the pull pages of a territory stay in memory across requests. */
#define SQ_CACHE_KIB 16384
#define SQ_MMAP_BYTES (256 << 20)

/* Version 1, as first released. A new database is created at version 1 and
 * then migrated like an old one, so every database takes the same path. */
static const char sq_schema_v1[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " role INTEGER NOT NULL, manager_id INTEGER REFERENCES users(id),"
    " floor INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS users_manager ON users(manager_id);"
    "CREATE TABLE IF NOT EXISTS devices(id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id), replica INTEGER NOT NULL UNIQUE,"
    " name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL,"
    " last_seen_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0,"
    " cursor INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS devices_user ON devices(user_id);"
    "CREATE TABLE IF NOT EXISTS codes(hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS territory(account_id TEXT PRIMARY KEY,"
    " owner INTEGER NOT NULL REFERENCES users(id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS territory_owner ON territory(owner);"
    "CREATE TABLE IF NOT EXISTS records(kind INTEGER NOT NULL, id TEXT NOT NULL,"
    " account_id TEXT NOT NULL, seq INTEGER NOT NULL UNIQUE, alive INTEGER NOT NULL,"
    " state BLOB NOT NULL, PRIMARY KEY(kind, id));"
    "CREATE INDEX IF NOT EXISTS records_account ON records(account_id);"
    "CREATE TABLE IF NOT EXISTS removals(seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    " id TEXT NOT NULL, old_owner INTEGER NOT NULL, new_owner INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS removals_owner ON removals(old_owner, seq);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('seq', 0);";

/* sq_migrations[v] takes a database from version v to v + 1. */
static const char *const sq_migrations[SQ_SCHEMA_VERSION] = {
    [0] = sq_schema_v1,
    /* The owner rep of each record, copied from the territory, so a rep's pull
     * walks its own (owner, seq) range instead of joining and sorting the whole
     * territory for every page. push and reassign keep it equal to the
     * territory's owner. */
    [1] = "ALTER TABLE records ADD COLUMN owner INTEGER NOT NULL DEFAULT 0;"
          "UPDATE records SET owner = coalesce((SELECT t.owner FROM territory t"
          " WHERE t.account_id = records.account_id), 0);"
          "CREATE INDEX records_owner ON records(owner, seq);",
    /* The device whose push wrote each record's current version: its own
     * pulls leave that version out (it has it from the push's answer). */
    [2] = "ALTER TABLE records ADD COLUMN writer INTEGER NOT NULL DEFAULT 0;",
    /* The replica id a device's store wrote with before enrollment, when the
     * server granted it: that device may push new writes of it too. */
    [3] = "ALTER TABLE devices ADD COLUMN prior_replica INTEGER NOT NULL DEFAULT 0;"
          "CREATE INDEX devices_prior ON devices(prior_replica);",
    /* A snapshot reads a rep's records in key order, one range of this index:
     * devices then insert them in the order of their own key index. */
    [4] = "CREATE INDEX records_owner_key ON records(owner, kind, id);",
    /* seq without its UNIQUE index: every pushed version moves its record's
     * seq, and that index's entries were a fifth of the pages a push's commit
     * writes. next_seq hands each seq out once inside the write transaction;
     * pulls find seqs through (owner, seq). SQLite drops a constraint only by
     * copying the table. */
    [5] = "CREATE TABLE records_v6(kind INTEGER NOT NULL, id TEXT NOT NULL,"
          " account_id TEXT NOT NULL, seq INTEGER NOT NULL, alive INTEGER NOT NULL,"
          " state BLOB NOT NULL, owner INTEGER NOT NULL DEFAULT 0,"
          " writer INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(kind, id));"
          "INSERT INTO records_v6(kind, id, account_id, seq, alive, state, owner, writer)"
          " SELECT kind, id, account_id, seq, alive, state, owner, writer FROM records;"
          "DROP TABLE records;"
          "ALTER TABLE records_v6 RENAME TO records;"
          "CREATE INDEX records_account ON records(account_id);"
          "CREATE INDEX records_owner ON records(owner, seq);"
          "CREATE INDEX records_owner_key ON records(owner, kind, id);",
};

/* What sq_read_device reads, in order. */
#define SQ_DEVICE_COLS                                                                             \
    "id, user_id, replica, name, created_at, last_seen_at, revoked_at, cursor, prior_replica"

static const char *const sq_sql[SQ_COUNT] = {
    [SQ_NEXT_SEQ] = "UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value",
    [SQ_LAST_SEQ] = "SELECT value FROM meta WHERE key = 'seq'",
    [SQ_SET_SEQ] = "UPDATE meta SET value = ?1 WHERE key = 'seq'",
    [SQ_SERVER_ID] = "SELECT value FROM meta WHERE key = 'server_id'",
    [SQ_USER_ADD] = "INSERT INTO users(name, role, manager_id) VALUES (?1, ?2, ?3)",
    [SQ_USER_GET] = "SELECT id, name, role, coalesce(manager_id, 0), floor FROM users"
                    " WHERE name = ?1",
    [SQ_USER_GET_ID] = "SELECT id, name, role, coalesce(manager_id, 0), floor FROM users"
                       " WHERE id = ?1",
    [SQ_USER_LIST] = "SELECT id, name, role, coalesce(manager_id, 0), floor FROM users"
                     " ORDER BY name",
    [SQ_USER_SET_MANAGER] = "UPDATE users SET manager_id = ?2 WHERE id = ?1",
    [SQ_DEVICE_ADD] = "INSERT INTO devices(user_id, replica, name, token_hash, created_at,"
                      " last_seen_at, prior_replica) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
    [SQ_DEVICE_BY_TOKEN] = "SELECT " SQ_DEVICE_COLS " FROM devices WHERE token_hash = ?1",
    [SQ_DEVICE_LIST] = "SELECT " SQ_DEVICE_COLS " FROM devices WHERE user_id = ?1 ORDER BY id",
    [SQ_DEVICE_LIST_ALL] = "SELECT " SQ_DEVICE_COLS " FROM devices ORDER BY id",
    [SQ_DEVICE_REVOKE] = "UPDATE devices SET revoked_at = CASE WHEN revoked_at = 0 THEN ?2"
                         " ELSE revoked_at END WHERE id = ?1",
    [SQ_DEVICE_SEEN] = "UPDATE devices SET last_seen_at = max(last_seen_at, ?2) WHERE id = ?1",
    [SQ_DEVICE_SEEN_CURSOR] = "UPDATE devices SET last_seen_at = max(last_seen_at, ?2),"
                              " cursor = ?3 WHERE id = ?1",
    [SQ_REPLICA_USED] = "SELECT 1 FROM devices WHERE replica = ?1 OR prior_replica = ?1",
    [SQ_REPLICA_OWNERS] = "SELECT " SQ_DEVICE_COLS " FROM devices WHERE replica = ?1"
                          " OR prior_replica = ?1 ORDER BY id",
    [SQ_CODE_ADD] = "INSERT INTO codes(hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
    [SQ_CODE_GET] = "SELECT user_id, expires_at, used_at FROM codes WHERE hash = ?1",
    [SQ_CODE_USE] = "UPDATE codes SET used_at = ?2 WHERE hash = ?1 AND used_at = 0",
    [SQ_TERRITORY_GET] = "SELECT owner FROM territory WHERE account_id = ?1",
    [SQ_TERRITORY_SET] = "INSERT INTO territory(account_id, owner) VALUES (?1, ?2)"
                         " ON CONFLICT(account_id) DO UPDATE SET owner = excluded.owner",
    [SQ_RECORD_GET] = "SELECT account_id, seq, alive, state FROM records WHERE kind = ?1"
                      " AND id = ?2",
    /* The usual push: the record stays in its account and with its owner.
     * SQLite rewrites the entries of every index whose columns an UPDATE sets,
     * equal values or not: leaving account_id and owner out spares the two
     * indexes on them (a third of the pages a push's commit writes). */
    [SQ_RECORD_UPDATE] = "UPDATE records SET seq = ?4, alive = ?5, state = ?6, writer = ?8"
                         " WHERE kind = ?1 AND id = ?2 AND account_id = ?3 AND owner = ?7",
    /* Any other: an upsert, not INSERT OR REPLACE, so the key's index stays. */
    [SQ_RECORD_PUT] = "INSERT INTO records(kind, id, account_id, seq, alive, state, owner, writer)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(kind, id) DO UPDATE"
                      " SET account_id = excluded.account_id, seq = excluded.seq,"
                      " alive = excluded.alive, state = excluded.state, owner = excluded.owner,"
                      " writer = excluded.writer",
    [SQ_PULL_REP] = "SELECT seq, kind, id, state FROM records WHERE owner = ?2 AND seq > ?1"
                    " AND writer IS NOT ?4 ORDER BY seq LIMIT ?3",
    /* The page's rows come from the (owner, seq) index alone, merged across
     * the team; only they are then read whole, by rowid. */
    [SQ_PULL_MANAGER] = "SELECT seq, kind, id, state FROM records WHERE rowid IN (SELECT rowid"
                        " FROM records WHERE owner IN (SELECT id FROM users WHERE manager_id ="
                        " ?2) AND seq > ?1 ORDER BY seq LIMIT ?3) ORDER BY seq",
    [SQ_REMOVALS_REP] = "SELECT seq, kind, id FROM removals WHERE seq > ?1 AND old_owner = ?2"
                        " ORDER BY seq LIMIT ?3",
    [SQ_REMOVALS_MANAGER] = "SELECT seq, kind, id FROM removals WHERE seq > ?1 AND old_owner IN"
                            " (SELECT id FROM users WHERE manager_id = ?2) AND new_owner NOT IN"
                            " (SELECT id FROM users WHERE manager_id = ?2) ORDER BY seq LIMIT ?3",
    [SQ_SNAPSHOT_RECORDS] = "SELECT seq, kind, id, state FROM records WHERE owner = ?1"
                            " AND (kind, id) > (?2, ?3) AND writer IS NOT ?4"
                            " ORDER BY kind, id LIMIT ?5",
    [SQ_SNAPSHOT_REMOVALS] = "SELECT seq, kind, id FROM removals WHERE old_owner = ?1"
                             " AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
    [SQ_FLOOR_GET] = "SELECT coalesce(max(floor), 0) FROM users WHERE id = ?1 OR manager_id = ?1",
    [SQ_PULL_COUNT_REP] = "SELECT count(*) FROM records WHERE owner = ?1",
    [SQ_PULL_COUNT_MANAGER] = "SELECT count(*) FROM records WHERE owner IN (SELECT id FROM users"
                              " WHERE manager_id = ?1)",
    [SQ_ACCOUNT_RECORDS] = "SELECT kind, id FROM records WHERE account_id = ?1 ORDER BY seq",
    [SQ_RECORD_MOVE] = "UPDATE records SET seq = ?3, owner = ?4, writer = 0 WHERE kind = ?1"
                       " AND id = ?2",
    [SQ_REMOVAL_ADD] = "INSERT INTO removals(seq, kind, id, old_owner, new_owner)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_GC_REPS] = "SELECT id, coalesce(manager_id, 0), floor FROM users WHERE role = 1",
    [SQ_GC_MIN_CURSOR] = "SELECT min(cursor) FROM devices WHERE (user_id = ?1 OR user_id = ?2)"
                         " AND revoked_at = 0 AND last_seen_at >= ?3 AND cursor > 0",
    [SQ_GC_TOMBSTONES] = "DELETE FROM records WHERE owner = ?1 AND seq <= ?2 AND alive = 0",
    [SQ_GC_REMOVALS] = "DELETE FROM removals WHERE old_owner = ?1 AND seq <= ?2",
    [SQ_RAISE_FLOOR] = "UPDATE users SET floor = max(floor, ?2) WHERE id = ?1",
};

int sq_fail(sq_storage *s, const char *what, fs_err *err)
{
    int rc = sqlite3_errcode(s->db);
    /* SQLITE_FULL: the disk is full (a write failed with ENOSPC) */
    int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? FS_EBUSY
               : rc == SQLITE_FULL                        ? FS_ENOSPC
                                                          : FS_EIO;
    return fs_err_set(err, code, "server database %s: %s: %s%s", s->path, what,
                      sqlite3_errmsg(s->db),
                      code == FS_EBUSY    ? " (another writer held the lock too long: retry)"
                      : code == FS_ENOSPC ? " (its disk is full: free space beside it)"
                                          : "");
}

sqlite3_stmt *sq_stmt(sq_storage *s, enum sq_stmt idx, fs_err *err)
{
    sqlite3_stmt *st = s->stmts[idx];
    if (st == NULL) {
        if (sqlite3_prepare_v3(s->db, sq_sql[idx], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            sq_fail(s, "preparing a statement", err);
            return NULL;
        }
        s->stmts[idx] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int sq_exec_stmt(sq_storage *s, sqlite3_stmt *st, const char *what, fs_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, what, err);
    return 0;
}

int sq_dup_text(sqlite3_stmt *st, int col, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    *out = NULL;
    if (t == NULL)
        return 0;
    *out = strdup((const char *)t);
    return *out == NULL ? FS_ENOMEM : 0;
}

static sq_storage *sq(srv_storage *base)
{
    return (sq_storage *)base;
}

static int sq_exec(sq_storage *s, const char *sql, const char *what, fs_err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(s, what, err);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Transactions and the change sequence
 *
 * A push takes a sequence number per changed record. Inside a transaction the
 * counter is read once, counted up in memory and written back just before
 * COMMIT: one UPDATE per push instead of one per record. The write lock
 * (BEGIN IMMEDIATE) is held throughout, so no other writer can take a number
 * in between; a rollback simply forgets the held value. */

static int sq_begin(srv_storage *base, bool write, fs_err *err)
{
    sq(base)->seq_held = false;
    return sq_exec(sq(base), write ? "BEGIN IMMEDIATE" : "BEGIN", "starting a transaction", err);
}

static int sq_write_back_seq(sq_storage *s, fs_err *err)
{
    if (!s->seq_held)
        return 0;
    sqlite3_stmt *st = sq_stmt(s, SQ_SET_SEQ, err);
    if (st == NULL)
        return FS_EIO;
    sqlite3_bind_int64(st, 1, (int64_t)s->seq);
    return sq_exec_stmt(s, st, "storing the change number", err);
}

static int sq_commit(srv_storage *base, fs_err *err)
{
    sq_storage *s = sq(base);
    int rc = sq_write_back_seq(s, err);
    s->seq_held = false;
    if (rc == 0)
        rc = sq_exec(s, "COMMIT", "committing", err);
    if (rc != 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void sq_rollback(srv_storage *base)
{
    sq(base)->seq_held = false;
    if (!sqlite3_get_autocommit(sq(base)->db))
        sqlite3_exec(sq(base)->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_step_u64(sq_storage *s, sqlite3_stmt *st, uint64_t *out, const char *what,
                       fs_err *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return sq_fail(s, what, err);
    }
    *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int sq_last_seq(srv_storage *base, uint64_t *seq, fs_err *err)
{
    sq_storage *s = sq(base);
    if (s->seq_held) {
        *seq = s->seq;
        return 0;
    }
    sqlite3_stmt *st = sq_stmt(s, SQ_LAST_SEQ, err);
    return st == NULL ? FS_EIO : sq_step_u64(s, st, seq, "reading the change number", err);
}

int sq_next_seq(srv_storage *base, uint64_t *seq, fs_err *err)
{
    sq_storage *s = sq(base);
    if (sqlite3_get_autocommit(s->db)) { /* no transaction: take it in one statement */
        sqlite3_stmt *st = sq_stmt(s, SQ_NEXT_SEQ, err);
        return st == NULL ? FS_EIO : sq_step_u64(s, st, seq, "assigning a change number", err);
    }
    if (!s->seq_held) {
        int rc = sq_last_seq(base, &s->seq, err);
        if (rc != 0)
            return rc;
        s->seq_held = true;
    }
    *seq = ++s->seq;
    return 0;
}

static int sq_server_id(srv_storage *base, char out[SRV_SERVER_ID_LEN + 1], fs_err *err)
{
    sq_storage *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, SQ_SERVER_ID, err);
    if (st == NULL)
        return FS_EIO;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return sq_fail(s, "reading the server id", err);
    }
    snprintf(out, SRV_SERVER_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Opening and closing */

static void sq_close(srv_storage *base)
{
    sq_storage *s = sq(base);
    for (int i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

static const srv_storage_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .server_id = sq_server_id,
    .next_seq = sq_next_seq,
    .last_seq = sq_last_seq,
    .user_add = sq_user_add,
    .user_get = sq_user_get,
    .user_get_id = sq_user_get_id,
    .user_list = sq_user_list,
    .user_set_manager = sq_user_set_manager,
    .user_raise_floor = sq_raise_floor,
    .device_add = sq_device_add,
    .device_by_token = sq_device_by_token,
    .replica_owners = sq_replica_owners,
    .device_list = sq_device_list,
    .device_revoke = sq_device_revoke,
    .device_seen = sq_device_seen,
    .code_add = sq_code_add,
    .code_get = sq_code_get,
    .code_use = sq_code_use,
    .territory_get = sq_territory_get,
    .territory_set = sq_territory_set,
    .record_get = sq_record_get,
    .record_put = sq_record_put,
    .pull = sq_pull,
    .pull_count = sq_pull_count,
    .snapshot_records = sq_snapshot_records,
    .snapshot_removals = sq_snapshot_removals,
    .floor_get = sq_floor_get,
    .reassign = sq_reassign,
    .gc = sq_gc,
    .dump = sq_dump,
    .pool_attach = sq_pool_attach,
    .pool_detach = sq_pool_detach,
};

static int sq_user_version(sq_storage *s, int *version, fs_err *err)
{
    sqlite3_stmt *st;
    *version = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, "reading the schema version", err);
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (*version > SQ_SCHEMA_VERSION)
        return fs_err_set(err, FS_EVERSION,
                          "server database %s has schema %d, newer than this build's %d: "
                          "upgrade fieldsync-server",
                          s->path, *version, SQ_SCHEMA_VERSION);
    return 0;
}

/* Creates the schema or upgrades an older one, refusing a newer one. The
 * version is read again under the write lock: the pool opens several
 * connections at once, and only one of them may run the migrations. */
static int sq_init_schema(sq_storage *s, fs_err *err)
{
    int version;
    int rc = sq_user_version(s, &version, err);
    if (rc != 0 || version == SQ_SCHEMA_VERSION)
        return rc;
    uint8_t raw[SRV_SERVER_ID_LEN / 2];
    char hex[SRV_SERVER_ID_LEN + 1], sql[160];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    snprintf(sql, sizeof(sql),
             "INSERT OR IGNORE INTO meta(key, value) VALUES ('server_id', '%s');"
             "PRAGMA user_version = %d;",
             hex, SQ_SCHEMA_VERSION);
    rc = sq_exec(s, "BEGIN IMMEDIATE", "upgrading the schema", err);
    if (rc == 0)
        rc = sq_user_version(s, &version, err);
    for (int v = version; rc == 0 && v < SQ_SCHEMA_VERSION; v++)
        rc = sq_exec(s, sq_migrations[v], "upgrading the schema", err);
    if (rc == 0)
        rc = sq_exec(s, sql, "upgrading the schema", err);
    if (rc == 0)
        rc = sq_exec(s, "COMMIT", "upgrading the schema", err);
    if (rc != 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    /* an upgrade that copied a table (5 -> 6) left a WAL as large: copy it
     * in and truncate it now, or the file keeps that size while the server
     * runs (best effort: a reader already open leaves it to the next start) */
    if (rc == 0 && version > 0 && version < SQ_SCHEMA_VERSION)
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return rc;
}

int srv_sqlite_open(srv_storage **out, const char *path, bool create, fs_err *err)
{
    *out = NULL;
    sq_storage *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return fs_err_set(err, FS_ENOMEM, "out of memory opening %s", path);
    }
    s->base.ops = &sq_ops;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = fs_err_set(err, create ? FS_EIO : FS_ENOTFOUND, "cannot open server database %s: %s%s",
                        path, sqlite3_errmsg(s->db),
                        create ? "" : " (create it with `fieldsync-server user add`)");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
    char pragmas[200];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
             " PRAGMA cache_size=-%d; PRAGMA mmap_size=%d;",
             SQ_CACHE_KIB, SQ_MMAP_BYTES);
    rc = sq_exec(s, pragmas, "setting WAL mode", err);
    if (rc == 0)
        rc = sq_init_schema(s, err);
    if (rc != 0)
        goto fail;
    *out = &s->base;
    return 0;
fail:
    sq_close(&s->base);
    return rc;
}
