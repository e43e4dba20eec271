/*
 * handler.h: the sync protocol's endpoints (docs/protocol.md) as functions of
 * a request's headers and body, independent of HTTP: the HTTP layer (http.c),
 * the unit tests and the fuzz targets all call these.
 *
 * Every call fills a response (status, protobuf body) and returns 0; a
 * negative return means not even an error response could be built (out of
 * memory) and the caller answers 500 itself. A request refused as a whole
 * (bad header, malformed body, unknown token) changes nothing in storage.
 */
#ifndef SRV_HANDLER_H
#define SRV_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

/* The protocol version this server speaks (header Fieldsync-Protocol). */
#define SRV_PROTOCOL_VERSION "1"
#define SRV_CONTENT_TYPE "application/x-protobuf"

#define SRV_BODY_LIMIT_DEFAULT ((size_t)8 << 20)
/* Largest enroll and pull bodies (both messages are a few dozen bytes). */
#define SRV_SMALL_BODY_LIMIT ((size_t)4 << 10)
#define SRV_PUSH_STATES_DEFAULT 5000u
#define SRV_PUSH_ANSWER_DEFAULT ((size_t)32 << 20)
/* Memory a push's decoding may take, per byte of the body limit: an honest
 * push decodes to about 1.5 times its size, a crafted one (many empty
 * repeated messages) to 50 times. */
#define SRV_PUSH_DECODE_FACTOR 4
#define SRV_CLOCK_SKEW_DEFAULT_S ((int64_t)300)
#define SRV_PULL_LIMIT_DEFAULT 1000u
#define SRV_PULL_LIMIT_MAX 5000u
#define SRV_PULL_BYTES_MAX ((size_t)4 << 20)
#define SRV_HORIZON_DEFAULT_S ((int64_t)90 * 86400)
/* Times a push's transaction runs before a conflict is answered 503 busy. */
#define SRV_CONFLICT_TRIES 4
/* Longest record id and device name accepted (bytes). */
#define SRV_ID_MAX 128

typedef struct srv_config {
    size_t body_limit;           /* push bodies, after gzip decompression */
    size_t push_states_max;      /* states in one push; more: 413 */
    size_t push_answer_max;      /* bytes of joined states one push answers; more: 413 */
    int64_t clock_skew_s;        /* a new write may be dated this far ahead of our clock */
    uint32_t pull_limit;         /* default page size */
    uint32_t pull_limit_max;     /* larger requested limits are lowered to this */
    size_t pull_max_bytes;       /* states per page stop after about this many bytes */
    int64_t horizon_s;           /* tombstone horizon (gc) */
    int64_t (*clock)(void *arg); /* Unix seconds; NULL: time(NULL) */
    void *clock_arg;
} srv_config;

void srv_config_default(srv_config *c);
int64_t srv_config_now(const srv_config *c);

typedef struct srv_request {
    const char *authorization; /* header value or NULL */
    const char *protocol;      /* Fieldsync-Protocol header value or NULL */
    const uint8_t *body;
    size_t len;
} srv_request;

typedef struct srv_response {
    int status;
    uint8_t *body; /* malloc'd; wiped by srv_response_clear (it may hold a token) */
    size_t len;
    const char *content_type;
    int retry_after; /* seconds, > 0 adds Retry-After */
} srv_response;

void srv_response_clear(srv_response *rs);

/* The checks a request passes before its body is read (http.c runs them on
 * the headers alone): the protocol version and, when device is set, a known
 * device token that was not revoked (*device_id receives the device's id, 0
 * without). True when the request may go on; false with rs filled (400, 401
 * or a storage failure). The endpoints run the same checks again, so they
 * stand alone for the tests and fuzz targets. */
bool srv_admit(srv_storage *s, const srv_request *rq, bool device, int64_t *device_id,
               srv_response *rs);

/* An ErrorResponse {code, message} with status. */
int srv_response_error(srv_response *rs, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

int srv_handle_enroll(srv_storage *s, const srv_config *cfg, const srv_request *rq,
                      srv_response *rs);
int srv_handle_push(srv_storage *s, const srv_config *cfg, const srv_request *rq, srv_response *rs);
int srv_handle_pull(srv_storage *s, const srv_config *cfg, const srv_request *rq, srv_response *rs);

#endif
