/*
 * proxy.c: the fault-injecting TCP proxy of the sync tests (see proxy.h).
 * Blocking sockets and poll, one thread per connection: simple enough to be
 * obviously right, which matters more in a test tool than speed.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PX_MAX_CONNS 256

struct px {
    int lfd;
    int wake[2];
    unsigned port, upstream;
    pthread_t acceptor;
    pthread_mutex_t mu;
    px_mode mode;
    uint64_t after;
    long arg;
    pid_t pid;
    uint64_t up, down; /* bytes since the mode was set */
    unsigned faults;
    pthread_t threads[PX_MAX_CONNS];
    size_t nthreads;
    atomic_bool stopping;
};

typedef struct conn {
    px *p;
    int c, u;
} conn;

static void ms_sleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int connect_to(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static bool write_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads the rest of a request whose first npre bytes are in buf (headers and a
 * Content-Length body), so the canned answer does not race the client's upload. */
static void drain_request(int fd, char *buf, size_t cap, size_t got)
{
    long want = -1;
    for (;;) {
        if (want < 0) {
            char *end = memmem(buf, got, "\r\n\r\n", 4);
            if (end != NULL) {
                *end = '\0';
                char *cl = strcasestr(buf, "Content-Length:");
                want = (end + 4 - buf) + (cl != NULL ? strtol(cl + 15, NULL, 10) : 0);
            }
        }
        if (want >= 0 && (long)got >= want)
            return;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 2000) <= 0)
            return;
        /* past the buffer: keep counting, overwrite the body part */
        size_t at = got < cap ? got : cap / 2;
        ssize_t r = recv(fd, buf + at, cap - at, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
        if (got > cap && want < 0)
            return; /* headers that large are not ours */
    }
}

static void canned(px *p, int c, px_mode mode, char *buf, size_t cap, size_t got)
{
    char resp[256];
    drain_request(c, buf, cap, got);
    if (mode == PX_503)
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %ld\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n",
                 p->arg);
    else if (mode == PX_BAD_ENCODING)
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                 "Content-Encoding: %s\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
                 "\x28\xb5\x2f\xfdjunk",
                 p->arg == 2   ? "x\x1b[1my"
                 : p->arg == 1 ? "br"
                               : "zstd");
    else
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                 "Content-Length: 7\r\nConnection: close\r\n\r\n\x0a\x05junk!");
    write_all(c, resp, strlen(resp));
}

