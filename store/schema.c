/*
 * schema.c: the store's schema as a list of versioned migrations.
 *
 * PRAGMA user_version is the schema version. Each migration brings the schema
 * from version N-1 to N and runs exactly once, in its own transaction together
 * with the user_version bump and a schema_log row, so a crash leaves either the
 * old or the new version, never half of one. A database from a newer build is
 * refused rather than guessed at. Migrations are append-only: a released one is
 * never edited; a fix is a new migration. See docs/store.md.
 */
#include "store_int.h"

#include <stdio.h>
#include <time.h>

/* Version 1: record states, sync metadata, the outbox, the migration log. */
static const char schema_v1[] =
    "CREATE TABLE sync_meta(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;"
    "CREATE TABLE records("
    "  rid INTEGER PRIMARY KEY,"
    "  kind INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  state BLOB NOT NULL,"    /* fs_state_encode */
    "  alive INTEGER NOT NULL," /* fs_record_alive */
    "  has_conflict INTEGER NOT NULL DEFAULT 0,"
    "  hlc INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE(kind, id));"
    "CREATE INDEX records_conflicts ON records(kind, id) WHERE has_conflict;"
    "CREATE TABLE outbox("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: FIFO order */
    "  kind INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  change BLOB NOT NULL," /* a Change message */
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  batch INTEGER,"
    "  reason INTEGER,"
    "  message TEXT,"
    "  queued_at INTEGER NOT NULL);"
    "CREATE INDEX outbox_by_record ON outbox(kind, id, seq);"
    "CREATE INDEX outbox_by_status ON outbox(status, seq);"
    "CREATE TABLE schema_log(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);";

/* Version 2: projections of the visible values the UI filters, sorts and searches on.
 * Missing values project as '' / 0 so every sort key is NOT NULL and keyset
 * pagination needs no NULL cases. */
static const char schema_v2[] =
    "CREATE TABLE accounts(rid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    "  name TEXT NOT NULL COLLATE NOCASE, tier INTEGER NOT NULL, stage INTEGER NOT NULL,"
    "  owner TEXT NOT NULL, city TEXT NOT NULL COLLATE NOCASE);"
    "CREATE INDEX accounts_by_name ON accounts(name, id);"
    "CREATE INDEX accounts_by_tier ON accounts(tier, name, id);"
    "CREATE INDEX accounts_by_stage ON accounts(stage, name, id);"
    "CREATE INDEX accounts_by_owner ON accounts(owner, name, id);"
    "CREATE INDEX accounts_by_city ON accounts(city, name, id);"
    "CREATE TABLE contacts(rid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    "  account_id TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE);"
    "CREATE INDEX contacts_by_name ON contacts(name, id);"
    "CREATE INDEX contacts_by_account ON contacts(account_id, name, id);"
    "CREATE TABLE visits(rid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    "  account_id TEXT NOT NULL, planned_at INTEGER NOT NULL, next_step TEXT,"
    "  next_step_date TEXT, next_step_done INTEGER NOT NULL);"
    "CREATE INDEX visits_by_date ON visits(planned_at, id);"
    "CREATE INDEX visits_by_account ON visits(account_id, planned_at, id);"
    "CREATE INDEX visits_followups ON visits(next_step_date, id)"
    "  WHERE next_step_date IS NOT NULL AND next_step_done = 0;"
    "CREATE TABLE opportunities(rid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    "  account_id TEXT NOT NULL, stage INTEGER NOT NULL, stage_entered_date TEXT NOT NULL,"
    "  amount INTEGER NOT NULL);"
    "CREATE INDEX opportunities_by_date ON opportunities(stage_entered_date, id);"
    "CREATE INDEX opportunities_by_stage ON opportunities(stage, stage_entered_date, id);"
    "CREATE INDEX opportunities_by_account ON opportunities(account_id, stage_entered_date, id);"
    "CREATE TABLE transactions(rid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    "  account_id TEXT NOT NULL, date TEXT NOT NULL, amount INTEGER NOT NULL);"
    "CREATE INDEX transactions_by_date ON transactions(date, id);"
    "CREATE INDEX transactions_by_account ON transactions(account_id, date, id);"
    "CREATE VIRTUAL TABLE search USING fts5(name, body,"
    "  tokenize = 'unicode61 remove_diacritics 2');";

