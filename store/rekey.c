/*
 * rekey.c: which key opens the database, and rotating that key.
 *
 * Rekey writes a complete copy of the database under a new data key next to
 * it, then swaps it in. The key file holds both keys (DEK and next DEK) from
 * before the copy starts until after the swap, so at every instant one of them
 * opens whatever file is named path:
 *
 *   1. fs_key_begin_rekey: key file = {dek, next}           (db under dek)
 *   2. checkpoint(TRUNCATE): every committed page is in the db file, WAL empty
 *   3. VACUUM INTO path.rekey under next, fsynced
 *   4. close; unlink path-wal and path-shm               (db under dek, no WAL)
 *   5. rename(path.rekey, path); fsync the directory      (db under next)
 *   6. fs_key_commit_rekey: key file = {next}
 *
 * Step 4 comes before 5 because a WAL left beside the new file would be
 * replayed into it: its frames belong to the old file and the old key. After
 * step 2 the WAL holds nothing the db file lacks, so deleting it loses nothing.
 * Opening resolves a crash anywhere: the DEK opens the db -> the copy never
 * replaced it: drop the next DEK and the stale copy; only the next DEK opens
 * it -> the swap happened: commit the next DEK. Crash points (crash.h):
 * store.rekey.{begun, checkpointed, copied, closed, wal_removed, renamed,
 * dir_synced, committed}.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fieldsync/crash.h"
#include "fieldsync/keyfile.h"
#include "fieldsync/vfs.h"

#define REKEY_SUFFIX ".rekey"

/* path + suffix into buf; 0 or FS_ETOOBIG. */
static int suffixed(char *buf, size_t size, const char *path, const char *suffix, fs_err *err)
{
    int n = snprintf(buf, size, "%s%s", path, suffix);
    if (n < 0 || (size_t)n >= size)
        return fs_err_set(err, FS_ETOOBIG, "database path too long: %s", path);
    return 0;
}

static int unlink_if_exists(const char *path, fs_err *err)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    return fs_err_set(err, FS_EIO, "cannot remove %s: %s", path, strerror(errno));
}

