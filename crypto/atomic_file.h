/*
 * atomic_file.h (private to crypto/): reading a small private file into guarded
 * memory, and replacing a file atomically with mode 0600.
 */
#ifndef FIELDSYNC_CRYPTO_ATOMIC_FILE_H
#define FIELDSYNC_CRYPTO_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/secret.h"

/*
 * Reads the whole regular file at path into a new secret of exactly its size.
 * Refuses (FS_EDENIED, saying `chmod 600 <path>`) a file with any group or other
 * permission bit, FS_ENOTFOUND when it does not exist, FS_ECORRUPT when it holds
 * more than max bytes. what names the file in messages ("key file").
 */
int fs_file_read_private(const char *path, const char *what, size_t max, fs_secret **out,
                         fs_err *err);

/*
 * Writes len bytes of buf to path so that a crash at any moment leaves either
 * the old file or the new one, complete: <path>.tmp is created with mode 0600
 * (O_EXCL, then fchmod so umask cannot widen or narrow it), written, fsynced,
 * renamed over path, and the directory is fsynced. With replace false the rename
 * refuses an existing path (FS_EEXIST). A stale <path>.tmp from an earlier crash
 * is removed first: writers of one path must be serialised by the caller.
 *
 * Crash points (crash.h), in order: <tag>.tmp_partial (half the bytes written),
 * <tag>.tmp_synced (temp file complete and fsynced), <tag>.renamed (rename done,
 * directory not yet fsynced), <tag>.dir_synced (all done).
 */
int fs_file_write_atomic(const char *path, const char *what, const uint8_t *buf, size_t len,
                         bool replace, const char *crash_tag, fs_err *err);

#endif
