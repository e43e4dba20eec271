/*
 * storage.c: what every backend shares: closing, and the pool of connections
 * the HTTP worker threads borrow one at a time (a connection is never used by
 * two threads at once).
 */
#include <pthread.h>
#include <stdlib.h>

#include "storage.h"

void srv_storage_close(srv_storage *s)
{
    if (s != NULL)
        s->ops->close(s);
}

struct srv_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    srv_storage **conns; /* free connections: conns[0..nfree) */
    size_t nfree;
    size_t n;
};

int srv_pool_new(srv_pool **out, const char *path, size_t n, fs_err *err)
{
    *out = NULL;
    srv_pool *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->conns = calloc(n, sizeof(*p->conns))) == NULL) {
        free(p);
        return fs_err_set(err, FS_ENOMEM, "out of memory for %zu database connections", n);
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    for (size_t i = 0; i < n; i++) {
        int rc = srv_sqlite_open(&p->conns[i], path, false, err);
        if (rc != 0) {
            p->nfree = i;
            srv_pool_free(p);
            return rc;
        }
    }
    p->n = p->nfree = n;
    *out = p;
    return 0;
}

void srv_pool_free(srv_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nfree; i++)
        srv_storage_close(p->conns[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->conns);
    free(p);
}

srv_storage *srv_pool_acquire(srv_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->nfree == 0)
        pthread_cond_wait(&p->freed, &p->lock);
    srv_storage *s = p->conns[--p->nfree];
    pthread_mutex_unlock(&p->lock);
    return s;
}

void srv_pool_release(srv_pool *p, srv_storage *s)
{
    pthread_mutex_lock(&p->lock);
    p->conns[p->nfree++] = s;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}
