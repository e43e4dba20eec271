/*
 * vfs_internal.h: the state the encrypting VFS keeps per open file, shared by
 * vfs.c (registration, open, pass-through methods), vfs_main.c (main database
 * I/O), vfs_wal.c (WAL I/O) and vfs_journal.c (rollback journal I/O).
 *
 * Every file opened through the VFS is an fs_vfs_file followed in memory by the
 * underlying unix file. A WAL or journal handle points at the fs_vfs_file of its
 * main database (found with sqlite3_database_file_object at open): the key, the
 * database id, the page size and the last error live there only. SQLite closes
 * WAL and journal handles before the main file, so the pointer never dangles.
 */
#ifndef FIELDSYNC_VFS_INTERNAL_H
#define FIELDSYNC_VFS_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "fieldsync/page.h"
#include "fieldsync/secret.h"
#include "fieldsync/vfs.h"

enum fs_vfs_role {
    FS_VFS_MAIN,    /* main database: whole sealed pages */
    FS_VFS_WAL,     /* WAL: clear header and frame headers, sealed frame images */
    FS_VFS_JOURNAL, /* rollback journal: clear header and record framing, sealed pages */
    FS_VFS_PLAIN,   /* super-journal: file names only, passed through */
};

#define FS_VFS_ERRMSG_MAX 256
#define FS_WAL_HDR_BYTES 32
#define FS_WAL_FRAME_HDR_BYTES 24

typedef struct fs_vfs_file fs_vfs_file;
struct fs_vfs_file {
    sqlite3_file base; /* must come first: SQLite sees this */
    sqlite3_file *real;
    int role;
    const char *name; /* as given to xOpen; lives as long as the handle */
    fs_vfs_file *db;  /* main database file (self for the main file) */
    uint8_t *scratch; /* encryption output / whole-frame reads */
    size_t scratch_len;
    /* the write just before this one on this handle: WAL frame header or
     * journal page number, which names the page the next write carries */
    sqlite3_int64 prev_off;
    int prev_amt;
    uint32_t prev_pgno;
    uint32_t wal_page_size; /* WAL: from its header */
    /* WAL: whole frames read since the header with nothing else in between,
     * which only recovery does (vfs_wal.c, "Where the log ends") */
    int wal_scan;

    /* main file only */
    fs_secret *key;
    uint8_t dbid[FS_PAGE_DBID_BYTES];
    int have_dbid;
    uint32_t page_size; /* 0 until page 1 was seen */
    int err_code;       /* SQLite code of the last refused read or write */
    char err_msg[FS_VFS_ERRMSG_MAX];
    /* checkpoint copy (vfs_main.c): between SQLITE_FCNTL_CKPT_START and _DONE the
     * WAL hands out sealed images, and the last one is kept to recognise it
     * when SQLite writes it to the database */
    int in_checkpoint;
    uint32_t ck_pgno;
    uint32_t ck_size;
    uint8_t *ck_sealed;
};

/* Records an error on db (and in the thread's last error); returns code. */
int fs_vfs_fail(fs_vfs_file *db, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Scratch space of at least n bytes on f, or NULL. */
uint8_t *fs_vfs_scratch(fs_vfs_file *f, size_t n);

/* Seals page pgno (amt bytes at in) into out for file f; SQLite code. Refuses
 * pages that would lose data (non-zero reserve, page 1 with too small a reserve). */
int fs_vfs_seal(fs_vfs_file *f, uint32_t pgno, const uint8_t *in, int amt, uint8_t *out);
/* Verifies and decrypts page pgno in place for file f; SQLite code (SQLITE_NOTADB
 * for page 1, SQLITE_IOERR_AUTH otherwise) with the page named in the error. */
int fs_vfs_unseal(fs_vfs_file *f, uint32_t pgno, uint8_t *page, int amt);
/* The same without recording an error: 0, or -1 with the page zeroed. */
int fs_vfs_open_page(fs_vfs_file *f, uint32_t pgno, uint8_t *page, int amt);
/* Records that page pgno of f failed authentication; returns fs_vfs_unseal's code. */
int fs_vfs_auth_failed(fs_vfs_file *f, uint32_t pgno);
/* "page N of <name> failed authentication: wrong key or damaged database" */
void fs_vfs_auth_message(char *buf, size_t size, uint32_t pgno, const char *name);

/* f as our file, or NULL when another VFS opened it. */
fs_vfs_file *fs_vfs_file_of(sqlite3_file *file);

/* Raw I/O on the underlying file. */
int fs_vfs_raw_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off);
int fs_vfs_raw_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off);

uint32_t fs_vfs_get32(const uint8_t *p); /* big-endian, as SQLite writes */

int fs_vfs_main_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off);
int fs_vfs_main_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off);
int fs_vfs_main_file_control(fs_vfs_file *f, int op, void *arg);
int fs_vfs_wal_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off);
int fs_vfs_wal_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off);
int fs_vfs_journal_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off);
int fs_vfs_journal_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off);

/* The keyring: keys handed to xOpen through the URI parameter FS_VFS_KEY_PARAM. */
#define FS_VFS_KEY_PARAM "fskey"
int fs_vfs_keyring_add(const fs_secret *key, uint64_t *id, fs_err *err);
void fs_vfs_keyring_remove(uint64_t id);
/* A new guarded copy of key id, or NULL. */
fs_secret *fs_vfs_keyring_copy(uint64_t id);

/* Makes SQLite wipe every block it frees (vfs_memory.c). Only before SQLite
 * initializes: -1 afterwards, and nothing changes. */
int fs_vfs_memory_install(void);

/* The thread's last VFS error (for opens that failed before a handle existed). */
void fs_vfs_thread_error(fs_err *err);

#endif
