/*
 * itest.h: running the real fieldsync-server binary for integration tests:
 * its admin commands, `serve` on 127.0.0.1 with an ephemeral port (read from
 * --port-file with a deadline), kill -9 and restart; and an HTTP client
 * (libcurl) that speaks the sync protocol to it.
 */
#ifndef ITEST_H
#define ITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct it_server {
    char dir[256];
    char db[300];
    pid_t pid;
    unsigned port;
    char ca[320]; /* set: talk HTTPS and trust this certificate */
} it_server;

/* Creates a temp dir and database path (no process yet). */
void it_init(it_server *sv);
/* Runs `fieldsync-server --db DB args...` to completion; returns its exit
 * code; out (optional, cap bytes) receives stdout. */
int it_admin(it_server *sv, char *out, size_t cap, const char *const *args);
/* Starts serve (extra_env "NAME=VALUE" or NULL) and waits for the port. */
void it_start(it_server *sv, const char *extra_env);
/* The same with extra serve arguments (NULL-terminated). */
void it_start_args(it_server *sv, const char *extra_env, const char *const *extra);
/* SIGKILL (hard) or SIGTERM, then reaps; returns the exit code (128 + signal
 * when killed, -1 when not running). */
int it_stop(it_server *sv, bool hard);
/* Waits for the server to die on its own (a crash point); true if it did
 * within the deadline, by SIGKILL. */
bool it_wait_killed(it_server *sv, int deadline_ms);
void it_cleanup(it_server *sv);

typedef struct it_resp {
    long status;
    uint8_t *body;
    size_t len;
    char encoding[16]; /* the answer's Content-Encoding; "": none */
    int failed;        /* transport error (connection refused, reset) */
} it_resp;

typedef struct it_req {
    const char *path;
    const char *method;           /* NULL: POST */
    const char *bearer;           /* "Bearer ..." or NULL */
    const char *protocol;         /* NULL: "1"; "" omits the header */
    const char *content_type;     /* NULL: application/x-protobuf */
    bool gzip_body;               /* compress the body and say so */
    const char *content_encoding; /* header only, body sent as given */
    const char *accept_encoding;  /* Accept-Encoding (curl decodes the answer); NULL: none */
    const uint8_t *body;
    size_t len;
} it_req;

void it_http(const it_server *sv, const it_req *rq, it_resp *rs);
void it_resp_clear(it_resp *rs);

/* Enrolls a device for user (code from the CLI); bearer gets the header. */
void it_enroll(it_server *sv, const char *user, char bearer[80], uint64_t *replica);

#endif
