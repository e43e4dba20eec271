/*
 * store.h: the record store (store/): the rep's records in an encrypted SQLite
 * database, with the projections the UI lists and searches on, the sync metadata,
 * the outbox (outbox.h) and key rotation. See docs/store.md.
 *
 * One fs_store is one open database connection; it is not thread-safe (the daemon
 * owns it from its event loop). Every function runs in its own transaction: a
 * local put or delete commits the record's new state, its projections and its
 * outbox entry together; a remote page commits with its sync cursor.
 *
 * Records are kept as their encoded state (fs_state_encode), deleted ones too (as
 * tombstones that still have to reach the server). Visible values are projected
 * into per-kind tables and an FTS5 index in the same transaction as the state.
 */
#ifndef FIELDSYNC_STORE_H
#define FIELDSYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/record.h"
#include "fieldsync/secret.h"

typedef struct fs_store fs_store;

/* The schema version this build creates and understands (PRAGMA user_version). */
#define FS_STORE_SCHEMA_VERSION 7

/* Longest record id accepted (bytes, without the terminating NUL). */
#define FS_STORE_ID_MAX FS_RECORD_ID_MAX
/* Length of an id minted by fs_store_new_id (32 hex digits). */
#define FS_STORE_NEW_ID_LEN 32

/* fs_store_open flags */
#define FS_STORE_CREATE 0x1u   /* create the database (and its key file) when missing */
#define FS_STORE_FAST_KDF 0x2u /* tests only: minimal Argon2id limits for a new key file */

/*
 * Opens the store at path. keyfile names the key file holding the data key;
 * passphrase unlocks it (NULL with a raw key file). keyfile NULL opens a plain,
 * unencrypted database: for tests and benchmarks only.
 *
 * With FS_STORE_CREATE a missing key file is created (passphrase mode when a
 * passphrase is given, raw otherwise) and a missing database is created with a
 * new random replica id. Opening runs pending schema migrations, returns in-flight
 * outbox entries to pending, and finishes or abandons an interrupted rekey.
 *
 * Errors: FS_EAUTH wrong passphrase (the key file does not open); FS_ECORRUPT a
 * database that does not open with the key file's key (damaged, or another
 * store's key file) or that exists but is empty (truncated: it is never
 * recreated); FS_EVERSION a database from a newer fieldsync; FS_ENOTFOUND no
 * database and no CREATE. After opening, a page that fails authentication is
 * FS_ECORRUPT too, with the page named.
 */
int fs_store_open(fs_store **out, const char *path, const char *keyfile, const char *passphrase,
                  size_t passphrase_len, unsigned flags, fs_err *err);
/* Closes the store (checkpointing the WAL). NULL is a no-op. */
void fs_store_close(fs_store *st);

/*
 * Maintenance (maintain.c). By default SQLite checkpoints the WAL inside the
 * commit that passes its limit, and FTS5 merges index segments inside the insert
 * that completes a level: now and then one write pays for either. A long-running
 * owner (the daemon) defers both: a thread of the store's own checkpoints the
 * WAL, on a connection of its own, each time it grew by
 * FS_STORE_WAL_LIMIT_PAGES and when maintenance asks (a commit only
 * checkpoints itself past twice that, should the thread fall behind), FTS
 * automerge is off, and the owner calls fs_store_maintain when
 * writes pause. Under such an owner, pulled pages also leave their records'
 * search rows to maintenance: those records are listed at
 * once and found by search after the next fs_store_maintain calls (each indexes
 * up to FS_STORE_SEARCH_STEP of them; fs_store_search_backlog says how many wait).
 */
#define FS_STORE_WAL_LIMIT_PAGES 20000
int fs_store_defer_maintenance(fs_store *st, bool defer, fs_err *err);
/* Search rows for up to FS_STORE_SEARCH_STEP queued records or, once none
 * waits, one bounded FTS merge step; a passive checkpoint (as far as readers
 * allow; the checkpointer thread's, when it runs), and the page cache's memory
 * handed back to the heap. *more (may be NULL): another step has work
 * (records still queued, or the merge step did work); call it again soon. */
int fs_store_maintain(fs_store *st, bool *more, fs_err *err);
#define FS_STORE_SEARCH_STEP 5000
/* How many records wait for their search row (0 when none). */
int fs_store_search_backlog(fs_store *st, uint64_t *n, fs_err *err);
/* Caps SQLite's page cache at kib KiB (fs_vfs_open's default is 16 MiB, sized for
 * bulk work; a long-running daemon trades some cache for resident memory). */
int fs_store_set_cache_kib(fs_store *st, unsigned kib, fs_err *err);

