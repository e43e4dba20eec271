/*
 * test_vfs_tamper.c: damage on disk gives a clear error naming the page, never
 * wrong data: one flipped bit in a page's data, nonce or tag, in page 1 (data,
 * database id, clear header bytes 16-23), in a WAL frame image or a journal
 * record; pages swapped within a database or copied from another one; an
 * all-zero page (rule 7); truncated database and WAL files.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/page.h"
#include "fieldsync/vfs.h"
#include "vfs_test_util.h"

#define PSZ 4096

struct ctx {
    char *dir;
    char *db;
    fs_secret *key;
    long long pages;
};

static void fill(sqlite3 *db, int from, int rows)
{
    char sql[256];
    vt_exec(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, name TEXT, b BLOB)");
    vt_exec(db, "BEGIN");
    for (int i = from; i < from + rows; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO t(id, name, b) VALUES (%d, 'row-%d', randomblob(%d))", i, i,
                 200 + (i * 53) % 900);
        vt_exec(db, sql);
    }
    vt_exec(db, "COMMIT");
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->dir = vt_tmpdir_new();
    c->db = vt_path(c->dir, "t.db");
    c->key = vt_key(0x33);
    sqlite3 *db = vt_open(c->db, c->key);
    fill(db, 1, 300);
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    c->pages = vt_int(db, "PRAGMA page_count");
    sqlite3_close(db);
    assert_int_equal(vt_file_size(c->db), c->pages * PSZ);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    vt_tmpdir_free(c->dir);
    free(c->db);
    fs_secret_free(c->key);
    free(c);
    return 0;
}

/* Opens path (which must open), scans t, and expects an authentication error
 * whose message names page pgno of file (a suffix such as "t.db-wal"). */
static void expect_scan_fails(const char *path, const fs_secret *key, long long pgno,
                              const char *file)
{
    sqlite3 *db = vt_open(path, key);
    int rc = vt_try(db, "SELECT count(*), sum(length(b)) FROM t");
    assert_int_equal(rc, SQLITE_IOERR_AUTH);
    fs_err err;
    assert_int_equal(fs_vfs_last_error(db, &err), FS_EAUTH);
    char want[128];
    snprintf(want, sizeof(want), "page %lld of ", pgno);
    if (strstr(err.msg, want) == NULL || strstr(err.msg, file) == NULL)
        fail_msg("message \"%s\" does not name %s%s", err.msg, want, file);
    sqlite3_close(db);
}

/* Expects fs_vfs_open itself to fail with FS_EAUTH naming page pgno of file. */
static void expect_open_fails(const char *path, const fs_secret *key, long long pgno,
                              const char *file)
{
    sqlite3 *db = NULL;
    fs_err err = {0};
    int rc = fs_vfs_open(&db, path, key, SQLITE_OPEN_READWRITE, &err);
    if (rc != FS_EAUTH)
        fail_msg("open gave %d: %s", rc, err.msg);
    assert_null(db);
    char want[128];
    snprintf(want, sizeof(want), "page %lld of ", pgno);
    if (strstr(err.msg, want) == NULL || strstr(err.msg, file) == NULL)
        fail_msg("message \"%s\" does not name %s%s", err.msg, want, file);
}

static void flipped_bit_in_page_data_names_the_page(void **state)
{
    struct ctx *c = *state;
    vt_flip_bit(c->db, (c->pages - 1) * PSZ + 100, 3);
    expect_scan_fails(c->db, c->key, c->pages, "t.db");
}

static void flipped_bit_in_nonce_names_the_page(void **state)
{
    struct ctx *c = *state;
    vt_flip_bit(c->db, 2 * PSZ + PSZ - FS_PAGE_RESERVE_BYTES + 7, 0);
    expect_scan_fails(c->db, c->key, 3, "t.db");
}

static void flipped_bit_in_tag_names_the_page(void **state)
{
    struct ctx *c = *state;
    vt_flip_bit(c->db, 3 * PSZ + PSZ - 1, 7);
    expect_scan_fails(c->db, c->key, 4, "t.db");
}

static void tampered_page1_fails_at_open(void **state)
{
    struct ctx *c = *state;
    long long offsets[] = {3 /* database id */, 18 /* header: write version */,
                           21 /* header: max payload fraction */, 200 /* encrypted data */,
                           PSZ - 30 /* tag */};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        vt_flip_bit(c->db, offsets[i], 1);
        expect_open_fails(c->db, c->key, 1, "t.db");
        vt_flip_bit(c->db, offsets[i], 1);
    }
    sqlite3 *db = vt_open(c->db, c->key); /* restored: opens again */
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t"), 300);
    sqlite3_close(db);
}

