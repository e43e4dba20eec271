/*
 * state.c: the daemon's lock state machine (see daemon.h). The store, and with
 * it every key in memory, exists only in the UNLOCKED state; lock closes it,
 * which wipes the data key held by the VFS and the key file code, and SQLite's
 * page cache and rows (SQLite wipes what it frees: fs_vfs_register).
 */
#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fieldsync/keyfile.h"
#include "fieldsync/log.h"
#include "fieldsync/sync.h"
#include "loop.h"
#include "sync_events.h"

const char *fs_daemon_state_name(fs_daemon_state s)
{
    switch (s) {
    case FS_DAEMON_UNINITIALIZED:
        return "uninitialized";
    case FS_DAEMON_LOCKED:
        return "locked";
    case FS_DAEMON_UNLOCKED:
        return "unlocked";
    }
    return "unknown";
}

static void base_init(fs_daemon *d, const fs_config *cfg)
{
    memset(d, 0, sizeof(*d));
    d->cfg = cfg;
    d->started_ms = fs_loop_now_ms();
}

/* The sync client lives exactly as long as the open store (sync_events.c). */
static int start_sync(fs_daemon *d, fs_err *err)
{
    if (d->loop == NULL || d->store == NULL || d->sync != NULL)
        return 0;
    return fs_daemon_sync_start(d, err);
}

static void close_store(fs_daemon *d)
{
    fs_sync_free(d->sync); /* first: a batch in flight goes back to pending */
    d->sync = NULL;
    fs_store_close(d->store);
    d->store = NULL;
}

static int open_store(fs_daemon *d, const char *pass, size_t len, unsigned flags, fs_err *err)
{
    const char *keyfile = d->plain ? NULL : d->cfg->key_file;
    int rc = fs_store_open(&d->store, d->cfg->db_file, keyfile, pass, len, flags, err);
    if (rc != 0)
        return rc;
    /* no answer waits for a checkpoint or an FTS merge: server.c runs them when
     * writes pause */
    rc = fs_store_defer_maintenance(d->store, true, err);
    if (rc == 0)
        rc = fs_store_set_cache_kib(d->store, d->cfg->cache_kib, err);
    if (rc == 0)
        rc = start_sync(d, err);
    if (rc != 0) {
        close_store(d);
        return rc;
    }
    d->state = FS_DAEMON_UNLOCKED;
    return 0;
}

int fs_daemon_init(fs_daemon *d, const fs_config *cfg, fs_err *err)
{
    base_init(d, cfg);
    if (access(cfg->key_file, F_OK) != 0) {
        if (errno != ENOENT)
            return fs_err_set(err, FS_EIO, "cannot reach key file %s: %s", cfg->key_file,
                              strerror(errno));
        if (access(cfg->db_file, F_OK) == 0)
            return fs_err_set(err, FS_ENOTFOUND,
                              "the store %s exists but its key file %s is missing: restore the "
                              "key file, or move the store away to start over",
                              cfg->db_file, cfg->key_file);
        d->state = FS_DAEMON_UNINITIALIZED;
        return 0;
    }
    bool needs = true;
    int rc = fs_key_needs_passphrase(cfg->key_file, &needs, err);
    if (rc != 0)
        return rc;
    d->needs_passphrase = needs;
    d->state = FS_DAEMON_LOCKED;
    if (needs)
        return 0;
    fs_log(FS_LOG_INFO, "raw key file %s: opening the store unattended", cfg->key_file);
    return open_store(d, NULL, 0, 0, err);
}

int fs_daemon_init_plain(fs_daemon *d, const fs_config *cfg, fs_err *err)
{
    base_init(d, cfg);
    d->plain = true;
    d->state = FS_DAEMON_LOCKED;
    return open_store(d, NULL, 0, FS_STORE_CREATE, err);
}

void fs_daemon_clear(fs_daemon *d)
{
    if (d == NULL)
        return;
    close_store(d);
}

int fs_daemon_set_loop(fs_daemon *d, struct fs_loop *loop, fs_err *err)
{
    d->loop = loop;
    return start_sync(d, err);
}

static int make_parent(const char *path, fs_err *err)
{
    char *dir = fs_paths_dirname(path);
    if (dir == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    int rc = fs_paths_mkdir(dir, true, err);
    free(dir);
    return rc;
}

int fs_daemon_create(fs_daemon *d, const char *passphrase, size_t len, fs_err *err)
{
    if (d->state != FS_DAEMON_UNINITIALIZED)
        return fs_err_set(err, FS_EEXIST, "a store already exists at %s", d->cfg->db_file);
    int rc;
    if ((rc = make_parent(d->cfg->key_file, err)) != 0 ||
        (rc = make_parent(d->cfg->db_file, err)) != 0)
        return rc;
    unsigned flags = FS_STORE_CREATE | (d->cfg->fast_kdf ? FS_STORE_FAST_KDF : 0);
    if ((rc = open_store(d, passphrase, len, flags, err)) != 0)
        return rc;
    d->needs_passphrase = passphrase != NULL;
    fs_log(FS_LOG_INFO, "created the store %s (%s key file %s)", d->cfg->db_file,
           passphrase != NULL ? "passphrase" : "raw", d->cfg->key_file);
    return 0;
}

int fs_daemon_unlock(fs_daemon *d, const char *passphrase, size_t len, fs_err *err)
{
    if (d->state == FS_DAEMON_UNINITIALIZED)
        return fs_err_set(err, FS_ENOTFOUND, "there is no store yet: call init first");
    if (d->state == FS_DAEMON_UNLOCKED)
        return fs_err_set(err, FS_ESTATE, "the store is already unlocked");
    if (d->needs_passphrase && passphrase == NULL)
        return fs_err_set(err, FS_EINVAL, "the key file needs a passphrase to unlock");
    int rc = open_store(d, d->needs_passphrase ? passphrase : NULL, d->needs_passphrase ? len : 0,
                        0, err);
    if (rc == 0)
        fs_log(FS_LOG_INFO, "store unlocked");
    else
        fs_log(FS_LOG_WARN, "unlock failed: %s", fs_strerror(rc));
    return rc;
}

int fs_daemon_lock(fs_daemon *d, fs_err *err)
{
    if (d->state == FS_DAEMON_UNINITIALIZED)
        return fs_err_set(err, FS_ENOTFOUND, "there is no store yet: call init first");
    if (d->state == FS_DAEMON_LOCKED)
        return fs_err_set(err, FS_ESTATE, "the store is already locked");
    close_store(d); /* SQLite wipes the page cache and rows as it frees them */
#ifdef __GLIBC__
    malloc_trim(0); /* free heap pages, whatever they held, go back to the kernel */
#endif
    d->state = FS_DAEMON_LOCKED;
    fs_log(FS_LOG_INFO, "store locked: keys and decrypted pages wiped from memory");
    return 0;
}

void fs_daemon_notify(fs_daemon *d, unsigned topic, const char *method, json_t *params)
{
    if (d->notify != NULL)
        d->notify(d->notify_arg, topic, method, params);
    else
        json_decref(params);
}
