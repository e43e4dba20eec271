/*
 * log.h: the one leveled logger of fieldsync's processes (common/log.c).
 *
 * Messages go to stderr (one line each: time, ident, pid, level, text) or, when
 * built with libsystemd and asked for, to the journal with the matching
 * priority. Never log a key, passphrase, token or record body: messages name
 * objects (a record's kind and id, a file, a peer's uid), not their contents.
 */
#ifndef FIELDSYNC_LOG_H
#define FIELDSYNC_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum fs_log_level {
    FS_LOG_ERROR = 0,
    FS_LOG_WARN = 1,
    FS_LOG_INFO = 2,
    FS_LOG_DEBUG = 3,
} fs_log_level;

typedef enum fs_log_target {
    FS_LOG_TARGET_STDERR = 0,
    FS_LOG_TARGET_JOURNAL = 1,
} fs_log_target;

/* Messages above level are dropped. Default: FS_LOG_INFO. */
void fs_log_set_level(fs_log_level level);
fs_log_level fs_log_get_level(void);
/* "error", "warn" (or "warning"), "info", "debug" -> 0 and *level; -1 otherwise. */
int fs_log_level_from_name(const char *name, fs_log_level *level);
const char *fs_log_level_name(fs_log_level level);

/* The program name shown in each line (borrowed, must outlive logging). */
void fs_log_set_ident(const char *ident);
/* FS_LOG_TARGET_JOURNAL returns -1 (and keeps stderr) when built without libsystemd. */
int fs_log_set_target(fs_log_target target);
/* True when this build can log to the journal. */
bool fs_log_journal_available(void);
/* Tests: write stderr-target lines to stream instead (NULL: back to stderr). */
void fs_log_set_stream(FILE *stream);

void fs_log(fs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A library's own message (its printf-style logger, e.g. libmicrohttpd's) as
 * one line "PREFIX: text", cut at its first newline. */
void fs_log_lib(fs_log_level level, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
