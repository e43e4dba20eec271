/*
 * store.c: opening and closing the store, the helpers every store file uses
 * (transactions, SQLite error mapping), the replica id, the hybrid logical clock
 * and the sync_meta key-value table.
 *
 * Opening order matters: the database is opened with the right key (rekey.c
 * decides which), then migrated, and only then are the replica id and HLC read
 * and in-flight outbox entries returned to pending, all from the migrated schema.
 */
#include "store_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fieldsync/page.h"
#include "fieldsync/vfs.h"

char *fs_store_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

int fs_store_sqlerr(fs_store *st, int rc, fs_err *err, const char *what)
{
    const char *msg = st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    const char *file = st != NULL && st->path != NULL ? st->path : "the store";
    fs_err vfs;
    int prim = rc & 0xff;
    /* The VFS knows which page failed authentication: that message names it. The
     * store opened with this key, so such a page is damage, not a wrong key. */
    if ((prim == SQLITE_IOERR || prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT) && st != NULL &&
        st->db != NULL) {
        int code = fs_vfs_last_error(st->db, &vfs);
        if (code != FS_ENOTFOUND)
            return fs_err_set(err, code == FS_EAUTH ? FS_ECORRUPT : code, "%s: %s", what,
                              fs_err_message(&vfs));
    }
    switch (prim) {
    case SQLITE_NOMEM:
        return fs_err_set(err, FS_ENOMEM, "%s: out of memory", what);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return fs_err_set(err, FS_EBUSY, "%s: %s is in use by another process; close it and retry",
                          what, file);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return fs_err_set(err, FS_ECORRUPT,
                          "%s: %s is damaged or not readable with this key (%s); restore it "
                          "from the server with a resync",
                          what, file, msg);
    case SQLITE_FULL:
        return fs_err_set(err, FS_EIO, "%s: the disk holding %s is full; free space and retry",
                          what, file);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        return fs_err_set(err, FS_EIO, "%s: I/O error on %s (%s)", what, file, msg);
    case SQLITE_CONSTRAINT:
        return fs_err_set(err, FS_EEXIST, "%s: %s", what, msg);
    default:
        return fs_err_set(err, FS_EIO, "%s: %s", what, msg);
    }
}

int fs_store_exec(fs_store *st, const char *sql, fs_err *err)
{
    if (st->db == NULL)
        return fs_err_set(err, FS_ESTATE, "%s is not open: close the store and open it again",
                          st->path);
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fs_store_sqlerr(st, rc, err, "store statement");
}

int fs_store_begin(fs_store *st, fs_err *err)
{
    if (st->db == NULL)
        return fs_err_set(err, FS_ESTATE, "%s is not open: close the store and open it again",
                          st->path);
    int rc = fs_store_load_flush(st, err);
    if (rc != 0)
        return rc;
    rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fs_store_sqlerr(st, rc, err, "starting a transaction");
}

int fs_store_commit(fs_store *st, fs_err *err)
{
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    int ret = fs_store_sqlerr(st, rc, err, "committing");
    fs_store_rollback(st);
    return ret;
}

