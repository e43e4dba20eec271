/*
 * test_server_storage_sqlite.c: what only the SQLite backend has: a database
 * file (missing, damaged, of a newer schema), the upgrade of a version 1
 * file (every row kept, no index on seq alone, its WAL truncated), and a
 * pool's checkpoints on a thread of their own, a full disk told apart from
 * other failures. The rest of the storage contract is test_server_storage.c,
 * run against both backends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>

#include "handler_int.h"
#include "srv_test_util.h"
#include "storage_sqlite_int.h"

typedef tu_db_fixture fx;

static void test_missing_database_without_create_is_not_found(void **state)
{
    fx *f = *state;
    char p[320];
    snprintf(p, sizeof(p), "%s/none.db", f->dir);
    srv_storage *s = NULL;
    fs_err err = {0};
    assert_int_equal(srv_sqlite_open(&s, p, false, &err), FS_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err.msg, "none.db"));
}

static void test_newer_schema_is_refused(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    srv_storage *s = NULL;
    fs_err err = {0};
    assert_int_equal(srv_sqlite_open(&s, f->db, false, &err), FS_EVERSION);
    assert_non_null(strstr(err.msg, "upgrade"));
}

static int page_count(sqlite3 *db)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* The one text value sql's first row has. */
static void assert_query(sqlite3 *db, const char *sql, const char *expected)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), expected);
    sqlite3_finalize(st);
}

/* The version 1 schema as released, frozen here: the upgrade must take any
 * database written by that build. */
static const char v1_schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " role INTEGER NOT NULL, manager_id INTEGER REFERENCES users(id),"
    " floor INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX users_manager ON users(manager_id);"
    "CREATE TABLE devices(id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id), replica INTEGER NOT NULL UNIQUE,"
    " name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL,"
    " last_seen_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0,"
    " cursor INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX devices_user ON devices(user_id);"
    "CREATE TABLE codes(hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE territory(account_id TEXT PRIMARY KEY,"
    " owner INTEGER NOT NULL REFERENCES users(id)) WITHOUT ROWID;"
    "CREATE INDEX territory_owner ON territory(owner);"
    "CREATE TABLE records(kind INTEGER NOT NULL, id TEXT NOT NULL,"
    " account_id TEXT NOT NULL, seq INTEGER NOT NULL UNIQUE, alive INTEGER NOT NULL,"
    " state BLOB NOT NULL, PRIMARY KEY(kind, id));"
    "CREATE INDEX records_account ON records(account_id);"
    "CREATE TABLE removals(seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    " id TEXT NOT NULL, old_owner INTEGER NOT NULL, new_owner INTEGER NOT NULL);"
    "CREATE INDEX removals_owner ON removals(old_owner, seq);"
    "INSERT INTO meta VALUES ('seq', 3), ('server_id', 'aaaabbbbccccddddeeeeffff00001111');"
    "INSERT INTO users(id, name, role) VALUES (1, 'anna', 1), (2, 'bob', 1);"
    "INSERT INTO territory VALUES ('acc-a', 1), ('acc-b', 2);"
    "INSERT INTO records VALUES (1, 'acc-a', 'acc-a', 1, 1, x'01'),"
    " (2, 'c-a', 'acc-a', 2, 1, x'02'), (1, 'acc-b', 'acc-b', 3, 1, x'03');"
    "PRAGMA user_version = 1;";

