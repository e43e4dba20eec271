/*
 * test_vfs_basic.c: the encrypting VFS keeps data and refuses what would break
 * it: round trips for every page size, the reserve rule (rule 4), no mmap (rule
 * 5), page_size locked (rule 6), temporary files refused, VACUUM and VACUUM
 * INTO (plain -> encrypted, encrypted -> encrypted), wrong key at open.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "fieldsync/page.h"
#include "fieldsync/vfs.h"
#include "vfs_test_util.h"

struct ctx {
    char *dir;
    char *db;
    fs_secret *key;
    fs_secret *key2;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->dir = vt_tmpdir_new();
    c->db = vt_path(c->dir, "t.db");
    c->key = vt_key(0x11);
    c->key2 = vt_key(0x22);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    vt_tmpdir_free(c->dir);
    free(c->db);
    fs_secret_free(c->key);
    fs_secret_free(c->key2);
    free(c);
    return 0;
}

static void fill(sqlite3 *db, int rows, int blob)
{
    char sql[256];
    vt_exec(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, name TEXT, b BLOB)");
    vt_exec(db, "BEGIN");
    for (int i = 0; i < rows; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO t(name, b) VALUES ('name-%d-' || hex(randomblob(8)), "
                 "randomblob(%d))",
                 i, blob + (i * 37) % 300);
        vt_exec(db, sql);
    }
    vt_exec(db, "COMMIT");
}

static void new_db_has_sealed_page1_and_reserve(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    fill(db, 50, 100);
    uint64_t h = vt_table_hash(db, "t");
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);

    uint8_t hdr[24];
    vt_read_at(c->db, 0, hdr, sizeof(hdr));
    assert_true(memcmp(hdr, "SQLite format 3", 15) != 0); /* the id is there instead */
    assert_int_equal(hdr[20], FS_PAGE_RESERVE_BYTES);
    assert_int_equal(hdr[16] << 8 | hdr[17], 4096);

    db = vt_open(c->db, c->key);
    assert_int_equal(vt_table_hash(db, "t"), h);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
}

static void round_trip_every_page_size(void **state)
{
    struct ctx *c = *state;
    for (int psz = 1024; psz <= 65536; psz *= 2) {
        char name[64], sql[128];
        snprintf(name, sizeof(name), "ps%d.db", psz);
        char *path = vt_path(c->dir, name);
        sqlite3 *db = vt_open_raw(path, c->key);
        snprintf(sql, sizeof(sql), "PRAGMA page_size=%d", psz);
        vt_exec(db, sql);
        vt_exec(db, "PRAGMA journal_mode=WAL");
        fill(db, 200, psz / 4); /* rows with overflow pages at every size */
        uint64_t h = vt_table_hash(db, "t");
        vt_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
        fill(db, 20, 10); /* some pages left in the WAL */
        h = vt_table_hash(db, "t");
        sqlite3_close(db);

        assert_int_equal(vt_file_size(path) % psz, 0);
        db = vt_open(path, c->key);
        assert_int_equal(vt_int(db, "PRAGMA page_size"), psz);
        assert_int_equal(vt_table_hash(db, "t"), h);
        char *ic = vt_integrity(db);
        assert_string_equal(ic, "ok");
        free(ic);
        sqlite3_close(db);
        free(path);
    }
}

static void write_with_too_little_reserve_is_refused(void **state)
{
    struct ctx *c = *state;
    char *uri = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(fs_vfs_uri_new(&uri, c->db, c->key, NULL), 0);
    assert_int_equal(sqlite3_open_v2(uri, &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                     NULL),
                     SQLITE_OK);
    fs_vfs_uri_free(uri);
    vt_exec(db, "PRAGMA temp_store=MEMORY");
    /* no SQLITE_FCNTL_RESERVE_BYTES: SQLite would use every byte of the page */
    int rc = vt_try(db, "CREATE TABLE secret_marker_table(x); INSERT INTO secret_marker_table "
                        "VALUES('plaintext-marker-RES')");
    assert_int_not_equal(rc, SQLITE_OK);
    fs_err err;
    assert_int_equal(fs_vfs_last_error(db, &err), FS_EIO);
    assert_non_null(strstr(err.msg, "reserves fewer than 40 bytes"));
    sqlite3_close(db);
    assert_false(vt_file_contains(c->db, "secret_marker_table", 19));
    assert_false(vt_file_contains(c->db, "plaintext-marker-RES", 20));
}

