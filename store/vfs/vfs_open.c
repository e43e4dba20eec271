/*
 * vfs_open.c: opening encrypted databases the way the store needs them
 * (fs_vfs_open), copying a database into a new encrypted one
 * (fs_vfs_vacuum_into), and the URIs that carry a key to the VFS.
 *
 * Every connection runs with temp_store=MEMORY (the VFS refuses temporary
 * files), mmap_size=0, WAL and synchronous=FULL. A new encrypted database gets
 * FS_PAGE_RESERVE_BYTES reserved bytes per page before its first write; the key
 * is checked by reading the schema, so a wrong key fails here, not later.
 */
#include "vfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A 16 MiB page cache: every page read from outside it pays a decrypt. */
#define FS_VFS_CACHE_KIB "-16384"
/* Checkpoint every 4000 WAL frames (16 MiB at 4 KiB pages) rather than 1000: a
 * page changed by several transactions is copied, and crosses the cipher, once
 * per checkpoint; bench_store's inserts cost ~10% less encrypted. */
#define FS_VFS_AUTOCHECKPOINT "4000"

/* "file:" + path with every byte that URIs treat specially escaped. */
static char *uri_path(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *out = sqlite3_malloc64(5 + 3 * n + 1);
    if (out == NULL)
        return NULL;
    char *p = out;
    memcpy(p, "file:", 5);
    p += 5;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%' || c == '?' || c == '#' || c == '&' || c == '=' || c < 0x21 || c > 0x7e) {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = (char)c;
        }
    }
    *p = '\0';
    return out;
}

int fs_vfs_uri_new(char **uri, const char *path, const fs_secret *dek, fs_err *err)
{
    *uri = NULL;
    uint64_t id = 0;
    int rc = fs_vfs_register(err);
    if (rc != 0)
        return rc;
    rc = fs_vfs_keyring_add(dek, &id, err);
    if (rc != 0)
        return rc;
    char *base = uri_path(path);
    if (base != NULL)
        *uri = sqlite3_mprintf("%s?vfs=%s&%s=%llu", base, FS_VFS_NAME, FS_VFS_KEY_PARAM,
                               (unsigned long long)id);
    sqlite3_free(base);
    if (*uri == NULL) {
        fs_vfs_keyring_remove(id);
        return fs_err_set(err, FS_ENOMEM, "out of memory opening %s", path);
    }
    return 0;
}

void fs_vfs_uri_free(char *uri)
{
    if (uri == NULL)
        return;
    const char *p = strstr(uri, "&" FS_VFS_KEY_PARAM "=");
    if (p != NULL)
        fs_vfs_keyring_remove(strtoull(p + sizeof(FS_VFS_KEY_PARAM) + 1, NULL, 10));
    sqlite3_free(uri);
}

