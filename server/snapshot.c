/*
 * snapshot.c: a pull from cursor 0 served as a snapshot (protocol.md,
 * "Snapshot"): the rep's removals up to a change number S, then every record
 * of the territory in (kind, id) order, then, from cursor S, the change feed.
 *
 * Why nothing is missed. S is the last final change number when the snapshot
 * begins. A record's state is given by the key-order pages at whatever it is
 * when its page is read; any change after that read, and any record that moves
 * into the territory, is numbered above S and comes in the feed after the
 * snapshot. A removal at or below S is given before the records, on pages of
 * its own (a device applies a page's states before its removals), so a
 * record that left and came back is removed and then given again, as in
 * change order. Records may come twice (a page, then the feed): joins make that
 * harmless. Devices apply the key-order pages in the order of their own key
 * index, which is what makes an initial pull cheap for them.
 *
 * The position (SnapshotPosition) travels to the device and back as opaque
 * bytes. A device that forges it can only skip or repeat records of its own
 * territory: every read is bounded by the owner.
 */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "fieldsync.pb-c.h"
#include "handler.h"

/* The decoded position: where the snapshot stands. */
typedef struct snap_pos {
    uint64_t seq;      /* S: the feed goes on after it (0: the snapshot begins now) */
    uint64_t removals; /* removals up to this number were given */
    bool records;      /* the removals are done */
    fs_kind kind;      /* the last record given (kind 0: none yet) */
    char *id;          /* owned */
} snap_pos;

static int decode_pos(const uint8_t *token, size_t len, snap_pos *pos, fs_err *err)
{
    memset(pos, 0, sizeof(*pos));
    if (len == 0)
        return 0;
    Fieldsync__SnapshotPosition *m =
        len <= SRV_SNAPSHOT_MAX ? fieldsync__snapshot_position__unpack(NULL, len, token) : NULL;
    if (m == NULL || !m->has_seq || m->seq == 0)
        goto bad;
    pos->seq = m->seq;
    pos->removals = m->removals;
    pos->records = m->records;
    if (m->after != NULL) {
        if (!pos->records || !m->after->has_kind || m->after->kind <= 0 || m->after->id == NULL ||
            strlen(m->after->id) > SRV_ID_MAX)
            goto bad;
        pos->kind = (fs_kind)m->after->kind;
        pos->id = strdup(m->after->id);
        if (pos->id == NULL) {
            fieldsync__snapshot_position__free_unpacked(m, NULL);
            return fs_err_set(err, FS_ENOMEM, "out of memory reading a snapshot position");
        }
    }
    fieldsync__snapshot_position__free_unpacked(m, NULL);
    return 0;
bad:
    if (m != NULL)
        fieldsync__snapshot_position__free_unpacked(m, NULL);
    return fs_err_set(err, FS_EINVAL, "the snapshot position is not one this server wrote");
}

static int encode_pos(const snap_pos *pos, srv_pull_page *page, fs_err *err)
{
    Fieldsync__SnapshotPosition m = FIELDSYNC__SNAPSHOT_POSITION__INIT;
    Fieldsync__RecordRef after = FIELDSYNC__RECORD_REF__INIT;
    m.has_seq = m.has_removals = m.has_records = 1;
    m.seq = pos->seq;
    m.removals = pos->removals;
    m.records = pos->records;
    if (pos->kind != 0) {
        after.has_kind = 1;
        after.kind = (Fieldsync__RecordKind)pos->kind;
        after.id = pos->id;
        m.after = &after;
    }
    page->snapshot_len = fieldsync__snapshot_position__get_packed_size(&m);
    page->snapshot = malloc(page->snapshot_len);
    if (page->snapshot == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory for a snapshot position");
    fieldsync__snapshot_position__pack(&m, page->snapshot);
    return 0;
}

/* Moves up to room items of src into the page, about max_bytes of states at
 * most (at least one item per page); *taken: how many. */
static void take(srv_pull_page *page, srv_pull_item *src, size_t n, size_t room, size_t max_bytes,
                 size_t *bytes, size_t *taken)
{
    size_t i = 0;
    for (; i < n && i < room; i++) {
        if (page->n > 0 && *bytes + src[i].state_len > max_bytes)
            break;
        *bytes += src[i].state_len;
        page->items[page->n++] = src[i];
        memset(&src[i], 0, sizeof(src[i]));
    }
    *taken = i;
}

/* Fills the page from pos on and moves pos past it; *done when the records
 * ran out. */
static int fill(srv_storage *s, int64_t owner, const srv_pull_query *q, snap_pos *pos,
                srv_pull_page *page, bool *done, fs_err *err)
{
    srv_pull_item *items = NULL;
    size_t n = 0, taken = 0, bytes = 0;
    int rc = 0;
    *done = false;
    if (!pos->records) {
        rc = s->ops->snapshot_removals(s, owner, pos->removals, pos->seq, q->limit + 1, &items, &n,
                                       err);
        if (rc == 0)
            take(page, items, n, q->limit, q->max_bytes, &bytes, &taken);
        if (taken > 0)
            pos->removals = page->items[page->n - 1].seq;
        pos->records = rc == 0 && taken == n;
        srv_pull_items_free(items, n);
        items = NULL;
        n = 0;
    }
    /* a page of removals holds nothing else: a device applies a page's
     * states before its removals */
    size_t room = q->limit - page->n;
    if (rc == 0 && pos->records && page->n == 0) {
        rc = s->ops->snapshot_records(s, owner, pos->kind, pos->id, q->skip_writer, room + 1,
                                      &items, &n, err);
        if (rc == 0)
            take(page, items, n, room, q->max_bytes, &bytes, &taken);
        if (rc == 0 && taken > 0) {
            const srv_pull_item *last = &page->items[page->n - 1];
            char *id = strdup(last->id);
            if (id == NULL)
                rc = fs_err_set(err, FS_ENOMEM, "out of memory for a snapshot position");
            free(pos->id);
            pos->id = id;
            pos->kind = last->kind;
        }
        *done = rc == 0 && taken == n;
        srv_pull_items_free(items, n);
    }
    return rc;
}

int srv_snapshot_page(srv_storage *s, const srv_user *user, const srv_pull_query *q,
                      uint64_t last_seq, const uint8_t *token, size_t len, srv_pull_page *page,
                      fs_err *err)
{
    snap_pos pos;
    bool done = false;
    memset(page, 0, sizeof(*page));
    int rc = decode_pos(token, len, &pos, err);
    if (rc != 0)
        return rc;
    if (pos.seq == 0)
        pos.seq = last_seq;
    page->items = calloc(q->limit ? q->limit : 1, sizeof(*page->items));
    if (page->items == NULL)
        rc = fs_err_set(err, FS_ENOMEM, "out of memory for a snapshot page of %zu", q->limit);
    if (rc == 0 && pos.seq > 0)
        rc = fill(s, user->id, q, &pos, page, &done, err);
    /* an empty server has nothing to snapshot: S = 0 ends it at once; after
     * the last page the feed from S goes on if anything changed since */
    if (rc == 0 && (done || pos.seq == 0)) {
        page->next_cursor = pos.seq;
        page->more = last_seq > pos.seq;
    } else if (rc == 0) {
        page->more = true;
        rc = encode_pos(&pos, page, err);
    }
    free(pos.id);
    if (rc != 0)
        srv_pull_page_clear(page);
    return rc;
}