static void page_with_data_in_reserve_is_refused_by_cipher(void **state)
{
    (void)state;
    fs_secret *k = vt_key(1);
    uint8_t in[1024] = {0}, out[1024];
    uint8_t id[FS_PAGE_DBID_BYTES] = {0};
    in[1024 - 1] = 1;
    assert_int_equal(fs_page_seal(out, in, sizeof(in), 2, id, k), FS_EINVAL);
    fs_secret_free(k);
}

static void mmap_requests_change_nothing(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    fill(db, 100, 200);
    uint64_t h = vt_table_hash(db, "t");
    assert_int_equal(vt_int(db, "PRAGMA mmap_size=268435456"), 0);
    sqlite3_int64 sz = 1 << 20;
    assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_MMAP_SIZE, &sz), SQLITE_OK);
    assert_int_equal(sz, 0);
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    db = vt_open(c->db, c->key);
    vt_exec(db, "PRAGMA mmap_size=268435456");
    assert_int_equal(vt_table_hash(db, "t"), h);
    sqlite3_close(db);
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n == 0;
}

static void temp_store_file_work_is_refused(void **state)
{
    struct ctx *c = *state;
    char *tmp = vt_path(c->dir, "tmp");
    assert_int_equal(mkdir(tmp, 0700), 0);
    setenv("SQLITE_TMPDIR", tmp, 1); /* where unix would put a spilled temp file */
    sqlite3 *db = vt_open(c->db, c->key);
    fill(db, 10, 10);
    vt_exec(db, "PRAGMA temp_store=FILE; CREATE TEMP TABLE tt(x); PRAGMA temp.cache_size=2");
    /* enough temp data that the temp database must spill to a file */
    int rc = vt_try(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n "
                        "WHERE i<2000) INSERT INTO tt SELECT 'temp-marker-' || "
                        "hex(randomblob(500)) FROM n");
    assert_int_equal(rc & 0xff, SQLITE_CANTOPEN);
    assert_true(dir_is_empty(tmp));
    vt_exec(db, "DROP TABLE IF EXISTS temp.tt");
    sqlite3_close(db);
    /* with temp_store=MEMORY (fs_vfs_open's default) the same work succeeds */
    db = vt_open(c->db, c->key);
    vt_exec(db, "CREATE TEMP TABLE tt(x); PRAGMA temp.cache_size=2");
    vt_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<2000) "
                "INSERT INTO tt SELECT hex(randomblob(500)) FROM n");
    assert_int_equal(vt_int(db, "SELECT count(*) FROM tt"), 2000);
    sqlite3_close(db);
    assert_true(dir_is_empty(tmp));
    unsetenv("SQLITE_TMPDIR");
    free(tmp);
}

static void page_size_change_is_blocked(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    fill(db, 10, 10);
    assert_int_not_equal(vt_try(db, "PRAGMA page_size=8192"), SQLITE_OK);
    assert_int_not_equal(vt_try(db, "PRAGMA journal_mode=DELETE; PRAGMA page_size=1024; VACUUM"),
                         SQLITE_OK);
    assert_int_equal(vt_int(db, "PRAGMA page_size"), 4096);
    vt_exec(db, "PRAGMA page_size=4096"); /* the same size is no change */
    sqlite3_close(db);
}

static void vacuum_keeps_data_encrypted(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    fill(db, 300, 500);
    vt_exec(db, "DELETE FROM t WHERE id % 3 = 0; INSERT INTO t(name) VALUES('vacuum-marker-V1')");
    uint64_t h = vt_table_hash(db, "t");
    vt_exec(db, "VACUUM");
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_int_equal(vt_table_hash(db, "t"), h);
    sqlite3_close(db);
    assert_false(vt_file_contains(c->db, "vacuum-marker-V1", 16));
    db = vt_open(c->db, c->key);
    assert_int_equal(vt_table_hash(db, "t"), h);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM pragma_integrity_check"), 1);
    sqlite3_close(db);
}

static void vacuum_into_plain_to_encrypted_and_rekey(void **state)
{
    struct ctx *c = *state;
    char *plain = vt_path(c->dir, "plain.db"), *enc = vt_path(c->dir, "enc.db"),
         *enc2 = vt_path(c->dir, "enc2.db");
    sqlite3 *db = vt_open(plain, NULL);
    fill(db, 200, 300);
    vt_exec(db, "INSERT INTO t(name) VALUES('convert-marker-C1')");
    uint64_t h = vt_table_hash(db, "t");
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_true(vt_file_contains(plain, "convert-marker-C1", 17)); /* the scan sees plaintext */
    fs_err err;
    assert_int_equal(fs_vfs_vacuum_into(db, enc, c->key, &err), 0);
    sqlite3_close(db);
    assert_false(vt_file_contains(enc, "convert-marker-C1", 17));

    db = vt_open(enc, c->key);
    assert_int_equal(vt_table_hash(db, "t"), h);
    /* encrypted -> encrypted under another key: the rekey path */
    assert_int_equal(fs_vfs_vacuum_into(db, enc2, c->key2, &err), 0);
    sqlite3_close(db);
    assert_false(vt_file_contains(enc2, "convert-marker-C1", 17));
    assert_int_equal(fs_vfs_open(&db, enc2, c->key, SQLITE_OPEN_READWRITE, &err), FS_EAUTH);
    assert_null(db);
    db = vt_open(enc2, c->key2);
    assert_int_equal(vt_table_hash(db, "t"), h);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
    free(plain);
    free(enc);
    free(enc2);
}

