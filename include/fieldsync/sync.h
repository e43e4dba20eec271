/*
 * sync.h: fieldsyncd's sync client (daemon/sync/, docs/sync-client.md).
 *
 * One fs_sync drives the sync protocol (docs/protocol.md) for one open store
 * on the daemon's event loop: libcurl's multi interface runs on the loop's
 * epoll, so the daemon never blocks on the network. A run pushes the outbox in
 * batches, then pulls pages until the server has nothing more; each pulled page
 * commits with its cursor. Runs start on a local change (debounced), a periodic
 * timer, fs_sync_now, fs_sync_resync, and the network coming back (a
 * NETLINK_ROUTE watch, no polling). Failures back off exponentially with full
 * jitter and honour Retry-After.
 *
 * The device token and server URL live in the encrypted store (sync_meta),
 * never in the configuration; the token is read into guarded memory only for
 * the length of a request and is never logged.
 *
 * Everything here runs on the loop's thread; callbacks are called from it.
 */
#ifndef FIELDSYNC_SYNC_H
#define FIELDSYNC_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/record.h"
#include "fieldsync/store.h"

typedef struct fs_loop fs_loop; /* daemon/loop.h */
typedef struct fs_sync fs_sync;

typedef enum fs_sync_state {
    FS_SYNC_UNCONFIGURED = 0, /* not enrolled: no timer armed, nothing sent */
    FS_SYNC_IDLE = 1,         /* enrolled, last run succeeded, waiting for a trigger */
    FS_SYNC_SYNCING = 2,      /* a run is in progress */
    FS_SYNC_OFFLINE = 3,      /* the server could not be reached; retrying with backoff */
    FS_SYNC_ERROR = 4,        /* the server or its answers failed; retrying with backoff */
    FS_SYNC_REVOKED = 5,      /* the server revoked or forgot this device: enroll again */
} fs_sync_state;

/* "unconfigured", "idle", "syncing", "offline", "error", "revoked". */
const char *fs_sync_state_name(fs_sync_state s);

typedef struct fs_sync_opts {
    const char *ca_file;         /* extra trusted CA (PEM) for company/test servers, or NULL */
    unsigned period_s;           /* periodic sync while enrolled; 0: 900 (15 min) */
    unsigned debounce_ms;        /* delay after the last local change; 0: 2000 */
    unsigned connect_timeout_ms; /* 0: 10000 */
    unsigned low_speed_s;        /* abort below 1 byte/s for this long; 0: 30 */
    unsigned request_timeout_s;  /* longest single request; 0: 300 */
    size_t push_count;           /* records per push; 0: 1000 */
    size_t push_bytes;           /* encoded bytes per push (at least one record); 0: 4 MiB */
    uint32_t pull_limit;         /* states per pull page; 0: 1000 (server max 5000) */
    unsigned pull_pages_max;     /* pull pages per run, then an error and the backoff; 0: 1000 */
    size_t max_response;         /* largest (decompressed) response body; 0: 64 MiB */
    size_t gzip_min;             /* gzip request bodies from this size; 0: 1024 */
    unsigned backoff_base_ms;    /* 0: 1000 */
    unsigned backoff_cap_ms;     /* 0: 300000 (5 min) */
    bool no_netwatch;            /* tests: do not open the NETLINK_ROUTE watch */
    const char *device_name;     /* sent at enrollment when the caller gives none */
} fs_sync_opts;

/* A forced resync's counts (also filled for a resync the server required). */
typedef struct fs_sync_resync_report {
    size_t added;      /* records the device did not have */
    size_t updated;    /* records whose local state changed */
    size_t removed;    /* local records removed: left the territory, or no longer given */
    size_t conflicts;  /* records with a field in conflict afterwards */
    size_t kept_local; /* not given by the server but kept: unsynced local changes */
    size_t restored;   /* local changes refused READ_ONLY, replaced by the server's state */
} fs_sync_resync_report;

