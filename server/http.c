/*
 * http.c: libmicrohttpd glue (see http.h). A request goes through three calls
 * of the access handler. The first sees only the headers and decides whether
 * the body is worth reading: route and method, content type and encoding, a
 * declared Content-Length within the route's limit, the protocol version, the
 * device token (push and pull), no other request of that device in progress,
 * and room in the server-wide budget of body memory (inflight.c). Anything
 * refused there is answered before a byte of the body is read. The middle
 * calls collect the body into a buffer of the declared size; the last one
 * borrows a database connection from the pool, runs the handler, gives back
 * what the request held and queues the answer.
 *
 * Connections: libmicrohttpd caps them in total and per client address, closes
 * them after SRV_IDLE_TIMEOUT_S of silence, and srv_deadline (deadline.c)
 * closes those whose request headers take longer than the header timeout.
 *
 * Threads: MHD's internal thread pool (MHD_USE_AUTO_INTERNAL_THREAD, epoll on
 * Linux); the pool of database connections is as large as the thread pool, so
 * a worker never waits for a connection.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "deadline.h"
#include "encoding.h"
#include "http.h"
#include "inflight.h"
#include "fieldsync/log.h"

/* Silence after which libmicrohttpd closes a connection (a stalled body). */
#define SRV_IDLE_TIMEOUT_S 60
#define SRV_PEM_MAX (1u << 20)
/* A libmicrohttpd message format repeated within this many seconds is counted. */
#define SRV_LOG_REPEAT_S 60
/* Bodies smaller than this go out uncompressed: compression would not pay. */
#define SRV_COMPRESS_MIN 256

struct srv_http {
    struct MHD_Daemon *d;
    srv_pool *pool;
    srv_deadline *deadline;
    srv_inflight *inflight; /* body memory and devices held by requests in progress */
    srv_config cfg;
    char *cert;
    char *key;
    pthread_mutex_t log_lock; /* libmicrohttpd's last message format, and its repeats */
    const char *log_fmt;
    time_t log_at;
    size_t log_repeats;
};

typedef enum route {
    ROUTE_NONE,
    ROUTE_HEALTH,
    ROUTE_ENROLL,
    ROUTE_PUSH,
    ROUTE_PULL,
} route;

typedef struct req_state {
    route route;
    uint8_t *body;
    size_t len;
    size_t declared; /* Content-Length */
    int64_t device;  /* the device whose token came with it, 0: none */
    bool admitted;   /* declared and device are held in h->inflight */
    int rejected;    /* a response was queued early */
} req_state;

/* ------------------------------------------------------------------------- */
/* Responses */

typedef struct owned_body {
    uint8_t *p;
    size_t n;
} owned_body;

static void free_body(void *cls)
{
    owned_body *b = cls;
    if (b->p != NULL)
        sodium_memzero(b->p, b->n);
    free(b->p);
    free(b);
}