static void test_version_1_database_is_upgraded(void **state)
{
    fx *f = *state;
    char p[320];
    snprintf(p, sizeof(p), "%s/v1.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    srv_storage *s = NULL;
    assert_int_equal(srv_sqlite_open(&s, p, false, NULL), 0);
    /* the upgrade's WAL (a copy of the records table) is in and truncated */
    char wal[340];
    snprintf(wal, sizeof(wal), "%s-wal", p);
    assert_int_equal(file_size(wal), 0);
    srv_user anna;
    srv_pull_page page;
    assert_int_equal(s->ops->user_get(s, "anna", &anna, NULL), 0);
    srv_pull_query q = {.limit = 10, .max_bytes = 1 << 20};
    assert_int_equal(s->ops->pull(s, &anna, &q, &page, NULL), 0);
    assert_int_equal(page.n, 2); /* anna's account and contact, not bob's account */
    assert_string_equal(page.items[0].id, "acc-a");
    assert_string_equal(page.items[1].id, "c-a");
    assert_int_equal(page.items[1].state[0], 2);
    assert_int_equal(page.next_cursor, 3);
    srv_pull_page_clear(&page);
    srv_storage_close(s);
    /* a second open finds the current version and changes nothing */
    assert_int_equal(srv_sqlite_open(&s, p, false, NULL), 0);
    srv_storage_close(s);
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    /* every row whole, its owner from the territory (version 2) */
    assert_query(db,
                 "SELECT group_concat(r, ' ') FROM (SELECT kind || ':' || id || ':' || account_id"
                 " || ':' || seq || ':' || alive || ':' || hex(state) || ':' || owner || ':' ||"
                 " writer AS r FROM records ORDER BY seq)",
                 "1:acc-a:acc-a:1:1:01:1:0 2:c-a:acc-a:2:1:02:1:0 1:acc-b:acc-b:3:1:03:2:0");
    /* version 6: no index on seq alone, which every push rewrote */
    assert_query(db,
                 "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE"
                 " type = 'index' AND tbl_name = 'records' ORDER BY name)",
                 "records_account,records_owner,records_owner_key,sqlite_autoindex_records_1");
    sqlite3_close(db);
}

static void test_damaged_file_is_an_error_not_a_crash(void **state)
{
    fx *f = *state;
    char p[320];
    snprintf(p, sizeof(p), "%s/junk.db", f->dir);
    FILE *fp = fopen(p, "wb");
    for (int i = 0; i < 4096; i++)
        fputc(i * 31, fp);
    fclose(fp);
    srv_storage *s = NULL;
    assert_int_not_equal(srv_sqlite_open(&s, p, false, NULL), 0);
    assert_null(s);
}

/* A pool's connections commit without checkpointing (their WAL hook is the
 * checkpointer's); the checkpointer thread copies the WAL into the database
 * once it passes 1,000 pages. Without it the data would stay in the WAL. */
static void test_a_pool_checkpoints_on_a_thread_of_its_own(void **state)
{
    fx *f = *state;
    srv_pool *pool = NULL;
    srv_user anna;
    static uint8_t blob[16384];
    char id[32];
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &anna, NULL), 0);
    assert_int_equal(srv_pool_new(&pool, f->db, 2, NULL), 0);
    long long before = file_size(f->db);
    srv_storage *s = srv_pool_acquire(pool);
    for (int t = 0; t < 10; t++) { /* about 8 MiB in ten commits */
        assert_int_equal(s->ops->begin(s, true, NULL), 0);
        for (int i = 0; i < 50; i++) {
            snprintf(id, sizeof(id), "acc-%d-%d", t, i);
            srv_record r = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                            .id = id,
                            .account_id = id,
                            .owner = anna.id,
                            .alive = true,
                            .state = blob,
                            .state_len = sizeof(blob)};
            blob[0] = (uint8_t)i;
            assert_int_equal(s->ops->next_seq(s, &r.seq, NULL), 0);
            assert_int_equal(s->ops->record_put(s, &r, NULL), 0);
        }
        assert_int_equal(s->ops->commit(s, NULL), 0);
    }
    srv_pool_release(pool, s);
    /* the checkpointer runs beside us: wait for its copy, with a deadline */
    for (time_t end = time(NULL) + 20; file_size(f->db) < before + (6 << 20) && time(NULL) < end;) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(file_size(f->db) >= before + (6 << 20));
    srv_pool_free(pool);
}

/* A full disk, which SQLite reports as SQLITE_FULL (here: the connection may
 * not grow the database past a few more pages), fails the write with
 * FS_ENOSPC and a message that says so; the device is answered 507
 * storage_full with a Retry-After, not 500. */
static void test_a_full_disk_is_told_apart(void **state)
{
    fx *f = *state;
    sq_storage *sq = (sq_storage *)f->s;
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", page_count(sq->db) + 4);
    assert_int_equal(sqlite3_exec(sq->db, sql, NULL, NULL, NULL), SQLITE_OK);
    static uint8_t blob[3000];
    fs_err err = {0};
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        char id[16];
        snprintf(id, sizeof(id), "acc-%d", i);
        srv_record r = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                        .id = id,
                        .account_id = id,
                        .alive = true,
                        .state = blob,
                        .state_len = sizeof(blob)};
        assert_int_equal(f->s->ops->begin(f->s, true, NULL), 0);
        rc = f->s->ops->next_seq(f->s, &r.seq, &err);
        if (rc == 0)
            rc = f->s->ops->record_put(f->s, &r, &err);
        if (rc == 0)
            rc = f->s->ops->commit(f->s, &err);
        if (rc != 0)
            f->s->ops->rollback(f->s);
    }
    assert_int_equal(rc, FS_ENOSPC);
    assert_non_null(strstr(err.msg, f->db));
    assert_non_null(strstr(err.msg, "disk is full"));
    srv_response rs = {0};
    assert_int_equal(srv_storage_failure(&rs, &err), 0);
    assert_int_equal(rs.status, 507);
    assert_string_equal(tu_error_code(&rs), "storage_full");
    assert_true(rs.retry_after >= 30);
    srv_response_clear(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tu_db_setup, tu_db_teardown)
        T(test_missing_database_without_create_is_not_found),
        T(test_newer_schema_is_refused),
        T(test_version_1_database_is_upgraded),
        T(test_damaged_file_is_an_error_not_a_crash),
        T(test_a_pool_checkpoints_on_a_thread_of_its_own),
        T(test_a_full_disk_is_told_apart),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