static int migrate_v1(fs_store *st, fs_err *err)
{
    return fs_store_exec(st, schema_v1, err);
}

/* Records stored by version 1 get their projections here. */
static int migrate_v2(fs_store *st, fs_err *err)
{
    int rc = fs_store_exec(st, schema_v2, err);
    return rc != 0 ? rc : fs_store_reproject_all(st, err);
}

/* Version 3: the per-record mark of a forced resync's mark-and-sweep (resync.c). */
static int migrate_v3(fs_store *st, fs_err *err)
{
    return fs_store_exec(
        st, "ALTER TABLE records ADD COLUMN resync_mark INTEGER NOT NULL DEFAULT 0", err);
}

/* Version 4: records whose search row waits for idle time (project.c). */
static int migrate_v4(fs_store *st, fs_err *err)
{
    return fs_store_exec(st, "CREATE TABLE search_backlog(rid INTEGER PRIMARY KEY)", err);
}

/* Version 5: a record keeps one pending outbox entry (outbox.c). Earlier builds
 * queued a whole state per change; each record's pending entries fold into its
 * oldest, which takes the newest state. Entries in flight or refused stay. */
static int migrate_v5(fs_store *st, fs_err *err)
{
    return fs_store_exec(
        st,
        "UPDATE outbox SET change = (SELECT n.change FROM outbox AS n WHERE n.kind = outbox.kind "
        "  AND n.id = outbox.id AND n.status = 0 ORDER BY n.seq DESC LIMIT 1) "
        "WHERE status = 0 AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.kind = outbox.kind "
        "  AND o.id = outbox.id AND o.status = 0 AND o.seq < outbox.seq);"
        "DELETE FROM outbox WHERE status = 0 AND EXISTS (SELECT 1 FROM outbox AS o "
        "  WHERE o.kind = outbox.kind AND o.id = outbox.id AND o.status = 0 "
        "  AND o.seq < outbox.seq);",
        err);
}

/* Version 6: the search index on the "fieldsync" tokenizer (tokenize.c), which
 * finds Chinese, Japanese and Korean words inside a sentence. The old index is
 * dropped and every searchable record (the kinds project.c indexes) queued in
 * search_backlog, in this one transaction: a crash leaves the old index or the
 * new one with its queue, and idle maintenance fills it (store.h
 * "Maintenance") instead of holding up the first unlock of a big book. */
static int migrate_v6(fs_store *st, fs_err *err)
{
    return fs_store_exec(st,
                         "DROP TABLE search;"
                         "CREATE VIRTUAL TABLE search USING fts5(name, body,"
                         "  tokenize = 'fieldsync remove_diacritics 2');"
                         "INSERT OR IGNORE INTO search_backlog(rid)"
                         "  SELECT rid FROM records WHERE alive AND kind IN (1, 2, 3);",
                         err);
}

/* Version 7: the search index without a copy of the text. Its content is the
 * view search_content, which gives each indexed row's name and body from
 * records.state (search_text.c); a record's text was stored twice, in its
 * state and in the FTS table's content, and writing the copy was about half
 * of indexing. FTS5 reads the view to take a row out of the index, which must
 * give back the tokens that went in, so the triggers take a record's row out
 * while its old state is still there: before the state changes, and before
 * the record goes. The view lists the rows in the index (search_docsize has
 * one per row), so a record not yet indexed has nothing to take out. Every
 * searchable record is queued again, as in version 6. */
