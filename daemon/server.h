/*
 * server.h: fieldsyncd's process wiring (server.c): the event loop, the
 * listening socket (listener.c), client connections (conn.c), signals and the
 * daemon state, each doing its own job; server.c only connects them.
 */
#ifndef FS_DAEMON_SERVER_H
#define FS_DAEMON_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "daemon.h"
#include "loop.h"

typedef struct fs_conn fs_conn;

/* A flag given on the command line, re-applied over the file on SIGHUP. */
typedef struct fs_override {
    const char *key;
    const char *value;
} fs_override;

#define FS_MAX_OVERRIDES 16

typedef struct fs_server {
    fs_config cfg;
    const char *config_path; /* NULL: none */
    bool config_required;    /* given with --config: must exist */
    fs_override overrides[FS_MAX_OVERRIDES];
    size_t noverrides;

    fs_daemon daemon;
    fs_loop *loop;
    int listen_fd;
    fs_loop_fd *listen_h;
    int signal_fd;
    fs_loop_fd *signal_h;
    int lock_fd;
    bool socket_bound;             /* we created the socket file: remove it on exit */
    bool accept_paused;            /* out of file descriptors: resume when a client leaves */
    fs_timer *maintenance_timer;   /* armed after writes and requests (server.c) */
    bool maintenance_for_reads;    /* the armed one was armed by reads alone */
    unsigned maintenance_failures; /* failed steps in a row: the retry waits longer */
    fs_conn *conns;                /* live and dead-but-not-reaped connections */
    size_t nconns;
    int exit_code;
} fs_server;

void fs_server_init(fs_server *s);
/* Reads the config file and applies the overrides into s->cfg (and the log). */
int fs_server_configure(fs_server *s, fs_err *err);
/* Takes the data-dir lock, opens the daemon state, binds the socket. */
int fs_server_start(fs_server *s, fs_err *err);
/* Runs until SIGTERM/SIGINT; then flushes clients, closes the store, removes the socket. */
int fs_server_run(fs_server *s, fs_err *err);
void fs_server_clear(fs_server *s);

/* A client left: if accepting was paused for lack of descriptors, resume it. */
void fs_server_client_gone(fs_server *s);
/* Requests were served: reads too fill the store's page cache, which the idle
 * maintenance hands back a second after the last one. */
void fs_server_served(fs_server *s);

/* ---- listener.c ---- */
int fs_listener_lock(const char *data_dir, int *lock_fd, fs_err *err);
int fs_listener_open(const char *path, int *fd, fs_err *err);
/* The peer's credentials; 0 or FS_EIO. */
int fs_listener_peer(int fd, uid_t *uid, pid_t *pid);

/* ---- conn.c ---- */
/* Takes over fd (a connected client) and starts reading it. */
int fs_conn_open(fs_server *s, int fd, uid_t uid, pid_t pid, fs_err *err);
/* Marks conn dead (freed by fs_conn_reap). */
void fs_conn_close(fs_server *s, fs_conn *c, const char *why);
/* Runs queued requests of every connection (bounded per turn); frees dead ones.
 * True when requests are still queued. */
bool fs_conn_service(fs_server *s);
/* Sends a notification to every subscribed connection; takes params. */
void fs_conn_broadcast(void *server, unsigned topic, const char *method, json_t *params);
/* Shutdown: writes what every client still has queued, up to deadline_ms. */
void fs_conn_flush_all(fs_server *s, int64_t deadline_ms);
void fs_conn_free_all(fs_server *s);

#endif
