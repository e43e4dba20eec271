/*
 * checkpointer.h: a thread that runs passive WAL checkpoints on a connection
 * of its own when asked (common/checkpointer.c), so no commit waits for the
 * copy of the WAL into the database and its sync. fieldsyncd's store
 * (store/checkpoint.c) and fieldsync-server's SQLite pool
 * (server/storage_sqlite_ckpt.c) each decide from their commits' WAL hook
 * when to ask.
 */
#ifndef FIELDSYNC_CHECKPOINTER_H
#define FIELDSYNC_CHECKPOINTER_H

#include <sqlite3.h>

#include "fieldsync/error.h"

typedef struct fs_checkpointer fs_checkpointer;

/* Starts the thread on db, which it owns from then on (closed by stop, or on
 * failure). The thread blocks every signal: the owner's signal handling (a
 * signalfd, a mask set later) stays with the owner's threads. */
int fs_checkpointer_start(sqlite3 *db, const char *name, fs_checkpointer **out, fs_err *err);
/* Asks for a passive checkpoint; returns at once (thread-safe). */
void fs_checkpointer_wake(fs_checkpointer *c);
/* Lets a checkpoint under way end, stops the thread and closes its
 * connection. NULL is a no-op. */
void fs_checkpointer_stop(fs_checkpointer *c);

#endif
