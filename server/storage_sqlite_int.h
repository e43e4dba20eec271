/*
 * storage_sqlite_int.h: what the two halves of the SQLite backend share
 * (storage_sqlite.c: connection, schema, transactions, the ops table;
 * storage_sqlite_users.c: users, devices, codes;
 * storage_sqlite_records.c: territory, records, pull, reassign, gc;
 * storage_sqlite_dump.c: every row, for migrate;
 * storage_sqlite_ckpt.c: a pool's WAL checkpoints on a thread of their own).
 */
#ifndef SRV_STORAGE_SQLITE_INT_H
#define SRV_STORAGE_SQLITE_INT_H

#include <sqlite3.h>

#include "storage.h"

/* How long a connection waits for a lock before FS_EBUSY. */
#define SQ_BUSY_TIMEOUT_MS 10000

/* Every statement the backend runs, prepared once per connection on first use. */
enum sq_stmt {
    SQ_NEXT_SEQ,
    SQ_LAST_SEQ,
    SQ_SET_SEQ,
    SQ_SERVER_ID,
    SQ_USER_ADD,
    SQ_USER_GET,
    SQ_USER_GET_ID,
    SQ_USER_LIST,
    SQ_USER_SET_MANAGER,
    SQ_DEVICE_ADD,
    SQ_DEVICE_BY_TOKEN,
    SQ_DEVICE_LIST,
    SQ_DEVICE_LIST_ALL,
    SQ_DEVICE_REVOKE,
    SQ_DEVICE_SEEN,
    SQ_DEVICE_SEEN_CURSOR,
    SQ_REPLICA_USED,
    SQ_REPLICA_OWNERS,
    SQ_CODE_ADD,
    SQ_CODE_GET,
    SQ_CODE_USE,
    SQ_TERRITORY_GET,
    SQ_TERRITORY_SET,
    SQ_RECORD_GET,
    SQ_RECORD_UPDATE,
    SQ_RECORD_PUT,
    SQ_PULL_REP,
    SQ_PULL_MANAGER,
    SQ_REMOVALS_REP,
    SQ_REMOVALS_MANAGER,
    SQ_SNAPSHOT_RECORDS,
    SQ_SNAPSHOT_REMOVALS,
    SQ_FLOOR_GET,
    SQ_PULL_COUNT_REP,
    SQ_PULL_COUNT_MANAGER,
    SQ_ACCOUNT_RECORDS,
    SQ_RECORD_MOVE,
    SQ_REMOVAL_ADD,
    SQ_GC_REPS,
    SQ_GC_MIN_CURSOR,
    SQ_GC_TOMBSTONES,
    SQ_GC_REMOVALS,
    SQ_RAISE_FLOOR,
    SQ_COUNT
};

typedef struct sq_storage {
    srv_storage base;
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmts[SQ_COUNT];
    /* Inside a write transaction the change counter lives here and is written
     * back once, at commit (storage_sqlite.c, "The change sequence"). */
    bool seq_held;
    uint64_t seq;
} sq_storage;

/* The prepared statement idx, reset and with bindings cleared; NULL on error
 * (with err filled). */
sqlite3_stmt *sq_stmt(sq_storage *s, enum sq_stmt idx, fs_err *err);
/* Fills err from the connection's last error; FS_EBUSY for a lock timeout,
 * FS_EIO otherwise. */
int sq_fail(sq_storage *s, const char *what, fs_err *err);
/* Steps a statement that returns no row (SQLITE_DONE expected). */
int sq_exec_stmt(sq_storage *s, sqlite3_stmt *st, const char *what, fs_err *err);
/* Duplicates a column's text (NULL stays NULL); FS_ENOMEM on failure. */
int sq_dup_text(sqlite3_stmt *st, int col, char **out);

int sq_next_seq(srv_storage *base, uint64_t *seq, fs_err *err);
int sq_last_seq(srv_storage *base, uint64_t *seq, fs_err *err);

int sq_user_add(srv_storage *base, const char *name, srv_role role, int64_t manager_id, int64_t *id,
                fs_err *err);
int sq_user_get(srv_storage *base, const char *name, srv_user *out, fs_err *err);
int sq_user_get_id(srv_storage *base, int64_t id, srv_user *out, fs_err *err);
int sq_user_list(srv_storage *base, srv_user **out, size_t *n, fs_err *err);
int sq_user_set_manager(srv_storage *base, int64_t id, int64_t manager_id, fs_err *err);
int sq_device_add(srv_storage *base, const srv_device *d, const uint8_t *token_hash, int64_t *id,
                  fs_err *err);
int sq_device_by_token(srv_storage *base, const uint8_t *token_hash, srv_device *out, fs_err *err);
int sq_replica_owners(srv_storage *base, uint64_t replica, srv_device **out, size_t *n,
                      fs_err *err);
int sq_device_list(srv_storage *base, int64_t user_id, srv_device **out, size_t *n, fs_err *err);
int sq_device_revoke(srv_storage *base, int64_t id, int64_t now, fs_err *err);
int sq_device_seen(srv_storage *base, int64_t id, int64_t now, bool set_cursor, uint64_t cursor,
                   fs_err *err);
int sq_code_add(srv_storage *base, const uint8_t *code_hash, int64_t user_id, int64_t expires_at,
                fs_err *err);
int sq_code_get(srv_storage *base, const uint8_t *code_hash, srv_code *out, fs_err *err);
int sq_code_use(srv_storage *base, const uint8_t *code_hash, int64_t now, fs_err *err);

int sq_territory_get(srv_storage *base, const char *account_id, int64_t *owner, fs_err *err);
int sq_territory_set(srv_storage *base, const char *account_id, int64_t owner, fs_err *err);
int sq_record_get(srv_storage *base, fs_kind kind, const char *id, srv_record *out, fs_err *err);
int sq_record_put(srv_storage *base, const srv_record *r, fs_err *err);
int sq_pull(srv_storage *base, const srv_user *user, const srv_pull_query *q, srv_pull_page *page,
            fs_err *err);
int sq_pull_count(srv_storage *base, const srv_user *user, uint64_t *n, fs_err *err);
int sq_snapshot_records(srv_storage *base, int64_t owner, fs_kind kind, const char *after_id,
                        int64_t skip_writer, size_t limit, srv_pull_item **items, size_t *n,
                        fs_err *err);
int sq_snapshot_removals(srv_storage *base, int64_t owner, uint64_t after, uint64_t upto,
                         size_t limit, srv_pull_item **items, size_t *n, fs_err *err);
int sq_floor_get(srv_storage *base, const srv_user *user, uint64_t *floor, fs_err *err);
int sq_reassign(srv_storage *base, const char *account_id, int64_t new_owner, size_t *moved,
                fs_err *err);
int sq_gc(srv_storage *base, int64_t now, int64_t horizon_s, srv_gc_report *report, fs_err *err);
int sq_raise_floor(srv_storage *base, int64_t id, uint64_t floor, fs_err *err);
int sq_dump(srv_storage *base, const srv_dump_sink *sink, fs_err *err);
/* storage_sqlite_ckpt.c: checkpoints of a pool's connections on a thread. */
int sq_pool_attach(srv_storage *const *conns, size_t n, const char *db, void **helper, fs_err *err);
void sq_pool_detach(void *helper);

#endif
