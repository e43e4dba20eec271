/*
 * conflict_view.h: a record's conflicts as the socket API shows them
 * (conflict_view.c), shared by conflicts.list and conflicts.resolve.
 */
#ifndef FS_DAEMON_CONFLICT_VIEW_H
#define FS_DAEMON_CONFLICT_VIEW_H

#include <jansson.h>

#include "fieldsync/sync.h"
#include "rpc.h"

/* The record's state and conflicts (*state, *c owned by the caller); -1 with e
 * (-32002 when the store never saw the record). */
int fs_conflicts_load(fs_store *st, fs_kind kind, const char *id, fs_state **state, fs_conflict **c,
                      size_t *n, fs_rpc_err *e);

/* A sibling's value as JSON (true/false for alive, null when cleared). */
json_t *fs_conflict_sibling_value(fs_kind kind, const fs_conflict *c, const fs_sibling *sib);

/*
 * {"kind","id","name","fields":[...]} for conflicts.list: name is the record's
 * own label (an account's or contact's name, an opportunity's title ...), and
 * each sibling names the device that wrote it (names: the server's device
 * list; self: this device's replica id).
 */
json_t *fs_conflict_record_json(fs_kind kind, const char *id, const fs_state *state,
                                const fs_conflict *c, size_t n, const fs_device_names *names,
                                uint64_t self);

#endif
