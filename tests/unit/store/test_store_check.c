/*
 * test_store_check.c: fs_store_check, the integrity check through the cipher.
 * A sound store passes with every page of its file counted; a flipped bit in a
 * page in use, in a free page (which integrity_check alone never reads) or in
 * a committed WAL frame is found and named, and the check says so rather than
 * failing. Reading a damaged page is FS_ECORRUPT, never the wrong-key FS_EAUTH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

#define PASS "check test passphrase"
#define PSZ 4096

typedef struct fixture {
    tu_files files;
    fs_store *st;
} fixture;

static fs_store *open_store(fixture *f)
{
    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    if (fs_store_open(&st, f->files.db, f->files.key, PASS, strlen(PASS),
                      FS_STORE_CREATE | FS_STORE_FAST_KDF, &err) != 0)
        fail_msg("open: %s", err.msg);
    return st;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    tu_files_make(&f->files);
    f->st = open_store(f);
    char id[32], notes[600];
    memset(notes, 'n', sizeof(notes) - 1);
    notes[sizeof(notes) - 1] = '\0';
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof(id), "acc%03d", i);
        tu_put_account(f->st, id, id, 1, "rep1", "Leeds", notes);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fs_store_close(f->st);
    tu_files_remove(&f->files);
    free(f);
    return 0;
}

static long long file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long long)sb.st_size;
}

static void flip(const char *path, long long off)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, off, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, off, SEEK_SET), 0);
    fputc(c ^ 0x04, fp);
    assert_int_equal(fclose(fp), 0);
}

static long long first_int(fs_store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void checkpoint(fs_store *st)
{
    assert_int_equal(
        sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL), SQLITE_OK);
}

/* Runs the check; expects exactly one finding naming page pgno of file. */
static void expect_found(fs_store *st, long long pgno, const char *file)
{
    fs_check_report r;
    fs_err err;
    fs_err_clear(&err);
    if (fs_store_check(st, &r, &err) != 0)
        fail_msg("check: %s", err.msg);
    char want[4200];
    snprintf(want, sizeof(want), "page %lld of %s failed authentication", pgno, file);
    bool named = false;
    for (size_t i = 0; i < r.nkept; i++)
        named = named || strstr(r.problems[i], want) != NULL;
    if (r.nproblems == 0 || !named)
        fail_msg("%zu findings, none naming \"%s\" (first: %s)", r.nproblems, want,
                 r.nkept > 0 ? r.problems[0] : "none");
    fs_check_report_clear(&r);
}

static void sound_store_passes_with_every_page_counted(void **state)
{
    fixture *f = *state;
    checkpoint(f->st);
    fs_check_report r;
    assert_int_equal(fs_store_check(f->st, &r, NULL), 0);
    assert_int_equal(r.nproblems, 0);
    assert_int_equal(r.pages, file_size(f->files.db) / PSZ);
    assert_true(r.pages > 20);
    fs_check_report_clear(&r);
}

/* The last page of the table in use, damaged after the store was closed. */
static void damaged_page_in_use_is_named(void **state)
{
    fixture *f = *state;
    long long pgno = first_int(f->st, "SELECT max(pageno) FROM dbstat WHERE name = 'records'");
    fs_store_close(f->st);
    flip(f->files.db, (pgno - 1) * PSZ + 700);
    f->st = open_store(f);
    expect_found(f->st, pgno, f->files.db);
    /* reading it is a damaged store (not a wrong key) with the page named */
    fs_list_query q = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT, .limit = 1000};
    fs_list_page page = {0};
    fs_err err;
    fs_err_clear(&err);
    int rc = fs_store_list(f->st, &q, &page, &err);
    fs_list_page_clear(&page);
    char want[64];
    snprintf(want, sizeof(want), "page %lld of ", pgno);
    if (rc != FS_ECORRUPT || strstr(err.msg, want) == NULL)
        fail_msg("listing gave %d: %s", rc, err.msg);
}