/* An fs_err for SQLite result rc on db while doing what to path. */
static int sql_fail(sqlite3 *db, int rc, const char *what, const char *path, fs_err *err)
{
    fs_err vfs_err;
    int prim = rc & 0xff;
    if (prim == SQLITE_NOTADB || rc == SQLITE_IOERR_AUTH) {
        if (fs_vfs_last_error(db, &vfs_err) != 0)
            fs_vfs_thread_error(&vfs_err);
        return fs_err_set(
            err, FS_EAUTH, "%s %s: %s; check the key, or restore the database from a backup", what,
            path, vfs_err.msg[0] ? vfs_err.msg : "wrong key or damaged database (page 1)");
    }
    if (prim == SQLITE_NOMEM)
        return fs_err_set(err, FS_ENOMEM, "%s %s: out of memory", what, path);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return fs_err_set(err, FS_EBUSY, "%s %s: the database is busy; try again", what, path);
    if (prim == SQLITE_CANTOPEN || prim == SQLITE_PERM || prim == SQLITE_READONLY)
        return fs_err_set(err, FS_EIO, "%s %s: %s; check the path and its permissions", what, path,
                          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (fs_vfs_last_error(db, &vfs_err) == 0)
        return fs_err_set(err, FS_EIO, "%s %s: %s (%s)", what, path,
                          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), vfs_err.msg);
    return fs_err_set(err, FS_EIO, "%s %s: %s", what, path,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int exec(sqlite3 *db, const char *sql, const char *what, const char *path, fs_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_fail(db, sqlite3_extended_errcode(db), what, path, err);
}

static int configure(sqlite3 *db, const char *path, int encrypted, int flags, fs_err *err)
{
    if (encrypted) {
        /* applies to a database with no page yet, and to later VACUUMs */
        int reserve = FS_PAGE_RESERVE_BYTES;
        sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    }
    int rc =
        exec(db, "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0", "cannot configure", path, err);
    if (rc == 0)
        rc = exec(db, "SELECT count(*) FROM sqlite_schema", "cannot open", path, err);
    if (rc == 0 && !(flags & SQLITE_OPEN_READONLY))
        rc = exec(db, "PRAGMA journal_mode=WAL", "cannot switch to WAL", path, err);
    if (rc == 0)
        rc = exec(db,
                  "PRAGMA synchronous=FULL; PRAGMA cache_size=" FS_VFS_CACHE_KIB
                  "; PRAGMA wal_autocheckpoint=" FS_VFS_AUTOCHECKPOINT,
                  "cannot configure", path, err);
    return rc;
}

int fs_vfs_open(sqlite3 **out, const char *path, const fs_secret *dek, int flags, fs_err *err)
{
    *out = NULL;
    sqlite3 *db = NULL;
    char *uri = NULL;
    int rc = fs_vfs_register(err); /* plain ones too: SQLite's memory is wiped when freed */
    if (rc == 0 && dek != NULL)
        rc = fs_vfs_uri_new(&uri, path, dek, err);
    if (rc != 0)
        return rc;
    if (dek == NULL && (uri = uri_path(path)) == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory opening %s", path);
    int src = sqlite3_open_v2(uri, &db, flags | SQLITE_OPEN_URI, NULL);
    if (dek != NULL)
        fs_vfs_uri_free(uri);
    else
        sqlite3_free(uri);
    if (src != SQLITE_OK) {
        rc =
            sql_fail(db, db != NULL ? sqlite3_extended_errcode(db) : src, "cannot open", path, err);
        goto fail;
    }
    rc = configure(db, path, dek != NULL, flags, err);
    if (rc != 0)
        goto fail;
    *out = db;
    return 0;
fail:
    sqlite3_close(db);
    return rc;
}

int fs_vfs_open_twin(sqlite3 *db, sqlite3 **twin, fs_err *err)
{
    sqlite3_file *file = NULL;
    *twin = NULL;
    const char *path = db != NULL ? sqlite3_db_filename(db, "main") : NULL;
    if (path == NULL || path[0] == '\0' ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK)
        return fs_err_set(err, FS_EINVAL, "a second connection needs an open database file");
    fs_vfs_file *f = fs_vfs_file_of(file);
    return fs_vfs_open(twin, path, f != NULL ? f->key : NULL, SQLITE_OPEN_READWRITE, err);
}

/* fsync of path and of the directory holding it, so the copy survives power loss. */
static int sync_path(const char *path, fs_err *err)
{
    char *dir_copy = strdup(path);
    if (dir_copy == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory syncing %s", path);
    int rc = 0;
    const char *paths[2] = {path, dirname(dir_copy)};
    for (int i = 0; i < 2 && rc == 0; i++) {
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0)
            rc = fs_err_set(err, FS_EIO, "cannot sync %s: %s", paths[i], strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    free(dir_copy);
    return rc;
}

int fs_vfs_vacuum_into(sqlite3 *db, const char *dest_path, const fs_secret *dek, fs_err *err)
{
    char *uri = NULL;
    sqlite3_stmt *st = NULL;
    int rc = fs_vfs_uri_new(&uri, dest_path, dek, err);
    if (rc != 0)
        return rc;
    /* VACUUM INTO keeps the source's requested reserve: make it room for nonce + tag */
    int reserve = FS_PAGE_RESERVE_BYTES;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    int src = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
    if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_DONE)
        src = SQLITE_OK;
    if (src != SQLITE_OK)
        rc = sql_fail(db, src, "cannot copy the database into", dest_path, err);
    sqlite3_finalize(st);
    /* back to what the source had, so its own VACUUMs do not change its layout */
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    fs_vfs_uri_free(uri);
    if (rc == 0)
        rc = sync_path(dest_path, err);
    return rc;
}
