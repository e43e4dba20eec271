/*
 * vfs_test_util.c: helpers for the encrypting VFS tests (vfs_test_util.h).
 */
#include "vfs_test_util.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fieldsync/page.h"
#include "fieldsync/vfs.h"

char *vt_tmpdir_new(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/fsvfs-XXXXXX", base && *base ? base : "/tmp");
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return strdup(dir);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void vt_tmpdir_free(char *dir)
{
    if (dir == NULL)
        return;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

char *vt_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

fs_secret *vt_key(uint8_t seed)
{
    uint8_t raw[FS_PAGE_KEY_BYTES];
    memset(raw, seed, sizeof(raw)); /* a test key, never a real one */
    fs_secret *k = NULL;
    assert_int_equal(fs_secret_from(&k, raw, sizeof(raw), NULL), 0);
    return k;
}

sqlite3 *vt_open(const char *path, const fs_secret *key)
{
    sqlite3 *db = NULL;
    fs_err err = {0};
    int rc = fs_vfs_open(&db, path, key, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &err);
    if (rc != 0)
        fail_msg("fs_vfs_open %s: %s", path, fs_err_message(&err));
    return db;
}

sqlite3 *vt_open_raw(const char *path, const fs_secret *key)
{
    char *uri = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(fs_vfs_uri_new(&uri, path, key, NULL), 0);
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                             NULL);
    fs_vfs_uri_free(uri);
    assert_int_equal(rc, SQLITE_OK);
    int reserve = FS_PAGE_RESERVE_BYTES;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    vt_exec(db, "PRAGMA temp_store=MEMORY");
    return db;
}

void vt_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s (%d)", sql, msg ? msg : "?", rc);
}

int vt_try(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? rc : sqlite3_extended_errcode(db);
}

long long vt_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        fail_msg("%s: %s (%d)", sql, sqlite3_errmsg(db), rc);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

char *vt_integrity(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    else
        out = strdup(sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return out;
}

long long vt_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

void vt_read_at(const char *path, long long off, void *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, n, off), (ssize_t)n);
    close(fd);
}

void vt_write_at(const char *path, long long off, const void *buf, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, n, off), (ssize_t)n);
    close(fd);
}

void vt_flip_bit(const char *path, long long off, int bit)
{
    uint8_t b;
    vt_read_at(path, off, &b, 1);
    b ^= (uint8_t)(1u << bit);
    vt_write_at(path, off, &b, 1);
}

void vt_truncate(const char *path, long long size)
{
    assert_int_equal(truncate(path, size), 0);
}

void vt_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

int vt_file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    long long size = vt_file_size(path);
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    int found = got >= n && memmem(buf, got, needle, n) != NULL;
    free(buf);
    return found;
}

uint64_t vt_table_hash(sqlite3 *db, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY rowid", table);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    uint64_t h = 1469598103934665603ull; /* FNV-1a over every column's bytes */
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const uint8_t *p = sqlite3_column_blob(st, c);
            int n = sqlite3_column_bytes(st, c);
            h = (h ^ (uint64_t)sqlite3_column_type(st, c)) * 1099511628211ull;
            for (int i = 0; i < n; i++)
                h = (h ^ p[i]) * 1099511628211ull;
        }
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    return h;
}
