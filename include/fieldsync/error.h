/*
 * error.h: fieldsync's error codes and the error report every module fills.
 *
 * Functions return int: 0 on success, a negative FS_E* code on failure. When the
 * caller passes an fs_err, the callee also writes a human message into it that
 * names the object and, where it can, says what to do next.
 */
#ifndef FIELDSYNC_ERROR_H
#define FIELDSYNC_ERROR_H

#include <stddef.h>

/* One table yields the codes and fs_strerror(). Codes are stable: append only. */
#define FS_ERROR_TABLE(X)                                                                          \
    X(FS_OK, 0, "success")                                                                         \
    X(FS_ENOMEM, -1, "out of memory")                                                              \
    X(FS_EINVAL, -2, "invalid argument")                                                           \
    X(FS_EIO, -3, "input/output error")                                                            \
    X(FS_ECORRUPT, -4, "malformed or damaged data")                                                \
    X(FS_EAUTH, -5, "wrong key or damaged data")                                                   \
    X(FS_ENOTFOUND, -6, "not found")                                                               \
    X(FS_EEXIST, -7, "already exists")                                                             \
    X(FS_ETOOBIG, -8, "too large")                                                                 \
    X(FS_EVERSION, -9, "unsupported version")                                                      \
    X(FS_EBUSY, -10, "busy")                                                                       \
    X(FS_ELOCKED, -11, "store is locked")                                                          \
    X(FS_EDENIED, -12, "permission denied")                                                        \
    X(FS_ENET, -13, "network error")                                                               \
    X(FS_ECONFLICT, -14, "conflict")                                                               \
    X(FS_ESTATE, -15, "operation not valid in the current state")                                  \
    X(FS_ENOSPC, -16, "no space left on the disk")

enum fs_error_code {
#define FS_ERROR_ENUM(name, value, text) name = value,
    FS_ERROR_TABLE(FS_ERROR_ENUM)
#undef FS_ERROR_ENUM
};

#define FS_ERR_MSG_MAX 512

typedef struct fs_err {
    int code;
    char msg[FS_ERR_MSG_MAX];
} fs_err;

/* The generic text for a code ("wrong key or damaged data"); never NULL. */
const char *fs_strerror(int code);

/*
 * Records code and a printf-style message in err (which may be NULL) and
 * returns code, so callers can write `return fs_err_set(err, FS_EINVAL, ...)`.
 */
int fs_err_set(fs_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Clears err to FS_OK with an empty message. NULL is a no-op. */
void fs_err_clear(fs_err *err);

/* The message in err, or the generic text of its code when the message is empty. */
const char *fs_err_message(const fs_err *err);

#endif
