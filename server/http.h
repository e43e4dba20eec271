/*
 * http.h: the HTTP/1.1 front of fieldsync-server (libmicrohttpd): routes
 * /v1/enroll, /v1/push, /v1/pull and /v1/health to the handlers, checks a
 * request's headers (route, content type, length, protocol, token) before it
 * reads its body, bounds connections (in total, per client address, and by a
 * deadline for the request headers) and the memory held by request bodies,
 * inflates gzip request bodies and gzips responses for devices that accept it.
 *
 * TLS (certificate and key PEM files) is required unless the listen address
 * is a loopback address: srv_http_start refuses to serve plain HTTP to the
 * network.
 */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stdint.h>
#include <sys/socket.h>

#include "handler.h"
#include "storage.h"

#define SRV_CONNECTIONS_DEFAULT 512u
#define SRV_CONNECTIONS_PER_IP_DEFAULT 32u
#define SRV_HEADER_TIMEOUT_DEFAULT_S 10u
#define SRV_BODY_MEMORY_DEFAULT ((size_t)64 << 20)

typedef struct srv_http_opts {
    const char *listen;    /* "ADDR:PORT", "[V6ADDR]:PORT"; port 0 picks a free one */
    const char *cert_path; /* PEM; NULL with key_path NULL: plain HTTP (loopback only) */
    const char *key_path;
    unsigned threads;          /* worker threads (and database connections) */
    unsigned max_connections;  /* open connections at once; more are closed at accept */
    unsigned max_per_ip;       /* ... from one client address (0: no limit) */
    unsigned header_timeout_s; /* a request's headers must arrive within this */
    size_t body_memory;        /* request bodies held at once; a body that does not fit: 503 */
    srv_config cfg;
} srv_http_opts;

/* The defaults of `fieldsync-server serve` (docs/server.md). */
void srv_http_opts_default(srv_http_opts *o);

typedef struct srv_http srv_http;

int srv_http_start(srv_http **out, const srv_http_opts *opts, srv_pool *pool, fs_err *err);
/* The port actually bound (useful with port 0). */
uint16_t srv_http_port(const srv_http *h);
/* Stops accepting, finishes running requests and frees. NULL is a no-op. */
void srv_http_stop(srv_http *h);

/* Parses "ADDR:PORT" into a socket address; sets *loopback. */
int srv_http_parse_listen(const char *listen, struct sockaddr_storage *addr, int *loopback,
                          fs_err *err);

#endif
