/*
 * checkpointer.c: the checkpoint thread (checkpointer.h).
 *
 * A passive checkpoint never blocks a writer; one that finds the WAL busy (a
 * reader holds it) copies what it can and the next wake goes on. Durability
 * does not depend on it: a commit is durable once its WAL frames are synced,
 * checkpointed or not.
 */
#include "fieldsync/checkpointer.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

struct fs_checkpointer {
    sqlite3 *db; /* the thread's own connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool due, stop;
};

static void *run(void *arg)
{
    fs_checkpointer *c = arg;
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

int fs_checkpointer_start(sqlite3 *db, const char *name, fs_checkpointer **out, fs_err *err)
{
    *out = NULL;
    fs_checkpointer *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        sqlite3_close(db);
        return fs_err_set(err, FS_ENOMEM, "out of memory for the checkpointer of %s", name);
    }
    c->db = db;
    /* a checkpoint that finds the WAL busy leaves the rest to the next wake */
    sqlite3_busy_timeout(db, 0);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int started = pthread_create(&c->thread, NULL, run, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started != 0) {
        sqlite3_close(db);
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return fs_err_set(err, FS_ENOMEM, "cannot start the checkpointer of %s", name);
    }
    *out = c;
    return 0;
}

void fs_checkpointer_wake(fs_checkpointer *c)
{
    pthread_mutex_lock(&c->lock);
    c->due = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

void fs_checkpointer_stop(fs_checkpointer *c)
{
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
