/*
 * remote_int.h: the pieces of remote.c that a forced resync's page apply
 * (resync.c) shares, so a removal is handled the same way on both paths.
 */
#ifndef FIELDSYNC_REMOTE_INT_H
#define FIELDSYNC_REMOTE_INT_H

#include "store_int.h"

/* Appends a copy of (kind, id) to *refs (n entries before the call). */
int fs_store_ref_append(fs_ref **refs, size_t n, fs_kind kind, const char *id, fs_err *err);
/* Applies one removal inside the caller's transaction (kept when it has outbox
 * entries), updating r. */
int fs_store_apply_removal(fs_store *st, const fs_ref *ref, fs_apply_report *r, fs_err *err);

#endif
