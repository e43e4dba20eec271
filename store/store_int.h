/*
 * store_int.h: what the store's files share and nobody else sees: the fs_store
 * struct, transaction helpers, SQLite error mapping and the per-record helpers
 * (load, save with projections) that local puts, outbox acks and remote applies
 * all go through, so every path keeps state, projections and FTS in step.
 */
#ifndef FIELDSYNC_STORE_INT_H
#define FIELDSYNC_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "fieldsync/record.h"
#include "fieldsync/store.h"

/* The statement cache's size (stmts.c): every fixed query of the store fits. */
#define FS_STORE_STMTS 64

typedef struct fs_store_ckpt fs_store_ckpt;

typedef struct fs_store_stmt {
    sqlite3_stmt *stmt; /* NULL: a free slot */
    const char *sql;    /* the text it was last asked for by (a literal, mostly) */
    uint32_t hash;      /* of its SQL text */
    bool lent;          /* handed out and not yet finished */
} fs_store_stmt;

struct fs_store {
    sqlite3 *db;
    fs_store_stmt stmts[FS_STORE_STMTS];
    char *path;     /* database file */
    char *keyfile;  /* NULL: plain store */
    unsigned flags; /* fs_store_open flags */
    uint64_t replica;
    fs_hlc hlc;
    uint64_t (*clock_ms)(void *arg);
    void *clock_arg;
    bool defer_maintenance;   /* fs_store_defer_maintenance: survives reopening */
    int autocheckpoint_pages; /* the connection's own limit, restored on undeferring */
    bool defer_search;        /* while applying a pulled page under defer_maintenance */
    int64_t page_first_rid;   /* ... the first record it inserted: queued with the rest */
    bool loading;             /* an initial load goes on (load.c): its marker is stored */
    bool bulk_open;           /* its batch transaction is open across pages */
    size_t bulk_states;       /* states in that batch */
    size_t load_batch;        /* fs_store_set_load_batch; 0: FS_STORE_LOAD_BATCH */
    fs_store_ckpt *ckpt;      /* the checkpointer thread while deferring (checkpoint.c) */
    bool fts_crisis_raised;   /* a backlog is being indexed and merged (maintain.c) */
};

/* SQLite result code -> FS_E*, with a message naming what was being done. */
int fs_store_sqlerr(fs_store *st, int rc, fs_err *err, const char *what);

/* BEGIN IMMEDIATE (committing an initial load's open batch first) / COMMIT /
 * ROLLBACK. rollback never fails visibly. */
int fs_store_begin(fs_store *st, fs_err *err);
int fs_store_commit(fs_store *st, fs_err *err);
void fs_store_rollback(fs_store *st);

/* Registers the search index's tokenizer and its content's text function
 * (search_text.c) on a new connection, before the FTS table is touched
 * (tokenize.c). */
int fs_store_register_search(sqlite3 *db, fs_err *err);
int fs_store_register_search_text(sqlite3 *db, fs_err *err);

/* What a record's search row says (search_text.c): whether its kind has one,
 * and the name and body (malloc'd, never NULL) of the visible value of a state
 * of such a kind, read from its few fields without decoding the rest. */
bool fs_store_kind_searchable(fs_kind kind);
int fs_store_search_text(const fs_state *state, char **name, char **body, fs_err *err);

/* Initial load (load.c). At open: whether the marker says a load goes on;
 * migrating: a migration is about to run, so the load's indexes are built
 * first and it ends. */
int fs_store_load_resume(fs_store *st, bool migrating, fs_err *err);
/* One pulled page's work inside the open batch transaction. */
typedef int (*fs_store_page_fn)(fs_store *st, void *ctx, fs_err *err);
/* Runs apply as one page of the load's batch (a savepoint: a page that fails
 * leaves the batch's earlier pages), committing the batch when it is full. */
int fs_store_load_page(fs_store *st, fs_store_page_fn apply, void *ctx, size_t nstates,
                       fs_err *err);

/*
 * A transaction that commits without flushing the WAL (synchronous=NORMAL),
 * for what the server holds and gives again: pulled pages, the outbox's
 * bookkeeping of a push. A power cut may lose such a commit, never a local
 * change (those commit FULL, flushing everything before them). end commits
 * when rc is 0 (else rolls back), puts FULL back, and returns the outcome.
 */
int fs_store_begin_unflushed(fs_store *st, fs_err *err);
int fs_store_end_unflushed(fs_store *st, int rc, fs_err *err);

/* A new store's schema of this version, in a plain in-memory database of its
 * own (schema.c): what fs_store_check compares a store's indexes with. */
int fs_store_schema_reference(sqlite3 **out, fs_err *err);

/* Re-applies deferred maintenance to a (re)opened connection (maintain.c). */
int fs_store_apply_maintenance_mode(fs_store *st, fs_err *err);

/* The checkpointer thread of a deferring owner (checkpoint.c): start (a no-op
 * when it runs), ask it for a checkpoint, stop (a no-op when it does not run).
 * Stop it before closing or copying the database. */
/* New WAL pages that wake it: where a deferring owner's commit used to
 * checkpoint itself (80 MiB at 4 KiB pages), so there are no more checkpoints
 * than before, only off the committing thread. */
