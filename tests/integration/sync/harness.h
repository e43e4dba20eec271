/*
 * harness.h: what the sync client's integration tests share: the real
 * fieldsync-server binary (admin commands, serve on 127.0.0.1, kill -9 and
 * restart on the same port), "devices" (an encrypted store in a temp dir and a
 * sync engine on one shared fs_loop), and running that loop until a condition
 * holds or a deadline passes. No sleeps as synchronisation: every wait is on a
 * condition with a deadline.
 */
#ifndef SYNC_HARNESS_H
#define SYNC_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fieldsync/store.h"
#include "fieldsync/sync.h"
#include "loop.h"

#define H_DEADLINE_MS 20000

typedef struct h_server {
    char dir[256];
    char db[300];
    pid_t pid;
    unsigned port;
    char url[64];
    char cert[320], key[320];
    const char *clock_skew;  /* serve's --clock-skew, or NULL: its default */
    long long file_size_max; /* serve's files cannot grow past it (RLIMIT_FSIZE); 0: no limit */
} h_server;

void hs_init(h_server *sv);
/* Runs `fieldsync-server --db DB args... NULL`; returns the exit code; stdout into out. */
int hs_admin(h_server *sv, char *out, size_t cap, ...);
/* Starts serve (port 0 picks one; else that port, for restarts) and waits for it. */
void hs_start(h_server *sv, unsigned port);
/* The same over HTTPS with a self-signed certificate for 127.0.0.1 made with the
 * openssl command (sv->cert); false when there is no openssl to make one. */
bool hs_start_tls(h_server *sv);
/* SIGKILL (hard) or SIGTERM, and reaps. */
void hs_stop(h_server *sv, bool hard);
void hs_cleanup(h_server *sv);
/* Adds a rep (manager NULL) and returns a fresh enrollment code (static buffer). */
void hs_add_rep(h_server *sv, const char *user);
const char *hs_code(h_server *sv, const char *user);
/* The server's device id of a replica (from `device list`), or -1. */
long hs_device_id(h_server *sv, uint64_t replica);

typedef struct h_device {
    char name[32];
    char dir[256];
    char db[300];
    char key[300];
    fs_loop *loop;
    fs_store *st;
    fs_sync *sync;
    fs_sync_opts opts;
    /* what the callbacks saw */
    unsigned runs; /* run_done calls */
    fs_sync_result last;
    char last_msg[FS_ERR_MSG_MAX];
    unsigned remote_changes; /* record_changed calls */
    unsigned removals;       /* ... of which removals */
    unsigned progress_calls;
    unsigned state_changes;
    int enroll_rc; /* 1 while pending */
    char enroll_msg[FS_ERR_MSG_MAX];
} h_device;

/* A device with a new encrypted store; opts NULL: test defaults (no netwatch). */
void hd_open(h_device *d, fs_loop *loop, const char *name, const fs_sync_opts *opts);
/* Closes engine and store (the files stay); hd_reopen opens them again. */
void hd_close(h_device *d);
void hd_reopen(h_device *d);
/* Closes and removes the files. */
void hd_destroy(h_device *d);
/* Enrolls with a new code for user and waits for the first run to finish. */
void hd_enroll(h_device *d, h_server *sv, const char *user);
/* Enrolls with the given code and waits only for the answer (d->enroll_rc). */
void hd_enroll_code(h_device *d, const char *url, const char *code);
/* Starts a run now and waits for it; returns its result code (0 ok). */
int hd_sync(h_device *d);
/* Forced resync; waits; returns the result code. */
int hd_resync(h_device *d);

/* A condition for h_run_until: d has finished more than `runs` runs. */
typedef struct h_runs {
    h_device *d;
    unsigned runs;
} h_runs;
bool h_runs_above(void *arg);

/* Runs the loop until cond(arg) or deadline_ms; returns cond's final value. */
bool h_run_until(fs_loop *loop, bool (*cond)(void *), void *arg, int deadline_ms);

/* Store helpers: put an account / contact, read an account's visible name. */
void hd_put_account(h_device *d, const char *id, const char *name, const char *city);
void hd_put_contact(h_device *d, const char *id, const char *account_id, const char *name);
/* The visible name (malloc'd) or NULL when the record is absent or deleted. */
char *hd_account_name(h_device *d, const char *id);
char *hd_account_city(h_device *d, const char *id);
bool hd_has(h_device *d, fs_kind kind, const char *id);
size_t hd_conflicts(h_device *d);
/* Fields of one record in conflict, not counting an `alive` whose siblings all
 * agree (two concurrent edits both write alive = true; see the report). */
size_t hd_field_conflicts(h_device *d, fs_kind kind, const char *id);
size_t hd_pending(h_device *d);

#endif
