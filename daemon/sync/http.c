/*
 * http.c: sync protocol requests on libcurl's multi interface, driven by the
 * daemon's epoll loop (see sync_http.h).
 *
 * curl owns the sockets; we only mirror its wishes: each socket it wants
 * watched gets an fs_loop watch (remembered with curl_multi_assign and in our
 * own list, so freeing the client never leaves a watch behind), and its one
 * timeout becomes one fs_loop timer. Completed transfers are collected after
 * every curl_multi_socket_action and handed to their callbacks outside curl's
 * own callbacks, so a callback may start the next request at once.
 *
 * The device token exists in ordinary memory only where libcurl copies it
 * (curl_slist_append and its request buffer); our copies live in guarded
 * memory and the header list is wiped before it is freed.
 */
#include "sync_http.h"
#include "sync_wire.h"

#include "fieldsync/gzip.h"
#include "fieldsync/sync.h"
#include "fieldsync/zstd.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

#include "loop.h"

/* libcurl's upload buffer (its default is 64 KiB). */
#define FS_HTTP_UPLOAD_BUFFER (512L * 1024)

/* Answers the client decodes (decode_body): zstd first, a third of gzip's
 * CPU on both sides and fewer bytes (docs/sync-client.md, "HTTP"). */
#define FS_HTTP_ACCEPT "Accept-Encoding: zstd, gzip"

typedef struct sock_watch {
    curl_socket_t fd;
    fs_loop_fd *w;
    struct sock_watch *next;
} sock_watch;

struct fs_http_req {
    fs_http *h;
    CURL *easy;
    struct curl_slist *headers;
    fs_secret *auth; /* "Authorization: Bearer <hex>" */
    uint8_t *body;
    size_t len;
    uint8_t *resp;
    size_t resp_len, resp_cap;
    bool too_big;
    int64_t retry_after_ms;
    char errbuf[CURL_ERROR_SIZE];
    fs_http_done_fn done;
    void *arg;
    int64_t started_ms;
    fs_http_req *next;
};

struct fs_http {
    fs_loop *loop;
    CURLM *multi;
    fs_timer *timer;
    fs_http_opts opts;
    char *ca_file;
    sock_watch *watches;
    fs_http_req *reqs;
    size_t nreqs;
};

static void process_done(fs_http *h);

/* ------------------------------------------------------------------------- */
/* curl <-> loop glue */

static void on_fd(fs_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    fs_http *h = arg;
    int flags = 0, running = 0;
    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(h->multi, fd, flags, &running);
    process_done(h);
}

static void unwatch(fs_http *h, sock_watch *sw)
{
    for (sock_watch **pp = &h->watches; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == sw) {
            *pp = sw->next;
            break;
        }
    }
    fs_loop_del(h->loop, sw->w);
    free(sw);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    fs_http *h = userp;
    sock_watch *sw = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sw != NULL) {
            curl_multi_assign(h->multi, s, NULL);
            unwatch(h, sw);
        }
        return 0;
    }
    uint32_t ev = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    if (sw != NULL)
        return fs_loop_mod(h->loop, sw->w, ev) == 0 ? 0 : -1;
    sw = calloc(1, sizeof(*sw));
    if (sw == NULL)
        return -1;
    sw->fd = s;
    if (fs_loop_add(h->loop, s, ev, on_fd, h, &sw->w, NULL) != 0) {
        free(sw);
        return -1;
    }
    sw->next = h->watches;
    h->watches = sw;
    curl_multi_assign(h->multi, s, sw);
    return 0;
}

static void on_timeout(fs_loop *loop, void *arg)
{
    (void)loop;
    fs_http *h = arg;
    int running = 0;
    h->timer = NULL; /* fired: the loop frees it */
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process_done(h);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    fs_http *h = userp;
    fs_loop_timer_del(h->loop, h->timer);
    h->timer = NULL;
    if (timeout_ms < 0)
        return 0;
    return fs_loop_timer_add(h->loop, fs_loop_now_ms() + timeout_ms, on_timeout, h, &h->timer,
                             NULL) == 0
               ? 0
               : -1;
}

/* ------------------------------------------------------------------------- */
/* Client */

