/*
 * storage.h: the server's storage interface. Handlers and the admin CLI reach
 * the database only through srv_storage_ops, so a PostgreSQL backend can follow
 * the SQLite one (storage_sqlite.c) without touching them. No SQL outside the
 * backends.
 *
 * Two backends: SQLite (storage_sqlite*.c, one file, the embedded default) and
 * PostgreSQL (storage_pg*.c, `--db postgresql://...`, several server processes
 * on one database). srv_storage_open picks one by the --db value.
 *
 * One srv_storage is one connection: it is used by one thread at a time (the
 * HTTP layer keeps a pool, srv_pool). Every call except begin/commit/rollback
 * runs inside the caller's transaction when one is open. Any call may fail
 * with FS_EBUSY (locked too long, connection lost: retry later) and, on
 * PostgreSQL, FS_ECONFLICT (the transaction lost to a concurrent one and must
 * be rolled back; running it again may succeed at once).
 *
 * The data model:
 * - users: reps and managers; a rep may have a manager (their team).
 * - devices: enrolled replicas of a user, with the hash of their token, their
 *   last acknowledged pull cursor, last-seen time and revocation time, and the
 *   prior replica id their store wrote with before enrollment when the server
 *   granted it (0: none). Replica ids are never reused: device rows are never
 *   deleted.
 * - codes: hashes of one-time enrollment codes with their user and expiry.
 * - territory: account id -> owner rep. Set when a rep first pushes the account,
 *   changed only by reassign. The record's own `owner` field is never trusted
 *   (the server writes the territory's owner into it: owner.h).
 * - records: (kind, id) -> encoded canonical state, the account it belongs to,
 *   that account's owner (kept equal to the territory's), alive flag, the
 *   change sequence number of its last change and the device whose push made
 *   that change (0 after a reassignment). Read in change order (pull) or, for
 *   a snapshot, per owner in (kind, id) order.
 * - removals: (seq, kind, id, old owner, new owner) written by reassign.
 * - change sequence: records and removals draw increasing numbers from it, and
 *   a pull never sees a number before every smaller one it will ever see is
 *   visible (SQLite: one counter under the write lock; PostgreSQL: numbers
 *   derived from transaction ids, read up to the oldest running transaction;
 *   docs/server.md, "Change numbers on PostgreSQL"). Numbers may have gaps.
 * - floors: per rep, the sequence number below which tombstones and removals of
 *   their territory may have been collected.
 */
#ifndef SRV_STORAGE_H
#define SRV_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/record.h"

#define SRV_NAME_MAX 64
#define SRV_DEVICE_NAME_MAX 128
#define SRV_SERVER_ID_LEN 32
#define SRV_HASH_LEN 32

typedef enum srv_role {
    SRV_ROLE_REP = 1,
    SRV_ROLE_MANAGER = 2,
} srv_role;

typedef struct srv_user {
    int64_t id;
    char name[SRV_NAME_MAX + 1];
    srv_role role;
    int64_t manager_id; /* 0: none */
    uint64_t floor;     /* reps: the territory's tombstone floor */
} srv_user;

typedef struct srv_device {
    int64_t id;
    int64_t user_id;
    uint64_t replica;
    char name[SRV_DEVICE_NAME_MAX + 1];
    int64_t created_at;     /* Unix seconds */
    int64_t last_seen_at;   /* Unix seconds */
    int64_t revoked_at;     /* 0: active */
    uint64_t cursor;        /* last cursor the device pulled from */
    uint64_t prior_replica; /* also this device's, from before enrollment; 0: none */
} srv_device;

typedef struct srv_code {
    int64_t user_id;
    int64_t expires_at;
    int64_t used_at; /* 0: unused */
} srv_code;

