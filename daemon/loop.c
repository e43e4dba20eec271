/*
 * loop.c: the epoll event loop (see loop.h).
 *
 * Timers are a short unsorted list (one per client with a half-read request at
 * most): the nearest deadline is found by a scan, which at 64 clients costs less
 * than keeping a heap. Dead fd watches and fired or cancelled timers are freed at
 * the end of an iteration, never while the ready list may still point at them.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define FS_LOOP_MAX_EVENTS 64

struct fs_loop_fd {
    int fd;
    fs_loop_fd_fn fn;
    void *arg;
    bool dead;
    struct fs_loop_fd *next; /* every watch, live or dead-not-yet-freed */
};

struct fs_timer {
    int64_t deadline;
    fs_loop_timer_fn fn;
    void *arg;
    bool dead;
    struct fs_timer *next;
};

struct fs_loop {
    int epfd;
    bool stop;
    fs_loop_fd *fds;
    fs_timer *timers;
    unsigned ntimers;
    fs_loop_hook_fn before_sleep;
    void *before_sleep_arg;
};

int64_t fs_loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fs_loop_new(fs_loop **out, fs_err *err)
{
    fs_loop *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return fs_err_set(err, FS_ENOMEM, "event loop: out of memory");
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return fs_err_set(err, FS_EIO, "event loop: epoll_create1: %s", strerror(errno));
    }
    *out = l;
    return 0;
}

static void reap(fs_loop *l)
{
    fs_loop_fd **hp = &l->fds;
    while (*hp != NULL) {
        fs_loop_fd *h = *hp;
        if (h->dead) {
            *hp = h->next;
            free(h);
        } else {
            hp = &h->next;
        }
    }
    fs_timer **pp = &l->timers;
    while (*pp != NULL) {
        fs_timer *t = *pp;
        if (t->dead) {
            *pp = t->next;
            free(t);
        } else {
            pp = &t->next;
        }
    }
}

void fs_loop_free(fs_loop *l)
{
    if (l == NULL)
        return;
    for (fs_timer *t = l->timers; t != NULL; t = t->next)
        t->dead = true;
    for (fs_loop_fd *h = l->fds; h != NULL; h = h->next)
        h->dead = true; /* watches left by the owner: the fds are the owner's to close */
    reap(l);
    close(l->epfd);
    free(l);
}

int fs_loop_add(fs_loop *l, int fd, uint32_t events, fs_loop_fd_fn fn, void *arg,
                fs_loop_fd **handle, fs_err *err)
{
    fs_loop_fd *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return fs_err_set(err, FS_ENOMEM, "event loop: out of memory");
    h->fd = fd;
    h->fn = fn;
    h->arg = arg;
    struct epoll_event ev = {.events = events, .data.ptr = h};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        free(h);
        return fs_err_set(err, FS_EIO, "event loop: watching fd %d: %s", fd, strerror(errno));
    }
    h->next = l->fds;
    l->fds = h;
    if (handle != NULL)
        *handle = h;
    return 0;
}

int fs_loop_mod(fs_loop *l, fs_loop_fd *h, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = h};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &ev) == 0 ? 0 : FS_EIO;
}

void fs_loop_del(fs_loop *l, fs_loop_fd *h)
{
    if (h == NULL || h->dead)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
    h->dead = true;
}

int fs_loop_timer_add(fs_loop *l, int64_t deadline_ms, fs_loop_timer_fn fn, void *arg,
                      fs_timer **out, fs_err *err)
{
    fs_timer *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return fs_err_set(err, FS_ENOMEM, "event loop: out of memory");
    t->deadline = deadline_ms;
    t->fn = fn;
    t->arg = arg;
    t->next = l->timers;
    l->timers = t;
    l->ntimers++;
    if (out != NULL)
        *out = t;
    return 0;
}

void fs_loop_timer_del(fs_loop *l, fs_timer *t)
{
    if (t == NULL || t->dead)
        return;
    t->dead = true;
    l->ntimers--;
}

unsigned fs_loop_timer_count(const fs_loop *l)
{
    return l->ntimers;
}

void fs_loop_set_before_sleep(fs_loop *l, fs_loop_hook_fn fn, void *arg)
{
    l->before_sleep = fn;
    l->before_sleep_arg = arg;
}

void fs_loop_stop(fs_loop *l)
{
    l->stop = true;
}

/* Milliseconds epoll may sleep: -1 (forever) when no timer is armed. */
static int sleep_ms(const fs_loop *l, bool busy)
{
    if (busy)
        return 0;
    int64_t next = -1;
    for (const fs_timer *t = l->timers; t != NULL; t = t->next)
        if (!t->dead && (next < 0 || t->deadline < next))
            next = t->deadline;
    if (next < 0)
        return -1;
    int64_t d = next - fs_loop_now_ms();
    return d <= 0 ? 0 : (d > 3600000 ? 3600000 : (int)d);
}

static void fire_timers(fs_loop *l)
{
    int64_t now = fs_loop_now_ms();
    for (fs_timer *t = l->timers; t != NULL && !l->stop; t = t->next) {
        if (t->dead || t->deadline > now)
            continue;
        t->dead = true;
        l->ntimers--;
        t->fn(l, t->arg);
    }
}

int fs_loop_run(fs_loop *l, fs_err *err)
{
    struct epoll_event evs[FS_LOOP_MAX_EVENTS];
    l->stop = false;
    while (!l->stop) {
        bool busy = l->before_sleep != NULL && l->before_sleep(l, l->before_sleep_arg);
        if (l->stop)
            break;
        int n = epoll_wait(l->epfd, evs, FS_LOOP_MAX_EVENTS, sleep_ms(l, busy));
        if (n < 0 && errno != EINTR)
            return fs_err_set(err, FS_EIO, "event loop: epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n && !l->stop; i++) {
            fs_loop_fd *h = evs[i].data.ptr;
            if (!h->dead)
                h->fn(l, h->fd, evs[i].events, h->arg);
        }
        fire_timers(l);
        reap(l);
    }
    reap(l);
    return 0;
}