/* Queues rs (taking its body) with the protocol headers, compressed with enc. */
static enum MHD_Result send_response(struct MHD_Connection *c, srv_response *rs, srv_encoding enc)
{
    owned_body *ob = calloc(1, sizeof(*ob));
    if (ob == NULL)
        return MHD_NO;
    ob->p = rs->body;
    ob->n = rs->len;
    rs->body = NULL;
    if (ob->n < SRV_COMPRESS_MIN)
        enc = SRV_ENCODING_IDENTITY;
    uint8_t *z;
    size_t zlen;
    if (enc != SRV_ENCODING_IDENTITY && srv_encode(enc, ob->p, ob->n, &z, &zlen) == 0) {
        sodium_memzero(ob->p, ob->n);
        free(ob->p);
        ob->p = z;
        ob->n = zlen;
    } else {
        enc = SRV_ENCODING_IDENTITY;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback_cls(ob->n, ob->p, free_body, ob);
    if (r == NULL) {
        free_body(ob);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            rs->content_type ? rs->content_type : "text/plain");
    MHD_add_response_header(r, "Fieldsync-Protocol", SRV_PROTOCOL_VERSION);
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (enc != SRV_ENCODING_IDENTITY)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, srv_encoding_name(enc));
    if (rs->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", rs->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
                                  const char *msg)
{
    srv_response rs = {0};
    if (srv_response_error(&rs, status, code, "%s", msg) != 0)
        return MHD_NO;
    enum MHD_Result ret = send_response(c, &rs, SRV_ENCODING_IDENTITY);
    srv_response_clear(&rs);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *text)
{
    srv_response rs = {.status = status, .content_type = "text/plain; charset=utf-8"};
    rs.len = strlen(text);
    if ((rs.body = malloc(rs.len + 1)) == NULL)
        return MHD_NO;
    memcpy(rs.body, text, rs.len);
    return send_response(c, &rs, SRV_ENCODING_IDENTITY);
}

/* ------------------------------------------------------------------------- */
/* Requests */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static route route_of(const char *url, const char *method, int *bad_method)
{
    static const struct {
        const char *url;
        route r;
        const char *method;
    } routes[] = {
        {"/v1/health", ROUTE_HEALTH, "GET"},
        {"/v1/enroll", ROUTE_ENROLL, "POST"},
        {"/v1/push", ROUTE_PUSH, "POST"},
        {"/v1/pull", ROUTE_PULL, "POST"},
    };
    *bad_method = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(url, routes[i].url) != 0)
            continue;
        if (strcmp(method, routes[i].method) != 0 &&
            !(routes[i].r == ROUTE_HEALTH && strcmp(method, "HEAD") == 0)) {
            *bad_method = 1;
            return ROUTE_NONE;
        }
        return routes[i].r;
    }
    return ROUTE_NONE;
}

/* The largest body a route takes (after gzip decompression too). */
static size_t route_limit(const srv_http *h, route r)
{
    return r == ROUTE_PUSH ? h->cfg.body_limit : r == ROUTE_HEALTH ? 0 : SRV_SMALL_BODY_LIMIT;
}

static bool admit_token(srv_http *h, const srv_request *req, bool device, int64_t *device_id,
                        srv_response *rs)
{
    srv_storage *s = srv_pool_acquire(h->pool);
    bool ok = srv_admit(s, req, device, device_id, rs);
    srv_pool_release(h->pool, s);
    return ok;
}

/* Holds the body's size and the device for the request, or says why not. */
static bool admit_hold(srv_http *h, req_state *rq, size_t declared, srv_response *rs)
{
    switch (srv_inflight_take(h->inflight, rq->device, declared)) {
    case SRV_INFLIGHT_OK:
        rq->declared = declared;
        rq->admitted = true;
        return true;
    case SRV_INFLIGHT_DEVICE_BUSY:
        srv_response_error(rs, 429, "too_many_requests",
                           "this device has another request in progress: send one at a time");
        break;
    case SRV_INFLIGHT_FULL:
        srv_response_error(rs, 503, "busy",
                           "the server is receiving too many bodies at once: retry shortly");
        break;
    }
    rs->retry_after = 1;
    return false;
}

/* The checks on a POST's headers (transport, protocol, token, what is held):
 * true when the body may be read (its size and device are then held), else
 * false with the refusal in rs. */
static bool admit(srv_http *h, struct MHD_Connection *c, req_state *rq, srv_response *rs)
{
    const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *ce = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t limit = route_limit(h, rq->route);
    unsigned long long declared = cl != NULL ? strtoull(cl, NULL, 10) : 0;
    srv_request req = {.authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION),
                       .protocol = header(c, "Fieldsync-Protocol")};
    if (ct == NULL || strncasecmp(ct, SRV_CONTENT_TYPE, strlen(SRV_CONTENT_TYPE)) != 0)
        srv_response_error(rs, 415, "unsupported_media_type",
                           "bodies are protobuf: send Content-Type: application/x-protobuf");
    else if (ce != NULL && strcasecmp(ce, "identity") != 0 && strcasecmp(ce, "gzip") != 0)
        srv_response_error(rs, 415, "unsupported_encoding",
                           "Content-Encoding must be gzip or identity");
    else if (cl == NULL)
        srv_response_error(rs, 411, "length_required",
                           "send the body with a Content-Length header");
    else if (declared > limit)
        srv_response_error(rs, 413, "too_large",
                           "the body is larger than this endpoint's limit of %zu bytes", limit);
    else if (!admit_token(h, &req, rq->route != ROUTE_ENROLL, &rq->device, rs))
        ; /* rs holds the refusal */
    else
        return admit_hold(h, rq, (size_t)declared, rs);
    return false;
}