/* A stored record. Strings and state are malloc'd by get, borrowed by put. */
typedef struct srv_record {
    fs_kind kind;
    char *id;
    char *account_id;
    int64_t owner;  /* the territory's owner of account_id (put only) */
    int64_t writer; /* the device whose push wrote this version, 0: none (put only) */
    bool stored;    /* put only: the caller read the record, so it exists (a hint) */
    uint64_t seq;
    bool alive;
    uint8_t *state;
    size_t state_len;
} srv_record;

void srv_record_clear(srv_record *r);

/* One entry of a pull page: a state (encoded) or a removal (state NULL). */
typedef struct srv_pull_item {
    uint64_t seq;
    fs_kind kind;
    char *id;
    uint8_t *state; /* NULL for a removal */
    size_t state_len;
} srv_pull_item;

typedef struct srv_pull_page {
    srv_pull_item *items;
    size_t n;
    uint64_t next_cursor;
    bool more;
    uint8_t *snapshot; /* a snapshot's next position (snapshot.h), NULL otherwise */
    size_t snapshot_len;
} srv_pull_page;

void srv_pull_page_clear(srv_pull_page *p);

/* What a pull asks for. */
typedef struct srv_pull_query {
    uint64_t cursor;     /* changes after this seq */
    size_t limit;        /* items per page */
    size_t max_bytes;    /* about this many bytes of states per page (at least one item) */
    int64_t skip_writer; /* leave out states this device's push wrote last; 0: none */
} srv_pull_query;

typedef struct srv_gc_report {
    size_t tombstones; /* tombstone records deleted */
    size_t removals;   /* removal entries deleted */
    size_t reps;       /* territories whose floor was raised */
} srv_gc_report;

/* Merges a pull's two ascending streams (records, removals) into page: up to
 * limit items and about max_bytes of states (at least one item); more when
 * either stream has an item left. Items are moved out of the streams. */
int srv_pull_merge(srv_pull_item *recs, size_t nr, srv_pull_item *rems, size_t nm, size_t limit,
                   size_t max_bytes, srv_pull_page *page);
void srv_pull_items_free(srv_pull_item *items, size_t n);

/*
 * Every row of a database, for `migrate`: meta first, then users (managers
 * before their reps), devices, codes, territory, records, removals, finish.
 * Strings and buffers are borrowed for the call.
 */
typedef struct srv_dump_sink {
    void *arg;
    int (*meta)(void *arg, const char *server_id, uint64_t last_seq, fs_err *err);
    int (*user)(void *arg, const srv_user *u, fs_err *err);
    int (*device)(void *arg, const srv_device *d, const uint8_t *token_hash, fs_err *err);
    int (*code)(void *arg, const uint8_t *hash, const srv_code *c, fs_err *err);
    int (*territory)(void *arg, const char *account_id, int64_t owner, fs_err *err);
    int (*record)(void *arg, const srv_record *r, fs_err *err);
    int (*removal)(void *arg, uint64_t seq, fs_kind kind, const char *id, int64_t old_owner,
                   int64_t new_owner, fs_err *err);
    int (*finish)(void *arg, fs_err *err);
} srv_dump_sink;

typedef struct srv_storage srv_storage;

