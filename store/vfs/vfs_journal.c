/*
 * vfs_journal.c: I/O on the rollback journal of an encrypted database.
 *
 * A journal holds headers (one sector each, written in page-size pieces when the
 * page is smaller than a sector; with synchronous=FULL their magic is written as
 * zeros first and filled in at sync, so the magic cannot tell a header from a
 * page) and records of page number (4 bytes), page image, checksum (4 bytes),
 * each its own write. What marks a page image is its place: a page-size write
 * that immediately follows a 4-byte write ending where it starts. That 4-byte
 * write is the page number, bound into the seal. The header, page numbers and
 * checksums pass through in the clear (the checksum samples a few plaintext
 * bytes: see docs/encryption.md).
 *
 * Reads of a page image (page size, during rollback) fetch the page number in
 * the same system call and open the image; other reads pass through.
 */
#include "vfs_internal.h"

#include <string.h>

/* The database's page size; for a database whose page 1 we have not seen, any
 * valid page size (the journal's own header is read with small reads). */
static int is_page_amount(fs_vfs_file *f, int amt)
{
    if (f->db->page_size != 0)
        return (uint32_t)amt == f->db->page_size;
    return fs_page_size_valid((size_t)amt);
}

int fs_vfs_journal_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off)
{
    if (!is_page_amount(f, amt) || off < 4)
        return fs_vfs_raw_read(f, buf, amt, off);
    uint8_t *rec = fs_vfs_scratch(f, (size_t)amt + 4);
    if (rec == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = fs_vfs_raw_read(f, rec, amt + 4, off - 4);
    if (rc == SQLITE_OK)
        rc = fs_vfs_unseal(f, fs_vfs_get32(rec), rec + 4, amt);
    if (rc == SQLITE_OK)
        memcpy(buf, rec + 4, (size_t)amt);
    else
        memset(buf, 0, (size_t)amt);
    return rc;
}

/* A journal header piece: at a multiple of its size, 28 bytes of header fields
 * (the last one the page size) and zeros after them. A header is written in
 * pieces of min(page size, sector size). */
static int is_header(const uint8_t *buf, int amt, sqlite3_int64 off)
{
    static const uint8_t zero[64];
    uint32_t psz = fs_vfs_get32(buf + 24);
    if (off % amt != 0 || !fs_page_size_valid(psz) || (uint32_t)amt > psz)
        return 0;
    for (int i = 28; i < amt; i += (int)sizeof(zero)) {
        int n = amt - i < (int)sizeof(zero) ? amt - i : (int)sizeof(zero);
        if (memcmp(buf + i, zero, (size_t)n) != 0)
            return 0;
    }
    return 1;
}

int fs_vfs_journal_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    int follows_pgno = f->prev_amt == 4 && f->prev_off == off - 4;
    f->prev_off = off;
    f->prev_amt = amt;
    if (amt == 4)
        f->prev_pgno = fs_vfs_get32(buf);
    if (!is_page_amount(f, amt))
        return fs_vfs_raw_write(f, buf, amt, off);
    if (!follows_pgno) {
        if (is_header(buf, amt, off))
            return fs_vfs_raw_write(f, buf, amt, off);
        /* a page image SQLite did not frame as a record: it cannot go out clear */
        return fs_vfs_fail(f->db, SQLITE_IOERR_WRITE,
                           "refused a write of %d bytes at offset %lld of %s: a page image "
                           "without its page number",
                           amt, (long long)off, f->name);
    }
    uint8_t *out = fs_vfs_scratch(f, (size_t)amt);
    if (out == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = fs_vfs_seal(f, f->prev_pgno, buf, amt, out);
    if (rc != SQLITE_OK)
        return rc;
    return fs_vfs_raw_write(f, out, amt, off);
}