/* Progress of a run (sync.progress notifications). */
typedef struct fs_sync_progress {
    const char *phase; /* "push", "pull" or "resync" */
    bool resync;       /* a full pull from cursor 0 */
    uint64_t records;  /* states pushed (push) or pulled (pull) in this run */
    uint64_t total;    /* pull: how many states the pull from 0 gives in all, 0: unknown */
    uint64_t bytes;    /* bytes on the wire in this run (compressed bodies, both ways) */
    double rate;       /* records per second so far */
    int64_t eta_ms;    /* time left at the pull's rate; -1: unknown (no total: not from 0) */
    bool more;         /* the server said more pages follow */
    uint64_t cursor;   /* pull cursor reached */
} fs_sync_progress;

/* How a run ended (sync.now / sync.resync answers, the CLI's summary). */
typedef struct fs_sync_result {
    int code;                 /* 0, or the FS_E* code of the failure */
    const char *message;      /* reason when code != 0 */
    bool resync;              /* the run was (or became) a full resync */
    uint64_t pushed;          /* states acknowledged */
    uint64_t refused;         /* states refused by the server in this run */
    uint64_t pulled;          /* states applied */
    uint64_t changed;         /* ... of which changed the local state */
    uint64_t removed;         /* removals applied */
    uint64_t skipped;         /* states from the server not applied: malformed or outside
                                 the record limits (logged) */
    uint64_t requests;        /* HTTP requests made */
    uint64_t bytes_up;        /* request bodies as sent (compressed) */
    uint64_t bytes_down;      /* response bodies as received (compressed) */
    uint64_t store_ms;        /* time spent in the store (applying pages and answers) */
    uint64_t wait_ms;         /* time waiting for answers (network and server) */
    fs_sync_resync_report rs; /* resync only */
} fs_sync_result;

typedef struct fs_sync_callbacks {
    /* The engine's state or reason changed. */
    void (*state_changed)(void *arg, fs_sync_state state, const char *reason);
    /* During a run, after each request. */
    void (*progress)(void *arg, const fs_sync_progress *p);
    /* A record changed because of the server (pulled, joined from a push answer, or
     * removed): record.changed with origin "remote". */
    void (*record_changed)(void *arg, fs_kind kind, const char *id, bool removed);
    /* A run finished (successfully or not). */
    void (*run_done)(void *arg, const fs_sync_result *r);
    void *arg;
} fs_sync_callbacks;

/*
 * Creates the engine for store st on loop. Reads the enrollment from the store:
 * enrolled -> idle with the periodic timer armed and a first run scheduled;
 * otherwise unconfigured with nothing armed. opts and cb may be NULL; strings in
 * opts are copied.
 */
int fs_sync_new(fs_sync **out, fs_loop *loop, fs_store *st, const fs_sync_opts *opts,
                const fs_sync_callbacks *cb, fs_err *err);
/* Cancels any request (a batch in flight goes back to pending), timers and watches.
 * NULL is a no-op. Not from within one of the engine's own callbacks. */
void fs_sync_free(fs_sync *s);

/* The answer to fs_sync_enroll: code 0 on success (err names the failure). */
typedef void (*fs_sync_enroll_fn)(void *arg, int code, const fs_err *err);

/*
 * Enrolls this device: POST url/v1/enroll with the one-time code. On success the
 * server URL, token, user and server id go into the store, the store's replica id
 * becomes the minted one, the engine is idle and a first sync starts (a device
 * enrolled before resyncs fully, so records of the old enrollment that the new
 * one does not give are dropped, unsynced ones kept). url must be https://, or
 * http:// to a loopback address, judged on the host libcurl connects to, with
 * no user name, password, query or fragment (FS_EINVAL otherwise). When this
 * returns 0, done is called exactly once, later, from the loop; on an error
 * return it is not called. FS_EBUSY when an enrollment or a run is in progress;
 * FS_EEXIST when enrolled and not revoked (fs_sync_forget first).
 */