static void all_zero_page_is_never_valid(void **state)
{
    struct ctx *c = *state;
    static uint8_t zero[PSZ];
    vt_write_at(c->db, 4 * PSZ, zero, sizeof(zero));
    expect_scan_fails(c->db, c->key, 5, "t.db");
}

static void pages_swapped_within_the_database_fail(void **state)
{
    struct ctx *c = *state;
    static uint8_t a[PSZ], b[PSZ];
    long long p = c->pages - 2; /* pages p and p+1 (1-based) */
    vt_read_at(c->db, (p - 1) * PSZ, a, PSZ);
    vt_read_at(c->db, p * PSZ, b, PSZ);
    vt_write_at(c->db, (p - 1) * PSZ, b, PSZ);
    vt_write_at(c->db, p * PSZ, a, PSZ);
    sqlite3 *db = vt_open(c->db, c->key);
    assert_int_equal(vt_try(db, "SELECT count(*), sum(length(b)) FROM t"), SQLITE_IOERR_AUTH);
    fs_err err;
    fs_vfs_last_error(db, &err);
    char w1[64], w2[64];
    snprintf(w1, sizeof(w1), "page %lld of ", p);
    snprintf(w2, sizeof(w2), "page %lld of ", p + 1);
    assert_true(strstr(err.msg, w1) != NULL || strstr(err.msg, w2) != NULL);
    sqlite3_close(db);
}

static void page_copied_from_another_database_fails(void **state)
{
    struct ctx *c = *state;
    char *other = vt_path(c->dir, "other.db");
    sqlite3 *db = vt_open(other, c->key); /* same key, same layout, other database id */
    fill(db, 1, 300);
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    static uint8_t page[PSZ];
    vt_read_at(other, 5 * PSZ, page, PSZ);
    vt_write_at(c->db, 5 * PSZ, page, PSZ);
    expect_scan_fails(c->db, c->key, 6, "t.db");
    free(other);
}

/* Leaves frames in the WAL: a writer still open, a copy of db + WAL taken as a
 * crash would leave them. Returns the copy's path. */
static char *wal_snapshot(struct ctx *c)
{
    sqlite3 *w = vt_open(c->db, c->key);
    vt_exec(w, "PRAGMA wal_autocheckpoint=0");
    fill(w, 1000, 50);
    fill(w, 2000, 50);
    char *copy = vt_path(c->dir, "copy.db"), *wal = vt_path(c->dir, "t.db-wal"),
         *copy_wal = vt_path(c->dir, "copy.db-wal");
    vt_copy_file(c->db, copy);
    vt_copy_file(wal, copy_wal);
    sqlite3_close(w);
    free(wal);
    free(copy_wal);
    return copy;
}

static void flipped_bit_in_wal_frame_names_the_page(void **state)
{
    struct ctx *c = *state;
    char *copy = wal_snapshot(c);
    char *copy_wal = vt_path(c->dir, "copy.db-wal");
    /* the first frame's image: WAL header 32 + frame header 24 */
    uint8_t fh[24];
    vt_read_at(copy_wal, 32, fh, sizeof(fh));
    long long pgno = (long long)fh[0] << 24 | fh[1] << 16 | fh[2] << 8 | fh[3];
    vt_flip_bit(copy_wal, 32 + 24 + 1000, 4);
    expect_open_fails(copy, c->key, pgno, "copy.db-wal");
    free(copy_wal);
    free(copy);
}

/* A checkpoint copies WAL images to the database sealed, without opening them
 * (docs/encryption.md, Cost): a frame damaged while its database is open is
 * still caught, when the page is next read from the database. */
