/*
 * daemon.h: the state every method works on (state.c): the configuration, the
 * store when unlocked, and how to reach subscribers. It is the only object the
 * RPC layer needs, so methods run the same under the socket server, the fuzz
 * target and the unit tests.
 *
 * States: UNINITIALIZED (no key file yet: `init` creates the store), LOCKED (key
 * file present, store closed, no key in memory), UNLOCKED (store open).
 */
#ifndef FS_DAEMON_DAEMON_H
#define FS_DAEMON_DAEMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "fieldsync/error.h"
#include "fieldsync/store.h"

#define FS_DAEMON_VERSION "0.1.0"

typedef enum fs_daemon_state {
    FS_DAEMON_UNINITIALIZED = 0,
    FS_DAEMON_LOCKED = 1,
    FS_DAEMON_UNLOCKED = 2,
} fs_daemon_state;

/* Notification topics, as bits of a connection's subscription. */
#define FS_TOPIC_RECORD 0x1u /* record.changed */
#define FS_TOPIC_SYNC 0x2u   /* sync.progress */
#define FS_TOPIC_STATE 0x4u  /* state.changed */
#define FS_TOPIC_ALL 0x7u

/* Sends a notification to every connection subscribed to topic; takes params. */
typedef void (*fs_daemon_notify_fn)(void *arg, unsigned topic, const char *method, json_t *params);

struct fs_loop;
struct fs_sync;

typedef struct fs_daemon {
    const fs_config *cfg;
    fs_store *store;      /* NULL unless UNLOCKED */
    struct fs_loop *loop; /* NULL (unit tests, fuzzing): no sync engine */
    struct fs_sync *sync; /* the sync client while UNLOCKED with a loop */
    fs_daemon_state state;
    bool needs_passphrase; /* the key file is passphrase-protected */
    bool plain;            /* tests/fuzz: unencrypted store, no key file */
    int64_t started_ms;    /* monotonic */
    size_t nclients;       /* connected clients (status) */
    fs_daemon_notify_fn notify;
    void *notify_arg;
} fs_daemon;

/* Looks at the key file: UNINITIALIZED, LOCKED, or (raw key file) opens the
 * store and is UNLOCKED. cfg must outlive d. */
int fs_daemon_init(fs_daemon *d, const fs_config *cfg, fs_err *err);
/* Tests and fuzzing: an unencrypted store at cfg->db_file, created if needed. */
int fs_daemon_init_plain(fs_daemon *d, const fs_config *cfg, fs_err *err);
/* Closes the store (wiping its keys). */
void fs_daemon_clear(fs_daemon *d);
/* Gives the daemon its event loop, which the sync client runs on; starts the
 * client if the store is already open (raw key file). */
int fs_daemon_set_loop(fs_daemon *d, struct fs_loop *loop, fs_err *err);
/* A local change committed (sync_events.c): the sync client pushes it soon. */
void fs_daemon_local_change(fs_daemon *d);

/* Creates key file and database (passphrase NULL: raw key file), then UNLOCKED. */
int fs_daemon_create(fs_daemon *d, const char *passphrase, size_t len, fs_err *err);
int fs_daemon_unlock(fs_daemon *d, const char *passphrase, size_t len, fs_err *err);
int fs_daemon_lock(fs_daemon *d, fs_err *err);

const char *fs_daemon_state_name(fs_daemon_state s);

/* Notifies subscribers (no-op without a notify function); takes params. */
void fs_daemon_notify(fs_daemon *d, unsigned topic, const char *method, json_t *params);

#endif