int fs_sync_enroll(fs_sync *s, const char *url, const char *code, const char *device_name,
                   fs_sync_enroll_fn done, void *arg, fs_err *err);
/* Forgets the enrollment (server URL, token, user): back to unconfigured. Records and
 * the outbox stay. FS_EBUSY while a run is in progress. */
int fs_sync_forget(fs_sync *s, fs_err *err);

/* The network may have come back (the NETLINK_ROUTE watch calls this; a daemon can
 * too, e.g. after resume): an offline or failing engine retries soon. */
void fs_sync_network_changed(fs_sync *s);
/* A local change was committed: a run starts debounce_ms after the last one. */
void fs_sync_local_change(fs_sync *s);
/* Starts a run now (resetting any backoff). FS_ESTATE when not enrolled or revoked;
 * a run already in progress is not restarted (0: its run_done will follow). */
int fs_sync_now(fs_sync *s, fs_err *err);
/* Forced resync: push pending, pull everything from cursor 0, remove local records
 * the server no longer gives (keeping unsynced ones). full is accepted for the
 * socket API's {full: true}; false behaves as fs_sync_now. A run in progress
 * finishes first. */
int fs_sync_resync(fs_sync *s, bool full, fs_err *err);

typedef struct fs_sync_status {
    fs_sync_state state;
    char reason[FS_ERR_MSG_MAX]; /* why offline/error/revoked, else "" */
    int64_t last_sync;           /* Unix seconds of the last successful run, 0 never */
    size_t pending;              /* outbox entries waiting (pending + in flight) */
    size_t refused;              /* outbox entries refused by the server */
    size_t conflicts;            /* records with a field in conflict */
    char server_url[512];        /* "" when not enrolled */
    char user[128];
    uint64_t replica;
    uint64_t cursor;
    int64_t next_attempt; /* Unix seconds of the next scheduled run, 0 none */
    bool resyncing;       /* a resync is in progress or must resume */
    bool read_only;       /* the server says this device's user writes nothing */
    bool running;         /* a run is in progress: progress is its last report */
    fs_sync_progress progress;
    bool clock_known;       /* an answer of the server said its time (Date header) */
    int64_t clock_offset_s; /* the server's clock minus this computer's (when known) */
    size_t clock_waiting;   /* refused entries dated ahead of the server's clock (CLOCK_AHEAD) */
    int64_t clock_wait_s;   /* until the server's clock reaches the last of them (0: the next
                               run sends them again) */
} fs_sync_status;

int fs_sync_get_status(fs_sync *s, fs_sync_status *out, fs_err *err);
fs_sync_state fs_sync_get_state(const fs_sync *s);

/* ------------------------------------------------------------------------- */
/* Device names (devices.c): who wrote a value, by the server's device list */

typedef struct fs_device_names fs_device_names;

/* The names the last pulls brought (empty when none yet: never an error). */
int fs_device_names_load(fs_store *st, fs_device_names **out, fs_err *err);
/* The name of the device with that replica id, or NULL; *user (optional) its
 * user. Borrowed from d. */
const char *fs_device_names_get(const fs_device_names *d, uint64_t replica, const char **user);
void fs_device_names_free(fs_device_names *d);

/* ------------------------------------------------------------------------- */
/* Backoff (backoff.c): pure, for the engine and its tests */

/*
 * The delay before retry number attempt (1 for the first retry): a uniformly
 * random value in [0, min(cap_ms, base_ms * 2^(attempt-1))] ("full jitter"),
 * drawn from rnd (a uniform 32-bit value), but never less than retry_after_ms
 * (the server's Retry-After; 0 when absent), itself capped at one hour.
 */
int64_t fs_sync_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
                           int64_t retry_after_ms, uint32_t rnd);
/* Parses a Retry-After value (delta seconds or an HTTP date relative to now_s):
 * milliseconds, or -1 when it is neither. */
int64_t fs_sync_retry_after_ms(const char *value, int64_t now_s);

#endif