/* First call of a request: route it and check its headers. */
static enum MHD_Result request_start(srv_http *h, struct MHD_Connection *c, const char *url,
                                     const char *method, void **con_cls)
{
    int bad_method;
    route r = route_of(url, method, &bad_method);
    srv_deadline_request(h->deadline, c, true);
    if (r == ROUTE_NONE)
        return bad_method
                   ? send_error(c, 405, "method_not_allowed",
                                "use POST for /v1/enroll, /v1/push and /v1/pull, GET for "
                                "/v1/health")
                   : send_error(c, 404, "not_found", "no such endpoint: see docs/protocol.md");
    req_state *rq = calloc(1, sizeof(*rq));
    if (rq == NULL)
        return MHD_NO;
    rq->route = r;
    *con_cls = rq;
    if (r == ROUTE_HEALTH)
        return MHD_YES;
    srv_response rs = {0};
    if (admit(h, c, rq, &rs))
        return MHD_YES;
    rq->rejected = 1;
    enum MHD_Result ret = rs.body != NULL ? send_response(c, &rs, SRV_ENCODING_IDENTITY) : MHD_NO;
    srv_response_clear(&rs);
    return ret;
}

/* A middle call: appends upload data (at most the declared length). */
static enum MHD_Result request_data(struct MHD_Connection *c, req_state *rq, const char *data,
                                    size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (rq->rejected)
        return MHD_YES;
    if (n > rq->declared - rq->len) { /* a body on GET /v1/health */
        rq->rejected = 1;
        return send_error(c, 413, "too_large", "this endpoint takes no body");
    }
    if (rq->body == NULL && (rq->body = malloc(rq->declared)) == NULL)
        return MHD_NO;
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    return MHD_YES;
}

/* Inflates a gzip body (the headers were checked by admit); fills *body
 * (borrowed or, when *owned, malloc'd) or queues the error answer. */
static int request_body(srv_http *h, struct MHD_Connection *c, req_state *rq, const uint8_t **body,
                        size_t *len, uint8_t **owned, enum MHD_Result *ret)
{
    const char *ce = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
    *owned = NULL;
    *body = rq->body ? rq->body : (const uint8_t *)"";
    *len = rq->len;
    if (ce == NULL || strcasecmp(ce, "gzip") != 0)
        return 0;
    fs_err err = {0};
    int rc = fs_gzip_decompress(*body, *len, route_limit(h, rq->route), owned, len, &err);
    if (rc == FS_ETOOBIG)
        *ret = send_error(c, 413, "too_large", fs_err_message(&err));
    else if (rc != 0)
        *ret = send_error(c, 400, "malformed", fs_err_message(&err));
    if (rc != 0)
        return -1;
    *body = *owned;
    return 0;
}

/* Frees the body and hands back what the request held in h->inflight. */
static void request_release(srv_http *h, req_state *rq)
{
    if (rq->admitted)
        srv_inflight_give(h->inflight, rq->device, rq->declared);
    rq->admitted = false;
    free(rq->body);
    rq->body = NULL;
}

