/*
 * deadline.c: the header deadline (see deadline.h).
 *
 * Every open connection has an entry (its socket context) on one list under
 * one mutex: its socket, when it began waiting for a request, and whether that
 * request's headers are in. A thread wakes a few times per timeout and shuts
 * down (shutdown(2), not close) the sockets of entries that waited too long;
 * libmicrohttpd then reads end-of-file and closes the connection itself.
 *
 * Why shutting down another thread's socket is safe: libmicrohttpd announces
 * MHD_CONNECTION_NOTIFY_CLOSED before it closes the socket, and the entry
 * leaves the list in that callback under the same mutex the watcher holds
 * while it calls shutdown. So the watcher never touches a descriptor that was
 * closed and perhaps reused for another connection.
 */
#include "deadline.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "fieldsync/log.h"

/* How many times per timeout the watcher looks. */
#define SRV_DEADLINE_SLICES 4
/* At most one log line per this many seconds about closed connections. */
#define SRV_DEADLINE_LOG_S 60

typedef struct srv_conn {
    struct srv_conn *prev, *next;
    int fd;
    int64_t since_ms; /* when it began waiting for a request */
    bool waiting;     /* the request's headers are not in yet */
} srv_conn;

struct srv_deadline {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stop;
    srv_conn head; /* sentinel of a circular list */
    int64_t timeout_ms;
    size_t unlogged;   /* closed since the last log line */
    int64_t logged_ms; /* when that line was written */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Shuts down the overdue connections; called with the lock held. */
static void sweep(srv_deadline *d, int64_t now)
{
    size_t closed = 0;
    for (srv_conn *e = d->head.next; e != &d->head; e = e->next) {
        if (!e->waiting || now - e->since_ms < d->timeout_ms)
            continue;
        shutdown(e->fd, SHUT_RDWR);
        e->waiting = false; /* once is enough: it is closing */
        closed++;
    }
    d->unlogged += closed;
    if (d->unlogged > 0 && now - d->logged_ms >= SRV_DEADLINE_LOG_S * 1000) {
        fs_log(FS_LOG_WARN, "closed %zu connection(s) that sent no complete request within %lld s",
               d->unlogged, (long long)(d->timeout_ms / 1000));
        d->unlogged = 0;
        d->logged_ms = now;
    }
}

static void *watch(void *arg)
{
    srv_deadline *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + d->timeout_ms / SRV_DEADLINE_SLICES * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&d->wake, &d->lock, &until);
        sweep(d, now_ms());
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

int srv_deadline_start(srv_deadline **out, unsigned timeout_s, fs_err *err)
{
    *out = NULL;
    srv_deadline *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory starting the header deadline");
    d->head.next = d->head.prev = &d->head;
    d->timeout_ms = (int64_t)timeout_s * 1000;
    d->logged_ms = now_ms() - SRV_DEADLINE_LOG_S * 1000;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->lock, NULL);
    if (pthread_create(&d->thread, NULL, watch, d) != 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->lock);
        free(d);
        return fs_err_set(err, FS_EIO, "cannot start the header deadline thread");
    }
    *out = d;
    return 0;
}

void srv_deadline_stop(srv_deadline *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    /* the HTTP daemon has stopped: every connection announced its close */
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static void started(srv_deadline *d, struct MHD_Connection *c, void **socket_context)
{
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    srv_conn *e = calloc(1, sizeof(*e));
    if (e == NULL || fd == NULL) {
        free(e); /* no deadline for this one: MHD's idle timeout still applies */
        return;
    }
    e->fd = fd->connect_fd;
    e->since_ms = now_ms();
    e->waiting = true;
    pthread_mutex_lock(&d->lock);
    e->next = &d->head;
    e->prev = d->head.prev;
    d->head.prev->next = e;
    d->head.prev = e;
    pthread_mutex_unlock(&d->lock);
    *socket_context = e;
}

void srv_deadline_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                         enum MHD_ConnectionNotificationCode code)
{
    srv_deadline *d = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        started(d, c, socket_context);
        return;
    }
    srv_conn *e = *socket_context;
    if (e == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    e->prev->next = e->next;
    e->next->prev = e->prev;
    pthread_mutex_unlock(&d->lock);
    free(e);
    *socket_context = NULL;
}

void srv_deadline_request(srv_deadline *d, struct MHD_Connection *c, bool begun)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    srv_conn *e = i != NULL ? i->socket_context : NULL;
    if (e == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    e->waiting = !begun;
    e->since_ms = now_ms();
    pthread_mutex_unlock(&d->lock);
}
