/*
 * storage.c: what every backend shares: picking the backend from --db,
 * closing, the records' and pull pages' memory, the merge of a pull's two
 * streams, and the pool of connections the HTTP worker threads borrow one at
 * a time (a connection is never used by two threads at once).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage.h"

bool srv_storage_is_pg(const char *db)
{
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

int srv_storage_open(srv_storage **out, const char *db, bool create, fs_err *err)
{
    return srv_storage_is_pg(db) ? srv_pg_open(out, db, create, err)
                                 : srv_sqlite_open(out, db, create, err);
}

void srv_storage_close(srv_storage *s)
{
    if (s != NULL)
        s->ops->close(s);
}

void srv_record_clear(srv_record *r)
{
    if (r == NULL)
        return;
    free(r->id);
    free(r->account_id);
    free(r->state);
    memset(r, 0, sizeof(*r));
}

void srv_pull_items_free(srv_pull_item *items, size_t n)
{
    for (size_t i = 0; items != NULL && i < n; i++) {
        free(items[i].id);
        free(items[i].state);
    }
    free(items);
}

void srv_pull_page_clear(srv_pull_page *p)
{
    if (p == NULL)
        return;
    srv_pull_items_free(p->items, p->n);
    free(p->snapshot);
    memset(p, 0, sizeof(*p));
}

int srv_pull_merge(srv_pull_item *recs, size_t nr, srv_pull_item *rems, size_t nm, size_t limit,
                   size_t max_bytes, srv_pull_page *page)
{
    size_t i = 0, j = 0, bytes = 0;
    page->items = calloc(limit ? limit : 1, sizeof(*page->items));
    if (page->items == NULL)
        return FS_ENOMEM;
    while (page->n < limit && (i < nr || j < nm)) {
        /* a removal goes first at an equal seq: it never has one, but be total */
        bool take_rem = j < nm && (i == nr || rems[j].seq <= recs[i].seq);
        srv_pull_item *src = take_rem ? &rems[j] : &recs[i];
        if (page->n > 0 && bytes + src->state_len > max_bytes)
            break;
        bytes += src->state_len;
        page->items[page->n++] = *src;
        memset(src, 0, sizeof(*src));
        take_rem ? j++ : i++;
    }
    page->more = i < nr || j < nm;
    return 0;
}

struct srv_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    srv_storage **conns; /* free connections: conns[0..nfree) */
    size_t nfree;
    size_t n;
    const srv_storage_ops *ops; /* the backend's, for its pool helper */
    void *helper;               /* ops->pool_attach's */
};

int srv_pool_new(srv_pool **out, const char *db, size_t n, fs_err *err)
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
        int rc = srv_storage_open(&p->conns[i], db, false, err);
        if (rc != 0) {
            p->nfree = i;
            srv_pool_free(p);
            return rc;
        }
    }
    p->n = p->nfree = n;
    p->ops = n > 0 ? p->conns[0]->ops : NULL;
    if (p->ops != NULL && p->ops->pool_attach != NULL) {
        int rc = p->ops->pool_attach(p->conns, n, db, &p->helper, err);
        if (rc != 0) {
            srv_pool_free(p);
            return rc;
        }
    }
    *out = p;
    return 0;
}

void srv_pool_free(srv_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nfree; i++)
        srv_storage_close(p->conns[i]);
    if (p->helper != NULL)
        p->ops->pool_detach(p->helper);
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