typedef struct srv_storage_ops {
    const char *name;
    void (*close)(srv_storage *s);

    /* write: take the write lock now (BEGIN IMMEDIATE), so a read-then-write
     * transaction never fails to upgrade. */
    int (*begin)(srv_storage *s, bool write, fs_err *err);
    int (*commit)(srv_storage *s, fs_err *err);
    void (*rollback)(srv_storage *s);

    /* The random id minted when the database was created. */
    int (*server_id)(srv_storage *s, char out[SRV_SERVER_ID_LEN + 1], fs_err *err);
    /* Increments and returns the global change sequence (write transaction). */
    int (*next_seq)(srv_storage *s, uint64_t *seq, fs_err *err);
    int (*last_seq)(srv_storage *s, uint64_t *seq, fs_err *err);

    /* FS_EEXIST for a taken name; FS_ENOTFOUND for an unknown manager. */
    int (*user_add)(srv_storage *s, const char *name, srv_role role, int64_t manager_id,
                    int64_t *id, fs_err *err);
    int (*user_get)(srv_storage *s, const char *name, srv_user *out, fs_err *err);
    int (*user_get_id)(srv_storage *s, int64_t id, srv_user *out, fs_err *err);
    int (*user_list)(srv_storage *s, srv_user **out, size_t *n, fs_err *err);
    /* Puts user id under manager_id (0: no manager). FS_ENOTFOUND for an
     * unknown user. */
    int (*user_set_manager)(srv_storage *s, int64_t id, int64_t manager_id, fs_err *err);
    /* Raises user id's floor to floor (never lowers it). */
    int (*user_raise_floor)(srv_storage *s, int64_t id, uint64_t floor, fs_err *err);

    /* FS_EEXIST when the replica id was ever used (as a replica or a prior
     * replica). token_hash: SRV_HASH_LEN. d->prior_replica is stored as given. */
    int (*device_add)(srv_storage *s, const srv_device *d, const uint8_t *token_hash, int64_t *id,
                      fs_err *err);
    int (*device_by_token)(srv_storage *s, const uint8_t *token_hash, srv_device *out, fs_err *err);
    /* The devices whose replica or prior replica is replica (*n 0: nobody's). */
    int (*replica_owners)(srv_storage *s, uint64_t replica, srv_device **out, size_t *n,
                          fs_err *err);
    /* user_id 0: every device. */
    int (*device_list)(srv_storage *s, int64_t user_id, srv_device **out, size_t *n, fs_err *err);
    /* FS_ENOTFOUND for an unknown device; revoking twice keeps the first time. */
    int (*device_revoke)(srv_storage *s, int64_t id, int64_t now, fs_err *err);
    /* Records a request: last seen now, and the pull cursor when set_cursor. */
    int (*device_seen)(srv_storage *s, int64_t id, int64_t now, bool set_cursor, uint64_t cursor,
                       fs_err *err);

    int (*code_add)(srv_storage *s, const uint8_t *code_hash, int64_t user_id, int64_t expires_at,
                    fs_err *err);
    int (*code_get)(srv_storage *s, const uint8_t *code_hash, srv_code *out, fs_err *err);
    int (*code_use)(srv_storage *s, const uint8_t *code_hash, int64_t now, fs_err *err);

    /* FS_ENOTFOUND for an account with no owner yet. */
    int (*territory_get)(srv_storage *s, const char *account_id, int64_t *owner, fs_err *err);
    int (*territory_set)(srv_storage *s, const char *account_id, int64_t owner, fs_err *err);

    /* FS_ENOTFOUND when absent. */
    int (*record_get)(srv_storage *s, fs_kind kind, const char *id, srv_record *out, fs_err *err);
    /* Inserts or replaces the record (all of its columns). */
    int (*record_put)(srv_storage *s, const srv_record *r, fs_err *err);

    /*
     * The page of changes after cursor that user may read, ascending by seq:
     * states of the records of the user's territory (a manager: the team's),
     * and removals of records that left it. At most q->limit items and about
     * q->max_bytes of states (at least one item). States whose last change
     * q->skip_writer pushed are left out: that device has them from its push's
     * answer. next_cursor: the last item's seq when more, else the current
     * last seq (so invisible and skipped changes are passed once). Run it in a
     * read transaction for a consistent snapshot.
     */
    int (*pull)(srv_storage *s, const srv_user *user, const srv_pull_query *q, srv_pull_page *page,
                fs_err *err);
    /* How many records a pull from cursor 0 gives user (their territory's, a
     * manager's team's): the total behind a first sync's or a resync's
     * progress. Optional: NULL when a backend cannot count cheaply (the pull
     * then carries no total). */
    int (*pull_count)(srv_storage *s, const srv_user *user, uint64_t *n, fs_err *err);
    /*
     * A snapshot's records (protocol.md, "Snapshot"): up to limit states of
     * owner's records ascending by (kind, id) after (kind, after_id) (kind 0
     * and "": from the first), leaving out those whose current version
     * skip_writer pushed (0: none). Each item carries its record's seq. Any
     * transaction will do: a record that changes between two calls comes
     * again in the change feed that follows the snapshot.
     */
    int (*snapshot_records)(srv_storage *s, int64_t owner, fs_kind kind, const char *after_id,
                            int64_t skip_writer, size_t limit, srv_pull_item **items, size_t *n,
                            fs_err *err);
    /* Removals of records that left owner's territory numbered in (after,
     * upto], ascending, up to limit (removal items: no state). */
    int (*snapshot_removals)(srv_storage *s, int64_t owner, uint64_t after, uint64_t upto,
                             size_t limit, srv_pull_item **items, size_t *n, fs_err *err);
    /* The highest floor of the territories user reads. */
    int (*floor_get)(srv_storage *s, const srv_user *user, uint64_t *floor, fs_err *err);

    /*
     * Moves an account to new_owner: the account and every record under it get
     * new sequence numbers, and a removal for the old owner with the same seq.
     * FS_ENOTFOUND when the account has no owner. *moved: records moved.
     */
    int (*reassign)(srv_storage *s, const char *account_id, int64_t new_owner, size_t *moved,
                    fs_err *err);

    /*
     * Per rep: the floor rises to the lowest cursor of the active devices that
     * read the territory (the rep's and their manager's, not revoked, seen
     * within horizon_s, cursor > 0), or to the last seq when there is none;
     * tombstones and removals at or below the floor are deleted.
     */
    int (*gc)(srv_storage *s, int64_t now, int64_t horizon_s, srv_gc_report *report, fs_err *err);

    /* migrate: dump feeds every row of s to sink (run it in a read
     * transaction); load fills sink with writers into s, an empty database
     * (run them and finish in a write transaction). NULL where a backend is
     * not a source (PostgreSQL) or a destination (SQLite). */
    int (*dump)(srv_storage *s, const srv_dump_sink *sink, fs_err *err);
    int (*load)(srv_storage *s, srv_dump_sink *sink, fs_err *err);

    /* Work beside a pool's n connections to db (srv_pool_new), stopped by
     * pool_detach after they closed: SQLite checkpoints its WAL on a thread of
     * its own instead of inside commits. NULL where a backend has none. */
    int (*pool_attach)(srv_storage *const *conns, size_t n, const char *db, void **helper,
                       fs_err *err);
    void (*pool_detach)(void *helper);
} srv_storage_ops;