static void reset(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* Rewrites the client's Accept-Encoding in a request's headers to gzip alone,
 * padded to the same length, as to a server that does not know zstd; true if
 * it was there. */
static bool ask_gzip_only(char *buf, size_t n)
{
    static const char from[] = "Accept-Encoding: zstd, gzip", to[] = "Accept-Encoding: gzip";
    size_t fl = sizeof(from) - 1;
    for (size_t i = 0; i + fl <= n; i++) {
        if (memcmp(buf + i, from, fl) == 0) {
            memset(buf + i, ' ', fl);
            memcpy(buf + i, to, sizeof(to) - 1);
            return true;
        }
    }
    return false;
}

/* Forwards one chunk in direction up (client -> server) or down; false: close. */
static bool forward(conn *k, bool up)
{
    px *p = k->p;
    char buf[16384];
    int from = up ? k->c : k->u, to = up ? k->u : k->c;
    ssize_t r = recv(from, buf, sizeof(buf), 0);
    if (r <= 0)
        return false;
    pthread_mutex_lock(&p->mu);
    px_mode mode = p->mode;
    if (up && (mode == PX_503 || mode == PX_GARBAGE_200 || mode == PX_BAD_ENCODING)) {
        /* a new request on this (kept-alive) connection: answer it ourselves */
        p->mode = PX_PASS;
        p->faults++;
        pthread_mutex_unlock(&p->mu);
        canned(p, k->c, mode, buf, sizeof(buf), (size_t)r);
        return false;
    }
    long arg = p->arg;
    uint64_t *count = up ? &p->up : &p->down;
    uint64_t before = *count;
    *count += (uint64_t)r;
    bool fire = false;
    size_t pass = (size_t)r;
    if (!up && (mode == PX_RESET_DOWN || mode == PX_TRUNCATE_DOWN) && *count > p->after) {
        fire = true;
        pass = before < p->after ? (size_t)(p->after - before) : 0;
    }
    if ((mode == PX_KILL_UP && up && *count > p->after) ||
        (mode == PX_KILL_DOWN && !up && *count > p->after)) {
        kill(p->pid, SIGKILL);
        fire = true;
    }
    if (fire) {
        p->mode = PX_PASS;
        p->faults++;
    }
    if (up && mode == PX_GZIP_ONLY && ask_gzip_only(buf, (size_t)r))
        p->faults++;
    pthread_mutex_unlock(&p->mu);
    if (mode == PX_DELAY)
        ms_sleep(arg);
    if (!write_all(to, buf, pass))
        return false;
    if (fire && mode == PX_RESET_DOWN)
        reset(k->c);
    return !(fire && (mode == PX_RESET_DOWN || mode == PX_TRUNCATE_DOWN));
}

static void *serve_conn(void *arg)
{
    conn *k = arg;
    px *p = k->p;
    pthread_mutex_lock(&p->mu);
    unsigned upstream = p->upstream;
    pthread_mutex_unlock(&p->mu);
    if ((k->u = connect_to(upstream)) >= 0) {
        for (;;) {
            struct pollfd pf[2] = {{k->c, POLLIN, 0}, {k->u, POLLIN, 0}};
            if (poll(pf, 2, 500) < 0)
                break;
            if (p->stopping)
                break;
            if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && !forward(k, true))
                break;
            if ((pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && !forward(k, false))
                break;
        }
        close(k->u);
    }
    close(k->c);
    free(k);
    return NULL;
}

static void *accept_loop(void *arg)
{
    px *p = arg;
    for (;;) {
        struct pollfd pf[2] = {{p->lfd, POLLIN, 0}, {p->wake[0], POLLIN, 0}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        int c = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        conn *k = calloc(1, sizeof(*k));
        k->p = p;
        k->c = c;
        k->u = -1;
        pthread_mutex_lock(&p->mu);
        if (p->nthreads < PX_MAX_CONNS &&
            pthread_create(&p->threads[p->nthreads], NULL, serve_conn, k) == 0) {
            p->nthreads++;
            k = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (k != NULL) {
            close(c);
            free(k);
        }
    }
    return NULL;
}

px *px_start(unsigned upstream_port)
{
    px *p = calloc(1, sizeof(*p));
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->upstream = upstream_port;
    pthread_mutex_init(&p->mu, NULL);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(p->lfd, 64) != 0 || getsockname(p->lfd, (struct sockaddr *)&a, &alen) != 0 ||
        pipe(p->wake) != 0 || pthread_create(&p->acceptor, NULL, accept_loop, p) != 0) {
        fprintf(stderr, "proxy: cannot start: %s\n", strerror(errno));
        abort();
    }
    p->port = ntohs(a.sin_port);
    return p;
}

unsigned px_port(const px *p)
{
    return p->port;
}

void px_upstream(px *p, unsigned port)
{
    pthread_mutex_lock(&p->mu);
    p->upstream = port;
    pthread_mutex_unlock(&p->mu);
}

void px_set(px *p, px_mode mode, uint64_t after, long arg, pid_t pid)
{
    pthread_mutex_lock(&p->mu);
    p->mode = mode;
    p->after = after;
    p->arg = arg;
    p->pid = pid;
    p->up = p->down = 0;
    pthread_mutex_unlock(&p->mu);
}

unsigned px_faults(px *p)
{
    pthread_mutex_lock(&p->mu);
    unsigned n = p->faults;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void px_stop(px *p)
{
    if (p == NULL)
        return;
    p->stopping = true;
    if (write(p->wake[1], "x", 1) != 1)
        abort();
    pthread_join(p->acceptor, NULL);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    close(p->lfd);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