#define FS_STORE_CKPT_PAGES FS_STORE_WAL_LIMIT_PAGES
/* The WAL size at which a commit checkpoints itself: the thread fell behind. */
#define FS_STORE_CKPT_FORCE_PAGES (2 * FS_STORE_WAL_LIMIT_PAGES)
int fs_store_ckpt_start(fs_store *st, fs_err *err);
void fs_store_ckpt_wake(fs_store *st);
void fs_store_ckpt_stop(fs_store *st);

/* Runs a statement without results. */
int fs_store_exec(fs_store *st, const char *sql, fs_err *err);
/* A statement for sql, from the cache when one is idle (stmts.c); on failure
 * fills err. Give it back with fs_store_finish, never sqlite3_finalize. */
int fs_store_prepare(fs_store *st, const char *sql, sqlite3_stmt **stmt, fs_err *err);
/* Returns a statement from fs_store_prepare: reset with bindings cleared when
 * cached, finalized otherwise. NULL is ignored. */
void fs_store_finish(fs_store *st, sqlite3_stmt *stmt);
/* Whether sql returns a row, its parameter ?1 (if it has one) bound to id;
 * what names the lookup in an error. */
int fs_store_has_row(fs_store *st, const char *sql, int64_t id, bool *yes, const char *what,
                     fs_err *err);
/* Finalizes every cached statement; before the connection closes. */
void fs_store_stmts_clear(fs_store *st);

/* Migrations (schema.c): brings the schema to FS_STORE_SCHEMA_VERSION. */
int fs_store_migrate(fs_store *st, fs_err *err);

/* Record rows (records.c). *rid is the records rowid, 0 when not found. */
int fs_store_load(fs_store *st, fs_kind kind, const char *id, int64_t *rid, fs_state **state,
                  fs_err *err);
/* Writes state (inserting when rid == 0) and its projections; inside a transaction. */
int fs_store_save(fs_store *st, int64_t rid, const fs_state *state, fs_err *err);
/* Removes a record, its projections and FTS row (a removal, not a delete). */
int fs_store_remove(fs_store *st, int64_t rid, fs_err *err);
/* fs_store_delete inside the caller's transaction (a cascade deletes several). */
int fs_store_delete_in(fs_store *st, fs_kind kind, const char *id, fs_err *err);
/* Joins other into the stored record (creating it), saving only when it changed. */
int fs_store_join_save(fs_store *st, const fs_state *other, bool *changed, fs_err *err);

/* Projections (project.c): rewrites the per-kind row and FTS row of a record;
 * fresh: rid was just inserted, so there is nothing to replace (every removal
 * of a records row removes its projections, so a reused rid has none). */
int fs_store_project(fs_store *st, int64_t rid, const fs_state *state, bool fresh, fs_err *err);
int fs_store_unproject(fs_store *st, int64_t rid, fs_kind kind, fs_err *err);
/* Rebuilds every projection from the stored states (migrations use it). */
int fs_store_reproject_all(fs_store *st, fs_err *err);
/* At the end of a pulled page under defer_search, queues the records it
 * inserted for their search rows, in one statement (those it changed were
 * queued one by one). */
int fs_store_queue_page_search(fs_store *st, fs_err *err);
/* Indexes up to limit queued records for search, in one transaction (the
 * caller, maintenance, has seen that some wait). */
int fs_store_index_backlog(fs_store *st, size_t limit, fs_err *err);

/* The next HLC for a local write, persisted in sync_meta by the caller's transaction. */
int fs_store_tick(fs_store *st, uint64_t *hlc, fs_err *err);
/* Records remote timestamps so later local writes order after them. */
void fs_store_observe(fs_store *st, const fs_state *state);
int fs_store_save_hlc(fs_store *st, fs_err *err);

/* Queues a local change (outbox.c), inside the caller's transaction: the record's
 * pending entry takes the new state, or a new entry goes to the end. */
int fs_outbox_append(fs_store *st, const fs_state *state, fs_err *err);
/* Whether the record has any outbox entry (unsynced local changes). */
int fs_outbox_has(fs_store *st, fs_kind kind, const char *id, bool *has, fs_err *err);
/* Drops the record's outbox entries when the server refused every one of them
 * as READ_ONLY (none pending, in flight or refused for another reason);
 * *dropped says whether there were any. */
int fs_outbox_drop_read_only(fs_store *st, fs_kind kind, const char *id, bool *dropped,
                             fs_err *err);
/* At open: in-flight entries go back to pending. */
int fs_outbox_recover(fs_store *st, fs_err *err);

/* Sets up a connection just opened on st->db: the busy timeout, and
 * secure_delete (store.c). */
int fs_store_configure(fs_store *st, fs_err *err);
/* Opening a database file with the right key (rekey.c): try the DEK, then the
 * next DEK, and finish or abandon an interrupted rekey. */
int fs_store_open_keyed(fs_store *st, const char *passphrase, size_t passphrase_len, unsigned flags,
                        fs_err *err);

/* Query texts (query.c, search.c, report.c), exposed so tests can EXPLAIN
 * their plans. */
int fs_store_list_sql(const fs_list_query *q, char *sql, size_t size, fs_err *err);
extern const char fs_store_search_sql[];
extern const char fs_store_page_search_sql[];
extern const char fs_store_followups_sql[];
extern const char fs_store_followups_count_sql[];
extern const char fs_store_conflicts_sql[];
extern const char fs_store_each_opportunity_sql[];
extern const char fs_store_each_visit_sql[];
extern const char fs_store_funnel_sql[];

/* A copy of s (NULL stays NULL); NULL on allocation failure. */
char *fs_store_strdup(const char *s);

#endif
