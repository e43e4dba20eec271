/*
 * snapshot.h: a pull from cursor 0 served in key order (snapshot.c,
 * protocol.md "Snapshot").
 */
#ifndef SRV_SNAPSHOT_H
#define SRV_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "storage.h"

/* Longest snapshot position this server writes or reads back (a record id of
 * SRV_ID_MAX bytes and a few numbers). */
#define SRV_SNAPSHOT_MAX 512

/*
 * The page of a snapshot for user (a rep) at the position token (len bytes;
 * 0: begin one, whose feed then goes on after last_seq). Inside the pull's
 * read transaction (last_seq: the last final change number now). While it
 * goes on, page->snapshot holds the next position, next_cursor is 0 and more
 * is true; its last page has no position, next_cursor S, and more when
 * anything changed after S. FS_EINVAL for a token this server did not write.
 */
int srv_snapshot_page(srv_storage *s, const srv_user *user, const srv_pull_query *q,
                      uint64_t last_seq, const uint8_t *token, size_t len, srv_pull_page *page,
                      fs_err *err);

#endif