void fs_store_rollback(fs_store *st)
{
    if (st->db != NULL && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int fs_store_begin_unflushed(fs_store *st, fs_err *err)
{
    int rc = fs_store_exec(st, "PRAGMA synchronous=NORMAL", err);
    if (rc == 0)
        rc = fs_store_begin(st, err);
    if (rc != 0)
        fs_store_exec(st, "PRAGMA synchronous=FULL", NULL);
    return rc;
}

int fs_store_end_unflushed(fs_store *st, int rc, fs_err *err)
{
    if (rc == 0)
        rc = fs_store_commit(st, err);
    else
        fs_store_rollback(st);
    fs_err restore_err;
    if (fs_store_exec(st, "PRAGMA synchronous=FULL", &restore_err) != 0 && rc == 0) {
        /* committed, but local writes must not go unflushed: say so */
        if (err != NULL)
            *err = restore_err;
        rc = restore_err.code;
    }
    return rc;
}

static uint64_t wall_clock_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void fs_store_set_clock(fs_store *st, uint64_t (*clock_ms)(void *arg), void *arg)
{
    st->clock_ms = clock_ms != NULL ? clock_ms : wall_clock_ms;
    st->clock_arg = arg;
}

uint64_t fs_store_now_ms(const fs_store *st)
{
    return st->clock_ms(st->clock_arg);
}

void fs_store_new_id(char out[FS_STORE_NEW_ID_LEN + 1])
{
    uint8_t raw[FS_STORE_NEW_ID_LEN / 2];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(out, FS_STORE_NEW_ID_LEN + 1, raw, sizeof(raw));
}

/* ------------------------------------------------------------------------- */
/* sync_meta */

int fs_store_meta_get(fs_store *st, const char *key, uint8_t **val, size_t *len, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *val = NULL;
    *len = 0;
    int rc = fs_store_prepare(st, "SELECT value FROM sync_meta WHERE key = ?", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        *val = malloc(n + 1);
        if (*val == NULL) {
            rc = fs_err_set(err, FS_ENOMEM, "reading sync_meta %s: out of memory", key);
        } else {
            if (n > 0)
                memcpy(*val, p, n);
            (*val)[n] = 0;
            *len = n;
        }
    } else if (step == SQLITE_DONE) {
        rc = fs_err_set(err, FS_ENOTFOUND, "sync_meta has no %s", key);
    } else {
        rc = fs_store_sqlerr(st, step, err, "reading sync_meta");
    }
    fs_store_finish(st, s);
    return rc;
}

static int meta_put(fs_store *st, const char *key, const void *val, size_t len, bool is_int,
                    uint64_t ival, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st,
                              "INSERT INTO sync_meta(key, value) VALUES(?, ?) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (is_int)
        sqlite3_bind_int64(s, 2, (sqlite3_int64)ival);
    else
        sqlite3_bind_blob(s, 2, len > 0 ? val : "", (int)len, SQLITE_STATIC);
    int step = sqlite3_step(s);
    fs_store_finish(st, s);
    return step == SQLITE_DONE ? 0 : fs_store_sqlerr(st, step, err, "writing sync_meta");
}

int fs_store_meta_set(fs_store *st, const char *key, const void *val, size_t len, fs_err *err)
{
    if (len > INT32_MAX)
        return fs_err_set(err, FS_ETOOBIG, "sync_meta %s: value too large", key);
    return meta_put(st, key, val, len, false, 0, err);
}

int fs_store_meta_set_u64(fs_store *st, const char *key, uint64_t val, fs_err *err)
{
    return meta_put(st, key, NULL, 0, true, val, err);
}

int fs_store_set_last_sync(fs_store *st, uint64_t unix_s, fs_err *err)
{
    int rc = fs_store_begin_unflushed(st, err);
    if (rc != 0)
        return rc;
    return fs_store_end_unflushed(st, fs_store_meta_set_u64(st, FS_META_LAST_SYNC, unix_s, err),
                                  err);
}

int fs_store_meta_get_u64(fs_store *st, const char *key, uint64_t *val, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *val = 0;
    int rc = fs_store_prepare(st, "SELECT value FROM sync_meta WHERE key = ?", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *val = (uint64_t)sqlite3_column_int64(s, 0);
    else if (step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "reading sync_meta");
    fs_store_finish(st, s);
    return rc;
}

int fs_store_meta_delete(fs_store *st, const char *key, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, "DELETE FROM sync_meta WHERE key = ?", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    fs_store_finish(st, s);
    return step == SQLITE_DONE ? 0 : fs_store_sqlerr(st, step, err, "deleting from sync_meta");
}

int fs_store_meta_get_secret(fs_store *st, const char *key, fs_secret **out, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *out = NULL;
    int rc = fs_store_prepare(st, "SELECT value FROM sync_meta WHERE key = ?", &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) /* copied straight from SQLite's buffer into guarded memory */
        rc =
            fs_secret_from(out, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), err);
    else if (step == SQLITE_DONE)
        rc = fs_err_set(err, FS_ENOTFOUND, "sync_meta has no %s", key);
    else
        rc = fs_store_sqlerr(st, step, err, "reading sync_meta");
    fs_store_finish(st, s);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Replica id and HLC */

uint64_t fs_store_replica(const fs_store *st)
{
    return st->replica;
}

int fs_store_set_replica(fs_store *st, uint64_t replica, fs_err *err)
{
    if (replica == 0)
        return fs_err_set(err, FS_EINVAL, "replica id 0 is reserved");
    int rc = fs_store_meta_set_u64(st, "replica_id", replica, err);
    if (rc == 0)
        st->replica = replica;
    return rc;
}

int fs_store_tick(fs_store *st, uint64_t *hlc, fs_err *err)
{
    *hlc = fs_hlc_now(&st->hlc, st->clock_ms(st->clock_arg));
    return fs_store_save_hlc(st, err);
}

void fs_store_observe(fs_store *st, const fs_state *state)
{
    fs_hlc_observe(&st->hlc, fs_record_hlc(state));
}

int fs_store_save_hlc(fs_store *st, fs_err *err)
{
    return fs_store_meta_set_u64(st, "hlc", st->hlc.last, err);
}

/* Reads the replica id (minting one for a new database) and the clock. */
static int load_identity(fs_store *st, fs_err *err)
{
    int rc = fs_store_meta_get_u64(st, "replica_id", &st->replica, err);
    if (rc != 0)
        return rc;
    while (st->replica == 0) {
        randombytes_buf(&st->replica, sizeof(st->replica));
        if (st->replica != 0 && (rc = fs_store_set_replica(st, st->replica, err)) != 0)
            return rc;
    }
    return fs_store_meta_get_u64(st, "hlc", &st->hlc.last, err);
}

/* ------------------------------------------------------------------------- */
/* Open and close */

static int open_plain(fs_store *st, unsigned flags, fs_err *err)
{
    int oflags = SQLITE_OPEN_READWRITE | ((flags & FS_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    int rc = fs_vfs_open(&st->db, st->path, NULL, oflags, err);
    return rc == 0 ? fs_store_register_search(st->db, err) : rc;
}

/* A database file shorter than one page holds no store (truncated to 0 bytes, or
 * a creation that never wrote its first page). Opening it would start a new
 * empty store with a new replica id and the rep's data would silently be gone:
 * it is refused before anything is written to it. */
static int refuse_empty(const char *path, fs_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return fs_err_set(err, FS_EIO, "cannot read %s: %s", path, strerror(errno));
    if (sb.st_size >= FS_PAGE_MIN_SIZE)
        return 0;
    return fs_err_set(err, FS_ECORRUPT,
                      "the store %s is empty: its file was truncated or damaged, and opening it "
                      "would start a new store. Restore it from a backup; or move it and its key "
                      "file away, set the device up again and resync (changes not yet synced are "
                      "lost)",
                      path);
}

int fs_store_open(fs_store **out, const char *path, const char *keyfile, const char *passphrase,
                  size_t passphrase_len, unsigned flags, fs_err *err)
{
    *out = NULL;
    if (path == NULL)
        return fs_err_set(err, FS_EINVAL, "fs_store_open: no database path given");
    int rc = fs_crypto_init(err);
    if (rc != 0)
        return rc;
    bool existed = access(path, F_OK) == 0;
    if (!(flags & FS_STORE_CREATE) && !existed)
        return fs_err_set(err, FS_ENOTFOUND,
                          "no store at %s: set the device up (enroll) first, or check the path",
                          path);
    if (existed && (rc = refuse_empty(path, err)) != 0)
        return rc;
    fs_store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return fs_err_set(err, FS_ENOMEM, "opening %s: out of memory", path);
    fs_store_set_clock(st, NULL, NULL);
    st->path = fs_store_strdup(path);
    st->keyfile = fs_store_strdup(keyfile);
    st->flags = flags;
    if (st->path == NULL || (keyfile != NULL && st->keyfile == NULL)) {
        rc = fs_err_set(err, FS_ENOMEM, "opening %s: out of memory", path);
        goto fail;
    }
    rc = keyfile != NULL ? fs_store_open_keyed(st, passphrase, passphrase_len, flags, err)
                         : open_plain(st, flags, err);
    if (rc != 0)
        goto fail;
    if ((rc = fs_store_configure(st, err)) != 0 || (rc = fs_store_migrate(st, err)) != 0 ||
        (rc = fs_store_load_resume(st, false, err)) != 0 || (rc = load_identity(st, err)) != 0 ||
        (rc = fs_outbox_recover(st, err)) != 0)
        goto fail;
    *out = st;
    return 0;
fail:
    fs_store_close(st);
    return rc;
}

int fs_store_configure(fs_store *st, fs_err *err)
{
    sqlite3_busy_timeout(st->db, 5000);
    /* What is deleted is zeroed in the file, free pages included, whatever
     * SQLite's build defaults to: a record that left the rep's territory
     * leaves no copy behind (store.md, "Deleted content"). */
    return fs_store_exec(st, "PRAGMA secure_delete = ON", err);
}

void fs_store_close(fs_store *st)
{
    if (st == NULL)
        return;
    if (st->db != NULL) {
        fs_store_load_flush(st, NULL); /* an initial load's batch: keep what it has */
        fs_store_ckpt_stop(st);
        /* Empties the WAL so the plaintext-derived frame checksums do not linger. */
        sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        fs_store_stmts_clear(st);
        sqlite3_close_v2(st->db);
    }
    free(st->path);
    free(st->keyfile);
    free(st);
}