static int migrate_v7(fs_store *st, fs_err *err)
{
    return fs_store_exec(
        st,
        "DROP TABLE search;"
        "CREATE VIRTUAL TABLE search USING fts5(name, body, content = 'search_content',"
        "  content_rowid = 'rid', tokenize = 'fieldsync remove_diacritics 2');"
        "CREATE VIEW search_content(rid, name, body) AS"
        "  SELECT rid, fs_search_text(kind, state, 0), fs_search_text(kind, state, 1)"
        "  FROM records WHERE rid IN (SELECT id FROM search_docsize);"
        "CREATE TRIGGER records_unindex_update BEFORE UPDATE OF state ON records BEGIN"
        "  DELETE FROM search WHERE rowid = old.rid; END;"
        "CREATE TRIGGER records_unindex_delete BEFORE DELETE ON records BEGIN"
        "  DELETE FROM search WHERE rowid = old.rid; END;"
        "INSERT OR IGNORE INTO search_backlog(rid)"
        "  SELECT rid FROM records WHERE alive AND kind IN (1, 2, 3);",
        err);
}

typedef int (*migration_fn)(fs_store *st, fs_err *err);

/* migrations[i] brings the schema to version i + 1. Append only. */
static const migration_fn migrations[] = {migrate_v1, migrate_v2, migrate_v3, migrate_v4,
                                          migrate_v5, migrate_v6, migrate_v7};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == FS_STORE_SCHEMA_VERSION,
               "one migration per schema version");

static int read_version(fs_store *st, int *version, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, "PRAGMA user_version", &s, err);
    if (rc != 0)
        return rc;
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *version = sqlite3_column_int(s, 0);
    else
        rc = fs_store_sqlerr(st, step, err, "reading the schema version");
    fs_store_finish(st, s);
    return rc;
}

static int run_one(fs_store *st, int version, fs_err *err)
{
    char sql[128];
    int rc = migrations[version - 1](st, err);
    if (rc != 0)
        return rc;
    snprintf(sql, sizeof(sql), "INSERT INTO schema_log VALUES(%d, %lld); PRAGMA user_version = %d",
             version, (long long)time(NULL), version);
    return fs_store_exec(st, sql, err);
}

int fs_store_migrate(fs_store *st, fs_err *err)
{
    int found = 0;
    int rc = read_version(st, &found, err);
    /* a migration may expect the indexes an interrupted initial load dropped */
    if (rc == 0 && found >= 1 && found < FS_STORE_SCHEMA_VERSION)
        rc = fs_store_load_resume(st, true, err);
    if (rc != 0)
        return rc;
    for (;;) {
        int version = 0;
        /* Read inside the transaction: another process may have migrated meanwhile. */
        rc = fs_store_begin(st, err);
        if (rc == 0)
            rc = read_version(st, &version, err);
        if (rc == 0 && version > FS_STORE_SCHEMA_VERSION)
            rc = fs_err_set(err, FS_EVERSION,
                            "%s was created by a newer fieldsync (schema %d, this build knows "
                            "%d): upgrade fieldsync",
                            st->path, version, FS_STORE_SCHEMA_VERSION);
        if (rc == 0 && version < 0)
            rc = fs_err_set(err, FS_ECORRUPT, "%s has an invalid schema version %d", st->path,
                            version);
        if (rc == 0 && version == FS_STORE_SCHEMA_VERSION) {
            fs_store_rollback(st);
            return 0;
        }
        if (rc == 0)
            rc = run_one(st, version + 1, err);
        if (rc == 0)
            rc = fs_store_commit(st, err);
        if (rc != 0) {
            fs_store_rollback(st);
            return rc;
        }
    }
}

int fs_store_schema_reference(sqlite3 **out, fs_err *err)
{
    fs_store ref = {.path = (char *)"the reference schema"};
    *out = NULL;
    int rc = sqlite3_open_v2(":memory:", &ref.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(ref.db);
        return fs_err_set(err, FS_ENOMEM, "building the reference schema: out of memory");
    }
    rc = fs_store_register_search(ref.db, err);
    if (rc == 0)
        rc = fs_store_migrate(&ref, err);
    fs_store_stmts_clear(&ref);
    if (rc != 0) {
        sqlite3_close(ref.db);
        return rc;
    }
    *out = ref.db;
    return 0;
}
