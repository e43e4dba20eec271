/*
 * rpc.h: JSON-RPC 2.0 over the daemon's state (rpc.c parses a request line,
 * checks the envelope and dispatches to a method; methods_*.c implement them).
 * Nothing here touches a socket: the fuzz target and unit tests drive
 * fs_rpc_handle_line directly.
 */
#ifndef FS_DAEMON_RPC_H
#define FS_DAEMON_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"
#include "fieldsync/error.h"

/* Error codes (docs/socket-api.md "Errors"). Stable: append only. */
#define FS_RPC_ERROR_TABLE(X)                                                                      \
    X(FS_RPC_PARSE_ERROR, -32700, "parse_error")                                                   \
    X(FS_RPC_INVALID_REQUEST, -32600, "invalid_request")                                           \
    X(FS_RPC_METHOD_NOT_FOUND, -32601, "method_not_found")                                         \
    X(FS_RPC_INVALID_PARAMS, -32602, "invalid_params")                                             \
    X(FS_RPC_INTERNAL, -32603, "internal_error")                                                   \
    X(FS_RPC_LOCKED, -32001, "locked")                                                             \
    X(FS_RPC_NOT_FOUND, -32002, "not_found")                                                       \
    X(FS_RPC_INVALID_RECORD, -32003, "invalid_record")                                             \
    X(FS_RPC_STORE_ERROR, -32004, "store_error")                                                   \
    X(FS_RPC_AUTH_FAILED, -32005, "auth_failed")                                                   \
    X(FS_RPC_NOT_INITIALIZED, -32006, "not_initialized")                                           \
    X(FS_RPC_ALREADY_EXISTS, -32007, "already_exists")                                             \
    X(FS_RPC_NO_SERVER, -32008, "no_server")                                                       \
    X(FS_RPC_BUSY, -32009, "busy")                                                                 \
    X(FS_RPC_TOO_LARGE, -32010, "request_too_large")                                               \
    X(FS_RPC_INVALID_STATE, -32011, "invalid_state")                                               \
    X(FS_RPC_PIPELINE_RULE, -32012, "pipeline_rule")                                               \
    X(FS_RPC_HAS_CHILDREN, -32013, "has_children")                                                 \
    X(FS_RPC_READ_ONLY, -32014, "read_only")

enum fs_rpc_code {
#define FS_RPC_ENUM(name, value, text) name = value,
    FS_RPC_ERROR_TABLE(FS_RPC_ENUM)
#undef FS_RPC_ENUM
};

/*
 * Makes jansson allocate through functions that wipe every block on free, so a
 * passphrase parsed from a request (and the lexer's copies of it) does not
 * linger in freed heap memory. Call once, before any JSON is parsed.
 */
void fs_rpc_harden_json(void);

/* The stable symbolic name of a code ("locked"), "unknown" for others. */
const char *fs_rpc_code_name(int code);

/* A method's failure: the JSON-RPC code, the parameter at fault, the message. */
typedef struct fs_rpc_err {
    int code;
    char field[128];
    char msg[FS_ERR_MSG_MAX];
} fs_rpc_err;

/* Fills e and returns -1, so methods write `return fs_rpc_fail(e, ...)`. */
int fs_rpc_fail(fs_rpc_err *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a store/crypto error to the matching JSON-RPC code and returns -1. */
int fs_rpc_fail_fs(fs_rpc_err *e, const fs_err *err);

/* Per-connection state the methods see. */
typedef struct fs_rpc_session {
    unsigned topics; /* FS_TOPIC_* the connection subscribed to */
} fs_rpc_session;

/* A method: on success 0 and *result (a new reference); on failure -1 and e. */
typedef int (*fs_rpc_method_fn)(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                                fs_rpc_err *e);

typedef struct fs_rpc_method {
    const char *name;
    fs_rpc_method_fn fn;
    bool secret_params; /* params hold passphrases: wiped after the call */
} fs_rpc_method;

/* The method tables of methods_*.c, each ending with a {NULL} entry. */
extern const fs_rpc_method fs_rpc_methods_admin[];
extern const fs_rpc_method fs_rpc_methods_record[];
extern const fs_rpc_method fs_rpc_methods_query[];
extern const fs_rpc_method fs_rpc_methods_report[];
extern const fs_rpc_method fs_rpc_methods_conflicts[];
extern const fs_rpc_method fs_rpc_methods_sync[];

/* The sync client's status object (methods_sync.c), for status and sync.status. */
json_t *fs_rpc_sync_status(fs_daemon *d);

/*
 * Handles one request line: returns the response object to send (a new
 * reference), or NULL for a notification (a request without id). Never fails
 * on bad input: garbage gets a parse or invalid-request error.
 */
json_t *fs_rpc_handle_line(fs_daemon *d, fs_rpc_session *s, const char *line, size_t len);

/* An error response {jsonrpc, id, error:{code,message,data:{name[,field]}}}. */
json_t *fs_rpc_error_response(json_t *id, const fs_rpc_err *e);

/* Serialises a message as one line with its '\n' (malloc'd; NULL when out of memory). */
char *fs_rpc_dump_line(const json_t *msg, size_t *len);

/* ---- parameter helpers for methods (rpc.c) ---- */

/* Checks params is an object with no keys outside allowed (NULL-terminated). */
int fs_rpc_params_check(json_t *params, const char *const *allowed, fs_rpc_err *e);
/* A string param: required or not; *out NULL when absent and optional. */
int fs_rpc_param_string(json_t *params, const char *key, bool required, const char **out,
                        fs_rpc_err *e);
/* An integer param in [lo, hi]; *out untouched when absent. */
int fs_rpc_param_int(json_t *params, const char *key, long long lo, long long hi, long long *out,
                     fs_rpc_err *e);
int fs_rpc_param_bool(json_t *params, const char *key, bool *out, fs_rpc_err *e);
/* The `kind` param as a record kind. */
int fs_rpc_param_kind(json_t *params, fs_kind *kind, fs_rpc_err *e);
/* The store, or the locked / not-initialized error. */
int fs_rpc_need_store(fs_daemon *d, fs_store **st, fs_rpc_err *e);
/* As fs_rpc_need_store, for a method that writes: -32014 read_only on a device
 * the server said writes nothing (a manager's: protocol.md, read_only). */
int fs_rpc_need_writable(fs_daemon *d, fs_store **st, fs_rpc_err *e);

/* Today's date as "YYYY-MM-DD" in the local time zone (methods_query.c,
 * calendar.h): the one "today" of every method that needs one. */
void fs_rpc_today(char buf[11]);
/* A date param ("YYYY-MM-DD", a real day) into out; today when absent. */
int fs_rpc_param_date(json_t *params, const char *key, char out[11], fs_rpc_err *e);

/* Shared by the record methods (methods_record.c): the record.get result of
 * kind/id, and the record.changed notification of a local change. */
int fs_rpc_record_view(fs_store *st, fs_kind kind, const char *id, json_t **out, fs_rpc_err *e);
void fs_rpc_notify_changed(fs_daemon *d, fs_kind kind, const char *id, bool deleted);

#endif