/* fsync of the directory holding path: makes unlinks and renames in it durable. */
static int sync_dir_of(const char *path, fs_err *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fs_err_set(err, FS_EIO, "cannot sync directory %s: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

static int open_db(fs_store *st, const fs_secret *key, bool create, fs_err *err)
{
    int oflags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = fs_vfs_open(&st->db, st->path, key, oflags, err);
    if (rc == 0)
        rc = fs_store_register_search(st->db, err);
    if (rc == 0)
        rc = fs_store_apply_maintenance_mode(st, err);
    return rc;
}

static int load_keys(fs_store *st, const char *pass, size_t pass_len, unsigned flags,
                     bool db_exists, fs_keys *keys, fs_err *err)
{
    if (access(st->keyfile, F_OK) == 0)
        return fs_key_open(st->keyfile, pass, pass_len, keys, err);
    if (db_exists)
        return fs_err_set(err, FS_ENOTFOUND,
                          "the key file %s of %s is missing: restore it from its backup; "
                          "without it the store cannot be read",
                          st->keyfile, st->path);
    if (!(flags & FS_STORE_CREATE))
        return fs_err_set(err, FS_ENOTFOUND, "no key file at %s: set the device up first",
                          st->keyfile);
    fs_kdf_params params =
        (flags & FS_STORE_FAST_KDF) ? fs_kdf_params_fast() : fs_kdf_params_default();
    return pass != NULL ? fs_key_create(st->keyfile, pass, pass_len, params, keys, err)
                        : fs_key_create_raw(st->keyfile, keys, err);
}

/* Opens the db with the DEK, or with the next DEK after an interrupted rekey. */
static int open_resolving(fs_store *st, const char *pass, size_t pass_len, const fs_keys *keys,
                          fs_err *err)
{
    int rc = open_db(st, keys->dek, false, err);
    if (rc == 0)
        return keys->next != NULL ? fs_key_abort_rekey(st->keyfile, pass, pass_len, err) : 0;
    if (rc != FS_EAUTH || keys->next == NULL)
        return rc;
    fs_err second;
    fs_err_clear(&second);
    if (open_db(st, keys->next, false, &second) != 0)
        return rc; /* neither key: report the first failure */
    fs_crash_point("store.rekey.resolving");
    return fs_key_commit_rekey(st->keyfile, pass, pass_len, err);
}

/* The key file opened (with a passphrase: the right one) but the database does
 * not open with its key. Not a wrong passphrase, which retrying would not fix:
 * the database is damaged, or the key file belongs to another store. */
static int not_this_key(fs_store *st, fs_err *err)
{
    if (err == NULL)
        return FS_ECORRUPT;
    fs_err cause = *err;
    return fs_err_set(err, FS_ECORRUPT, "the key file %s is intact, but %s", st->keyfile,
                      fs_err_message(&cause));
}

int fs_store_open_keyed(fs_store *st, const char *passphrase, size_t passphrase_len, unsigned flags,
                        fs_err *err)
{
    char tmp[4096];
    fs_keys keys = {0};
    bool db_exists = access(st->path, F_OK) == 0;
    int rc = suffixed(tmp, sizeof(tmp), st->path, REKEY_SUFFIX, err);
    if (rc == 0)
        rc = load_keys(st, passphrase, passphrase_len, flags, db_exists, &keys, err);
    if (rc != 0)
        goto done;
    /* A leftover copy is never the live database: step 5 renames it away. */
    if ((rc = unlink_if_exists(tmp, err)) != 0)
        goto done;
    if (db_exists) {
        rc = open_resolving(st, passphrase, passphrase_len, &keys, err);
        if (rc == FS_EAUTH)
            rc = not_this_key(st, err);
    } else {
        rc = open_db(st, keys.dek, true, err);
        if (rc == 0 && keys.next != NULL)
            rc = fs_key_abort_rekey(st->keyfile, passphrase, passphrase_len, err);
    }
done:
    fs_keys_clear(&keys);
    return rc;
}

/* ------------------------------------------------------------------------- */

int fs_store_change_passphrase(fs_store *st, const char *old_pass, size_t old_len,
                               const char *new_pass, size_t new_len, fs_err *err)
{
    if (st->keyfile == NULL)
        return fs_err_set(err, FS_ESTATE, "%s is a plain store: it has no passphrase", st->path);
    if (old_pass == NULL || new_pass == NULL || new_len == 0)
        return fs_err_set(err, FS_EINVAL, "changing the passphrase needs the old and a new one");
    fs_kdf_params params =
        (st->flags & FS_STORE_FAST_KDF) ? fs_kdf_params_fast() : fs_kdf_params_default();
    return fs_key_change_passphrase(st->keyfile, old_pass, old_len, new_pass, new_len, params, err);
}

/* Steps 2-3: a complete, synced copy of the database under next at tmp. */
static int copy_under(fs_store *st, const fs_secret *next, const char *tmp, fs_err *err)
{
    int busy = 0, rc;
    rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &busy, NULL);
    if (rc != SQLITE_OK || busy)
        return rc != SQLITE_OK ? fs_store_sqlerr(st, rc, err, "rekey checkpoint")
                               : fs_err_set(err, FS_EBUSY,
                                            "rekey: %s is in use by another process; close it "
                                            "and retry",
                                            st->path);
    fs_crash_point("store.rekey.checkpointed");
    return fs_vfs_vacuum_into(st->db, tmp, next, err);
}

/* Steps 4-6, from a closed database. Stops at the first failure: open resolves. */
static int swap_in(fs_store *st, const char *tmp, const char *pass, size_t pass_len, fs_err *err)
{
    char wal[4096], shm[4096];
    int rc = suffixed(wal, sizeof(wal), st->path, "-wal", err);
    if (rc == 0)
        rc = suffixed(shm, sizeof(shm), st->path, "-shm", err);
    if (rc == 0)
        rc = unlink_if_exists(wal, err);
    if (rc == 0)
        rc = unlink_if_exists(shm, err);
    if (rc == 0)
        rc = sync_dir_of(st->path, err);
    if (rc != 0)
        return rc;
    fs_crash_point("store.rekey.wal_removed");
    if (rename(tmp, st->path) != 0)
        return fs_err_set(err, FS_EIO, "rekey: cannot rename %s to %s: %s", tmp, st->path,
                          strerror(errno));
    fs_crash_point("store.rekey.renamed");
    if ((rc = sync_dir_of(st->path, err)) != 0)
        return rc;
    fs_crash_point("store.rekey.dir_synced");
    rc = fs_key_commit_rekey(st->keyfile, pass, pass_len, err);
    fs_crash_point("store.rekey.committed");
    return rc;
}

int fs_store_rekey(fs_store *st, const char *passphrase, size_t passphrase_len, fs_err *err)
{
    char tmp[4096];
    fs_secret *next = NULL;
    if (st->keyfile == NULL)
        return fs_err_set(err, FS_ESTATE, "%s is a plain store: it has no key to rotate", st->path);
    int rc = fs_store_load_flush(st, err); /* the copy must hold an initial load's batch */
    if (rc == 0)
        rc = suffixed(tmp, sizeof(tmp), st->path, REKEY_SUFFIX, err);
    if (rc == 0)
        rc = unlink_if_exists(tmp, err);
    if (rc == 0)
        rc = fs_key_begin_rekey(st->keyfile, passphrase, passphrase_len, &next, err);
    if (rc != 0)
        return rc;
    fs_crash_point("store.rekey.begun");
    fs_store_ckpt_stop(st); /* the copy's checkpoint must not find it busy */
    rc = copy_under(st, next, tmp, err);
    fs_secret_free(next);
    if (rc != 0) { /* the database is untouched: forget the new key */
        unlink(tmp);
        fs_key_abort_rekey(st->keyfile, passphrase, passphrase_len, NULL);
        fs_store_apply_maintenance_mode(st, NULL);
        return rc;
    }
    fs_crash_point("store.rekey.copied");
    fs_store_stmts_clear(st);
    sqlite3_close_v2(st->db);
    st->db = NULL;
    fs_crash_point("store.rekey.closed");
    fs_err swap_err;
    fs_err_clear(&swap_err);
    int swap_rc = swap_in(st, tmp, passphrase, passphrase_len, &swap_err);
    /* Whatever step failed, opening lands on a consistent state. */
    rc = fs_store_open_keyed(st, passphrase, passphrase_len, st->flags & ~FS_STORE_CREATE, err);
    if (rc == 0)
        rc = fs_store_configure(st, err);
    if (rc == 0 && swap_rc != 0)
        rc = fs_err_set(err, swap_rc,
                        "rekey did not complete; the store was reopened with the key it holds: %s",
                        fs_err_message(&swap_err));
    return rc;
}
