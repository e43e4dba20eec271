/*
 * storage_sqlite_ckpt.c: WAL checkpoints off the commit path, for the pool of
 * connections fieldsync-server serves from (docs/server.md, "SQLite").
 *
 * By default SQLite checkpoints inside the commit that takes the WAL past
 * wal_autocheckpoint (1,000 pages): that push waited for a copy of the WAL
 * into the database and its fsync (35 ms of a 1,000-state push in a profile)
 * before it was answered. A pool's connections instead report each commit's
 * WAL size to a checkpointer thread with a connection of its own, which runs
 * a passive checkpoint (one that never blocks a writer) once the WAL passes
 * SQ_CKPT_PAGES. Should it fall far behind (a long reader holds the WAL), a
 * commit that takes the WAL past SQ_CKPT_FORCE_PAGES checkpoints itself, as
 * before. Durability does not change: a commit is durable when its WAL frames
 * are synced (synchronous=FULL), checkpointed or not.
 */

#include "fieldsync/checkpointer.h"
#include "storage_sqlite_int.h"

/* The WAL size (pages) that wakes the checkpointer: SQLite's own default. */
#define SQ_CKPT_PAGES 1000
/* The size at which a commit checkpoints itself. */
#define SQ_CKPT_FORCE_PAGES 16000

static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    if (pages >= SQ_CKPT_FORCE_PAGES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    else if (pages >= SQ_CKPT_PAGES)
        fs_checkpointer_wake(arg);
    return SQLITE_OK;
}

int sq_pool_attach(srv_storage *const *conns, size_t n, const char *db, void **helper, fs_err *err)
{
    sqlite3 *own = NULL;
    fs_checkpointer *c = NULL;
    *helper = NULL;
    /* a connection is in WAL mode (and can checkpoint) once it read the database */
    int orc = sqlite3_open_v2(db, &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (orc != SQLITE_OK ||
        sqlite3_exec(own, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        int rc =
            fs_err_set(err, FS_EIO, "cannot open %s for checkpoints: %s", db, sqlite3_errmsg(own));
        sqlite3_close(own);
        return rc;
    }
    int rc = fs_checkpointer_start(own, db, &c, err);
    if (rc != 0)
        return rc;
    /* replaces each connection's autocheckpoint, which is a WAL hook too */
    for (size_t i = 0; i < n; i++)
        sqlite3_wal_hook(((sq_storage *)conns[i])->db, on_commit, c);
    *helper = c;
    return 0;
}

void sq_pool_detach(void *helper)
{
    fs_checkpointer_stop(helper);
}
