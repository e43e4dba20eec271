/*
 * test_store_schema.c: opening the store and its versioned migrations: a new
 * store gets every migration once, an old database is brought forward once and
 * keeps its records, a newer or damaged database is refused with a clear
 * message, a failing migration leaves the old version intact; plus the replica
 * id and sync_meta.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fieldsync/store.h"
#include "store_test_util.h"

/* The schema as version 1 released it, frozen here on purpose: this is the old
 * database the migrations must bring forward, not a copy of schema.c. */
static const char v1_schema[] =
    "CREATE TABLE sync_meta(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;"
    "CREATE TABLE records(rid INTEGER PRIMARY KEY, kind INTEGER NOT NULL, id TEXT NOT NULL,"
    "  state BLOB NOT NULL, alive INTEGER NOT NULL, has_conflict INTEGER NOT NULL DEFAULT 0,"
    "  hlc INTEGER NOT NULL DEFAULT 0, UNIQUE(kind, id));"
    "CREATE INDEX records_conflicts ON records(kind, id) WHERE has_conflict;"
    "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL,"
    "  id TEXT NOT NULL, change BLOB NOT NULL, status INTEGER NOT NULL DEFAULT 0, batch INTEGER,"
    "  reason INTEGER, message TEXT, queued_at INTEGER NOT NULL);"
    "CREATE INDEX outbox_by_record ON outbox(kind, id, seq);"
    "CREATE INDEX outbox_by_status ON outbox(status, seq);"
    "CREATE TABLE schema_log(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
    "INSERT INTO schema_log VALUES(1, 0);"
    "INSERT INTO sync_meta VALUES('replica_id', 4242);"
    "PRAGMA user_version = 1;";

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* Writes a version-1 database holding one account, as version 1 stored it. */
static void make_v1_fixture(const char *path, const char *extra_sql)
{
    sqlite3 *db = raw_open(path);
    assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
    fs_state *st = NULL;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Old Mill Logistics";
    a.has_tier = 1;
    a.tier = FIELDSYNC__ACCOUNT__TIER__CONTRACTED;
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-old", NULL), 0);
    assert_int_equal(fs_record_write_msg(st, 4242, 1000u << 16, &a.base, NULL, 0, NULL), 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(fs_state_encode(st, &buf, &len, NULL), 0);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO records(kind, id, state, alive) "
                                        "VALUES(1, 'acc-old', ?, 1)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(s, 1, buf, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    if (extra_sql != NULL)
        assert_int_equal(sqlite3_exec(db, extra_sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(buf);
    fs_state_free(st);
}

static void new_store_runs_every_migration_once(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store_close(tu_open_plain(dir));
    fs_store_close(tu_open_plain(dir)); /* reopening must not migrate again */
    char *path = tu_path(dir, "store.db");
    sqlite3 *db = raw_open(path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), FS_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_log"), FS_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "PRAGMA journal_mode = WAL") >= 0, 1);
    sqlite3_close(db);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void old_database_is_migrated_once_and_keeps_its_records(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "store.db");
    make_v1_fixture(path, NULL);

    fs_store *st = tu_open_plain(dir);
    assert_int_equal(fs_store_replica(st), 4242); /* identity survives the migration */
    fs_list_query q = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                       .tier = FIELDSYNC__ACCOUNT__TIER__CONTRACTED};
    fs_list_page page;
    assert_int_equal(fs_store_list(st, &q, &page, NULL), 0);
    assert_int_equal(page.n, 1); /* migration 2 projected the version-1 record */
    assert_string_equal(page.items[0].id, "acc-old");
    fs_list_page_clear(&page);
    fs_store_close(st);
    fs_store_close(tu_open_plain(dir));

    sqlite3 *db = raw_open(path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), FS_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_log WHERE version = 2"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_log"), FS_STORE_SCHEMA_VERSION);
    sqlite3_close(db);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

/* Outbox rows of a version-1 store, one whole state per change as it queued them
 * (the change blobs are stand-ins: the migration moves them, never reads them). */
static const char v1_outbox[] =
    "INSERT INTO outbox(seq, kind, id, change, status, queued_at) VALUES"
    " (1, 1, 'a', x'a1', 0, 100), (2, 1, 'b', x'b1', 0, 200), (3, 1, 'a', x'a2', 0, 300),"
    " (4, 1, 'b', x'b2', 2, 400), (5, 1, 'a', x'a3', 0, 500), (6, 1, 'b', x'b3', 0, 600),"
    " (7, 1, 'c', x'c1', 1, 700), (8, 1, 'c', x'c2', 0, 800);";

static void migration_5_keeps_one_pending_outbox_entry_per_record(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "store.db");
    make_v1_fixture(path, v1_outbox);
    fs_store_close(tu_open_plain(dir));
    sqlite3 *db = raw_open(path);
    /* a: its oldest place, its newest change, its first queued_at */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox WHERE id = 'a'"), 1);
    assert_int_equal(raw_int(db, "SELECT seq FROM outbox WHERE id = 'a'"), 1);
    assert_int_equal(raw_int(db, "SELECT hex(change) = 'A3' FROM outbox WHERE id = 'a'"), 1);
    assert_int_equal(raw_int(db, "SELECT queued_at FROM outbox WHERE id = 'a'"), 100);
    /* b: the refused entry is left as it was */
    assert_int_equal(raw_int(db, "SELECT group_concat(seq || ':' || status || ':' || hex(change)) "
                                 "= '2:0:B3,4:2:B2' FROM outbox WHERE id = 'b' ORDER BY seq"),
                     1);
    /* c: in flight at the migration, back to pending at open, not folded */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM outbox WHERE id = 'c' AND status = 0"), 2);
    sqlite3_close(db);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void old_search_index_is_rebuilt_through_the_backlog(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "store.db");
    make_v1_fixture(path, NULL);
    fs_store *st = tu_open_plain(dir);
    uint64_t backlog = 0;
    fs_search_hit *hits = NULL;
    size_t n = 0;
    /* version 6 dropped the unicode61 index and queued the account for the new one */
    assert_int_equal(fs_store_search_backlog(st, &backlog, NULL), 0);
    assert_int_equal(backlog, 1);
    assert_int_equal(fs_store_search(st, "mill", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 0);
    fs_search_hits_free(hits, n);
    assert_int_equal(fs_store_maintain(st, NULL, NULL), 0);
    assert_int_equal(fs_store_search_backlog(st, &backlog, NULL), 0);
    assert_int_equal(backlog, 0);
    assert_int_equal(fs_store_search(st, "mill", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].id, "acc-old");
    fs_search_hits_free(hits, n);
    fs_store_close(st);
    sqlite3 *db = raw_open(path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'search' AND "
                                 "sql LIKE '%tokenize = ''fieldsync%'"),
                     1);
    sqlite3_close(db);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void failing_migration_leaves_the_old_version_intact(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "store.db");
    /* A table in the way makes migration 2's CREATE TABLE accounts fail half-way. */
    make_v1_fixture(path, "CREATE TABLE accounts(x);");
    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    assert_int_not_equal(fs_store_open(&st, path, NULL, NULL, 0, 0, &err), 0);
    assert_null(st);
    assert_true(strlen(fs_err_message(&err)) > 0);
    sqlite3 *db = raw_open(path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
    assert_int_equal(
        raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('contacts', 'search')"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_log"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM records"), 1);
    sqlite3_close(db);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void newer_database_is_refused_with_upgrade_message(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store_close(tu_open_plain(dir));
    char *path = tu_path(dir, "store.db");
    sqlite3 *db = raw_open(path);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    assert_int_equal(fs_store_open(&st, path, NULL, NULL, 0, 0, &err), FS_EVERSION);
    assert_null(st);
    char want[128];
    snprintf(want, sizeof(want), "newer fieldsync (schema 99, this build knows %d): upgrade",
             FS_STORE_SCHEMA_VERSION);
    assert_non_null(strstr(fs_err_message(&err), want));
    db = raw_open(path); /* refused, not touched */
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 99);
    sqlite3_close(db);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void missing_database_without_create_is_not_found(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "absent.db");
    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    assert_int_equal(fs_store_open(&st, path, NULL, NULL, 0, 0, &err), FS_ENOTFOUND);
    assert_non_null(strstr(fs_err_message(&err), path));
    assert_int_not_equal(access(path, F_OK), 0); /* nothing created */
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void garbage_file_is_refused_not_crashed_on(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "store.db");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 8192; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    int rc = fs_store_open(&st, path, NULL, NULL, 0, 0, &err);
    if (rc != FS_ECORRUPT && rc != FS_EIO && rc != FS_EAUTH)
        fail_msg("rc %d: %s", rc, fs_err_message(&err));
    assert_null(st);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void replica_id_is_minted_once_and_settable(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    uint64_t minted = fs_store_replica(st);
    assert_true(minted != 0);
    fs_store_close(st);
    st = tu_open_plain(dir);
    assert_true(fs_store_replica(st) == minted);
    assert_int_equal(fs_store_set_replica(st, 0, NULL), FS_EINVAL);
    assert_int_equal(fs_store_set_replica(st, 0x1234567890abcdefull, NULL), 0);
    fs_store_close(st);
    st = tu_open_plain(dir);
    assert_true(fs_store_replica(st) == 0x1234567890abcdefull);
    fs_store_close(st);

    char *dir2 = tu_mkdtemp(); /* another device: another replica */
    st = tu_open_plain(dir2);
    assert_true(fs_store_replica(st) != minted);
    fs_store_close(st);
    tu_rmdir(dir2);
    free(dir2);
    tu_rmdir(dir);
    free(dir);
}

static void sync_meta_round_trips_blobs_integers_and_secrets(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    uint8_t *val = NULL;
    size_t len = 0;
    assert_int_equal(fs_store_meta_get(st, FS_META_SERVER_URL, &val, &len, NULL), FS_ENOTFOUND);
    const uint8_t token[] = {0, 1, 2, 0, 255, 7};
    assert_int_equal(fs_store_meta_set(st, FS_META_DEVICE_TOKEN, token, sizeof(token), NULL), 0);
    assert_int_equal(fs_store_meta_set(st, FS_META_SERVER_URL, "https://x", 9, NULL), 0);
    assert_int_equal(fs_store_meta_set_u64(st, FS_META_CURSOR, UINT64_MAX - 5, NULL), 0);
    fs_store_close(st);

    st = tu_open_plain(dir);
    assert_int_equal(fs_store_meta_get(st, FS_META_SERVER_URL, &val, &len, NULL), 0);
    assert_int_equal(len, 9);
    assert_string_equal((char *)val, "https://x");
    free(val);
    fs_secret *sec = NULL;
    assert_int_equal(fs_store_meta_get_secret(st, FS_META_DEVICE_TOKEN, &sec, NULL), 0);
    assert_int_equal(sec->len, sizeof(token));
    assert_memory_equal(sec->bytes, token, sizeof(token));
    fs_secret_free(sec);
    uint64_t cursor = 0;
    assert_int_equal(fs_store_meta_get_u64(st, FS_META_CURSOR, &cursor, NULL), 0);
    assert_true(cursor == UINT64_MAX - 5);
    assert_int_equal(fs_store_meta_delete(st, FS_META_SERVER_URL, NULL), 0);
    assert_int_equal(fs_store_meta_get(st, FS_META_SERVER_URL, &val, &len, NULL), FS_ENOTFOUND);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_store_runs_every_migration_once),
        cmocka_unit_test(old_database_is_migrated_once_and_keeps_its_records),
        cmocka_unit_test(migration_5_keeps_one_pending_outbox_entry_per_record),
        cmocka_unit_test(old_search_index_is_rebuilt_through_the_backlog),
        cmocka_unit_test(failing_migration_leaves_the_old_version_intact),
        cmocka_unit_test(newer_database_is_refused_with_upgrade_message),
        cmocka_unit_test(missing_database_without_create_is_not_found),
        cmocka_unit_test(garbage_file_is_refused_not_crashed_on),
        cmocka_unit_test(replica_id_is_minted_once_and_settable),
        cmocka_unit_test(sync_meta_round_trips_blobs_integers_and_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
