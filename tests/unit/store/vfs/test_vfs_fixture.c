/*
 * test_vfs_fixture.c: the on-disk format stays readable. fixtures/format-v1.fixture
 * is an encrypted database written once by this program (FS_VFS_WRITE_FIXTURE=1)
 * under the test key below and committed; every later build must open a copy of
 * it and find the same rows. Format versions: docs/encryption.md.
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

/* TEST KEY ONLY: 32 bytes of 0x46 ('F'). Never use outside this fixture. */
#define FIXTURE_KEY_BYTE 0x46
#define FIXTURE FS_VFS_FIXTURE_DIR "/format-v1.fixture"

static const char *const rows_sql =
    "CREATE TABLE account(id TEXT PRIMARY KEY, name TEXT, tier INTEGER, notes BLOB);"
    "INSERT INTO account VALUES('acc-1', 'Acme Hardware', 1, NULL);"
    "INSERT INTO account VALUES('acc-2', 'Bolt & Nut Ltd', 2, zeroblob(10));"
    "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM k WHERE i<6000) "
    "INSERT INTO account SELECT 'acc-3', 'Overflow Co', 3, "
    "(SELECT group_concat(printf('%04d', i), '') FROM k);";

static void write_fixture(void)
{
    fs_secret *key = vt_key(FIXTURE_KEY_BYTE);
    remove(FIXTURE);
    sqlite3 *db = vt_open(FIXTURE, key);
    vt_exec(db, rows_sql);
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE");
    sqlite3_close(db);
    fs_secret_free(key);
}

static void format_v1_fixture_still_opens(void **state)
{
    (void)state;
    char *dir = vt_tmpdir_new(), *copy = vt_path(dir, "fixture.db");
    vt_copy_file(FIXTURE, copy); /* opening may write: never touch the committed file */
    uint8_t hdr[24];
    vt_read_at(copy, 0, hdr, sizeof(hdr));
    assert_int_equal(hdr[FS_PAGE1_RESERVE_OFFSET], FS_PAGE_RESERVE_BYTES);
    assert_true(memcmp(hdr, FS_PAGE1_MAGIC, 15) != 0);

    fs_secret *key = vt_key(FIXTURE_KEY_BYTE);
    sqlite3 *db = vt_open(copy, key);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM account"), 3);
    assert_int_equal(vt_int(db, "SELECT tier FROM account WHERE name = 'Bolt & Nut Ltd'"), 2);
    assert_int_equal(vt_int(db, "SELECT length(notes) FROM account WHERE id = 'acc-3'"), 24000);
    assert_int_equal(vt_int(db, "SELECT substr(notes, 23997) = '6000' FROM account "
                                "WHERE id = 'acc-3'"),
                     1);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);

    fs_secret *wrong = vt_key(FIXTURE_KEY_BYTE + 1);
    fs_err err;
    assert_int_equal(fs_vfs_open(&db, copy, wrong, SQLITE_OPEN_READWRITE, &err), FS_EAUTH);
    fs_secret_free(wrong);
    fs_secret_free(key);
    free(copy);
    vt_tmpdir_free(dir);
}

int main(void)
{
    if (getenv("FS_VFS_WRITE_FIXTURE") != NULL) {
        write_fixture();
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_v1_fixture_still_opens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
