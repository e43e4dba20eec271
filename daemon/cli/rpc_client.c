/*
 * rpc_client.c: the JSON-RPC client of rpc_client.h over a Unix stream socket.
 *
 * Reads are buffered: one recv can bring the tail of one line and the head of
 * the next (a notification right behind a response), so whatever follows the
 * newline stays in the buffer for the next call. Every wait goes through poll
 * with the client's timeout, so a daemon that stops answering gives a clear
 * error instead of a hung terminal.
 */
#include "rpc_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct fs_rpcc {
    int fd;
    int timeout_ms;
    long long next_id;
    char *buf; /* received bytes not yet consumed: [start, len) */
    size_t start, len, cap;
    fs_rpcc_notify_fn notify;
    void *notify_arg;
};

/* ---- wiping allocator for jansson ---- */

typedef union wipe_hdr {
    size_t size;
    max_align_t align;
} wipe_hdr;

static void *wipe_malloc(size_t n)
{
    wipe_hdr *h = malloc(sizeof(*h) + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    return h + 1;
}

static void wipe_free(void *p)
{
    if (p == NULL)
        return;
    wipe_hdr *h = (wipe_hdr *)p - 1;
    explicit_bzero(p, h->size);
    free(h);
}

void fs_rpcc_wipe_alloc(void)
{
    json_set_alloc_funcs(wipe_malloc, wipe_free);
}

/* ---- connection ---- */

int fs_rpcc_from_fd(fs_rpcc **out, int fd, int timeout_ms, fs_err *err)
{
    *out = NULL;
    fs_rpcc *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    }
    c->fd = fd;
    c->timeout_ms = timeout_ms;
    c->next_id = 1;
    *out = c;
    return 0;
}

int fs_rpcc_connect(fs_rpcc **out, const char *path, int timeout_ms, fs_err *err)
{
    *out = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return fs_err_set(err, FS_EINVAL,
                          "the socket path %s is too long for a Unix socket: use a shorter path",
                          path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fs_err_set(err, FS_EIO, "cannot create a socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT)
            return fs_err_set(err, FS_ENOTFOUND,
                              "cannot reach fieldsyncd: no socket at %s (is the daemon running? "
                              "start it with `systemctl --user start fieldsyncd`)",
                              path);
        if (e == EACCES || e == EPERM)
            return fs_err_set(err, FS_EDENIED,
                              "cannot reach fieldsyncd at %s: permission denied (the socket "
                              "belongs to another user)",
                              path);
        return fs_err_set(err, FS_EIO, "cannot reach fieldsyncd at %s: %s (is the daemon running?)",
                          path, strerror(e));
    }
    return fs_rpcc_from_fd(out, fd, timeout_ms, err);
}

void fs_rpcc_free(fs_rpcc *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->buf != NULL)
        explicit_bzero(c->buf, c->cap);
    free(c->buf);
    free(c);
}

void fs_rpcc_set_notify(fs_rpcc *c, fs_rpcc_notify_fn fn, void *arg)
{
    c->notify = fn;
    c->notify_arg = arg;
}

void fs_rpcc_shutdown(fs_rpcc *c)
{
    /* shutdown, not close: the fd stays valid for the thread still polling it */
    shutdown(c->fd, SHUT_RDWR);
}

static int wait_fd(fs_rpcc *c, short events, int timeout_ms, fs_err *err)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n > 0)
            return 0;
        if (n == 0)
            return fs_err_set(err, FS_EBUSY,
                              "fieldsyncd did not answer within %d seconds: it may be busy or "
                              "hung; check its log",
                              timeout_ms / 1000);
        if (errno != EINTR)
            return fs_err_set(err, FS_EIO, "waiting for fieldsyncd: %s", strerror(errno));
    }
}

