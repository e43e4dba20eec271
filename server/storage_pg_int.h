/*
 * storage_pg_int.h: what the parts of the PostgreSQL backend share
 * (storage_pg.c: connection, schema, transactions, change numbers;
 * storage_pg_users.c: users, devices, codes; storage_pg_records.c: territory,
 * records, pull, reassign, gc; storage_pg_load.c: migrate's destination).
 *
 * Statements are prepared once per connection on first use and run with
 * binary results; parameters are text, except bytea ones (binary).
 */
#ifndef SRV_STORAGE_PG_INT_H
#define SRV_STORAGE_PG_INT_H

#include <libpq-fe.h>

#include "storage.h"

/* A change number is (transaction id + offset) << PG_SEQ_SHIFT | n, n counting
 * the transaction's changes from 1 (docs/server.md, "Change numbers on
 * PostgreSQL"). */
#define PG_SEQ_SHIFT 20
#define PG_SEQ_PER_TXN ((1u << PG_SEQ_SHIFT) - 1)

enum pg_stmt {
    PG_XID,
    PG_HORIZON,
    PG_SERVER_ID,
    PG_USER_ADD,
    PG_USER_GET,
    PG_USER_GET_ID,
    PG_USER_LIST,
    PG_USER_SET_MANAGER,
    PG_RAISE_FLOOR,
    PG_DEVICE_ADD,
    PG_DEVICE_BY_TOKEN,
    PG_DEVICE_LIST,
    PG_DEVICE_LIST_ALL,
    PG_DEVICE_REVOKE,
    PG_DEVICE_SEEN,
    PG_DEVICE_SEEN_CURSOR,
    PG_REPLICA_USED,
    PG_REPLICA_OWNERS,
    PG_CODE_ADD,
    PG_CODE_GET,
    PG_CODE_USE,
    PG_TERRITORY_GET,
    PG_TERRITORY_SET,
    PG_RECORD_GET,
    PG_RECORD_PUT,
    PG_PULL_REP,
    PG_PULL_MANAGER,
    PG_REMOVALS_REP,
    PG_REMOVALS_MANAGER,
    PG_SNAPSHOT_RECORDS,
    PG_SNAPSHOT_REMOVALS,
    PG_FLOOR_GET,
    PG_PULL_COUNT_REP,
    PG_PULL_COUNT_MANAGER,
    PG_ACCOUNT_MOVE,
    PG_GC_REPS,
    PG_GC_MIN_CURSOR,
    PG_GC_TOMBSTONES,
    PG_GC_REMOVALS,
    PG_COUNT
};

typedef struct pg_storage {
    srv_storage base;
    PGconn *conn;
    char *where; /* "database D on H": names it in messages, never the password */
    bool prepared[PG_COUNT];
    int64_t offset;           /* meta seq_offset, read at open */
    bool in_txn;              /* begin ran and neither commit nor rollback yet */
    int64_t xid;              /* the open transaction's id once it drew a change number, else 0 */
    uint32_t drawn;           /* change numbers the open transaction drew */
    struct pg_loader *loader; /* migrate's destination state (storage_pg_load.c) */
} pg_storage;

