/*
 * conn.c: one client connection of fieldsyncd: nonblocking reads into a capped
 * line framer, requests run through the RPC layer, answers and notifications
 * queued into a capped output buffer.
 *
 * The limits that keep one client from hurting the others live here:
 * - a line over max_line_bytes gets -32010 and the connection is closed;
 * - at most FS_CONN_LINES_PER_TURN requests run per client per loop turn, so a
 *   client that pipelines thousands of requests shares the loop fairly;
 * - unsent output over max_output_bytes (a client that does not read)
 *   disconnects it;
 * - a partial line older than client_timeout disconnects it (the timer exists
 *   only while a partial line is buffered: an idle daemon has no timers).
 * Closing only marks a connection dead; fs_conn_service frees it between loop
 * turns, so a broadcast may close connections while iterating over them.
 *
 * Answers carry records in the clear: output is wiped as soon as it is sent
 * (and request lines once answered), so after `lock` no earlier answer is left
 * in the connection's buffers.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "framer.h"
#include "rpc.h"
#include "server.h"

#define FS_CONN_LINES_PER_TURN 32
#define FS_CONN_READ_BUDGET (256u << 10)

struct fs_conn {
    fs_server *srv;
    int fd;
    uid_t uid;
    pid_t pid;
    unsigned serial;
    fs_loop_fd *h;
    fs_framer in;
    char *out;
    size_t out_off, out_len, out_cap;
    fs_timer *timer;
    fs_rpc_session session;
    bool dead;
    bool closing;    /* close once the output is flushed (after an error or EOF) */
    bool backlog;    /* complete lines are waiting for the next turn */
    bool running;    /* inside run_lines: a broadcast's flush must not close it */
    uint32_t events; /* what the loop watches */
    struct fs_conn *next;
};

static unsigned next_serial;

/* Reads stop once closing (level-triggered EPOLLIN at EOF would spin); writes are
 * watched only while output is queued. */
static void update_events(fs_conn *c)
{
    if (c->dead)
        return;
    uint32_t ev = (c->closing ? 0 : EPOLLIN) | (c->out_len > c->out_off ? EPOLLOUT : 0);
    if (ev == c->events)
        return;
    c->events = ev;
    fs_loop_mod(c->srv->loop, c->h, ev);
}

static void flush(fs_conn *c)
{
    while (c->out_off < c->out_len && !c->dead) {
        ssize_t n =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            fs_conn_close(c->srv, c, "write failed");
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out_len && c->out_len > 0) { /* all sent: records go from memory */
        sodium_memzero(c->out, c->out_len);
        c->out_off = c->out_len = 0;
    }
    if (c->closing && c->out_len == 0 && !c->backlog && !c->running) {
        fs_conn_close(c->srv, c, NULL);
        return;
    }
    update_events(c);
}

