/*
 * vfs.c: the encrypting VFS object: registration, xOpen, the I/O method table
 * (version 2: SQLite maps files only from version 3, so no page is ever read
 * around the shim) and the seal/unseal helpers every file role uses.
 *
 * Roles are decided at open from SQLite's flags: main database, WAL, main
 * journal are encrypted (vfs_main.c, vfs_wal.c, vfs_journal.c); the
 * super-journal holds only file names and passes through; any temporary or
 * nameless file is refused, so that nothing spills to disk in the clear
 * (connections run with temp_store=MEMORY). Keys reach xOpen through a URI
 * parameter naming an entry of a process-wide keyring (vfs_keyring.c); the main
 * file keeps its own guarded copy and WAL/journal handles use it. Registering
 * also makes SQLite wipe the memory it frees (vfs_memory.c).
 */
#include "vfs_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static sqlite3_vfs *real_vfs;
static sqlite3_vfs enc_vfs;
static const sqlite3_io_methods enc_io;
static _Thread_local fs_err thread_err;

/* Our struct, rounded so the unix file after it is aligned. */
#define FILE_HEAD (((sizeof(fs_vfs_file) + 15) / 16) * 16)

uint32_t fs_vfs_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int fs_vfs_fail(fs_vfs_file *db, int code, const char *fmt, ...)
{
    char msg[FS_VFS_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (db != NULL) {
        db->err_code = code;
        memcpy(db->err_msg, msg, sizeof(msg));
    }
    int fs_code = code == SQLITE_NOTADB || code == SQLITE_IOERR_AUTH ? FS_EAUTH : FS_EIO;
    fs_err_set(&thread_err, fs_code, "%s", msg);
    return code;
}

void fs_vfs_thread_error(fs_err *err)
{
    if (err != NULL)
        *err = thread_err;
}

uint8_t *fs_vfs_scratch(fs_vfs_file *f, size_t n)
{
    if (f->scratch_len < n) {
        uint8_t *p = sqlite3_realloc64(f->scratch, n);
        if (p == NULL)
            return NULL;
        f->scratch = p;
        f->scratch_len = n;
    }
    return f->scratch;
}

int fs_vfs_raw_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off)
{
    return f->real->pMethods->xRead(f->real, buf, amt, off);
}

int fs_vfs_raw_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

int fs_vfs_seal(fs_vfs_file *f, uint32_t pgno, const uint8_t *in, int amt, uint8_t *out)
{
    fs_vfs_file *db = f->db;
    if (!fs_page_size_valid((size_t)amt) || pgno == 0)
        return fs_vfs_fail(db, SQLITE_IOERR_WRITE,
                           "refused to write %d bytes as page %u of %s: not a whole page", amt,
                           pgno, f->name);
    if (pgno == 1) {
        uint32_t psz, reserve;
        if (fs_page1_header(in, (size_t)amt, &psz, &reserve) != 0 || psz != (uint32_t)amt ||
            reserve < FS_PAGE_RESERVE_BYTES)
            return fs_vfs_fail(db, SQLITE_IOERR_WRITE,
                               "refused to write page 1 of %s: the database reserves fewer than "
                               "%d bytes per page for the nonce and tag; create it with "
                               "fs_vfs_open or convert it with fs_vfs_vacuum_into",
                               f->name, FS_PAGE_RESERVE_BYTES);
    } else if (db->page_size != 0 && db->page_size != (uint32_t)amt) {
        return fs_vfs_fail(db, SQLITE_IOERR_WRITE,
                           "refused to write %d bytes as page %u of %s: the page size is %u", amt,
                           pgno, f->name, db->page_size);
    }
    if (!db->have_dbid) {
        randombytes_buf(db->dbid, sizeof(db->dbid));
        db->have_dbid = 1;
    }
    if (fs_page_seal(out, in, (size_t)amt, pgno, db->dbid, db->key) != 0)
        return fs_vfs_fail(db, SQLITE_IOERR_WRITE,
                           "refused to write page %u of %s: its reserved bytes hold data that "
                           "the nonce and tag would overwrite",
                           pgno, f->name);
    if (pgno == 1)
        db->page_size = (uint32_t)amt;
    return SQLITE_OK;
}

int fs_vfs_open_page(fs_vfs_file *f, uint32_t pgno, uint8_t *page, int amt)
{
    fs_vfs_file *db = f->db;
    int bad = !fs_page_size_valid((size_t)amt) || pgno == 0;
    if (!bad && pgno == 1 && !db->have_dbid)
        memcpy(db->dbid, page, sizeof(db->dbid)); /* a new database's first reader */
    if (bad || (!db->have_dbid && pgno != 1) ||
        fs_page_open(page, (size_t)amt, pgno, db->dbid, db->key) != 0) {
        memset(page, 0, bad ? 0 : (size_t)amt);
        return -1;
    }
    if (pgno == 1) {
        db->have_dbid = 1;
        db->page_size = (uint32_t)amt;
    }
    return 0;
}