/* Parameters of one statement: text, or binary for bytea. */
#define PG_MAX_PARAMS 10
typedef struct pg_params {
    const char *v[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
    int n;
} pg_params;

void pg_param_i64(pg_params *p, int64_t v);
void pg_param_text(pg_params *p, const char *v);
void pg_param_bytes(pg_params *p, const void *v, size_t len);
void pg_param_null(pg_params *p);

/* Runs statement idx. On success *out holds the result (PQclear it); on
 * failure err is filled: FS_ECONFLICT when the transaction lost to a
 * concurrent one (serialization failure, deadlock: run it again), FS_EBUSY
 * for what a later retry may cure (lost connection, lock timeout), FS_EIO
 * otherwise. */
int pg_run(pg_storage *s, enum pg_stmt idx, const pg_params *p, PGresult **out, const char *what,
           fs_err *err);
/* pg_run for a statement outside the table: prepared under name on first use
 * (*prepared tracks it). */
int pg_run_named(pg_storage *s, const char *name, const char *sql, bool *prepared,
                 const pg_params *p, PGresult **out, const char *what, fs_err *err);
/* pg_run for a statement whose result is not needed; *changed: rows affected
 * (may be NULL). */
int pg_exec(pg_storage *s, enum pg_stmt idx, const pg_params *p, size_t *changed, const char *what,
            fs_err *err);
/* Runs SQL text without parameters (schema, transaction control). */
int pg_exec_sql(pg_storage *s, const char *sql, const char *what, fs_err *err);
/* The error for a failed result (or a dead connection when res is NULL). */
int pg_fail(pg_storage *s, const PGresult *res, const char *what, fs_err *err);

/* Binary result values: an integer column of any width, a NUL-terminated
 * text, a malloc'd copy of text. NULL reads as 0 / "". */
int64_t pg_i64(const PGresult *r, int row, int col);
const char *pg_text(const PGresult *r, int row, int col);
int pg_dup(const PGresult *r, int row, int col, char **out);

/* The change-number horizon of the current snapshot: every number below it
 * is final (its transaction has ended). */
int pg_horizon(pg_storage *s, uint64_t *h, fs_err *err);
int pg_next_seq(srv_storage *base, uint64_t *seq, fs_err *err);
/* Keeps change numbers ahead of every stored one and of at_least, raising
 * the offset when they are not: after a logical restore (pg_dump into a new
 * cluster) transaction ids start low again, and migrate brings SQLite's
 * numbers. Runs in the open transaction. */
int pg_keep_ahead(pg_storage *s, uint64_t at_least, fs_err *err);
int pg_last_seq(srv_storage *base, uint64_t *seq, fs_err *err);
int pg_raise_floor(srv_storage *base, int64_t id, uint64_t floor, fs_err *err);

extern const srv_storage_ops pg_ops;

/* The two halves of the ops table. */
int pg_user_add(srv_storage *base, const char *name, srv_role role, int64_t manager_id, int64_t *id,
                fs_err *err);
int pg_user_get(srv_storage *base, const char *name, srv_user *out, fs_err *err);
int pg_user_get_id(srv_storage *base, int64_t id, srv_user *out, fs_err *err);
int pg_user_list(srv_storage *base, srv_user **out, size_t *n, fs_err *err);
int pg_user_set_manager(srv_storage *base, int64_t id, int64_t manager_id, fs_err *err);
int pg_device_add(srv_storage *base, const srv_device *d, const uint8_t *token_hash, int64_t *id,
                  fs_err *err);
int pg_device_by_token(srv_storage *base, const uint8_t *token_hash, srv_device *out, fs_err *err);
int pg_replica_owners(srv_storage *base, uint64_t replica, srv_device **out, size_t *n,
                      fs_err *err);
int pg_device_list(srv_storage *base, int64_t user_id, srv_device **out, size_t *n, fs_err *err);
int pg_device_revoke(srv_storage *base, int64_t id, int64_t now, fs_err *err);
int pg_device_seen(srv_storage *base, int64_t id, int64_t now, bool set_cursor, uint64_t cursor,
                   fs_err *err);
int pg_code_add(srv_storage *base, const uint8_t *code_hash, int64_t user_id, int64_t expires_at,
                fs_err *err);
int pg_code_get(srv_storage *base, const uint8_t *code_hash, srv_code *out, fs_err *err);
int pg_code_use(srv_storage *base, const uint8_t *code_hash, int64_t now, fs_err *err);

int pg_territory_get(srv_storage *base, const char *account_id, int64_t *owner, fs_err *err);
int pg_territory_set(srv_storage *base, const char *account_id, int64_t owner, fs_err *err);
int pg_record_get(srv_storage *base, fs_kind kind, const char *id, srv_record *out, fs_err *err);
int pg_record_put(srv_storage *base, const srv_record *r, fs_err *err);
int pg_pull(srv_storage *base, const srv_user *user, const srv_pull_query *q, srv_pull_page *page,
            fs_err *err);
int pg_pull_count(srv_storage *base, const srv_user *user, uint64_t *n, fs_err *err);
int pg_snapshot_records(srv_storage *base, int64_t owner, fs_kind kind, const char *after_id,
                        int64_t skip_writer, size_t limit, srv_pull_item **items, size_t *n,
                        fs_err *err);
int pg_snapshot_removals(srv_storage *base, int64_t owner, uint64_t after, uint64_t upto,
                         size_t limit, srv_pull_item **items, size_t *n, fs_err *err);
int pg_floor_get(srv_storage *base, const srv_user *user, uint64_t *floor, fs_err *err);
int pg_reassign(srv_storage *base, const char *account_id, int64_t new_owner, size_t *moved,
                fs_err *err);
int pg_gc(srv_storage *base, int64_t now, int64_t horizon_s, srv_gc_report *report, fs_err *err);
int pg_load(srv_storage *base, srv_dump_sink *sink, fs_err *err);

#endif