/*
 * libcurl and the TLS library it initialises cost a few MB resident, so they
 * are set up at the first request, not for a daemon that is never enrolled.
 */
static int ensure_multi(fs_http *h, fs_err *err)
{
    static bool global_done;
    if (h->multi != NULL)
        return 0;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return fs_err_set(err, FS_EIO, "libcurl failed to initialise");
        global_done = true;
    }
    h->multi = curl_multi_init();
    if (h->multi == NULL)
        return fs_err_set(err, FS_ENOMEM, "libcurl: no multi handle");
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return 0;
}

int fs_http_new(fs_http **out, fs_loop *loop, const fs_http_opts *opts, fs_err *err)
{
    fs_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return fs_err_set(err, FS_ENOMEM, "sync client: out of memory");
    h->loop = loop;
    h->opts = *opts;
    if (opts->ca_file != NULL && (h->ca_file = strdup(opts->ca_file)) == NULL) {
        free(h);
        return fs_err_set(err, FS_ENOMEM, "sync client: out of memory");
    }
    h->opts.ca_file = h->ca_file;
    *out = h;
    return 0;
}

static void wipe_headers(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p != NULL; p = p->next)
        sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

static void req_free(fs_http_req *rq)
{
    if (rq == NULL)
        return;
    if (rq->easy != NULL) {
        curl_multi_remove_handle(rq->h->multi, rq->easy);
        curl_easy_cleanup(rq->easy);
    }
    wipe_headers(rq->headers);
    fs_secret_free(rq->auth);
    free(rq->body);
    free(rq->resp);
    free(rq);
}

static void unlink_req(fs_http *h, fs_http_req *rq)
{
    for (fs_http_req **pp = &h->reqs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == rq) {
            *pp = rq->next;
            h->nreqs--;
            return;
        }
    }
}

void fs_http_cancel(fs_http *h, fs_http_req *rq)
{
    if (h == NULL || rq == NULL)
        return;
    unlink_req(h, rq);
    req_free(rq);
}

void fs_http_kick(fs_http *h)
{
    if (h->multi == NULL)
        return;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

size_t fs_http_active(const fs_http *h)
{
    return h != NULL ? h->nreqs : 0;
}

void fs_http_free(fs_http *h)
{
    if (h == NULL)
        return;
    while (h->reqs != NULL)
        fs_http_cancel(h, h->reqs);
    /* our own list of watches is authoritative from here on */
    if (h->multi != NULL) {
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, NULL);
        curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, NULL);
        curl_multi_cleanup(h->multi);
    }
    while (h->watches != NULL)
        unwatch(h, h->watches);
    fs_loop_timer_del(h->loop, h->timer);
    free(h->ca_file);
    free(h);
}

/* ------------------------------------------------------------------------- */
/* One request */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    fs_http_req *rq = arg;
    size_t add = size * n;
    if (add > rq->h->opts.max_response - rq->resp_len) {
        rq->too_big = true;
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    }
    if (rq->resp_len + add > rq->resp_cap) {
        size_t cap = rq->resp_cap ? rq->resp_cap * 2 : 16384;
        while (cap < rq->resp_len + add)
            cap *= 2;
        uint8_t *grown = realloc(rq->resp, cap);
        if (grown == NULL)
            return 0;
        rq->resp = grown;
        rq->resp_cap = cap;
    }
    memcpy(rq->resp + rq->resp_len, p, add);
    rq->resp_len += add;
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    fs_http_req *rq = arg;
    size_t len = size * n;
    static const char name[] = "Retry-After:";
    if (len > sizeof(name) - 1 && len < 128 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        char v[128];
        memcpy(v, p + sizeof(name) - 1, len - (sizeof(name) - 1));
        v[len - (sizeof(name) - 1)] = '\0';
        rq->retry_after_ms = fs_sync_retry_after_ms(v, (int64_t)time(NULL));
    }
    return len;
}

static int add_header(fs_http_req *rq, const char *line)
{
    struct curl_slist *l = curl_slist_append(rq->headers, line);
    if (l == NULL)
        return -1;
    rq->headers = l;
    return 0;
}