void fs_vfs_auth_message(char *buf, size_t size, uint32_t pgno, const char *name)
{
    snprintf(buf, size, "page %u of %s failed authentication: wrong key or damaged database", pgno,
             name);
}

int fs_vfs_auth_failed(fs_vfs_file *f, uint32_t pgno)
{
    char msg[FS_VFS_ERRMSG_MAX];
    fs_vfs_auth_message(msg, sizeof(msg), pgno, f->name);
    return fs_vfs_fail(f->db, pgno == 1 ? SQLITE_NOTADB : SQLITE_IOERR_AUTH, "%s", msg);
}

int fs_vfs_unseal(fs_vfs_file *f, uint32_t pgno, uint8_t *page, int amt)
{
    return fs_vfs_open_page(f, pgno, page, amt) == 0 ? SQLITE_OK : fs_vfs_auth_failed(f, pgno);
}

/* ------------------------------------------------------------------------- */
/* I/O methods */

static int enc_close(sqlite3_file *file)
{
    fs_vfs_file *f = (fs_vfs_file *)file;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    sqlite3_free(f->scratch);
    sqlite3_free(f->ck_sealed);
    fs_secret_free(f->key);
    f->scratch = f->ck_sealed = NULL;
    f->key = NULL;
    return rc;
}

static int enc_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
    fs_vfs_file *f = (fs_vfs_file *)file;
    switch (f->role) {
    case FS_VFS_MAIN:
        return fs_vfs_main_read(f, buf, amt, off);
    case FS_VFS_WAL:
        return fs_vfs_wal_read(f, buf, amt, off);
    case FS_VFS_JOURNAL:
        return fs_vfs_journal_read(f, buf, amt, off);
    default:
        return fs_vfs_raw_read(f, buf, amt, off);
    }
}

static int enc_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
    fs_vfs_file *f = (fs_vfs_file *)file;
    switch (f->role) {
    case FS_VFS_MAIN:
        return fs_vfs_main_write(f, buf, amt, off);
    case FS_VFS_WAL:
        return fs_vfs_wal_write(f, buf, amt, off);
    case FS_VFS_JOURNAL:
        return fs_vfs_journal_write(f, buf, amt, off);
    default:
        return fs_vfs_raw_write(f, buf, amt, off);
    }
}

#define REAL(file) (((fs_vfs_file *)(file))->real)

static int enc_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    return REAL(file)->pMethods->xTruncate(REAL(file), size);
}

