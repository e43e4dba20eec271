/*
 * attack.h: the hostile clients of bench_server_load, in threads of their
 * own, all on loopback: connections that open and send nothing (kept topped
 * up from several source addresses, 127.0.0.2 upwards), and pushes of large
 * bodies, both without a token and with a valid device token. They run until
 * attack_stop and count what the server did to them.
 */
#ifndef BENCH_ATTACK_H
#define BENCH_ATTACK_H

#include <stddef.h>

typedef struct attack_opts {
    unsigned port;
    unsigned half_open;    /* connections kept open at once, sending nothing */
    unsigned addresses;    /* source addresses they come from */
    unsigned body_threads; /* threads pushing large bodies, of each kind */
    size_t body_bytes;     /* the bodies' declared (and sent) size */
    const char *bearer;    /* "Bearer <hex>" of the rogue device, for the second kind */
    double header_timeout_s;
} attack_opts;

typedef struct attack_figures {
    unsigned long opened;             /* half-open connections opened */
    unsigned long closed_at_accept;   /* ... closed by the server within 1 s */
    unsigned long closed_at_deadline; /* ... closed after the header timeout */
    unsigned long closed_other;       /* ... closed in between */
    unsigned long held_peak;          /* most open at once for over a second */
    unsigned long anon[4];            /* no token: 401 early, other status, no answer, total */
    unsigned long rogue[6];           /* token: 413, 429, 503, other status, no answer, total */
} attack_figures;

typedef struct attack attack;

/* Starts the threads; exits the program when it cannot. */
attack *attack_start(const attack_opts *o);
/* The figures so far (a consistent copy). */
void attack_figures_get(attack *a, attack_figures *f);
/* Stops and joins the threads, closes every socket, frees. */
void attack_stop(attack *a, attack_figures *f);

/* One blocking HTTP/1.1 exchange with the server from source address src:
 * sends head and body (stopping early if the server closes) and reads the
 * answer. Returns the status (0: no answer); *resp (malloc'd, may be NULL)
 * receives the answer's body. */
int attack_http(unsigned port, const char *src, const char *head, const void *body, size_t len,
                void **resp, size_t *resp_len);

#endif