static int set_auth(fs_http_req *rq, const fs_secret *token, fs_err *err)
{
    static const char prefix[] = "Authorization: Bearer ";
    size_t plen = sizeof(prefix) - 1;
    int rc = fs_secret_new(&rq->auth, plen + token->len * 2 + 1, err);
    if (rc != 0)
        return rc;
    memcpy(rq->auth->bytes, prefix, plen);
    sodium_bin2hex((char *)rq->auth->bytes + plen, token->len * 2 + 1, token->bytes, token->len);
    if (add_header(rq, (const char *)rq->auth->bytes) != 0)
        return fs_err_set(err, FS_ENOMEM, "sync request: out of memory");
    return 0;
}

static int set_body(fs_http_req *rq, fs_http_body body, fs_err *err)
{
    int rc = fs_http_body_gzip(&body, rq->h->opts.gzip_min, err);
    rq->body = body.bytes; /* the request frees it, whatever happens next */
    rq->len = body.len;
    if (rc != 0 || !body.gzipped)
        return rc;
    return add_header(rq, "Content-Encoding: gzip") == 0
               ? 0
               : fs_err_set(err, FS_ENOMEM, "sync request: out of memory");
}

static int setup_easy(fs_http_req *rq, const char *url, fs_err *err)
{
    const fs_http_opts *o = &rq->h->opts;
    CURL *e = rq->easy = curl_easy_init();
    if (e == NULL || add_header(rq, "Fieldsync-Protocol: 1") != 0 ||
        add_header(rq, "Content-Type: application/x-protobuf") != 0 ||
        add_header(rq, FS_HTTP_ACCEPT) != 0 || add_header(rq, "Expect:"))
        return fs_err_set(err, FS_ENOMEM, "sync request: out of memory");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
    /* a push body past 64 KiB goes out in chunks of this buffer, one loop
     * turn each: a push of 1,000 states in one or two */
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, FS_HTTP_UPLOAD_BUFFER);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, rq->headers);
    /* the body arrives as sent, the limit first applies to those bytes */
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)o->low_speed_s);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)o->timeout_s);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, rq);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, rq);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rq->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, rq);
    return 0;
}

int fs_http_post(fs_http *h, const char *base_url, const char *path, fs_http_body body,
                 const fs_secret *token, fs_http_done_fn done, void *arg, fs_http_req **out,
                 fs_err *err)
{
    char url[1024];
    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    int rc = ensure_multi(h, err);
    if (rc != 0) {
        free(body.bytes);
        return rc;
    }
    fs_http_req *rq = calloc(1, sizeof(*rq));
    if (rq == NULL) {
        free(body.bytes);
        return fs_err_set(err, FS_ENOMEM, "sync request: out of memory");
    }
    rq->h = h;
    rq->done = done;
    rq->arg = arg;
    rq->retry_after_ms = -1;
    rq->started_ms = fs_loop_now_ms();
    rc = set_body(rq, body, err);
    if (rc == 0 &&
        (size_t)snprintf(url, sizeof(url), "%.*s%s", (int)blen, base_url, path) >= sizeof(url))
        rc = fs_err_set(err, FS_EINVAL, "server URL is too long");
    if (rc == 0 && token != NULL)
        rc = set_auth(rq, token, err);
    if (rc == 0)
        rc = setup_easy(rq, url, err);
    if (rc == 0 && curl_multi_add_handle(h->multi, rq->easy) != CURLM_OK)
        rc = fs_err_set(err, FS_EIO, "libcurl refused the request");
    if (rc != 0) {
        req_free(rq); /* frees the body too */
        return rc;
    }
    rq->next = h->reqs;
    h->reqs = rq;
    h->nreqs++;
    if (out != NULL)
        *out = rq;
    return 0;
}

static fs_http_outcome classify(CURLcode c, const fs_http_req *rq)
{
    switch (c) {
    case CURLE_OK:
        return FS_HTTP_OK;
    case CURLE_WRITE_ERROR:
        return rq->too_big ? FS_HTTP_TOO_BIG : FS_HTTP_LOCAL;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return FS_HTTP_TLS;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FAILED_INIT:
        return FS_HTTP_LOCAL;
    default:
        return FS_HTTP_NETWORK;
    }
}

