/*
 * checkpoint.c: WAL checkpoints on a thread of their own, for an owner that
 * defers maintenance (store.h "Maintenance").
 *
 * A deferring owner's commit used to checkpoint itself once the WAL passed
 * FS_STORE_WAL_LIMIT_PAGES: during a pull of 100,000 records that commit
 * copied 80 MB of WAL into the database and synced it, a tenth of the pull
 * on the thread that applies pages. Each commit now reports the WAL's size
 * through the WAL hook, and each time it grew by FS_STORE_CKPT_PAGES (that
 * same limit) a checkpointer thread (fieldsync/checkpointer.h) runs a passive
 * checkpoint (one that never blocks a writer) on a second connection; the
 * database pages it writes are the sealed images the WAL holds (vfs_main.c),
 * so it decrypts nothing. There are no more checkpoints than before: run
 * more often, they competed with the writes going on for the disk's syncs
 * (docs/store.md has the figures). Should the thread fall far behind (a long
 * reader holds the WAL), a commit past FS_STORE_CKPT_FORCE_PAGES checkpoints
 * itself. Durability does not change: a commit is durable once its WAL
 * frames are synced, checkpointed or not.
 *
 * The thread starts at the first checkpoint asked for and lives while the
 * store is open and deferring; it is stopped before anything that closes or
 * copies the database (close, rekey), so its connection never outlives the
 * main one.
 */
#include "store_int.h"

#include <stdlib.h>

#include "fieldsync/checkpointer.h"
#include "fieldsync/vfs.h"

struct fs_store_ckpt {
    fs_store *st;
    fs_checkpointer *thread; /* started at the first checkpoint asked for */
    int woke_at;             /* the WAL's size at the last wake (the committing thread's only) */
};

/* Asks the thread for a checkpoint, starting it (and its connection) the first
 * time: a store that never needs one, as most of a fleet's, never pays for
 * them. Should it not start, the checkpoint runs here. */
static void checkpoint(fs_store_ckpt *c)
{
    sqlite3 *twin = NULL;
    if (c->thread == NULL && (fs_vfs_open_twin(c->st->db, &twin, NULL) != 0 ||
                              fs_checkpointer_start(twin, c->st->path, &c->thread, NULL) != 0)) {
        sqlite3_wal_checkpoint_v2(c->st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return;
    }
    fs_checkpointer_wake(c->thread);
}

/* The main connection's WAL hook (it replaces wal_autocheckpoint, which is one
 * too); pages counts the WAL's frames since it last started over. While writes
 * go on the WAL does not start over (each writer begins before the thread's
 * checkpoint is done), so the thread is woken per FS_STORE_CKPT_PAGES of new
 * WAL, not at every commit past it: each checkpoint syncs the database. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    fs_store_ckpt *c = arg;
    if (pages >= FS_STORE_CKPT_FORCE_PAGES) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (pages < c->woke_at) /* started over */
        c->woke_at = 0;
    if (pages - c->woke_at >= FS_STORE_CKPT_PAGES) {
        c->woke_at = pages;
        checkpoint(c);
    }
    return SQLITE_OK;
}

int fs_store_ckpt_start(fs_store *st, fs_err *err)
{
    if (st->ckpt != NULL || st->db == NULL)
        return 0;
    fs_store_ckpt *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return fs_err_set(err, FS_ENOMEM, "starting the checkpointer of %s: out of memory",
                          st->path);
    c->st = st;
    sqlite3_wal_hook(st->db, on_commit, c);
    st->ckpt = c;
    return 0;
}

void fs_store_ckpt_wake(fs_store *st)
{
    if (st->ckpt != NULL)
        checkpoint(st->ckpt);
}

void fs_store_ckpt_stop(fs_store *st)
{
    if (st->ckpt == NULL)
        return;
    if (st->db != NULL)
        sqlite3_wal_hook(st->db, NULL, NULL);
    fs_checkpointer_stop(st->ckpt->thread);
    free(st->ckpt);
    st->ckpt = NULL;
}