/* The last call: run the endpoint. */
static enum MHD_Result request_finish(srv_http *h, struct MHD_Connection *c, req_state *rq)
{
    if (rq->route == ROUTE_HEALTH)
        return send_text(c, 200, "ok\n");
    enum MHD_Result ret = MHD_NO;
    uint8_t *owned;
    srv_request req = {0};
    if (request_body(h, c, rq, &req.body, &req.len, &owned, &ret) != 0)
        return ret;
    req.authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    req.protocol = header(c, "Fieldsync-Protocol");
    srv_response rs = {0};
    srv_storage *s = srv_pool_acquire(h->pool);
    int rc = rq->route == ROUTE_ENROLL ? srv_handle_enroll(s, &h->cfg, &req, &rs)
             : rq->route == ROUTE_PUSH ? srv_handle_push(s, &h->cfg, &req, &rs)
                                       : srv_handle_pull(s, &h->cfg, &req, &rs);
    srv_pool_release(h->pool, s);
    free(owned);
    /* before the answer goes out: the device's next request may follow it at
     * once, on another connection, before this one's completion is reported */
    request_release(h, rq);
    if (rc != 0) {
        srv_response_clear(&rs);
        return send_error(c, 500, "internal", "out of memory: retry later");
    }
    fs_log(FS_LOG_DEBUG, "%s -> %d (%zu bytes)",
           rq->route == ROUTE_ENROLL ? "enroll"
           : rq->route == ROUTE_PUSH ? "push"
                                     : "pull",
           rs.status, rs.len);
    ret = send_response(c, &rs, srv_encoding_for(header(c, MHD_HTTP_HEADER_ACCEPT_ENCODING)));
    srv_response_clear(&rs);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    srv_http *h = cls;
    req_state *rq = *con_cls;
    if (rq == NULL)
        return request_start(h, c, url, method, con_cls);
    if (*upload_data_size > 0)
        return request_data(c, rq, upload_data, upload_data_size);
    if (rq->rejected)
        return MHD_YES;
    return request_finish(h, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    srv_http *h = cls;
    (void)toe;
    req_state *rq = *con_cls;
    if (rq != NULL) {
        request_release(h, rq);
        free(rq);
        *con_cls = NULL;
    }
    srv_deadline_request(h->deadline, c, false);
}

/* libmicrohttpd's messages. One whose format repeats within SRV_LOG_REPEAT_S
 * (a full server refusing connections says so for each) is counted, not
 * written. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    srv_http *h = cls;
    time_t now = time(NULL);
    pthread_mutex_lock(&h->log_lock);
    bool repeat = fmt == h->log_fmt && now - h->log_at < SRV_LOG_REPEAT_S;
    size_t repeats = h->log_repeats;
    if (repeat) {
        h->log_repeats++;
    } else {
        h->log_fmt = fmt;
        h->log_at = now;
        h->log_repeats = 0;
    }
    pthread_mutex_unlock(&h->log_lock);
    if (repeat)
        return;
    if (repeats > 0)
        fs_log(FS_LOG_WARN, "http: (the previous message came %zu more times)", repeats);
    fs_log_lib(FS_LOG_WARN, "http", fmt, ap);
}

/* ------------------------------------------------------------------------- */
/* Start and stop */

int srv_http_parse_listen(const char *listen, struct sockaddr_storage *addr, int *loopback,
                          fs_err *err)
{
    char host[256];
    const char *colon = strrchr(listen ? listen : "", ':');
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    if (colon == NULL || hl == 0 || hl >= sizeof(host) || colon[1] == '\0')
        return fs_err_set(err, FS_EINVAL,
                          "listen address \"%s\" is not ADDR:PORT (e.g. "
                          "127.0.0.1:8443 or [::1]:8443)",
                          listen ? listen : "");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || port > 65535)
        return fs_err_set(err, FS_EINVAL, "listen port \"%s\" is not a number 0..65535", colon + 1);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return fs_err_set(err, FS_EINVAL, "cannot resolve listen address \"%s\"", host);
    memset(addr, 0, sizeof(*addr));
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (addr->ss_family == AF_INET) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
        a4->sin_port = htons((uint16_t)port);
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    } else {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        a6->sin6_port = htons((uint16_t)port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
    }
    return 0;
}