/* The answer's Date header, Unix seconds; 0 when it has none or it does not parse. */
static int64_t answer_date(CURL *e)
{
    struct curl_header *date = NULL;
    if (curl_easy_header(e, "Date", 0, CURLH_HEADER, -1, &date) != CURLHE_OK)
        return 0;
    time_t t = curl_getdate(date->value, NULL);
    return t > 0 ? (int64_t)t : 0;
}

/* The answer's Content-Encoding into out ("" for none), cut to size and with
 * anything but printable ASCII as '?': it may end up in a status reason. */
static void answer_encoding(CURL *e, char *out, size_t size)
{
    struct curl_header *ce = NULL;
    size_t n = 0;
    if (curl_easy_header(e, "Content-Encoding", 0, CURLH_HEADER, -1, &ce) == CURLHE_OK)
        for (const char *p = ce->value; *p != '\0' && n + 1 < size; p++)
            out[n++] = *p > ' ' && *p < 0x7f ? *p : '?';
    out[n] = '\0';
}

static void too_big(const fs_http *h, fs_http_resp *r)
{
    r->outcome = FS_HTTP_TOO_BIG;
    snprintf(r->error, sizeof(r->error), "the answer is over the limit of %zu bytes",
             h->opts.max_response);
}

/* Replaces the answer's body as received by its decoding (Content-Encoding
 * zstd or gzip): the limit counts the decoded bytes, so a bomb stops there. */
static void decode_body(fs_http *h, fs_http_req *rq, fs_http_resp *r)
{
    const char *enc = r->encoding;
    uint8_t *out = NULL;
    size_t n = 0;
    fs_err err;
    int rc;
    if (enc[0] == '\0' || strcasecmp(enc, "identity") == 0)
        return;
    if (strcasecmp(enc, "zstd") == 0)
        rc = fs_zstd_decompress(rq->resp, rq->resp_len, h->opts.max_response, &out, &n, &err);
    else if (strcasecmp(enc, "gzip") == 0)
        rc = fs_gzip_decompress(rq->resp, rq->resp_len, h->opts.max_response, &out, &n, &err);
    else
        rc = fs_err_set(&err, FS_ECORRUPT, "the answer's encoding (%s) is not one asked for", enc);
    if (rc == FS_ETOOBIG) {
        too_big(h, r);
        return;
    }
    if (rc != 0) {
        r->outcome = rc == FS_ENOMEM ? FS_HTTP_LOCAL : FS_HTTP_BAD_BODY;
        snprintf(r->error, sizeof(r->error), "%.200s", err.msg);
        return;
    }
    free(rq->resp);
    rq->resp = out;
    rq->resp_len = rq->resp_cap = n;
}

static void finish(fs_http *h, fs_http_req *rq, CURLcode c)
{
    fs_http_resp r = {0};
    curl_off_t up = 0, down = 0;
    r.outcome = classify(c, rq);
    curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(rq->easy, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(rq->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
    r.bytes_up = (uint64_t)up;
    r.bytes_down = (uint64_t)down;
    r.retry_after_ms = rq->retry_after_ms;
    r.elapsed_ms = fs_loop_now_ms() - rq->started_ms;
    r.date_s = answer_date(rq->easy);
    answer_encoding(rq->easy, r.encoding, sizeof(r.encoding));
    if (r.outcome == FS_HTTP_TOO_BIG)
        too_big(h, &r);
    else if (r.outcome != FS_HTTP_OK)
        snprintf(r.error, sizeof(r.error), "%s",
                 rq->errbuf[0] ? rq->errbuf : curl_easy_strerror(c));
    else
        decode_body(h, rq, &r);
    r.body = rq->resp;
    r.len = rq->resp_len;
    unlink_req(h, rq);
    curl_multi_remove_handle(h->multi, rq->easy);
    rq->done(rq->arg, &r);
    req_free(rq);
}

static void process_done(fs_http *h)
{
    CURLMsg *m;
    int left = 0;
    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        fs_http_req *rq = NULL;
        CURLcode c = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
        if (rq != NULL)
            finish(h, rq, c);
    }
}