static int send_all(fs_rpcc *c, const char *p, size_t n, fs_err *err)
{
    while (n > 0) {
        int rc = wait_fd(c, POLLOUT, c->timeout_ms, err);
        if (rc != 0)
            return rc;
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w < 0)
            return fs_err_set(err, FS_EIO, "lost the connection to fieldsyncd: %s",
                              strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int buf_reserve(fs_rpcc *c, size_t extra, fs_err *err)
{
    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->len - c->start);
        c->len -= c->start;
        c->start = 0;
    }
    if (c->len + extra <= c->cap)
        return 0;
    size_t cap = c->cap ? c->cap : 65536;
    while (cap < c->len + extra)
        cap *= 2;
    if (cap > FS_RPCC_MAX_LINE + 65536)
        return fs_err_set(err, FS_ETOOBIG, "fieldsyncd sent a response larger than %u MiB",
                          FS_RPCC_MAX_LINE >> 20);
    char *b = realloc(c->buf, cap);
    if (b == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    c->buf = b;
    c->cap = cap;
    return 0;
}

/* The next line (without its \n, NUL-terminated in place) into *line. */
static int read_line(fs_rpcc *c, int timeout_ms, char **line, fs_err *err)
{
    size_t scanned = c->start;
    for (;;) {
        char *nl = c->buf ? memchr(c->buf + scanned, '\n', c->len - scanned) : NULL;
        if (nl != NULL) {
            *nl = '\0';
            if (nl > c->buf + c->start && nl[-1] == '\r')
                nl[-1] = '\0';
            *line = c->buf + c->start;
            c->start = (size_t)(nl - c->buf) + 1;
            return 0;
        }
        scanned = c->len;
        if (c->len - c->start > FS_RPCC_MAX_LINE)
            return fs_err_set(err, FS_ETOOBIG, "fieldsyncd sent a line longer than %u MiB",
                              FS_RPCC_MAX_LINE >> 20);
        size_t off = scanned - c->start;
        int rc = buf_reserve(c, 65536, err);
        if (rc == 0)
            rc = wait_fd(c, POLLIN, timeout_ms, err);
        if (rc != 0)
            return rc;
        scanned = c->start + off;
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return fs_err_set(err, FS_EIO, "fieldsyncd closed the connection%s%s",
                              r < 0 ? ": " : " (it may have stopped; check its log)",
                              r < 0 ? strerror(errno) : "");
        c->len += (size_t)r;
    }
}

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void fill_error(const json_t *e, fs_rpcc_error *derr)
{
    memset(derr, 0, sizeof(*derr));
    derr->code = (int)json_integer_value(json_object_get(e, "code"));
    copy_str(derr->message, sizeof(derr->message),
             json_string_value(json_object_get(e, "message")));
    json_t *data = json_object_get(e, "data");
    copy_str(derr->name, sizeof(derr->name), json_string_value(json_object_get(data, "name")));
    copy_str(derr->field, sizeof(derr->field), json_string_value(json_object_get(data, "field")));
}

/* Handles one received message; 1 when it is the response to id. */
static int handle_message(fs_rpcc *c, json_t *msg, long long id, json_t **result,
                          fs_rpcc_error *derr, int *rc, fs_err *err)
{
    json_t *jid = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (jid == NULL && method != NULL) {
        if (c->notify)
            c->notify(c->notify_arg, method, json_object_get(msg, "params"));
        return 0;
    }
    json_t *error = json_object_get(msg, "error");
    if (json_is_object(error) && json_is_null(jid)) { /* e.g. request too large */
        fill_error(error, derr);
        *rc = 1;
        return 1;
    }
    if (!json_is_integer(jid) || json_integer_value(jid) != id)
        return 0; /* a stale answer: ignore */
    if (json_is_object(error)) {
        fill_error(error, derr);
        *rc = 1;
    } else if (json_object_get(msg, "result") != NULL) {
        *result = json_incref(json_object_get(msg, "result"));
        *rc = 0;
    } else {
        *rc = fs_err_set(err, FS_ECORRUPT,
                         "fieldsyncd sent a response with neither result "
                         "nor error");
    }
    return 1;
}

static int receive_response(fs_rpcc *c, long long id, json_t **result, fs_rpcc_error *derr,
                            fs_err *err)
{
    for (;;) {
        char *line;
        int rc = read_line(c, c->timeout_ms, &line, err);
        if (rc != 0)
            return rc;
        if (line[0] == '\0')
            continue;
        json_error_t jerr;
        json_t *msg = json_loads(line, JSON_DECODE_ANY, &jerr);
        if (!json_is_object(msg)) {
            json_decref(msg);
            return fs_err_set(err, FS_ECORRUPT,
                              "fieldsyncd sent something that is not a "
                              "JSON-RPC message (is this the right socket?)");
        }
        int done = handle_message(c, msg, id, result, derr, &rc, err);
        json_decref(msg);
        if (done)
            return rc;
    }
}

int fs_rpcc_call(fs_rpcc *c, const char *method, json_t *params, json_t **result,
                 fs_rpcc_error *derr, fs_err *err)
{
    *result = NULL;
    long long id = c->next_id++;
    json_t *req =
        json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method);
    if (req == NULL || (params != NULL && json_object_set(req, "params", params) != 0)) {
        json_decref(req);
        json_decref(params);
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    }
    json_decref(params);
    /* Dumped into our own buffer, so it can be wiped (it may hold a passphrase). */
    size_t n = json_dumpb(req, NULL, 0, JSON_COMPACT);
    char *line = n > 0 ? malloc(n + 1) : NULL;
    if (line == NULL || json_dumpb(req, line, n, JSON_COMPACT) != n) {
        json_decref(req);
        free(line);
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    }
    json_decref(req);
    line[n] = '\n';
    int rc = send_all(c, line, n + 1, err);
    explicit_bzero(line, n + 1);
    free(line);
    if (rc != 0)
        return rc;
    return receive_response(c, id, result, derr, err);
}

int fs_rpcc_wait_notification(fs_rpcc *c, int timeout_ms, fs_err *err)
{
    for (;;) {
        char *line;
        int rc = read_line(c, timeout_ms, &line, err);
        if (rc != 0)
            return rc;
        json_t *msg = json_loads(line, 0, NULL);
        const char *method = json_string_value(json_object_get(msg, "method"));
        if (method != NULL && json_object_get(msg, "id") == NULL) {
            if (c->notify)
                c->notify(c->notify_arg, method, json_object_get(msg, "params"));
            json_decref(msg);
            return 0;
        }
        json_decref(msg);
    }
}
