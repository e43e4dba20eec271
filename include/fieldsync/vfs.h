/*
 * vfs.h: the encrypting SQLite VFS (store/vfs/). Every page of the main
 * database, every WAL frame image and every rollback-journal page is sealed with
 * XChaCha20-Poly1305 under the data key (DEK); see docs/encryption.md and
 * /work/shared/notes/encrypted-vfs.md for the rules it keeps.
 */
#ifndef FIELDSYNC_VFS_H
#define FIELDSYNC_VFS_H

#include <sqlite3.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/secret.h"

/* Name under which the VFS is registered with SQLite. */
#define FS_VFS_NAME "fieldsync-enc"

/* Registers the VFS (idempotent, thread-safe). The first call, when it comes
 * before anything else in the process initialized SQLite, also makes SQLite
 * zero every block of memory it frees (decrypted pages, rows): a process that
 * must leave no plaintext behind (fieldsyncd) calls it first thing. */
int fs_vfs_register(fs_err *err);

/*
 * Opens (creating when flags has SQLITE_OPEN_CREATE) the encrypted database at
 * path with data key dek (the VFS keeps its own copy in guarded memory; the
 * caller may free dek afterwards). Sets WAL, synchronous=FULL, temp_store=MEMORY,
 * mmap_size=0, and checks the key against page 1: a wrong key or a damaged file
 * gives FS_EAUTH with "wrong key or damaged database" and the page in err, and
 * *db is NULL. dek == NULL opens a plain (unencrypted) database with the same
 * pragmas, for tests and benchmarks. The connection is opened with
 * SQLITE_OPEN_URI added (fs_vfs_vacuum_into relies on it).
 */
int fs_vfs_open(sqlite3 **db, const char *path, const fs_secret *dek, int flags, fs_err *err);

/*
 * Opens a second connection to the database db has open as "main", with the
 * key db's file holds (plain when db is plain), for another thread to use
 * (the store's checkpointer: store/checkpoint.c). The key never leaves the
 * VFS's guarded memory.
 */
int fs_vfs_open_twin(sqlite3 *db, sqlite3 **twin, fs_err *err);

/*
 * Writes a copy of db (plain or encrypted) to a new encrypted database at
 * dest_path under dek, with VACUUM INTO; the copy is fsynced before return.
 * Used for plain -> encrypted conversion and for rekey.
 */
int fs_vfs_vacuum_into(sqlite3 *db, const char *dest_path, const fs_secret *dek, fs_err *err);

/*
 * The last error the VFS recorded for db's main database file (a page that
 * failed authentication, a refused write), e.g. "page 17 of /x/accounts.db-wal
 * failed authentication: wrong key or damaged database". FS_ENOTFOUND with an
 * empty message when there is none or db does not use the VFS.
 */
int fs_vfs_last_error(sqlite3 *db, fs_err *err);

/*
 * Opens every page of db's main database file with its key, without SQLite:
 * free pages and pages whose newer version is in the WAL included. Calls bad
 * with a message naming each page that fails authentication; *checked counts
 * the pages read. Returns 0 when every page could be read (failing or not), an
 * FS_E* code on an I/O error. A plain database has nothing to check (0 pages).
 * Run it inside a read transaction so no checkpoint writes the file meanwhile.
 */
typedef void (*fs_vfs_bad_page_fn)(void *arg, const char *msg);
int fs_vfs_check_pages(sqlite3 *db, uint64_t *checked, fs_vfs_bad_page_fn bad, void *arg,
                       fs_err *err);

/*
 * Lower level, for tests and tools that need their own open flags or pragmas
 * (page size, journal mode): puts a guarded copy of dek in the VFS's keyring and
 * returns in *uri "file:<path>?vfs=fieldsync-enc&fskey=<n>" (path escaped). Open
 * it with SQLITE_OPEN_URI; the main file copies the key at open, so the URI can
 * be freed once sqlite3_open_v2 (or ATTACH, VACUUM INTO) returned.
 * fs_vfs_uri_free drops the keyring entry and frees the string; NULL is a no-op.
 * A new database opened this way needs SQLITE_FCNTL_RESERVE_BYTES set to
 * FS_PAGE_RESERVE_BYTES (page.h) before its first write, or writes are refused.
 */
int fs_vfs_uri_new(char **uri, const char *path, const fs_secret *dek, fs_err *err);
void fs_vfs_uri_free(char *uri);

#endif