/*
 * Integrity check (check.c): every page of the database file must open with the
 * store's key, and PRAGMA integrity_check, reading every page in use through
 * the cipher, must find the database consistent. Returns 0 when the check ran,
 * whatever it found: r->nproblems == 0 means the store is sound; otherwise the
 * first FS_STORE_CHECK_KEPT findings are in r->problems (messages naming the
 * page). Reads the whole database: seconds for a large one.
 */
#define FS_STORE_CHECK_KEPT 20
typedef struct fs_check_report {
    uint64_t pages;   /* pages of the database file authenticated */
    size_t nproblems; /* findings, all counted */
    size_t nkept;     /* ... of which kept in problems */
    char *problems[FS_STORE_CHECK_KEPT];
} fs_check_report;
int fs_store_check(fs_store *st, fs_check_report *r, fs_err *err);
void fs_check_report_clear(fs_check_report *r);

/* Tests: replaces the wall clock (Unix milliseconds) the store stamps writes with. */
void fs_store_set_clock(fs_store *st, uint64_t (*clock_ms)(void *arg), void *arg);
/* That wall clock: what this computer's clock says, as the store's writes are dated. */
uint64_t fs_store_now_ms(const fs_store *st);

/* Writes a new random record id (FS_STORE_NEW_ID_LEN hex digits + NUL) into out. */
void fs_store_new_id(char out[FS_STORE_NEW_ID_LEN + 1]);

/* ------------------------------------------------------------------------- */
/* Identity and sync metadata */

/* This device's replica id. */
uint64_t fs_store_replica(const fs_store *st);
/* Sets the replica id (enrollment may assign one). Never 0. */
int fs_store_set_replica(fs_store *st, uint64_t replica, fs_err *err);

/* Well-known sync_meta keys. */
#define FS_META_CURSOR "cursor"             /* uint64: pull cursor */
#define FS_META_SERVER_URL "server_url"     /* text */
#define FS_META_DEVICE_TOKEN "device_token" /* blob (secret) */
#define FS_META_LAST_SYNC "last_sync_at"    /* int64: Unix seconds */
#define FS_META_USER "user"                 /* text: the device's user name */
#define FS_META_READ_ONLY "read_only"       /* uint64: 1 when the user writes nothing */
#define FS_META_DEVICES "devices"           /* blob: the server's DeviceList (device names) */
/* blob: the position of a snapshot that goes on (protocol.md, "Snapshot") */
#define FS_META_PULL_SNAPSHOT "pull_snapshot"

/* A value of sync_meta: *val is malloc'd (NUL-terminated for convenience; len
 * excludes the NUL). FS_ENOTFOUND when the key is absent. */
int fs_store_meta_get(fs_store *st, const char *key, uint8_t **val, size_t *len, fs_err *err);
int fs_store_meta_set(fs_store *st, const char *key, const void *val, size_t len, fs_err *err);
int fs_store_meta_delete(fs_store *st, const char *key, fs_err *err);
/* Integer values (stored as SQLite integers). Absent keys read as 0. */
int fs_store_meta_get_u64(fs_store *st, const char *key, uint64_t *val, fs_err *err);
int fs_store_meta_set_u64(fs_store *st, const char *key, uint64_t val, fs_err *err);
/* Records the end of a successful sync run (FS_META_LAST_SYNC, Unix seconds)
 * without flushing the WAL, like the run's pulled pages and push bookkeeping
 * before it: a power cut that loses it shows the run before as the last. */
int fs_store_set_last_sync(fs_store *st, uint64_t unix_s, fs_err *err);
/* A secret value (the device token) straight into guarded memory. */
int fs_store_meta_get_secret(fs_store *st, const char *key, fs_secret **out, fs_err *err);

/* ------------------------------------------------------------------------- */
/* Local changes (each: state + projections + outbox entry in one transaction) */

/*
 * Creates the record or updates it: fields is a partial plain message of kind's
 * type (only the fields it sets are written; its id is ignored), cleared the field
 * numbers to unset. Resolving a conflict is a put of the chosen value.
 */
int fs_store_put(fs_store *st, fs_kind kind, const char *id, const ProtobufCMessage *fields,
                 const uint32_t *cleared, size_t ncleared, fs_err *err);
/* Deletes a visible record (FS_ENOTFOUND when absent or already deleted). */
int fs_store_delete(fs_store *st, fs_kind kind, const char *id, fs_err *err);

/* The visible records under an account, per kind (children.c). */
typedef struct fs_children {
    size_t n[FS_KIND_MAX + 1]; /* by fs_kind: contacts, visits, opportunities, transactions */
    size_t total;
    struct fs_ref *refs; /* the total records, kind by kind */
} fs_children;

