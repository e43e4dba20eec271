/*
 * rpc_client.h: the CLI's JSON-RPC 2.0 client for fieldsyncd's Unix socket
 * (rpc_client.c; protocol in docs/socket-api.md). One request at a time: a call
 * writes one line and reads lines until the response with its id arrives;
 * notifications that arrive meanwhile go to an optional callback. Every read and
 * write waits at most the client's timeout.
 *
 * Passphrases travel in params: fs_rpcc_wipe_alloc() makes jansson wipe every
 * block it frees, and the request line is wiped after it is sent.
 */
#ifndef FS_CLI_RPC_CLIENT_H
#define FS_CLI_RPC_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "fieldsync/error.h"

typedef struct fs_rpcc fs_rpcc;

/* Largest response line accepted (a list page of 1000 big records fits). */
#define FS_RPCC_MAX_LINE (64u << 20)

/* The daemon's error answer. */
typedef struct fs_rpcc_error {
    int code;      /* JSON-RPC code, e.g. -32001 */
    char name[64]; /* data.name, e.g. "locked" ("" when absent) */
    char field[128];
    char message[512];
} fs_rpcc_error;

/* Called for each notification received while waiting; params borrowed. */
typedef void (*fs_rpcc_notify_fn)(void *arg, const char *method, json_t *params);

/* Connects to the socket at path. FS_ENOTFOUND no socket file, FS_EDENIED
 * permission, FS_EIO refused or other failure; err says which and what to do. */
int fs_rpcc_connect(fs_rpcc **out, const char *path, int timeout_ms, fs_err *err);
/* Wraps a connected stream socket (tests); the client owns fd. */
int fs_rpcc_from_fd(fs_rpcc **out, int fd, int timeout_ms, fs_err *err);
void fs_rpcc_free(fs_rpcc *c);

void fs_rpcc_set_notify(fs_rpcc *c, fs_rpcc_notify_fn fn, void *arg);

/*
 * Calls method with params (may be NULL; a reference is taken by the call, so
 * pass a new one). Returns 0 with *result (a new reference), 1 when the daemon
 * answered with an error (filled into derr), or a negative FS_E* transport error
 * (FS_EIO connection lost, FS_ETOOBIG response too long, FS_ECORRUPT not
 * JSON-RPC, FS_EBUSY timed out) with err set.
 */
int fs_rpcc_call(fs_rpcc *c, const char *method, json_t *params, json_t **result,
                 fs_rpcc_error *derr, fs_err *err);

/* Waits for the next notification (for `watch`): 0 and the callback ran,
 * negative on error or end of stream. timeout_ms < 0 waits forever. */
int fs_rpcc_wait_notification(fs_rpcc *c, int timeout_ms, fs_err *err);

/* Ends a wait on c from another thread (the UI bridge stopping): the waiting
 * call returns FS_EIO as if the daemon had hung up. c stays to be freed by the
 * thread that uses it. */
void fs_rpcc_shutdown(fs_rpcc *c);

/* Makes jansson wipe freed memory (call once, before any JSON is made). */
void fs_rpcc_wipe_alloc(void);

#endif