static void wrong_key_fails_at_open_naming_page_1(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    fill(db, 10, 10);
    sqlite3_close(db);
    fs_err err = {0};
    db = NULL;
    assert_int_equal(fs_vfs_open(&db, c->db, c->key2, SQLITE_OPEN_READWRITE, &err), FS_EAUTH);
    assert_null(db);
    assert_non_null(strstr(err.msg, "page 1 of"));
    assert_non_null(strstr(err.msg, "wrong key or damaged database"));
    /* a plain database is not an encrypted one either */
    char *plain = vt_path(c->dir, "p.db");
    db = vt_open(plain, NULL);
    fill(db, 10, 10);
    sqlite3_close(db);
    assert_int_equal(fs_vfs_open(&db, plain, c->key, SQLITE_OPEN_READWRITE, &err), FS_EAUTH);
    free(plain);
}

/* A page spilled to the WAL and changed again in the same transaction is
 * rewritten in place (image only), and the frame checksums are recomputed at
 * commit by reading frame headers back (rules 1 and 2): recovery of a copy of
 * the database and its WAL must find every commit. */
static void wal_frames_rewritten_after_spill_survive_recovery(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    vt_exec(db, "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=3");
    vt_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
    vt_exec(db, "BEGIN");
    vt_exec(db, "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM k WHERE i<300) "
                "INSERT INTO t SELECT i, 'a', randomblob(300) FROM k");
    for (int round = 0; round < 4; round++)
        vt_exec(db, "UPDATE t SET v = v || 'x', b = randomblob(300)");
    vt_exec(db, "COMMIT");
    uint64_t h = vt_table_hash(db, "t");
    char *copy = vt_path(c->dir, "copy.db"), *wal = vt_path(c->dir, "t.db-wal"),
         *copy_wal = vt_path(c->dir, "copy.db-wal");
    vt_copy_file(c->db, copy);
    vt_copy_file(wal, copy_wal);
    sqlite3_close(db);
    db = vt_open(copy, c->key); /* WAL recovery checks every frame's checksum */
    assert_int_equal(vt_table_hash(db, "t"), h);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE v = 'axxxx'"), 300);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
    free(copy);
    free(wal);
    free(copy_wal);
}

/* The checkpoint copy (vfs_main.c): a page the checkpoint copies from the WAL reaches the
 * database as the very sealed image of its last WAL frame (no second encryption),
 * and the database reads back correctly afterwards. */
static void checkpoint_writes_the_wal_frame_image_unchanged(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    vt_exec(db, "PRAGMA wal_autocheckpoint=0");
    fill(db, 100, 300);
    fill(db, 20, 30);
    uint64_t h = vt_table_hash(db, "t");
    assert_int_equal(vt_int(db, "PRAGMA wal_checkpoint(PASSIVE)"), 0); /* column 1: busy */
    char *wal = vt_path(c->dir, "t.db-wal");
    long long frames = (vt_file_size(wal) - 32) / (4096 + 24);
    assert_true(frames > 10);
    /* the last frame of each page is what the checkpoint copied */
    static uint8_t frame[4096 + 24], page[4096];
    int seen[4096] = {0}, compared = 0;
    for (long long i = frames - 1; i >= 0; i--) {
        vt_read_at(wal, 32 + i * (4096 + 24), frame, sizeof(frame));
        uint32_t pgno = (uint32_t)frame[0] << 24 | frame[1] << 16 | frame[2] << 8 | frame[3];
        if (pgno >= 4096 || seen[pgno]++)
            continue;
        vt_read_at(c->db, (long long)(pgno - 1) * 4096, page, sizeof(page));
        assert_memory_equal(page, frame + 24, 4096);
        compared++;
    }
    assert_true(compared > 5);
    sqlite3_close(db);
    db = vt_open(c->db, c->key);
    assert_int_equal(vt_table_hash(db, "t"), h);
    sqlite3_close(db);
    free(wal);
}

