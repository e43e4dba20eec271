/*
 * ui_http.c: the UI bridge's HTTP server (see ui.h). libmicrohttpd with a
 * thread per connection, so an event stream may block its own thread while it
 * waits for the daemon. Every request goes through the guard (ui_guard.c)
 * before its route is looked at; every response, refusals included, carries
 * the same security headers (a strict Content-Security-Policy, no caching, no
 * framing, no sniffing, no referrer).
 *
 * Routes: GET /, GET /<file> (the built-in pages), GET /api/events (event
 * stream), POST /api/call (a JSON-RPC call, body up to FS_UI_MAX_BODY, JSON
 * only). The entry URL (GET /?token=...) answers with the token's cookie and
 * a page that moves on to / from the bridge's own origin, so the cookie,
 * SameSite=Strict, is sent from then on even when the link was opened from
 * elsewhere.
 */
#include "ui.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "ui_api.h"
#include "ui_events.h"
#include "ui_guard.h"
#include "ui_static.h"

#define UI_CONNECTION_LIMIT 64
#define UI_IDLE_TIMEOUT_S 60

struct fs_ui {
    struct MHD_Daemon *d;
    fs_ui_guard guard;
    fs_ui_events *events;
    char *socket_path;
    int timeout_ms;
    char url[128];
};

/* A POST /api/call being received. */
typedef struct call_state {
    char *body;
    size_t len, cap;
    bool answered; /* an early answer (413) was queued */
} call_state;

/* The state of a request answered on its first call, whose body (if any) is
 * still to be drained. */
static call_state answered_early = {.answered = true};

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* ---- responses ---- */

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
                             const char *type)
{
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    return queue(c, status, r, "text/plain; charset=utf-8");
}

/* Takes a->body. */
static enum MHD_Result send_answer(struct MHD_Connection *c, fs_ui_answer *a)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        fs_ui_answer_clear(a);
        return MHD_NO;
    }
    a->body = NULL;
    return queue(c, a->status, r, "application/json");
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *name,
                                  const char *message)
{
    fs_ui_answer a = {0};
    if (fs_ui_api_error(&a, status, name, message) != 0)
        return MHD_NO;
    return send_answer(c, &a);
}

static enum MHD_Result send_asset(struct MHD_Connection *c, const fs_ui_asset *a)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    return queue(c, 200, r, fs_ui_asset_type(a));
}

/* The entry URL's answer: the cookie, and a step to / from our own origin. */
static enum MHD_Result send_entry(fs_ui *ui, struct MHD_Connection *c)
{
    static const char page[] =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"refresh\" content=\"0;url=/\"><title>fieldsync</title>"
        "<link rel=\"icon\" href=\"/icon.svg\" type=\"image/svg+xml\"></head>"
        "<body><p>Opening fieldsync&hellip; <a href=\"/\">continue</a></p></body></html>\n";
    char cookie[160];
    if (fs_ui_guard_cookie(&ui->guard, cookie, sizeof(cookie)) != 0)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(page) - 1, (void *)page, MHD_RESPMEM_PERSISTENT);
    if (r != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    explicit_bzero(cookie, sizeof(cookie));
    return queue(c, 200, r, "text/html; charset=utf-8");
}

static enum MHD_Result send_events(fs_ui *ui, struct MHD_Connection *c)
{
    return queue(c, 200, fs_ui_events_response(ui->events), "text/event-stream");
}

/* ---- requests ---- */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static fs_ui_verdict guard(fs_ui *ui, struct MHD_Connection *c, const char *url, const char *method)
{
    fs_ui_request r = {
        .method = method,
        .path = url,
        .host = header(c, MHD_HTTP_HEADER_HOST),
        .origin = header(c, "Origin"),
        .fetch_site = header(c, "Sec-Fetch-Site"),
        .cookie = header(c, MHD_HTTP_HEADER_COOKIE),
        .token_header = header(c, "X-Fieldsync-Token"),
        .token_query = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"),
    };
    return fs_ui_guard_check(&ui->guard, &r);
}

static bool is_json(const char *type)
{
    static const char want[] = "application/json";
    return type != NULL && strncasecmp(type, want, sizeof(want) - 1) == 0 &&
           (type[sizeof(want) - 1] == '\0' || type[sizeof(want) - 1] == ';');
}