static void enqueue(fs_conn *c, const char *data, size_t n)
{
    if (c->dead)
        return;
    size_t queued = c->out_len - c->out_off;
    if (queued + n > c->srv->cfg.max_output_bytes) {
        fs_log(FS_LOG_WARN,
               "client %u (pid %ld) does not read its answers (%zu bytes queued): "
               "disconnected",
               c->serial, (long)c->pid, queued + n);
        fs_conn_close(c->srv, c, NULL);
        return;
    }
    if (c->out_off > 0 && c->out_len + n > c->out_cap) {
        memmove(c->out, c->out + c->out_off, queued);
        sodium_memzero(c->out + queued, c->out_len - queued);
        c->out_off = 0;
        c->out_len = queued;
    }
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *b = malloc(cap); /* not realloc: the old block is wiped before it goes */
        if (b == NULL) {
            fs_conn_close(c->srv, c, "out of memory");
            return;
        }
        if (c->out != NULL) {
            memcpy(b, c->out, c->out_len);
            sodium_memzero(c->out, c->out_cap);
            free(c->out);
        }
        c->out = b;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

static void send_json(fs_conn *c, json_t *msg)
{
    size_t n;
    char *line = msg != NULL ? fs_rpc_dump_line(msg, &n) : NULL;
    if (line == NULL) {
        fs_conn_close(c->srv, c, "out of memory");
        return;
    }
    enqueue(c, line, n);
    sodium_memzero(line, n);
    free(line);
}

static void on_timeout(fs_loop *loop, void *arg)
{
    (void)loop;
    fs_conn *c = arg;
    c->timer = NULL;
    fs_log(FS_LOG_WARN, "client %u (pid %ld) left a request unfinished for %u s: disconnected",
           c->serial, (long)c->pid, c->srv->cfg.client_timeout_s);
    fs_conn_close(c->srv, c, NULL);
}

/* The half-message timer runs exactly while a partial line is buffered. */
static void update_timer(fs_conn *c)
{
    bool partial = fs_framer_partial(&c->in) && !c->closing;
    if (partial && c->timer == NULL) {
        int64_t deadline = fs_loop_now_ms() + (int64_t)c->srv->cfg.client_timeout_s * 1000;
        fs_loop_timer_add(c->srv->loop, deadline, on_timeout, c, &c->timer, NULL);
    } else if (!partial && c->timer != NULL) {
        fs_loop_timer_del(c->srv->loop, c->timer);
        c->timer = NULL;
    }
}

static void too_large(fs_conn *c)
{
    fs_rpc_err e = {0};
    fs_rpc_fail(&e, FS_RPC_TOO_LARGE, NULL,
                "request line longer than %zu bytes: the connection is closed",
                c->srv->cfg.max_line_bytes);
    json_t *r = fs_rpc_error_response(NULL, &e);
    send_json(c, r);
    json_decref(r);
    fs_log(FS_LOG_WARN, "client %u (pid %ld) sent a line over %zu bytes: disconnected", c->serial,
           (long)c->pid, c->srv->cfg.max_line_bytes);
    c->closing = true;
    c->backlog = false;
    shutdown(c->fd, SHUT_RD);
}

/* Runs up to FS_CONN_LINES_PER_TURN complete requests. */
static void run_lines(fs_conn *c)
{
    char *line;
    size_t len;
    int rc = 0;
    bool progress = false;
    c->backlog = false;
    c->running = true;
    for (int i = 0; i < FS_CONN_LINES_PER_TURN && !c->dead; i++) {
        rc = fs_framer_next(&c->in, &line, &len);
        if (rc <= 0)
            break;
        progress = true;
        if (len == 0)
            continue;
        json_t *resp = fs_rpc_handle_line(&c->srv->daemon, &c->session, line, len);
        memset(line, 0, len); /* a line may have carried a passphrase */
        if (resp != NULL) {
            send_json(c, resp);
            json_decref(resp);
        }
        if (i == FS_CONN_LINES_PER_TURN - 1)
            c->backlog = true;
    }
    c->running = false;
    if (progress)
        fs_server_served(c->srv);
    if (c->dead)
        return;
    if (rc == FS_ETOOBIG)
        too_large(c);
    if (progress && c->timer != NULL) { /* a finished request restarts the clock */
        fs_loop_timer_del(c->srv->loop, c->timer);
        c->timer = NULL;
    }
    update_timer(c);
    flush(c);
}

static void on_readable(fs_conn *c)
{
    size_t total = 0;
    while (total < FS_CONN_READ_BUDGET && !c->closing) {
        char *p;
        size_t room;
        int rc = fs_framer_space(&c->in, &p, &room);
        if (rc == FS_EBUSY)
            break; /* run the buffered requests first; EPOLLIN stays armed */
        if (rc != 0) {
            too_large(c);
            break;
        }
        ssize_t n = recv(c->fd, p, room, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            c->closing = true; /* EOF: answer what was asked, then close */
            break;
        }
        fs_framer_commit(&c->in, (size_t)n);
        total += (size_t)n;
        /* run what is complete before reading more: a long line is cut short early */
        if (c->in.len - c->in.start > c->srv->cfg.max_line_bytes)
            break;
    }
    run_lines(c);
}

static void on_event(fs_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    fs_conn *c = arg;
    if (events & EPOLLOUT)
        flush(c);
    if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing)
        on_readable(c);
    else if (!c->dead && (events & (EPOLLHUP | EPOLLERR)))
        fs_conn_close(c->srv, c, NULL);
}