/* The shim's read shapes, called directly on SQLite's file objects: the 100-byte
 * header read and the 16-byte change-counter read of page 1 (whole page opened,
 * slice returned, magic restored), a read past the end (SQLITE_IOERR_SHORT_READ,
 * zero-filled: rule 7), a read across two pages (refused); on the WAL both frame
 * shapes (image alone, whole frame) give the same clear page with a zero reserve
 * (rule 1), and any other shape is refused. */
static void read_shapes_follow_sqlite_rules(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    vt_exec(db, "PRAGMA wal_autocheckpoint=0");
    fill(db, 40, 100);
    sqlite3_file *main_file = NULL, *wal = NULL;
    assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &main_file), 0);
    assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal), 0);
    const sqlite3_io_methods *m = main_file->pMethods;
    uint8_t hdr[100], ctr[16], page[4096], frame[4096 + 24];
    assert_int_equal(m->xRead(main_file, hdr, 100, 0), SQLITE_OK);
    assert_memory_equal(hdr, "SQLite format 3", 16);
    assert_int_equal(hdr[20], FS_PAGE_RESERVE_BYTES);
    assert_int_equal(m->xRead(main_file, ctr, 16, 24), SQLITE_OK);
    assert_memory_equal(ctr, hdr + 24, 16);
    long long size = vt_file_size(c->db);
    memset(page, 0xaa, sizeof(page));
    assert_int_equal(m->xRead(main_file, page, 4096, size), SQLITE_IOERR_SHORT_READ);
    static const uint8_t zero[4096];
    assert_memory_equal(page, zero, 4096);
    assert_int_not_equal(m->xRead(main_file, page, 200, 4096 - 100), SQLITE_OK);

    const sqlite3_io_methods *w = wal->pMethods;
    assert_int_equal(w->xRead(wal, frame, 4096 + 24, 32), SQLITE_OK);
    assert_int_equal(w->xRead(wal, page, 4096, 32 + 24), SQLITE_OK);
    assert_memory_equal(frame + 24, page, 4096);
    assert_memory_equal(page + 4096 - FS_PAGE_RESERVE_BYTES, zero, FS_PAGE_RESERVE_BYTES);
    assert_int_equal(w->xRead(wal, page, 100, 32 + 24), SQLITE_IOERR_READ);
    assert_int_equal(w->xRead(wal, page, 4096, 32 + 1000), SQLITE_IOERR_READ);
    sqlite3_close(db);
}

/* A copy must go to a new file: an existing database is never overwritten. */
static void vacuum_into_refuses_an_existing_destination(void **state)
{
    struct ctx *c = *state;
    char *other = vt_path(c->dir, "other.db");
    sqlite3 *db = vt_open(other, c->key2);
    fill(db, 5, 10);
    uint64_t h = vt_table_hash(db, "t");
    sqlite3_close(db);
    db = vt_open(c->db, c->key);
    fill(db, 20, 10);
    fs_err err;
    assert_int_not_equal(fs_vfs_vacuum_into(db, other, c->key2, &err), 0);
    sqlite3_close(db);
    db = vt_open(other, c->key2);
    assert_int_equal(vt_table_hash(db, "t"), h);
    sqlite3_close(db);
    free(other);
}

static void no_key_in_uri_is_refused(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = NULL;
    char uri[4200];
    assert_int_equal(fs_vfs_register(NULL), 0);
    snprintf(uri, sizeof(uri), "file:%s?vfs=" FS_VFS_NAME, c->db);
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                             NULL);
    assert_int_equal(rc, SQLITE_CANTOPEN);
    sqlite3_close(db);
    snprintf(uri, sizeof(uri), "file:%s?vfs=" FS_VFS_NAME "&fskey=999999", c->db);
    rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                         NULL);
    assert_int_equal(rc, SQLITE_CANTOPEN);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(new_db_has_sealed_page1_and_reserve),
        T(round_trip_every_page_size),
        T(write_with_too_little_reserve_is_refused),
        T(page_with_data_in_reserve_is_refused_by_cipher),
        T(mmap_requests_change_nothing),
        T(temp_store_file_work_is_refused),
        T(page_size_change_is_blocked),
        T(vacuum_keeps_data_encrypted),
        T(vacuum_into_plain_to_encrypted_and_rekey),
        T(wrong_key_fails_at_open_naming_page_1),
        T(no_key_in_uri_is_refused),
        T(read_shapes_follow_sqlite_rules),
        T(vacuum_into_refuses_an_existing_destination),
        T(checkpoint_writes_the_wal_frame_image_unchanged),
        T(wal_frames_rewritten_after_spill_survive_recovery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
