/*
 * test_vfs_plaintext.c: no known plaintext reaches the database, its WAL or its
 * rollback journal. Unique marker strings are written in rows and index keys;
 * the files are scanned while data sits in the WAL, after a checkpoint, and while
 * a rollback journal holds old pages. The same scenario on a plain database
 * finds every marker in every file, which proves the scan would see them.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/vfs.h"
#include "vfs_test_util.h"

enum { IN_WAL = 1, IN_DB_AFTER_CKPT = 2, IN_JOURNAL = 4, IN_DB_SPILLED = 8, IN_ANY_SHM = 16 };

static const char *const markers[] = {"MARKER-alpha-7f3a91", "MARKER-bravo-22c0de",
                                      "MARKER-charlie-0b5e"};
#define NMARKERS (sizeof(markers) / sizeof(markers[0]))

static int any_marker(const char *path)
{
    for (size_t i = 0; i < NMARKERS; i++)
        if (vt_file_contains(path, markers[i], strlen(markers[i])))
            return 1;
    return 0;
}

static int all_markers(const char *path)
{
    for (size_t i = 0; i < NMARKERS; i++)
        if (!vt_file_contains(path, markers[i], strlen(markers[i])))
            return 0;
    return 1;
}

static void insert_markers(sqlite3 *db, const char *suffix)
{
    char sql[512];
    for (size_t i = 0; i < NMARKERS; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO notes(title, body) VALUES ('%s%s', 'body of %s with padding "
                 "text text text')",
                 markers[i], suffix, markers[i]);
        vt_exec(db, sql);
    }
}

/* Runs the scenario in dir with key (NULL: plain) and returns where markers
 * were found: for a plain database every bit of "all", for an encrypted none. */
static int scenario(const char *dir, const fs_secret *key, int *all)
{
    char *db_path = vt_path(dir, key ? "enc.db" : "plain.db");
    char wal[4200], jrnl[4200], shm[4200];
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    snprintf(jrnl, sizeof(jrnl), "%s-journal", db_path);
    snprintf(shm, sizeof(shm), "%s-shm", db_path);
    int found = 0;
    *all = 0;
    sqlite3 *db = vt_open(db_path, key);
    vt_exec(db, "PRAGMA wal_autocheckpoint=0");
    vt_exec(db, "CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT, body TEXT);"
                "CREATE INDEX notes_title ON notes(title)");
    insert_markers(db, "");
    /* 1: committed, still in the WAL */
    found |= any_marker(wal) ? IN_WAL : 0;
    *all |= all_markers(wal) ? IN_WAL : 0;
    found |= any_marker(shm) ? IN_ANY_SHM : 0;
    /* 2: checkpointed into the database */
    vt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    found |= any_marker(db_path) ? IN_DB_AFTER_CKPT : 0;
    *all |= all_markers(db_path) ? IN_DB_AFTER_CKPT : 0;
    /* 3: rollback journal holding the old pages while a spilling transaction runs */
    vt_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=2");
    vt_exec(db, "BEGIN; UPDATE notes SET title = title || '-x', body = body || '-y'");
    vt_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300) "
                "INSERT INTO notes(title, body) SELECT 'filler', hex(randomblob(300)) FROM n");
    insert_markers(db, "-spilled");
    found |= any_marker(jrnl) ? IN_JOURNAL : 0;
    *all |= all_markers(jrnl) ? IN_JOURNAL : 0;
    found |= any_marker(db_path) ? IN_DB_SPILLED : 0;
    *all |= all_markers(db_path) ? IN_DB_SPILLED : 0;
    vt_exec(db, "COMMIT");
    sqlite3_close(db);
    free(db_path);
    return found;
}

static void plain_database_shows_markers_so_the_scan_works(void **state)
{
    (void)state;
    char *dir = vt_tmpdir_new();
    int all = 0;
    int found = scenario(dir, NULL, &all);
    assert_int_equal(all, IN_WAL | IN_DB_AFTER_CKPT | IN_JOURNAL | IN_DB_SPILLED);
    assert_true(found & IN_WAL);
    vt_tmpdir_free(dir);
}

static void encrypted_database_wal_and_journal_hold_no_marker(void **state)
{
    (void)state;
    char *dir = vt_tmpdir_new();
    fs_secret *key = vt_key(0x44);
    int all = 0;
    int found = scenario(dir, key, &all);
    assert_int_equal(found, 0);
    fs_secret_free(key);
    vt_tmpdir_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_database_shows_markers_so_the_scan_works),
        cmocka_unit_test(encrypted_database_wal_and_journal_hold_no_marker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