int fs_store_children(fs_store *st, const char *account_id, fs_children *out, fs_err *err);
void fs_children_clear(fs_children *c);
/*
 * Deletes a visible account. While it has visible children the delete is
 * refused (FS_ECONFLICT, the message counts them), unless cascade: then the
 * children are deleted with it, all in one transaction (each delete queued for
 * the server like any other). children (optional) receives the children found
 * (deleted ones with cascade); clear it with fs_children_clear.
 */
int fs_store_delete_account(fs_store *st, const char *id, bool cascade, fs_children *children,
                            fs_err *err);

/*
 * Reads a record. state (optional) receives a copy of its state, visible
 * (optional) its visible message, or NULL when the record is deleted.
 * FS_ENOTFOUND when the store has never seen the record.
 */
int fs_store_get(fs_store *st, fs_kind kind, const char *id, fs_state **state,
                 ProtobufCMessage **visible, fs_err *err);

/* ------------------------------------------------------------------------- */
/* Lists (query.c): keyset-paginated, each served by an index */

/*
 * Filters apply where the kind has the column: tier/owner/city (accounts), stage
 * (accounts: funnel stage; opportunities: stage), account_id (contacts, visits,
 * opportunities, transactions). 0 / NULL means "any".
 * Order: accounts and contacts by name, visits by planned_at, opportunities by
 * stage_entered_date, transactions by date; then by id.
 */
typedef struct fs_list_query {
    fs_kind kind;
    int tier;
    int stage;
    const char *owner;
    const char *city;
    const char *account_id;
    bool descending;
    size_t limit;       /* 0: 100; capped at 1000 */
    const char *cursor; /* next_cursor of the previous page, or NULL */
} fs_list_query;

typedef struct fs_list_item {
    char *id;
    ProtobufCMessage *msg; /* visible value (NULL when damaged) */
    char *damaged;         /* NULL, or why the stored state could not be read */
} fs_list_item;

typedef struct fs_list_page {
    fs_list_item *items;
    size_t n;
    char *next_cursor; /* NULL on the last page */
} fs_list_page;

int fs_store_list(fs_store *st, const fs_list_query *q, fs_list_page *page, fs_err *err);
void fs_list_page_clear(fs_list_page *page);

/* Full-text search over account names, contact names and visit notes. Words
 * of Chinese, Japanese and Korean text are found inside sentences, down to a
 * single character (tokenize.c). */
typedef struct fs_search_hit {
    fs_kind kind;
    char *id;
    char *snippet;      /* matched terms in [brackets] */
    char *name;         /* an account's or contact's name; NULL for a visit */
    char *account_id;   /* the account the record is (account) or belongs to; NULL: none */
    char *account_name; /* its name; NULL when that account is not in the store */
} fs_search_hit;

/* fs_store_search flags */
#define FS_SEARCH_RAW 0x1u /* query is FTS5 syntax; by default words are prefix terms */

int fs_store_search(fs_store *st, const char *query, unsigned flags, size_t limit,
                    fs_search_hit **hits, size_t *n, fs_err *err);
void fs_search_hits_free(fs_search_hit *hits, size_t n);

/* A follow-up: a visit whose next step is not done, with its date, and whom to
 * call about it (followups.c). */
typedef struct fs_followup {
    char *visit_id;
    char *account_id;
    char *next_step;
    char *next_step_date;
    char *account_name; /* NULL when the account is not in the store (yet) */
    char *contact_id;   /* the visit's first contact, or NULL */
    char *contact_name; /* NULL when that contact is not in the store */
    char *phone;        /* the contact's (mobile first, no fax), else the account's */
} fs_followup;

/* Follow-ups with next_step_date <= until ("YYYY-MM-DD"), oldest first, at most
 * limit (0: 1000). */
int fs_store_followups_due(fs_store *st, const char *until, size_t limit, fs_followup **out,
                           size_t *n, fs_err *err);
void fs_followups_free(fs_followup *f, size_t n);
/* How many follow-ups are due by until, all of them (to say a page is partial). */
int fs_store_followups_count(fs_store *st, const char *until, size_t *n, fs_err *err);

/* ------------------------------------------------------------------------- */
/* What the reports count (report.c): one pass each. fn must not call the
 * store; its non-zero return stops the pass and is returned. */

/* Every visible opportunity, with the owner of its account ("" when the
 * account is not in the store or names no owner) and its name (NULL when the
 * account is not in the store). */
typedef int (*fs_opportunity_fn)(void *ctx, const Fieldsync__Opportunity *o, const char *owner,
                                 const char *account_name);
int fs_store_each_opportunity(fs_store *st, fs_opportunity_fn fn, void *ctx, fs_err *err);

