/*
 * sync_wire.h: the sync client's side of the wire format (wire.c, gzip.c):
 * building request bodies and decoding and validating every answer the server
 * sends, before anything of it reaches the store. Pure functions, no I/O, so
 * the fuzz targets drive exactly what the engine runs.
 */
#ifndef FS_SYNC_WIRE_H
#define FS_SYNC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/outbox.h"
#include "fieldsync/record.h"
#include "fieldsync/secret.h"
#include "fieldsync/store.h"

/* Device token size (protocol.md: 32 random bytes). */
#define FS_SYNC_TOKEN_BYTES 32
/* Longest user name / server id accepted from the server. */
#define FS_SYNC_NAME_MAX 127
/* Longest snapshot position accepted from the server (protocol.md, "Snapshot"). */
#define FS_SYNC_SNAPSHOT_MAX 1024

/* ------------------------------------------------------------------------- */
/* Requests (bodies malloc'd, caller frees) */

/* prior_replica: the replica id the store writes with now (provisional, or an
 * earlier enrollment's), so the server lets this device push its writes. */
int fs_sync_encode_enroll(const char *code, const char *device_name, uint64_t prior_replica,
                          uint8_t **out, size_t *len, fs_err *err);
/*
 * A PushRequest of the batch's first items: as many as fit in max_bytes (at
 * least one). *nsent says how many went in; the rest go back to pending when
 * the batch is completed with nsent results. It takes "unchanged" answers.
 */
int fs_sync_encode_push(const fs_outbox_batch *batch, size_t max_bytes, size_t *nsent,
                        uint8_t **out, size_t *len, fs_err *err);

/* What a pull asks for. */
typedef struct fs_sync_pull_req {
    uint64_t cursor;
    uint32_t limit;
    bool full;
    const uint8_t *devices_digest; /* DeviceList.digest of the names held (NULL: none) */
    size_t digest_len;
    /* a pull from cursor 0 that takes or goes on with a snapshot: its
     * position (snapshot_len bytes, possibly 0); NULL: none */
    const uint8_t *snapshot;
    size_t snapshot_len;
} fs_sync_pull_req;

int fs_sync_encode_pull(const fs_sync_pull_req *rq, uint8_t **out, size_t *len, fs_err *err);

/* ------------------------------------------------------------------------- */
/* Answers */

typedef struct fs_sync_enrollment {
    uint64_t replica;
    fs_secret *token; /* FS_SYNC_TOKEN_BYTES */
    char user[FS_SYNC_NAME_MAX + 1];
    char server_id[FS_SYNC_NAME_MAX + 1];
    bool read_only; /* the user writes nothing (a manager) */
} fs_sync_enrollment;

/* Decodes an EnrollResponse: replica id present and non-zero, a 32-byte token,
 * a user name; the token's copy in ordinary memory is wiped. */
int fs_sync_decode_enroll(const uint8_t *buf, size_t len, fs_sync_enrollment *out, fs_err *err);
void fs_sync_enrollment_clear(fs_sync_enrollment *e);

typedef struct fs_sync_push_answer {
    fs_outbox_result *results; /* one per sent item */
    fs_state **joined;         /* results[i].joined points here (NULL when refused) */
    char **messages;           /* refusal messages */
    size_t n;
    size_t refused;
    size_t skipped;                /* joined states outside the record limits */
    char skip_why[FS_ERR_MSG_MAX]; /* the first one's reason */
} fs_sync_push_answer;

/*
 * Decodes a PushResponse and checks it answers exactly the first nsent items of
 * batch: one result per item, in order, each naming the item's record, each
 * a joined state of that record (validated as fs_state_from_pb does),
 * "unchanged" (results[i].joined is then the state sent, and unchanged set) or
 * a refusal. Anything else is FS_ECORRUPT and nothing of it may be applied. A
 * joined state outside the record limits (fs_record_validate) acknowledges the
 * item without being applied: results[i].joined is then the state sent, and
 * the item is counted in skipped.
 */
int fs_sync_decode_push(const uint8_t *buf, size_t len, const fs_outbox_batch *batch, size_t nsent,
                        fs_sync_push_answer *out, fs_err *err);
void fs_sync_push_answer_clear(fs_sync_push_answer *a);

typedef struct fs_sync_pull_page {
    fs_state **states;
    size_t nstates;
    fs_ref *removals;
    size_t nremovals;
    uint64_t next_cursor;
    bool more;
    bool resync_required;
    size_t skipped;                /* states left out: malformed or outside the limits */
    char skip_why[FS_ERR_MSG_MAX]; /* the first one's reason */
    bool has_total;                /* a pull from 0: how many states it gives in all */
    uint64_t total;
    int read_only;    /* 1: the user writes nothing, 0: writes, -1: not said */
    uint8_t *devices; /* an encoded DeviceList (names checked), or NULL */
    size_t devices_len;
    uint8_t *snapshot; /* a snapshot goes on: its next position, else NULL */
    size_t snapshot_len;
} fs_sync_pull_page;

/*
 * Decodes a PullResponse to the page asked for at cursor (with the snapshot
 * position sent, NULL when none): removals with a known kind and an id, at
 * most FS_STORE_APPLY_MAX states and removals, next_cursor present and not
 * behind cursor, and a page that says `more` must move the cursor (else the
 * client would ask for it forever); a snapshot page must have been asked for,
 * say more, keep next_cursor at cursor and move the position instead;
 * otherwise the page is FS_ECORRUPT. Each state is checked alone: one that
 * does not decode or is outside the record limits is left out of states and
 * counted in skipped. resync_required needs nothing else. A device list with
 * a device lacking its replica id, or a name that is not UTF-8 or over
 * FS_SYNC_NAME_MAX bytes, is left out (devices NULL), not the page.
 */
int fs_sync_decode_pull(const uint8_t *buf, size_t len, uint64_t cursor, const uint8_t *snapshot,
                        size_t snapshot_len, fs_sync_pull_page *out, fs_err *err);
void fs_sync_pull_page_clear(fs_sync_pull_page *p);

/* An ErrorResponse's code and message (printable ASCII, truncated to fit); both
 * empty when the body is not one. */
void fs_sync_decode_error(const uint8_t *buf, size_t len, char *code, size_t code_size, char *msg,
                          size_t msg_size);

#endif