/* The first call of a POST /api/call: check what can be checked before the body. */
static enum MHD_Result call_start(struct MHD_Connection *c, void **con_cls)
{
    call_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return MHD_NO;
    *con_cls = st;
    st->answered = true; /* unless the checks pass */
    if (!is_json(header(c, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return send_error(c, 415, "unsupported_media_type", "send Content-Type: application/json");
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && strtoull(cl, NULL, 10) > FS_UI_MAX_BODY)
        return send_error(c, 413, "too_large", "the request is larger than the bridge accepts");
    st->answered = false;
    return MHD_YES;
}

static enum MHD_Result call_data(struct MHD_Connection *c, call_state *st, const char *data,
                                 size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (st->answered)
        return MHD_YES;
    if (st->len + n > FS_UI_MAX_BODY) {
        st->answered = true;
        return send_error(c, 413, "too_large", "the request is larger than the bridge accepts");
    }
    if (st->len + n > st->cap) {
        /* sized once to the cap: no realloc leaves an unwiped copy behind */
        char *b = st->body ? st->body : malloc(FS_UI_MAX_BODY);
        if (b == NULL)
            return MHD_NO;
        st->body = b;
        st->cap = FS_UI_MAX_BODY;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    return MHD_YES;
}

static enum MHD_Result call_finish(fs_ui *ui, struct MHD_Connection *c, call_state *st)
{
    fs_ui_answer a = {0};
    int rc = fs_ui_api_call(ui->socket_path, ui->timeout_ms, st->body ? st->body : "", st->len, &a);
    if (st->body != NULL)
        explicit_bzero(st->body, st->cap); /* it may hold the passphrase */
    if (rc != 0)
        return send_error(c, 500, "internal", "out of memory in the bridge");
    return send_answer(c, &a);
}

static enum MHD_Result route(fs_ui *ui, struct MHD_Connection *c, const char *url,
                             const char *method, void **con_cls)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/api/call") == 0 && post)
        return call_start(c, con_cls);
    *con_cls = &answered_early;
    if (strcmp(url, "/api/call") == 0)
        return send_text(c, 405, "use POST for /api/call\n");
    if (strcmp(url, "/api/events") == 0)
        return get ? send_events(ui, c) : send_text(c, 405, "use GET for /api/events\n");
    const fs_ui_asset *a = fs_ui_asset_find(url);
    if (a == NULL)
        return send_text(c, 404, "no such page\n");
    return get ? send_asset(c, a) : send_text(c, 405, "use GET for pages\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    fs_ui *ui = cls;
    call_state *st = *con_cls;
    if (st != NULL) {
        if (*upload_size > 0)
            return call_data(c, st, upload, upload_size);
        return st->answered ? MHD_YES : call_finish(ui, c, st);
    }
    fs_ui_verdict v = guard(ui, c, url, method);
    if (v == FS_UI_ALLOW)
        return route(ui, c, url, method, con_cls);
    *con_cls = &answered_early;
    if (v == FS_UI_ENTRY)
        return send_entry(ui, c);
    fs_log(FS_LOG_WARN, "refused a request: %s", fs_ui_guard_reason(v));
    char msg[256];
    snprintf(msg, sizeof(msg), "refused: %s\n", fs_ui_guard_reason(v));
    return send_text(c, 403, msg);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    call_state *st = *con_cls;
    if (st == NULL || st == &answered_early)
        return;
    if (st->body != NULL)
        explicit_bzero(st->body, st->cap);
    free(st->body);
    free(st);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fs_log_lib(FS_LOG_WARN, "http", fmt, ap);
}

/* ---- start and stop ---- */

/* A listening socket on 127.0.0.1:port (the bound port into *bound): the fd,
 * or a negative FS_E* code. */
static int listen_loopback(uint16_t port, uint16_t *bound, fs_err *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fs_err_set(err, FS_EIO, "cannot create a socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        int e = errno;
        close(fd);
        return fs_err_set(err, FS_EIO, "cannot listen on 127.0.0.1:%u: %s%s", (unsigned)port,
                          strerror(e),
                          e == EADDRINUSE ? " (another program uses the port: pick another "
                                            "with --port, or 0 for any free one)"
                                          : "");
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

static void ui_free(fs_ui *ui)
{
    fs_ui_guard_clear(&ui->guard);
    explicit_bzero(ui->url, sizeof(ui->url));
    fs_ui_events_free(ui->events);
    free(ui->socket_path);
    free(ui);
}

int fs_ui_start(fs_ui **out, const fs_ui_opts *o, fs_err *err)
{
    *out = NULL;
    fs_ui *ui = calloc(1, sizeof(*ui));
    if (ui == NULL || (ui->socket_path = strdup(o->socket_path)) == NULL) {
        free(ui);
        return fs_err_set(err, FS_ENOMEM, "out of memory starting the UI");
    }
    ui->timeout_ms = o->timeout_ms;
    uint16_t port = 0;
    int fd = listen_loopback(o->port, &port, err);
    int rc = fd < 0 ? fd : fs_ui_guard_init(&ui->guard, port, err);
    if (rc == 0 && (ui->events = fs_ui_events_new(ui->socket_path, o->timeout_ms)) == NULL)
        rc = fs_err_set(err, FS_ENOMEM, "out of memory starting the UI");
    if (rc == 0)
        rc = fs_ui_guard_url(&ui->guard, ui->url, sizeof(ui->url));
    if (rc == 0) {
        ui->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                     MHD_USE_ERROR_LOG,
                                 0, NULL, NULL, on_request, ui, MHD_OPTION_EXTERNAL_LOGGER,
                                 on_mhd_log, ui, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)UI_CONNECTION_LIMIT,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)UI_IDLE_TIMEOUT_S,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, ui, MHD_OPTION_END);
        if (ui->d == NULL)
            rc = fs_err_set(err, FS_EIO, "cannot start the UI's HTTP server on 127.0.0.1:%u",
                            (unsigned)port);
    }
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        ui_free(ui);
        return rc;
    }
    *out = ui;
    return 0;
}

const char *fs_ui_url(const fs_ui *ui)
{
    return ui->url;
}

uint16_t fs_ui_port(const fs_ui *ui)
{
    return ui->guard.port;
}

void fs_ui_stop(fs_ui *ui)
{
    if (ui == NULL)
        return;
    fs_ui_events_close_all(ui->events);
    MHD_stop_daemon(ui->d);
    ui_free(ui);
}