/* The visible visits planned in [from, to) (Unix seconds), by planned_at. */
typedef int (*fs_visit_fn)(void *ctx, const Fieldsync__Visit *v);
int fs_store_each_visit(fs_store *st, int64_t from, int64_t to, fs_visit_fn fn, void *ctx,
                        fs_err *err);

#define FS_FUNNEL_COUNT 9 /* Account.FunnelStage values 0..8 */

/* Visible accounts per funnel stage. */
int fs_store_funnel(fs_store *st, size_t count[FS_FUNNEL_COUNT], fs_err *err);

typedef struct fs_ref {
    fs_kind kind;
    char *id;
} fs_ref;

/* Records with a field in conflict (more than one live sibling). */
int fs_store_conflicts(fs_store *st, size_t limit, fs_ref **out, size_t *n, fs_err *err);
void fs_refs_free(fs_ref *refs, size_t n);

/* ------------------------------------------------------------------------- */
/* Remote states (remote.c) */

typedef struct fs_apply_report {
    size_t applied;    /* states joined */
    size_t changed;    /* ... of which changed the local state */
    size_t removed;    /* removals deleted locally */
    size_t kept;       /* removals kept: the record has unsynced local changes */
    fs_ref *kept_refs; /* which ones (caller frees with fs_refs_free) */
    /* Added for the sync client's record.changed notifications; freed by
     * fs_apply_report_clear. changed_refs has `changed` entries, removed_refs
     * `removed` entries. */
    fs_ref *changed_refs; /* states that changed the local state */
    fs_ref *removed_refs; /* records deleted locally by removals */
} fs_apply_report;

/* Most states fs_store_apply_remote takes in one call (one transaction). */
#define FS_STORE_APPLY_MAX 10000

/*
 * Applies one pull page in one transaction: joins each state into the local one,
 * drops each removed record (unless it has outbox entries: then it is kept and
 * reported), and stores cursor as the new pull cursor. Any error leaves nothing
 * of the page applied. report may be NULL.
 */
int fs_store_apply_remote(fs_store *st, fs_state *const *states, size_t nstates,
                          const fs_ref *removals, size_t nremovals, uint64_t cursor,
                          fs_apply_report *report, fs_err *err);

/* Where a pulled page leaves the device: the cursor and, while a snapshot goes
 * on (protocol.md, "Snapshot"), the server's position in it
 * (FS_META_PULL_SNAPSHOT). Both are stored with the page. */
typedef struct fs_pull_pos {
    uint64_t cursor;
    const uint8_t *snapshot; /* NULL: no snapshot goes on (the key is removed) */
    size_t snapshot_len;
} fs_pull_pos;

/* fs_store_apply_remote with the page's whole position. */
int fs_store_apply_pulled(fs_store *st, fs_state *const *states, size_t nstates,
                          const fs_ref *removals, size_t nremovals, const fs_pull_pos *pos,
                          fs_apply_report *report, fs_err *err);
void fs_apply_report_clear(fs_apply_report *r);

/*
 * Initial load (store.md, "Initial load"): a pull from the start into a store
 * without records, taken in bulk. fs_store_load_begin starts one if the store
 * holds no record (a no-op otherwise, or while one goes on): the projection
 * indexes are dropped and a marker stored, in one transaction. While it goes
 * on, pulled pages commit several to a transaction; fs_store_load_finish
 * builds the indexes and removes the marker when the pull is complete. A
 * load cut short by a crash goes on, still in bulk, at the next pull from
 * where its last batch committed. fs_store_load_flush commits the open batch
 * (anything that starts a transaction of its own does that too).
 */
int fs_store_load_begin(fs_store *st, fs_err *err);
int fs_store_load_finish(fs_store *st, fs_err *err);
int fs_store_load_flush(fs_store *st, fs_err *err);
bool fs_store_loading(const fs_store *st);
/* States an initial load's batch commits after (five default pages). */
#define FS_STORE_LOAD_BATCH 5000
/* Tests: another batch size for this connection (0: the default). */
void fs_store_set_load_batch(fs_store *st, size_t states);

/* ------------------------------------------------------------------------- */
/* Keys (rekey.c) */

/* Rewraps the data key under a new passphrase (the database is untouched). */
int fs_store_change_passphrase(fs_store *st, const char *old_pass, size_t old_len,
                               const char *new_pass, size_t new_len, fs_err *err);
/*
 * Rotates the data key: re-encrypts the whole database under a new random key.
 * Crash-safe: fs_store_open resolves every intermediate state. passphrase is the
 * current one (NULL for a raw key file). Needs exclusive use of the database.
 */
int fs_store_rekey(fs_store *st, const char *passphrase, size_t passphrase_len, fs_err *err);

#endif