/* A free page: no b-tree reads it, integrity_check neither; the page scan does. */
static void damaged_free_page_is_named(void **state)
{
    fixture *f = *state;
    assert_int_equal(fs_store_exec(f->st,
                                   "CREATE TABLE scratch(b); WITH RECURSIVE k(i) AS (SELECT 1 "
                                   "UNION ALL SELECT i + 1 FROM k WHERE i < 100) INSERT INTO "
                                   "scratch SELECT randomblob(3000) FROM k; DROP TABLE scratch",
                                   NULL),
                     0);
    checkpoint(f->st);
    assert_true(first_int(f->st, "PRAGMA freelist_count") > 0);
    long long pgno = first_int(f->st, "WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
                                      "FROM p WHERE n < (SELECT page_count FROM pragma_page_count))"
                                      " SELECT max(n) FROM p WHERE n NOT IN (SELECT pageno FROM "
                                      "dbstat)");
    assert_true(pgno > 1);
    flip(f->files.db, (pgno - 1) * PSZ + 100);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "PRAGMA integrity_check", -1, &s, NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok"); /* blind to it */
    sqlite3_finalize(s);
    expect_found(f->st, pgno, f->files.db);
}

/* A committed WAL frame holding the newest version of a page in use. */
static void damaged_wal_frame_is_named(void **state)
{
    fixture *f = *state;
    checkpoint(f->st);
    tu_put_account(f->st, "acc150", "renamed", 2, "rep1", "York", "changed");
    char *wal = tu_path(f->files.dir, "store.db-wal");
    long long frames = (file_size(wal) - 32) / (PSZ + 24), pgno = 0;
    assert_true(frames > 0);
    for (long long i = frames - 1; i >= 0 && pgno == 0; i--) { /* a leaf of records, newest */
        unsigned char h[4];
        FILE *fp = fopen(wal, "rb");
        assert_non_null(fp);
        assert_int_equal(fseek(fp, 32 + i * (PSZ + 24), SEEK_SET), 0);
        assert_int_equal(fread(h, 1, 4, fp), 4);
        fclose(fp);
        long long p = (long long)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM dbstat WHERE pageno = %lld AND "
                 "name = 'records' AND pagetype = 'leaf'",
                 p);
        if (first_int(f->st, sql) == 1) {
            pgno = p;
            flip(wal, 32 + i * (PSZ + 24) + 24 + 500);
        }
    }
    assert_true(pgno > 0);
    sqlite3_db_release_memory(f->st->db); /* read it from the file again */
    expect_found(f->st, pgno, wal);
    free(wal);
}

/* An index the schema has and the store lost is a finding, outside an initial
 * load, which drops the projection indexes and builds them at its end. */
static void missing_index_is_named_outside_a_load(void **state)
{
    fixture *f = *state;
    fs_check_report r;
    assert_int_equal(fs_store_exec(f->st, "DROP INDEX visits_by_account", NULL), 0);
    assert_int_equal(fs_store_check(f->st, &r, NULL), 0);
    assert_int_equal(r.nproblems, 1);
    assert_non_null(strstr(r.problems[0], "index visits_by_account is missing"));
    fs_check_report_clear(&r);

    /* a new store that begins a load lacks every projection index, rightly */
    fs_store_close(f->st);
    unlink(f->files.db);
    f->st = open_store(f);
    assert_int_equal(fs_store_load_begin(f->st, NULL), 0);
    assert_true(fs_store_loading(f->st));
    assert_int_equal(fs_store_check(f->st, &r, NULL), 0);
    assert_int_equal(r.nproblems, 0);
    fs_check_report_clear(&r);
    assert_int_equal(fs_store_load_finish(f->st, NULL), 0);
    assert_int_equal(fs_store_check(f->st, &r, NULL), 0);
    assert_int_equal(r.nproblems, 0);
    fs_check_report_clear(&r);
}

/* A record whose state changed behind the index's back (the trigger that
 * takes its row out first dropped) leaves the index wrong: a finding. */
static void stale_search_row_is_found(void **state)
{
    fixture *f = *state;
    fs_check_report r;
    assert_int_equal(fs_store_check(f->st, &r, NULL), 0);
    assert_int_equal(r.nproblems, 0);
    fs_check_report_clear(&r);
    assert_int_equal(fs_store_exec(f->st,
                                   "DROP TRIGGER records_unindex_update;"
                                   "UPDATE records SET state = (SELECT state FROM records WHERE "
                                   "id = 'acc001') WHERE id = 'acc002'",
                                   NULL),
                     0);
    assert_int_equal(fs_store_check(f->st, &r, NULL), 0);
    assert_int_equal(r.nproblems, 1);
    assert_non_null(strstr(r.problems[0], "the search index does not match the records"));
    fs_check_report_clear(&r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(sound_store_passes_with_every_page_counted),
        T(damaged_page_in_use_is_named),
        T(damaged_free_page_is_named),
        T(damaged_wal_frame_is_named),
        T(missing_index_is_named_outside_a_load),
        T(stale_search_row_is_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
