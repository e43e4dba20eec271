/*
 * vfs_main.c: I/O on the main database file of the encrypting VFS.
 *
 * The file is a sequence of sealed pages (page.h). SQLite reads whole pages,
 * except for the 100-byte header read at open (before it knows the page size)
 * and the 16-byte change-counter read at offset 24: such reads fetch the whole
 * page, verify and decrypt it and return the slice. The page size comes from
 * page 1's header bytes 16-17, which stay in the clear. Writes must be whole
 * pages; each is sealed into scratch memory, never in SQLite's buffer.
 *
 * Checkpoint copy: a checkpoint reads each page image from the WAL and writes
 * the same bytes to the database, doing nothing else with them in between
 * (wal.c, walCheckpoint). SQLite brackets that loop with SQLITE_FCNTL_CKPT_START
 * and SQLITE_FCNTL_CKPT_DONE on the database file; in between, the WAL hands
 * out the sealed image itself (vfs_wal.c) and the database write recognises it
 * (same page, same bytes) and stores it as it is. A page thus crosses the cipher
 * once on its way to the database instead of three times. The associated data
 * binds page number and database id but not the file, so the image is valid in
 * both places. The WAL image is then authenticated when the page is next read
 * from the database, not during the copy; WAL recovery still opens every frame.
 */
#include "vfs_internal.h"

#include <string.h>
#include <strings.h>
#include <stdlib.h>

/* Learns the page size from page 1's clear header bytes. */
static int learn_page_size(fs_vfs_file *f)
{
    uint8_t hdr[FS_PAGE1_CLEAR_BYTES];
    int rc = fs_vfs_raw_read(f, hdr, sizeof(hdr), 0);
    if (rc != SQLITE_OK)
        return rc;
    uint32_t psz, reserve;
    if (fs_page1_header(hdr, sizeof(hdr), &psz, &reserve) != 0)
        return fs_vfs_fail(f, SQLITE_NOTADB,
                           "page 1 of %s failed authentication: wrong key or damaged database "
                           "(its header is not that of an encrypted database)",
                           f->name);
    f->page_size = psz;
    return SQLITE_OK;
}

/* A read of part of one page: read it whole, open it, copy the slice. */
static int read_partial(fs_vfs_file *f, uint8_t *buf, int amt, sqlite3_int64 off)
{
    uint32_t psz = f->page_size;
    sqlite3_int64 start = off - off % psz;
    if (off + amt > start + psz)
        return fs_vfs_fail(f, SQLITE_IOERR_READ,
                           "refused a read of %d bytes at offset %lld of %s across pages", amt,
                           (long long)off, f->name);
    uint8_t *page = fs_vfs_scratch(f, psz);
    if (page == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = fs_vfs_raw_read(f, page, (int)psz, start);
    if (rc == SQLITE_OK)
        rc = fs_vfs_unseal(f, (uint32_t)(start / psz) + 1, page, (int)psz);
    if (rc == SQLITE_OK)
        memcpy(buf, page + (off - start), (size_t)amt);
    else
        memset(buf, 0, (size_t)amt);
    return rc;
}

int fs_vfs_main_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off)
{
    if (f->page_size == 0) {
        int rc = learn_page_size(f);
        if (rc == SQLITE_IOERR_SHORT_READ) {
            /* empty or nearly empty file: SQLite treats it as a new database */
            memset(buf, 0, (size_t)amt);
            return rc;
        }
        if (rc != SQLITE_OK)
            return rc;
    }
    uint32_t psz = f->page_size;
    if ((uint32_t)amt != psz || off % psz != 0)
        return read_partial(f, buf, amt, off);
    int rc = fs_vfs_raw_read(f, buf, amt, off);
    if (rc == SQLITE_IOERR_SHORT_READ) {
        memset(buf, 0, (size_t)amt); /* never half a sealed page */
        return rc;
    }
    if (rc != SQLITE_OK)
        return rc;
    return fs_vfs_unseal(f, (uint32_t)(off / psz) + 1, buf, amt);
}

/* True if this write is the checkpoint copying the sealed image the WAL just
 * handed out. A plaintext page never matches: its last 40 bytes are zero, a
 * sealed image's are its nonce and tag. */
static int is_checkpoint_copy(fs_vfs_file *f, uint32_t pgno, const void *buf, int amt)
{
    return f->in_checkpoint && f->ck_pgno == pgno && f->ck_size == (uint32_t)amt &&
           f->ck_sealed != NULL && memcmp(f->ck_sealed, buf, (size_t)amt) == 0;
}

int fs_vfs_main_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    if (!fs_page_size_valid((size_t)amt) || off % amt != 0)
        return fs_vfs_fail(f, SQLITE_IOERR_WRITE,
                           "refused a write of %d bytes at offset %lld of %s: not a whole page",
                           amt, (long long)off, f->name);
    uint32_t pgno = (uint32_t)(off / amt) + 1;
    if (is_checkpoint_copy(f, pgno, buf, amt)) {
        f->ck_pgno = 0;
        return fs_vfs_raw_write(f, buf, amt, off);
    }
    uint8_t *out = fs_vfs_scratch(f, (size_t)amt);
    if (out == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = fs_vfs_seal(f, pgno, buf, amt, out);
    if (rc != SQLITE_OK)
        return rc;
    return fs_vfs_raw_write(f, out, amt, off);
}

/* PRAGMA page_size=N on a database that has pages would re-layout every page
 * (VACUUM) and is refused; setting it before the first write is fine. */
static int pragma_page_size(fs_vfs_file *f, char **args)
{
    sqlite3_int64 size = 0;
    if (args[2] == NULL)
        return SQLITE_NOTFOUND;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
        return SQLITE_IOERR_FSTAT;
    if (size == 0 && f->page_size == 0)
        return SQLITE_NOTFOUND;
    if (f->page_size != 0 && strtol(args[2], NULL, 10) == (long)f->page_size)
        return SQLITE_NOTFOUND;
    args[0] = sqlite3_mprintf("the page size of encrypted database %s is fixed once it has "
                              "pages",
                              f->name);
    return SQLITE_ERROR;
}

int fs_vfs_main_file_control(fs_vfs_file *f, int op, void *arg)
{
    if (op == SQLITE_FCNTL_CKPT_START || op == SQLITE_FCNTL_CKPT_DONE) {
        f->in_checkpoint = op == SQLITE_FCNTL_CKPT_START;
        f->ck_pgno = 0;
    }
    if (op == SQLITE_FCNTL_PRAGMA) {
        char **args = arg;
        if (args[1] != NULL && strcasecmp(args[1], "page_size") == 0)
            return pragma_page_size(f, args);
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}
