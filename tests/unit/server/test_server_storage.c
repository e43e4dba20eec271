/*
 * test_server_storage.c: the SQLite backend on its own: opening (missing,
 * newer, damaged databases), the upgrade of a version 1 database, users,
 * codes, sequence numbers across reopen, transactions that roll back, and the
 * connection pool under threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "admin.h"
#include "srv_test_util.h"

typedef struct fx {
    char dir[256];
    char path[300];
    srv_storage *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->s = tu_storage_new(f->dir);
    tu_db_path(f->dir, f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tu_storage_free(f->s, f->dir);
    free(f);
    return 0;
}

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
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    srv_storage *s = NULL;
    fs_err err = {0};
    assert_int_equal(srv_sqlite_open(&s, f->path, false, &err), FS_EVERSION);
    assert_non_null(strstr(err.msg, "upgrade"));
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
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(
                         db,
                         "SELECT group_concat(owner) FROM (SELECT owner FROM records ORDER BY seq)",
                         -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "1,1,2");
    sqlite3_finalize(st);
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

static void test_users_are_unique_and_managers_must_exist(void **state)
{
    fx *f = *state;
    fs_err err = {0};
    assert_int_equal(srv_admin_user_add(f->s, "mgr", SRV_ROLE_MANAGER, NULL, NULL), 0);
    assert_int_equal(srv_admin_user_add(f->s, "anna", SRV_ROLE_REP, "mgr", NULL), 0);
    assert_int_equal(srv_admin_user_add(f->s, "anna", SRV_ROLE_REP, NULL, &err), FS_EEXIST);
    assert_int_equal(srv_admin_user_add(f->s, "bob", SRV_ROLE_REP, "nobody", NULL), FS_ENOTFOUND);
    assert_int_equal(srv_admin_user_add(f->s, "bob", SRV_ROLE_REP, "anna", NULL), FS_EINVAL);
    assert_int_equal(srv_admin_user_add(f->s, "bad name", SRV_ROLE_REP, NULL, NULL), FS_EINVAL);
    assert_int_equal(srv_admin_user_add(f->s, "", SRV_ROLE_REP, NULL, NULL), FS_EINVAL);
    srv_user *u;
    size_t n;
    assert_int_equal(f->s->ops->user_list(f->s, &u, &n, NULL), 0);
    assert_int_equal(n, 2); /* failed adds left nothing behind */
    assert_string_equal(u[0].name, "anna");
    assert_int_equal(u[0].manager_id, u[1].id);
    free(u);
}

static void test_code_is_used_at_most_once(void **state)
{
    fx *f = *state;
    uint8_t h[SRV_HASH_LEN] = {7};
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->code_add(f->s, h, 1, 100, NULL), 0);
    assert_int_equal(f->s->ops->code_use(f->s, h, 50, NULL), 0);
    assert_int_equal(f->s->ops->code_use(f->s, h, 60, NULL), FS_EEXIST);
    srv_code c;
    assert_int_equal(f->s->ops->code_get(f->s, h, &c, NULL), 0);
    assert_int_equal(c.used_at, 50);
    h[0] = 8;
    assert_int_equal(f->s->ops->code_get(f->s, h, &c, NULL), FS_ENOTFOUND);
}

static void test_sequence_survives_reopen_and_rollback_undoes(void **state)
{
    fx *f = *state;
    uint64_t a, b, c;
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->begin(f->s, true, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &a, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &b, NULL), 0);
    assert_int_equal(f->s->ops->commit(f->s, NULL), 0);
    assert_int_equal(b, a + 1);
    assert_int_equal(f->s->ops->begin(f->s, true, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &c, NULL), 0);
    assert_int_equal(f->s->ops->territory_set(f->s, "acc-x", 1, NULL), 0);
    f->s->ops->rollback(f->s);
    srv_storage_close(f->s);
    assert_int_equal(srv_sqlite_open(&f->s, f->path, false, NULL), 0);
    assert_int_equal(f->s->ops->last_seq(f->s, &c, NULL), 0);
    assert_int_equal(c, b);
    int64_t owner;
    assert_int_equal(f->s->ops->territory_get(f->s, "acc-x", &owner, NULL), FS_ENOTFOUND);
}

