/*
 * sync_int.h: the sync engine's state, shared by its files and nobody else:
 * engine.c (lifecycle, state machine, triggers, status), run.c (one run: push
 * batches, pull pages, resync), clock.c (the server's clock, changes dated
 * ahead of it), enroll.c, netwatch.c.
 */
#ifndef FS_SYNC_INT_H
#define FS_SYNC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store_resync.h"
#include "fieldsync/sync.h"
#include "loop.h"
#include "sync_http.h"
#include "sync_wire.h"

/* sync_meta key of the server database's id (EnrollResponse.server_id). */
#define FS_META_SERVER_ID "server_id"

typedef enum fs_sync_phase {
    FS_PHASE_NONE = 0,
    FS_PHASE_PUSH,
    FS_PHASE_PULL,
} fs_sync_phase;

/* A batch of the outbox on its way to the server: taken (its entries are in
 * flight in the outbox) and encoded (body, the first nsent items). */
typedef struct fs_push_batch {
    fs_outbox_batch items;
    fs_http_body body; /* gzip'd as it is taken; bytes NULL once posted (the request owns them) */
    size_t nsent;
    bool taken;
} fs_push_batch;

struct fs_sync {
    fs_loop *loop;
    fs_store *st;
    fs_sync_opts opts;
    char *ca_file, *device_name; /* copies of the opts' strings */
    fs_sync_callbacks cb;
    fs_http *http;

    fs_sync_state state;
    char reason[FS_ERR_MSG_MAX];
    char *url; /* server URL, NULL when not enrolled */

    fs_timer *t_debounce;    /* local change -> run */
    fs_timer *t_period;      /* idle -> periodic run */
    fs_timer *t_retry;       /* offline/error -> next attempt (also "run soon") */
    int64_t next_attempt_ms; /* monotonic deadline of t_retry or t_period */
    unsigned attempt;        /* failed runs in a row */

    /* the current run */
    bool running;
    fs_sync_phase phase;
    bool resync;       /* pulling from 0 with mark-and-sweep */
    bool resync_begun; /* this run began a resync: a second request for one fails it */
    bool want_resync;  /* asked for while a run was going on */
    bool rerun;        /* a trigger arrived during the run */
    fs_http_req *req;  /* the request in flight */
    fs_secret *token;  /* for the run's length */
    /* the push in flight, and the batch taken and encoded meanwhile */
    fs_push_batch sent, next;
    uint64_t cursor;
    /* the snapshot position sent with the pull in flight (protocol.md,
     * "Snapshot"): snap_on with snap_len bytes (0: begin one); off: none */
    bool snap_on;
    uint8_t *snap;
    size_t snap_len;
    unsigned pages; /* pull pages answered in this run */
    int64_t run_start_ms;
    uint64_t total;            /* states a pull from 0 gives (PullResponse.total), 0: unknown */
    int64_t pull_start_ms;     /* when that pull began, for the ETA */
    fs_sync_progress progress; /* the last progress reported (sync.status) */
    fs_sync_result res;
    fs_store_resync_report rs;

    /* the server's clock: its last answer's Date minus this computer's clock */
    bool clock_known;
    int64_t clock_offset_s;

    /* enrollment in progress */
    fs_http_req *enroll_req;
    fs_sync_enroll_fn enroll_done;
    void *enroll_arg;
    char *enroll_url;

    /* NETLINK_ROUTE watch */
    int nl_fd;
    fs_loop_fd *nl_watch;
};

/* engine.c */
void fs_sync_set_state(fs_sync *s, fs_sync_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A run ended: success arms the periodic timer; failure backs off. */
void fs_sync_run_succeeded(fs_sync *s);
void fs_sync_run_failed(fs_sync *s, fs_sync_state state, int code, int64_t retry_after_ms,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void fs_sync_revoked(fs_sync *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Schedules a run at now + delay_ms unless one is due sooner. */
void fs_sync_schedule(fs_sync *s, int64_t delay_ms);
/* Reads the enrollment (URL) from the store. */
int fs_sync_load_config(fs_sync *s, fs_err *err);

/* run.c */
void fs_sync_run_start(fs_sync *s);
/* Aborts the run in progress (a batch in flight goes back to pending). */
void fs_sync_run_abort(fs_sync *s);

/* clock.c: keeps the server's clock from an answer's Date header; sends again
 * the changes refused CLOCK_AHEAD that its clock has reached (at a run's start);
 * fills the status's clock fields. */
void fs_sync_clock_observe(fs_sync *s, const fs_http_resp *r);
int fs_sync_clock_retry(fs_sync *s, fs_err *err);
int fs_sync_clock_status(const fs_sync *s, fs_sync_status *out, fs_err *err);

/* devices.c: the digest of the device names the store holds (*len 0: none). */
int fs_sync_devices_digest(fs_store *st, uint8_t *digest, size_t size, size_t *len, fs_err *err);

/* enroll.c */
void fs_sync_enroll_abort(fs_sync *s);

/* netwatch.c: the route/address/link watch; failure to open is logged, not fatal. */
void fs_sync_netwatch_open(fs_sync *s);
void fs_sync_netwatch_close(fs_sync *s);

/* An HTTP answer that is not 200: decides the state and the retry. */
void fs_sync_http_failed(fs_sync *s, const fs_http_resp *r, const char *what);

#endif
