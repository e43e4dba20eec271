/*
 * sync_events.h: the daemon's side of the sync client (sync_events.c): starts
 * the engine for an open store and turns its callbacks into notifications.
 */
#ifndef FS_DAEMON_SYNC_EVENTS_H
#define FS_DAEMON_SYNC_EVENTS_H

#include <jansson.h>

#include "daemon.h"
#include "fieldsync/error.h"
#include "fieldsync/sync.h"

/* Creates d->sync for d->store on d->loop with the configured options. */
int fs_daemon_sync_start(fs_daemon *d, fs_err *err);

/* A run's progress as JSON (the sync.progress notification, sync.status). */
json_t *fs_daemon_progress_json(const fs_sync_progress *p);

#endif