int fs_conn_open(fs_server *s, int fd, uid_t uid, pid_t pid, fs_err *err)
{
    fs_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    }
    c->srv = s;
    c->fd = fd;
    c->uid = uid;
    c->pid = pid;
    c->serial = ++next_serial;
    c->events = EPOLLIN;
    fs_framer_init(&c->in, s->cfg.max_line_bytes);
    int rc = fs_loop_add(s->loop, fd, EPOLLIN, on_event, c, &c->h, err);
    if (rc != 0) {
        close(fd);
        free(c);
        return rc;
    }
    c->next = s->conns;
    s->conns = c;
    s->nconns++;
    s->daemon.nclients = s->nconns;
    fs_log(FS_LOG_DEBUG, "client %u connected (pid %ld)", c->serial, (long)pid);
    return 0;
}

void fs_conn_close(fs_server *s, fs_conn *c, const char *why)
{
    if (c->dead)
        return;
    if (why != NULL)
        fs_log(FS_LOG_INFO, "client %u (pid %ld) closed: %s", c->serial, (long)c->pid, why);
    c->dead = true;
    fs_loop_del(s->loop, c->h);
    fs_loop_timer_del(s->loop, c->timer);
    c->timer = NULL;
    close(c->fd);
    c->fd = -1;
    s->nconns--;
    s->daemon.nclients = s->nconns;
    fs_server_client_gone(s);
}

static void conn_free(fs_conn *c)
{
    fs_framer_clear(&c->in);
    if (c->out != NULL)
        sodium_memzero(c->out, c->out_cap);
    free(c->out);
    free(c);
}

bool fs_conn_service(fs_server *s)
{
    bool more = false;
    for (fs_conn *c = s->conns; c != NULL; c = c->next) {
        if (!c->dead && c->backlog)
            run_lines(c);
        more = more || (!c->dead && c->backlog);
    }
    fs_conn **pp = &s->conns;
    while (*pp != NULL) {
        fs_conn *c = *pp;
        if (c->dead) {
            *pp = c->next;
            conn_free(c);
        } else {
            pp = &c->next;
        }
    }
    return more;
}

void fs_conn_broadcast(void *server, unsigned topic, const char *method, json_t *params)
{
    fs_server *s = server;
    json_t *note = params != NULL ? json_pack("{s:s,s:s,s:O}", "jsonrpc", "2.0", "method", method,
                                              "params", params)
                                  : NULL;
    json_decref(params);
    if (note == NULL)
        return;
    size_t n;
    char *line = fs_rpc_dump_line(note, &n);
    json_decref(note);
    if (line == NULL)
        return;
    for (fs_conn *c = s->conns; c != NULL; c = c->next) {
        if (c->dead || !(c->session.topics & topic))
            continue;
        enqueue(c, line, n);
        flush(c);
    }
    sodium_memzero(line, n);
    free(line);
}

void fs_conn_flush_all(fs_server *s, int64_t deadline_ms)
{
    for (fs_conn *c = s->conns; c != NULL; c = c->next) {
        while (!c->dead && c->out_len > c->out_off && fs_loop_now_ms() < deadline_ms) {
            flush(c);
            if (!c->dead && c->out_len > c->out_off)
                usleep(1000); /* shutdown only: give a slow reader a moment, bounded */
        }
    }
}

void fs_conn_free_all(fs_server *s)
{
    for (fs_conn *c = s->conns; c != NULL; c = c->next)
        fs_conn_close(s, c, NULL);
    fs_conn_service(s);
}