static int enc_sync(sqlite3_file *file, int flags)
{
    return REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int enc_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    return REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int enc_lock(sqlite3_file *file, int lock)
{
    return REAL(file)->pMethods->xLock(REAL(file), lock);
}

static int enc_unlock(sqlite3_file *file, int lock)
{
    return REAL(file)->pMethods->xUnlock(REAL(file), lock);
}

static int enc_check_reserved_lock(sqlite3_file *file, int *out)
{
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int enc_file_control(sqlite3_file *file, int op, void *arg)
{
    fs_vfs_file *f = (fs_vfs_file *)file;
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
        *(sqlite3_int64 *)arg = 0; /* never map: mapped pages would bypass the cipher */
        return SQLITE_OK;
    }
    if (f->role == FS_VFS_MAIN)
        return fs_vfs_main_file_control(f, op, arg);
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int enc_sector_size(sqlite3_file *file)
{
    return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int enc_device_characteristics(sqlite3_file *file)
{
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

static int enc_shm_map(sqlite3_file *file, int pg, int pgsz, int extend, void volatile **out)
{
    return REAL(file)->pMethods->xShmMap(REAL(file), pg, pgsz, extend, out);
}

static int enc_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void enc_shm_barrier(sqlite3_file *file)
{
    REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int enc_shm_unmap(sqlite3_file *file, int delete_flag)
{
    return REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

static const sqlite3_io_methods enc_io = {
    2, /* version 2: xShm* but no xFetch, so SQLite never memory-maps the file */
    enc_close,
    enc_read,
    enc_write,
    enc_truncate,
    enc_sync,
    enc_file_size,
    enc_lock,
    enc_unlock,
    enc_check_reserved_lock,
    enc_file_control,
    enc_sector_size,
    enc_device_characteristics,
    enc_shm_map,
    enc_shm_lock,
    enc_shm_barrier,
    enc_shm_unmap,
    NULL,
    NULL,
};

fs_vfs_file *fs_vfs_file_of(sqlite3_file *file)
{
    return file != NULL && file->pMethods == &enc_io ? (fs_vfs_file *)file : NULL;
}

/* ------------------------------------------------------------------------- */
/* xOpen */

static int open_role(int flags)
{
    if (flags & SQLITE_OPEN_MAIN_DB)
        return FS_VFS_MAIN;
    if (flags & SQLITE_OPEN_WAL)
        return FS_VFS_WAL;
    if (flags & SQLITE_OPEN_MAIN_JOURNAL)
        return FS_VFS_JOURNAL;
    if (flags & SQLITE_OPEN_SUPER_JOURNAL)
        return FS_VFS_PLAIN;
    return -1; /* temp db, temp journal, subjournal, transient db */
}

static int open_bind(fs_vfs_file *f, const char *name)
{
    if (f->role == FS_VFS_MAIN) {
        const char *id = sqlite3_uri_parameter(name, FS_VFS_KEY_PARAM);
        f->key = id != NULL ? fs_vfs_keyring_copy(strtoull(id, NULL, 10)) : NULL;
        if (f->key == NULL)
            return fs_vfs_fail(NULL, SQLITE_CANTOPEN,
                               "cannot open %s: no data key was given to the encrypting VFS "
                               "(open it with fs_vfs_open)",
                               name);
        f->db = f;
        return SQLITE_OK;
    }
    fs_vfs_file *db = fs_vfs_file_of(sqlite3_database_file_object(name));
    if (db == NULL || db->role != FS_VFS_MAIN)
        return fs_vfs_fail(NULL, SQLITE_CANTOPEN, "cannot open %s: its database is unknown", name);
    f->db = db;
    return SQLITE_OK;
}

static int enc_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                    int *out_flags)
{
    (void)vfs;
    fs_vfs_file *f = (fs_vfs_file *)file;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)((char *)f + FILE_HEAD);
    f->role = open_role(flags);
    f->name = name;
    if (name == NULL || f->role < 0)
        return fs_vfs_fail(NULL, SQLITE_CANTOPEN,
                           "refused to open a temporary file, which would hold data in the "
                           "clear: use PRAGMA temp_store=MEMORY");
    int rc = open_bind(f, name);
    if (rc != SQLITE_OK)
        goto fail;
    rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK)
        goto fail;
    if (f->role == FS_VFS_MAIN && fs_vfs_raw_read(f, f->dbid, FS_PAGE_DBID_BYTES, 0) == SQLITE_OK)
        f->have_dbid = 1;
    f->base.pMethods = &enc_io;
    return SQLITE_OK;
fail:
    fs_secret_free(f->key);
    f->key = NULL;
    f->base.pMethods = NULL;
    return rc;
}

/* ------------------------------------------------------------------------- */
/* The VFS object: everything but xOpen goes to the default VFS. */

static int enc_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int enc_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int enc_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *enc_dlopen(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void enc_dlerror(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*enc_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void enc_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    real_vfs->xDlClose(real_vfs, h);
}

static int enc_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int enc_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}

static int enc_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int enc_get_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int enc_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_rc;

static void register_vfs(void)
{
    /* before SQLite initializes, or never: in a process where SQLite already
     * runs (a test, a tool), freed blocks are simply not wiped */
    (void)fs_vfs_memory_install();
    register_rc = sqlite3_initialize();
    if (register_rc != SQLITE_OK || sodium_init() < 0) {
        register_rc = SQLITE_ERROR;
        return;
    }
    real_vfs = sqlite3_vfs_find(NULL);
    if (real_vfs == NULL) {
        register_rc = SQLITE_ERROR;
        return;
    }
    enc_vfs.iVersion = 2;
    enc_vfs.szOsFile = (int)FILE_HEAD + real_vfs->szOsFile;
    enc_vfs.mxPathname = real_vfs->mxPathname;
    enc_vfs.zName = FS_VFS_NAME;
    enc_vfs.xOpen = enc_open;
    enc_vfs.xDelete = enc_delete;
    enc_vfs.xAccess = enc_access;
    enc_vfs.xFullPathname = enc_full_pathname;
    enc_vfs.xDlOpen = enc_dlopen;
    enc_vfs.xDlError = enc_dlerror;
    enc_vfs.xDlSym = enc_dlsym;
    enc_vfs.xDlClose = enc_dlclose;
    enc_vfs.xRandomness = enc_randomness;
    enc_vfs.xSleep = enc_sleep;
    enc_vfs.xCurrentTime = enc_current_time;
    enc_vfs.xGetLastError = enc_get_last_error;
    enc_vfs.xCurrentTimeInt64 = enc_current_time_int64;
    register_rc = sqlite3_vfs_register(&enc_vfs, 0);
}

int fs_vfs_register(fs_err *err)
{
    pthread_once(&register_once, register_vfs);
    if (register_rc != SQLITE_OK)
        return fs_err_set(err, FS_EIO, "cannot register the encrypting SQLite VFS: %s",
                          sqlite3_errstr(register_rc));
    return 0;
}

int fs_vfs_last_error(sqlite3 *db, fs_err *err)
{
    sqlite3_file *file = NULL;
    fs_err_clear(err);
    if (db == NULL ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK)
        return fs_err_set(err, FS_ENOTFOUND, "%s", "");
    fs_vfs_file *f = fs_vfs_file_of(file);
    if (f == NULL || f->err_code == 0)
        return fs_err_set(err, FS_ENOTFOUND, "%s", "");
    int code = f->err_code == SQLITE_NOTADB || f->err_code == SQLITE_IOERR_AUTH ? FS_EAUTH : FS_EIO;
    return fs_err_set(err, code, "%s", f->err_msg);
}
