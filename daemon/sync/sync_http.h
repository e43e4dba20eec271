/*
 * sync_http.h: protocol requests over libcurl's multi interface, driven by the
 * daemon's event loop (http.c). curl tells us which sockets to watch and when
 * to call it back (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION); those map
 * onto fs_loop_add / fs_loop_timer_add, so a request never blocks the loop.
 */
#ifndef FS_SYNC_HTTP_H
#define FS_SYNC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/secret.h"

typedef struct fs_loop fs_loop;
typedef struct fs_http fs_http;
typedef struct fs_http_req fs_http_req;

typedef struct fs_http_opts {
    const char *ca_file;         /* extra CA bundle (PEM) or NULL: the system's */
    unsigned connect_timeout_ms; /* connection (TCP + TLS) */
    unsigned low_speed_s;        /* give up after this long below 1 byte/s */
    unsigned timeout_s;          /* longest request, all included */
    size_t max_response;         /* decompressed body cap */
    size_t gzip_min;             /* gzip request bodies from this size */
} fs_http_opts;

/* What the engine acts on. */
typedef enum fs_http_outcome {
    FS_HTTP_OK = 0,       /* an HTTP answer arrived (any status) */
    FS_HTTP_NETWORK = 1,  /* no answer: refused, unreachable, timeout, reset, truncated */
    FS_HTTP_TLS = 2,      /* TLS handshake or certificate verification failed */
    FS_HTTP_TOO_BIG = 3,  /* the answer exceeded max_response */
    FS_HTTP_LOCAL = 4,    /* a local failure (out of memory, bad URL) */
    FS_HTTP_BAD_BODY = 5, /* the answer's compression is malformed or not one asked for */
} fs_http_outcome;

typedef struct fs_http_resp {
    fs_http_outcome outcome;
    long status;   /* HTTP status when outcome is FS_HTTP_OK */
    uint8_t *body; /* decoded body (owned by the response) */
    size_t len;
    int64_t retry_after_ms; /* -1 when absent */
    char error[256];        /* what failed, for outcomes other than OK */
    uint64_t bytes_up;      /* request body bytes as sent */
    uint64_t bytes_down;    /* response body bytes as received (before decompression) */
    int64_t elapsed_ms;     /* from the request's start to its completion */
    int64_t date_s;         /* the answer's Date header (the server's clock), Unix s; 0: none */
    char encoding[16];      /* the answer's Content-Encoding ("zstd", "gzip"); "": none */
} fs_http_resp;

/*
 * Checks a server base URL as libcurl reads it (url.c): http or https, a host,
 * no user name, password, query or fragment, and plain http only when the host
 * is this machine (localhost, 127.0.0.0/8, [::1]). FS_EINVAL with a message
 * that names the host (never the whole URL) otherwise.
 */
int fs_http_url_check(const char *url, fs_err *err);

/* A request body (bytes malloc'd) and whether it is gzip'd already. */
typedef struct fs_http_body {
    uint8_t *bytes;
    size_t len;
    bool gzipped;
} fs_http_body;

/*
 * gzips body in place (Content-Encoding: gzip) when it has at least gzip_min
 * bytes and is not gzip'd yet; fs_http_post does it otherwise. A caller whose
 * body is ready before it is due (the next push batch, prepared while the
 * server works on the one before) does it then, off the request's path. On
 * failure body is left as it was.
 */
int fs_http_body_gzip(fs_http_body *body, size_t gzip_min, fs_err *err);

/* Called once per request from the loop; resp is valid only during the call. */
typedef void (*fs_http_done_fn)(void *arg, const fs_http_resp *resp);

int fs_http_new(fs_http **out, fs_loop *loop, const fs_http_opts *opts, fs_err *err);
/* Aborts every request without calling their callbacks. NULL is a no-op. */
void fs_http_free(fs_http *h);

/*
 * POSTs body (taken over: freed by the request; gzip'd by fs_http_body_gzip
 * with the handle's gzip_min) to base_url + path with the protocol headers,
 * and the token as a Bearer header when given (the token is copied into
 * guarded memory for the request's life and the header copies are wiped).
 * done is called from the loop.
 */
int fs_http_post(fs_http *h, const char *base_url, const char *path, fs_http_body body,
                 const fs_secret *token, fs_http_done_fn done, void *arg, fs_http_req **out,
                 fs_err *err);
/* Lets curl start what was just posted now (connect or send on a kept-alive
 * connection), before the caller blocks; completions are still reported from
 * the loop. */
void fs_http_kick(fs_http *h);
/* Aborts one request without calling its callback. NULL is a no-op. */
void fs_http_cancel(fs_http *h, fs_http_req *rq);
/* Requests in flight. */
size_t fs_http_active(const fs_http *h);

#endif
