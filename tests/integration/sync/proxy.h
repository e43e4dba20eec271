/*
 * proxy.h: a small fault-injecting TCP proxy for the sync client's tests
 * (proxy.c): in-process, one thread per connection, between an engine and
 * the real server. One-shot faults (the mode returns to pass-through once the
 * fault was injected): reset or truncate the answer after N bytes, answer 503
 * with Retry-After, a garbage 200 or one whose body is not in its
 * Content-Encoding without asking the server, SIGKILL the
 * server once N request or answer bytes went through. Delay, and requests
 * rewritten to ask for gzip answers only, are persistent.
 */
#ifndef SYNC_PROXY_H
#define SYNC_PROXY_H

#include <stdint.h>
#include <sys/types.h>

typedef enum px_mode {
    PX_PASS = 0,
    PX_RESET_DOWN,    /* RST to the client after `after` answer bytes */
    PX_TRUNCATE_DOWN, /* clean close to the client after `after` answer bytes */
    PX_503,           /* 503 busy, Retry-After: `arg` seconds */
    PX_GARBAGE_200,   /* 200 with a body that is no protobuf message of the endpoint */
    PX_BAD_ENCODING,  /* 200 whose body is not in its Content-Encoding: zstd (arg 0), br
                       * (arg 1, which the client does not ask for), or one with an
                       * escape sequence in its name (arg 2) */
    PX_KILL_UP,       /* SIGKILL `pid` once `after` request bytes went through */
    PX_KILL_DOWN,     /* SIGKILL `pid` once `after` answer bytes went through */
    PX_DELAY,         /* wait `arg` ms before forwarding each chunk (persistent) */
    PX_GZIP_ONLY,     /* requests ask for gzip answers only, as an older client would, so
                       * the server answers as one without zstd does (persistent; each
                       * rewritten request counts as a fault) */
} px_mode;

typedef struct px px;

px *px_start(unsigned upstream_port);
unsigned px_port(const px *p);
/* Points the proxy at a new upstream port (a restarted server). */
void px_upstream(px *p, unsigned port);
void px_set(px *p, px_mode mode, uint64_t after, long arg, pid_t pid);
/* Faults injected since start. */
unsigned px_faults(px *p);
void px_stop(px *p);

#endif
