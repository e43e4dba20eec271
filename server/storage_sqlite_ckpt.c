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
#include <pthread.h>
#include <stdlib.h>

#include "storage_sqlite_int.h"

/* The WAL size (pages) that wakes the checkpointer: SQLite's own default. */
#define SQ_CKPT_PAGES 1000
/* The size at which a commit checkpoints itself. */
#define SQ_CKPT_FORCE_PAGES 16000

typedef struct sq_ckpt {
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool due, stop;
} sq_ckpt;

static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    sq_ckpt *c = arg;
    if (pages >= SQ_CKPT_FORCE_PAGES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    else if (pages >= SQ_CKPT_PAGES) {
        pthread_mutex_lock(&c->lock);
        c->due = true;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
    }
    return SQLITE_OK;
}

static void *run(void *arg)
{
    sq_ckpt *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        if (!c->due) {
            pthread_cond_wait(&c->wake, &c->lock);
            continue;
        }
        c->due = false;
        pthread_mutex_unlock(&c->lock);
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int sq_pool_attach(srv_storage *const *conns, size_t n, const char *db, void **helper, fs_err *err)
{
    sq_ckpt *c = calloc(1, sizeof(*c));
    *helper = NULL;
    if (c == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory for the checkpointer of %s", db);
    /* a connection is in WAL mode (and can checkpoint) once it read the database */
    int orc = sqlite3_open_v2(db, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (orc == SQLITE_OK)
        sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
    if (orc != SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = fs_err_set(err, FS_EIO, "cannot open %s for checkpoints: %s", db,
                            sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        sqlite3_close(c->db);
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return fs_err_set(err, FS_ENOMEM, "cannot start the checkpointer of %s", db);
    }
    /* replaces each connection's autocheckpoint, which is a WAL hook too */
    for (size_t i = 0; i < n; i++)
        sqlite3_wal_hook(((sq_storage *)conns[i])->db, on_commit, c);
    *helper = c;
    return 0;
}

void sq_pool_detach(void *helper)
{
    sq_ckpt *c = helper;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