static void wal_frame_damaged_before_checkpoint_is_caught_after_it(void **state)
{
    struct ctx *c = *state;
    sqlite3 *w = vt_open(c->db, c->key);
    vt_exec(w, "PRAGMA wal_autocheckpoint=0");
    vt_exec(w, "UPDATE t SET name = name || '!' WHERE id = 150");
    char *wal = vt_path(c->dir, "t.db-wal");
    uint8_t fh[24];
    long long frames = (vt_file_size(wal) - 32) / (PSZ + 24), target = -1;
    for (long long i = 0; i < frames && target < 0; i++) { /* a frame of a leaf of t */
        vt_read_at(wal, 32 + i * (PSZ + 24), fh, sizeof(fh));
        long long pgno = (long long)fh[0] << 24 | fh[1] << 16 | fh[2] << 8 | fh[3];
        if (pgno > 2)
            target = pgno, vt_flip_bit(wal, 32 + i * (PSZ + 24) + 24 + 300, 5);
    }
    assert_true(target > 0);
    vt_exec(w, "PRAGMA wal_checkpoint(TRUNCATE)"); /* copies the damaged image */
    sqlite3_close(w);
    expect_scan_fails(c->db, c->key, target, "t.db");
    free(wal);
}

static void truncated_wal_keeps_earlier_commits(void **state)
{
    struct ctx *c = *state;
    char *copy = wal_snapshot(c);
    char *copy_wal = vt_path(c->dir, "copy.db-wal");
    /* cut the last frame in half: the last commit is lost as a whole, the rest stays */
    vt_truncate(copy_wal, vt_file_size(copy_wal) - (PSZ + 24) / 2);
    sqlite3 *db = vt_open(copy, c->key);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE id < 1000"), 300);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE id BETWEEN 1000 AND 1999"), 50);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE id >= 2000"), 0);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
    free(copy_wal);
    free(copy);
}

static void truncated_database_is_an_error_not_missing_rows(void **state)
{
    struct ctx *c = *state;
    long long cuts[] = {(c->pages / 2) * PSZ, c->pages * PSZ - 100};
    char *copy = vt_path(c->dir, "copy.db");
    for (size_t i = 0; i < 2; i++) {
        vt_copy_file(c->db, copy);
        vt_truncate(copy, cuts[i]);
        sqlite3 *db = NULL;
        fs_err err;
        if (fs_vfs_open(&db, copy, c->key, SQLITE_OPEN_READWRITE, &err) != 0) {
            assert_non_null(strstr(err.msg, "malformed")); /* refused at open: fine */
            continue;
        }
        int rc = vt_try(db, "SELECT count(*), sum(length(b)) FROM t");
        char *ic = vt_integrity(db);
        assert_true(rc != SQLITE_OK || strcmp(ic, "ok") != 0);
        assert_int_not_equal(rc, SQLITE_OK);
        free(ic);
        sqlite3_close(db);
    }
    free(copy);
}

static void flipped_bit_in_journal_record_names_the_page(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    vt_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=5");
    vt_exec(db, "BEGIN; UPDATE t SET b = randomblob(700)"); /* spills: the db file changes */
    char *copy = vt_path(c->dir, "copy.db"), *jrnl = vt_path(c->dir, "t.db-journal"),
         *copy_j = vt_path(c->dir, "copy.db-journal");
    vt_copy_file(c->db, copy);
    vt_copy_file(jrnl, copy_j);
    vt_exec(db, "ROLLBACK");
    sqlite3_close(db);
    /* first record after the header (one sector, size at header bytes 20-23) */
    uint8_t hdr[28];
    vt_read_at(copy_j, 0, hdr, sizeof(hdr));
    long long sector = (long long)hdr[20] << 24 | hdr[21] << 16 | hdr[22] << 8 | hdr[23];
    uint8_t pg[4];
    vt_read_at(copy_j, sector, pg, 4);
    long long pgno = (long long)pg[0] << 24 | pg[1] << 16 | pg[2] << 8 | pg[3];
    vt_flip_bit(copy_j, sector + 4 + 500, 2);
    expect_open_fails(copy, c->key, pgno, "copy.db-journal");
    free(copy);
    free(jrnl);
    free(copy_j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(flipped_bit_in_page_data_names_the_page),
        T(flipped_bit_in_nonce_names_the_page),
        T(flipped_bit_in_tag_names_the_page),
        T(tampered_page1_fails_at_open),
        T(all_zero_page_is_never_valid),
        T(pages_swapped_within_the_database_fail),
        T(page_copied_from_another_database_fails),
        T(flipped_bit_in_wal_frame_names_the_page),
        T(wal_frame_damaged_before_checkpoint_is_caught_after_it),
        T(truncated_wal_keeps_earlier_commits),
        T(truncated_database_is_an_error_not_missing_rows),
        T(flipped_bit_in_journal_record_names_the_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