struct srv_storage {
    const srv_storage_ops *ops;
};

/* The SQLite backend: opens (creating when create) the database at path, in WAL
 * mode with a busy timeout. */
int srv_sqlite_open(srv_storage **out, const char *path, bool create, fs_err *err);

/* The PostgreSQL backend: connects with a libpq URI (postgresql://...) and
 * creates the schema when create (the database itself must exist). Without
 * create, a database with no schema is FS_ENOTFOUND. */
int srv_pg_open(srv_storage **out, const char *uri, bool create, fs_err *err);

/* Whether db names a PostgreSQL database (postgresql:// or postgres://). */
bool srv_storage_is_pg(const char *db);
/* Opens db with the backend it names. */
int srv_storage_open(srv_storage **out, const char *db, bool create, fs_err *err);

void srv_storage_close(srv_storage *s);

/* ------------------------------------------------------------------------- */
/* A fixed pool of connections shared by the HTTP worker threads. */

typedef struct srv_pool srv_pool;

int srv_pool_new(srv_pool **out, const char *db, size_t n, fs_err *err);
void srv_pool_free(srv_pool *p);
/* Blocks until a connection is free. */
srv_storage *srv_pool_acquire(srv_pool *p);
void srv_pool_release(srv_pool *p, srv_storage *s);

#endif
