/*
 * ui_events.c: the Server-Sent Events streams of ui_events.h.
 *
 * libmicrohttpd runs each connection on its own thread here, so a stream's
 * content reader may block: it waits on the stream's daemon connection for the
 * next notification (at most the keep-alive interval), turns what arrived into
 * event text and hands it out. Stopping the bridge shuts down every stream's
 * daemon socket (fs_rpcc_shutdown), which ends each wait at once; the
 * registry's mutex makes a stream that connects while the bridge stops end
 * too, instead of waiting another interval.
 */
#include "ui_events.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_client.h"

typedef enum stream_state {
    STREAM_START, /* not yet connected to the daemon */
    STREAM_LIVE,  /* subscribed: forwarding notifications */
    STREAM_END,   /* send what is buffered, then end */
} stream_state;

typedef struct stream {
    fs_ui_events *ev;
    fs_rpcc *rpc;
    struct stream *prev, *next; /* registry, while rpc is set */
    stream_state state;
    char *out; /* event text not yet handed out: [off, len) */
    size_t off, len, cap;
    bool oom;
} stream;

struct fs_ui_events {
    const char *socket_path;
    int timeout_ms;
    pthread_mutex_t lock;
    stream *head;
    bool stopping;
};

fs_ui_events *fs_ui_events_new(const char *socket_path, int timeout_ms)
{
    fs_ui_events *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return NULL;
    ev->socket_path = socket_path;
    ev->timeout_ms = timeout_ms;
    pthread_mutex_init(&ev->lock, NULL);
    return ev;
}

void fs_ui_events_free(fs_ui_events *ev)
{
    if (ev == NULL)
        return;
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

void fs_ui_events_close_all(fs_ui_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->stopping = true;
    for (stream *s = ev->head; s != NULL; s = s->next)
        fs_rpcc_shutdown(s->rpc);
    pthread_mutex_unlock(&ev->lock);
}

/* Adds s to the registry; false when the bridge is stopping. */
static bool stream_register(stream *s)
{
    fs_ui_events *ev = s->ev;
    pthread_mutex_lock(&ev->lock);
    bool ok = !ev->stopping;
    if (ok) {
        s->next = ev->head;
        if (ev->head != NULL)
            ev->head->prev = s;
        ev->head = s;
    }
    pthread_mutex_unlock(&ev->lock);
    return ok;
}

static void stream_unregister(stream *s)
{
    fs_ui_events *ev = s->ev;
    pthread_mutex_lock(&ev->lock);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else if (ev->head == s)
        ev->head = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    pthread_mutex_unlock(&ev->lock);
}

static bool stopping(fs_ui_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    bool v = ev->stopping;
    pthread_mutex_unlock(&ev->lock);
    return v;
}

static void out_printf(stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(stream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || s->oom)
        return;
    size_t need = s->len + (size_t)n + 1;
    if (need > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *p = realloc(s->out, cap);
        if (p == NULL) {
            s->oom = true;
            return;
        }
        s->out = p;
        s->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(s->out + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

/* One event whose data is v as compact JSON (one line: JSON escapes newlines). */
static void out_event(stream *s, const char *name, const json_t *v)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *data = n > 0 ? malloc(n + 1) : NULL;
    if (data == NULL || json_dumpb(v, data, n, JSON_COMPACT | JSON_ENCODE_ANY) != n) {
        free(data);
        s->oom = true;
        return;
    }
    data[n] = '\0';
    out_printf(s, "event: %s\ndata: %s\n\n", name, data);
    free(data);
}

/* The bridge's own event about the daemon connection. */
static void out_bridge(stream *s, const char *daemon, const char *message)
{
    json_t *v = message ? json_pack("{s:s, s:s}", "daemon", daemon, "message", message)
                        : json_pack("{s:s}", "daemon", daemon);
    if (v == NULL)
        s->oom = true;
    else
        out_event(s, "bridge", v);
    json_decref(v);
}

/* Notification names are the daemon's own ("record.changed"); anything else
 * could break the event framing, so it is dropped. */
static bool event_name_ok(const char *m)
{
    if (*m == '\0' || strlen(m) > 64)
        return false;
    for (; *m; m++)
        if (!((*m >= 'a' && *m <= 'z') || *m == '.' || *m == '_'))
            return false;
    return true;
}

static void on_notification(void *arg, const char *method, json_t *params)
{
    stream *s = arg;
    if (event_name_ok(method))
        out_event(s, method, params ? params : json_null());
}

static void stream_connect(stream *s)
{
    fs_ui_events *ev = s->ev;
    fs_err err = {0};
    json_t *res = NULL;
    fs_rpcc_error derr;
    out_printf(s, "retry: %d\n\n", FS_UI_RETRY_MS);
    int rc = fs_rpcc_connect(&s->rpc, ev->socket_path, ev->timeout_ms, &err);
    if (rc == 0)
        rc = fs_rpcc_call(s->rpc, "subscribe", NULL, &res, &derr, &err);
    json_decref(res);
    if (rc != 0) {
        out_bridge(s, "unreachable", rc == 1 ? derr.message : fs_err_message(&err));
        fs_rpcc_free(s->rpc);
        s->rpc = NULL;
        s->state = STREAM_END;
        return;
    }
    if (!stream_register(s)) {
        s->state = STREAM_END;
        return;
    }
    fs_rpcc_set_notify(s->rpc, on_notification, s);
    out_bridge(s, "connected", NULL);
    s->state = STREAM_LIVE;
}

/* Waits for notifications (or the keep-alive interval) and buffers them. */
static void stream_wait(stream *s, size_t max)
{
    fs_err err = {0};
    int rc = fs_rpcc_wait_notification(s->rpc, FS_UI_KEEPALIVE_MS, &err);
    if (rc == FS_EBUSY) {
        out_printf(s, ": keep-alive\n\n");
        return;
    }
    /* take whatever else has already arrived, up to one block */
    while (rc == 0 && s->len < max)
        rc = fs_rpcc_wait_notification(s->rpc, 0, &err);
    if (rc == 0 || rc == FS_EBUSY)
        return;
    if (!stopping(s->ev))
        out_bridge(s, "lost", fs_err_message(&err));
    s->state = STREAM_END;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *s = cls;
    while (s->off == s->len && !s->oom) {
        s->off = s->len = 0;
        if (s->state == STREAM_START)
            stream_connect(s);
        else if (s->state == STREAM_LIVE)
            stream_wait(s, max);
        else
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (s->oom)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->out + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream *s = cls;
    if (s->rpc != NULL)
        stream_unregister(s);
    fs_rpcc_free(s->rpc);
    free(s->out);
    free(s);
}

struct MHD_Response *fs_ui_events_response(fs_ui_events *ev)
{
    stream *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->ev = ev;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    if (r == NULL)
        stream_free(s);
    return r;
}