static void test_record_put_get_round_trip(void **state)
{
    fx *f = *state;
    uint8_t blob[] = {1, 2, 3, 0, 5};
    srv_record r = {.kind = FIELDSYNC__RECORD_KIND__VISIT,
                    .id = "v-1",
                    .account_id = "acc-1",
                    .seq = 9,
                    .alive = true,
                    .state = blob,
                    .state_len = sizeof(blob)};
    assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    srv_record g;
    assert_int_equal(f->s->ops->record_get(f->s, FIELDSYNC__RECORD_KIND__VISIT, "v-1", &g, NULL),
                     0);
    assert_int_equal(g.seq, 9);
    assert_true(g.alive);
    assert_string_equal(g.account_id, "acc-1");
    assert_int_equal(g.state_len, sizeof(blob));
    assert_memory_equal(g.state, blob, sizeof(blob));
    srv_record_clear(&g);
    /* same id, other kind: a different record */
    assert_int_equal(f->s->ops->record_get(f->s, FIELDSYNC__RECORD_KIND__CONTACT, "v-1", &g, NULL),
                     FS_ENOTFOUND);
}

/* A manager's pages merge the team's records in seq order, page by page, and
 * leave out everybody else's. */
static void test_manager_pages_merge_the_team_in_seq_order(void **state)
{
    fx *f = *state;
    srv_user mgr, rep[3];
    const char *names[3] = {"anna", "carl", "bob"};
    tu_user(f->s, "mgr", SRV_ROLE_MANAGER, NULL);
    for (int i = 0; i < 3; i++)
        tu_user(f->s, names[i], SRV_ROLE_REP, i < 2 ? "mgr" : NULL);
    assert_int_equal(f->s->ops->user_get(f->s, "mgr", &mgr, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->s->ops->user_get(f->s, names[i], &rep[i], NULL), 0);
    uint8_t blob = 0;
    char id[16];
    for (uint64_t seq = 1; seq <= 9; seq++) { /* owners anna, carl, bob, anna, ... */
        snprintf(id, sizeof(id), "r%llu", (unsigned long long)seq);
        srv_record r = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                        .id = id,
                        .account_id = id,
                        .owner = rep[(seq - 1) % 3].id,
                        .seq = seq,
                        .alive = true,
                        .state = &blob,
                        .state_len = 1};
        assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    }
    const char *want[] = {"r1", "r2", "r4", "r5", "r7", "r8"};
    uint64_t cursor = 0;
    size_t got = 0;
    for (int pages = 0; pages < 3; pages++) {
        srv_pull_page page;
        srv_pull_query q = {.cursor = cursor, .limit = 2, .max_bytes = 1 << 20};
        assert_int_equal(f->s->ops->pull(f->s, &mgr, &q, &page, NULL), 0);
        assert_int_equal(page.n, 2);
        for (size_t i = 0; i < page.n; i++)
            assert_string_equal(page.items[i].id, want[got++]);
        assert_int_equal(page.more, pages < 2);
        cursor = page.next_cursor;
        srv_pull_page_clear(&page);
    }
    assert_int_equal(got, 6);
}

typedef struct pool_arg {
    srv_pool *pool;
    int iterations;
    int failures;
} pool_arg;

static void *pool_worker(void *p)
{
    pool_arg *a = p;
    for (int i = 0; i < a->iterations; i++) {
        srv_storage *s = srv_pool_acquire(a->pool);
        uint64_t seq;
        if (s->ops->begin(s, true, NULL) != 0 || s->ops->next_seq(s, &seq, NULL) != 0 ||
            s->ops->commit(s, NULL) != 0) {
            s->ops->rollback(s);
            a->failures++;
        }
        srv_pool_release(a->pool, s);
    }
    return NULL;
}

static void test_pool_serves_threads_without_losing_sequence_numbers(void **state)
{
    fx *f = *state;
    srv_pool *pool;
    assert_int_equal(srv_pool_new(&pool, f->path, 2, NULL), 0);
    pthread_t th[4];
    pool_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (pool_arg){.pool = pool, .iterations = 25};
        pthread_create(&th[i], NULL, pool_worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    uint64_t last;
    assert_int_equal(f->s->ops->last_seq(f->s, &last, NULL), 0);
    assert_int_equal(last, 100);
    srv_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_missing_database_without_create_is_not_found),
        T(test_newer_schema_is_refused),
        T(test_version_1_database_is_upgraded),
        T(test_damaged_file_is_an_error_not_a_crash),
        T(test_users_are_unique_and_managers_must_exist),
        T(test_code_is_used_at_most_once),
        T(test_sequence_survives_reopen_and_rollback_undoes),
        T(test_record_put_get_round_trip),
        T(test_manager_pages_merge_the_team_in_seq_order),
        T(test_pool_serves_threads_without_losing_sequence_numbers),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
