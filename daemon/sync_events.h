/*
 * sync_events.h: the daemon's side of the sync client (sync_events.c): starts
 * the engine for an open store and turns its callbacks into notifications.
 */
#ifndef FS_DAEMON_SYNC_EVENTS_H
#define FS_DAEMON_SYNC_EVENTS_H

#include "daemon.h"
#include "fieldsync/error.h"

/* Creates d->sync for d->store on d->loop with the configured options. */
int fs_daemon_sync_start(fs_daemon *d, fs_err *err);

#endif
