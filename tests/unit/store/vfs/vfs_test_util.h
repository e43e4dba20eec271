/*
 * vfs_test_util.h: helpers shared by the encrypting VFS tests: scratch
 * directories, fixed test keys, opening with and without the VFS, byte-level
 * file surgery (flip, swap, copy, truncate) and plaintext scans.
 */
#ifndef FS_VFS_TEST_UTIL_H
#define FS_VFS_TEST_UTIL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/secret.h"

/* A fresh directory under $TMPDIR (or /tmp), removed by vt_tmpdir_free. */
char *vt_tmpdir_new(void);
void vt_tmpdir_free(char *dir);
/* dir + "/" + name, malloc'd. */
char *vt_path(const char *dir, const char *name);

/* A test key: 32 bytes filled with seed, clearly not a real key. */
fs_secret *vt_key(uint8_t seed);

/* fs_vfs_open or fail the test. */
sqlite3 *vt_open(const char *path, const fs_secret *key);
/* Opens path through the VFS with a raw URI and no pragmas: the caller sets
 * everything (page size, journal mode, cache). Sets the reserve for new files. */
sqlite3 *vt_open_raw(const char *path, const fs_secret *key);
/* sqlite3_exec, failing the test on error. */
void vt_exec(sqlite3 *db, const char *sql);
/* sqlite3_exec returning its code (no failure). */
int vt_try(sqlite3 *db, const char *sql);
/* The first column of the first row of sql as an integer (fails the test on error). */
long long vt_int(sqlite3 *db, const char *sql);
/* "ok" or the first integrity_check message, malloc'd. */
char *vt_integrity(sqlite3 *db);

/* File surgery. Each fails the test if the file cannot be opened. */
long long vt_file_size(const char *path);
void vt_flip_bit(const char *path, long long off, int bit);
void vt_read_at(const char *path, long long off, void *buf, size_t n);
void vt_write_at(const char *path, long long off, const void *buf, size_t n);
void vt_truncate(const char *path, long long size);
void vt_copy_file(const char *from, const char *to);
/* True if needle occurs in the file (a missing file holds nothing). */
int vt_file_contains(const char *path, const void *needle, size_t n);

/* A hash of every row of table (in rowid order) for exact-content comparisons. */
uint64_t vt_table_hash(sqlite3 *db, const char *table);

#endif