static int read_pem(const char *path, char **out, fs_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fs_err_set(err, FS_ENOTFOUND, "cannot open %s: check the --cert/--key paths", path);
    char *buf = malloc(SRV_PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, SRV_PEM_MAX, f) : 0;
    fclose(f);
    if (buf == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory reading %s", path);
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static int http_tls(srv_http *h, const srv_http_opts *o, int loopback, fs_err *err)
{
    if ((o->cert_path == NULL) != (o->key_path == NULL))
        return fs_err_set(err, FS_EINVAL, "give both --cert and --key, or neither");
    if (o->cert_path == NULL && !loopback)
        return fs_err_set(err, FS_EDENIED,
                          "refusing plain HTTP on %s: devices would send tokens in the clear. "
                          "Give --cert and --key, or listen on a loopback address "
                          "(127.0.0.1 or [::1]) for tests",
                          o->listen);
    if (o->cert_path == NULL)
        return 0;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return fs_err_set(err, FS_EINVAL, "this libmicrohttpd was built without TLS");
    int rc = read_pem(o->cert_path, &h->cert, err);
    if (rc == 0)
        rc = read_pem(o->key_path, &h->key, err);
    return rc;
}

static void http_free(srv_http *h)
{
    if (h->key != NULL)
        sodium_memzero(h->key, strlen(h->key));
    free(h->key);
    free(h->cert);
    srv_deadline_stop(h->deadline);
    srv_inflight_free(h->inflight);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
}

void srv_http_opts_default(srv_http_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->listen = "127.0.0.1:8443";
    o->threads = 4;
    o->max_connections = SRV_CONNECTIONS_DEFAULT;
    o->max_per_ip = SRV_CONNECTIONS_PER_IP_DEFAULT;
    o->header_timeout_s = SRV_HEADER_TIMEOUT_DEFAULT_S;
    o->body_memory = SRV_BODY_MEMORY_DEFAULT;
    srv_config_default(&o->cfg);
}

static int http_check_opts(const srv_http_opts *o, fs_err *err)
{
    if (o->threads == 0 || o->max_connections < o->threads || o->header_timeout_s == 0)
        return fs_err_set(err, FS_EINVAL,
                          "the connection limit must be at least the number of threads, and "
                          "the header timeout at least 1 s");
    if (o->body_memory < o->cfg.body_limit)
        return fs_err_set(err, FS_EINVAL,
                          "the body memory budget (%zu bytes) is smaller than the body limit "
                          "(%zu bytes): no push of the largest size could be received",
                          o->body_memory, o->cfg.body_limit);
    return 0;
}

int srv_http_start(srv_http **out, const srv_http_opts *o, srv_pool *pool, fs_err *err)
{
    struct sockaddr_storage addr;
    int loopback = 0;
    *out = NULL;
    int rc = http_check_opts(o, err);
    if (rc == 0)
        rc = srv_http_parse_listen(o->listen, &addr, &loopback, err);
    if (rc != 0)
        return rc;
    srv_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory starting the server");
    pthread_mutex_init(&h->log_lock, NULL);
    h->pool = pool;
    h->cfg = o->cfg;
    if ((rc = http_tls(h, o, loopback, err)) != 0 ||
        (rc = srv_inflight_new(&h->inflight, o->body_memory, o->max_connections, err)) != 0 ||
        (rc = srv_deadline_start(&h->deadline, o->header_timeout_s, err)) != 0) {
        http_free(h);
        return rc;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                     (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
                     (h->cert != NULL ? MHD_USE_TLS : 0);
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, SRV_IDLE_TIMEOUT_S, NULL},
        {h->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
        {MHD_OPTION_END, 0, NULL},
    };
    h->d =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                         on_mhd_log, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
                         srv_deadline_notify, h->deadline, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (h->d == NULL) {
        http_free(h);
        return fs_err_set(err, FS_EIO,
                          "cannot listen on %s: the address may be in use, or the certificate "
                          "and key are not a valid PEM pair",
                          o->listen);
    }
    *out = h;
    return 0;
}

uint16_t srv_http_port(const srv_http *h)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return i != NULL ? i->port : 0;
}

void srv_http_stop(srv_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    http_free(h);
}
