/*
 * vfs_check.c: every page of an encrypted database file through the cipher
 * (fs_vfs_check_pages), for the store's integrity check. PRAGMA
 * integrity_check reads only the pages the b-trees use, in their newest
 * version (from the WAL when it is there); this also opens free pages and the
 * database file's own copy of pages whose newer version still sits in the WAL,
 * which a checkpoint or a later reuse would otherwise be the first to meet.
 */
#include "vfs_internal.h"

#include <string.h>

#include <sodium.h>

int fs_vfs_check_pages(sqlite3 *db, uint64_t *checked, fs_vfs_bad_page_fn bad, void *arg,
                       fs_err *err)
{
    *checked = 0;
    sqlite3_file *file = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK)
        return fs_err_set(err, FS_EIO, "checking pages: the database file is not open");
    fs_vfs_file *f = fs_vfs_file_of(file);
    if (f == NULL || f->page_size == 0)
        return 0; /* a plain database (nothing sealed), or one without pages */
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
        return fs_err_set(err, FS_EIO, "checking pages: cannot read the size of %s", f->name);
    uint32_t psz = f->page_size;
    uint8_t *page = sqlite3_malloc64(psz);
    if (page == NULL)
        return fs_err_set(err, FS_ENOMEM, "checking pages of %s: out of memory", f->name);
    int rc = 0;
    for (sqlite3_int64 off = 0; off + psz <= size; off += psz) {
        uint32_t pgno = (uint32_t)(off / psz) + 1;
        if (fs_vfs_raw_read(f, page, (int)psz, off) != SQLITE_OK) {
            rc =
                fs_err_set(err, FS_EIO, "checking pages: cannot read page %u of %s", pgno, f->name);
            break;
        }
        if (fs_vfs_open_page(f, pgno, page, (int)psz) != 0) {
            char msg[FS_VFS_ERRMSG_MAX];
            fs_vfs_auth_message(msg, sizeof(msg), pgno, f->name);
            bad(arg, msg);
        }
        (*checked)++;
    }
    sodium_memzero(page, psz); /* the last page opened, in the clear */
    sqlite3_free(page);
    return rc;
}
