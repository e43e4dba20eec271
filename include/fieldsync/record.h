/*
 * record.h: the record model (DESIGN.md "Record model"): version vectors, the
 * hybrid logical clock, and the replicated state of one record with its local
 * write, delete, join, visible value and conflicts. Pure functions, no I/O;
 * written once for every record kind over the protobuf-c descriptors.
 *
 * State layout. A record's state holds its version vector and the write events
 * that still own a live sibling. Every write gives all the fields it sets one dot
 * (replica, counter) and one HLC, so an event stores them once, followed by the
 * sibling values of that write in the record kind's own protobuf wire format.
 * "Sibling of field f with dot d" = field f inside the event whose dot is d.
 * Field 1 (`id`) is never stored in events: it lives in fs_state.id.
 *
 * Canonical form, kept by every function here: vv ascending by replica with no
 * zero counters; events ascending by (replica, counter); each event's fields
 * ascending by number with a field's occurrences contiguous; cleared ascending;
 * no event without a live sibling. Equal states encode to equal bytes.
 */
#ifndef FIELDSYNC_RECORD_H
#define FIELDSYNC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync.pb-c.h"

/* ------------------------------------------------------------------------- */
/* Record kinds */

typedef Fieldsync__RecordKind fs_kind;

#define FS_KIND_MIN FIELDSYNC__RECORD_KIND__ACCOUNT
#define FS_KIND_MAX FIELDSYNC__RECORD_KIND__TRANSACTION

/* The plain message descriptor of kind, or NULL for an unknown kind. */
const ProtobufCMessageDescriptor *fs_kind_descriptor(fs_kind kind);
/* Lower-case singular name ("account", "visit"), or NULL for an unknown kind. */
const char *fs_kind_name(fs_kind kind);
/* The kind named name (as fs_kind_name gives it), or 0 when there is none. */
fs_kind fs_kind_from_name(const char *name);

/* The reserved `alive` pseudo-field, as conflicts name it. */
#define FS_FIELD_ALIVE 0
/* Field number of `id` in every record kind. */
#define FS_FIELD_ID 1

/* ------------------------------------------------------------------------- */
/* Limits (docs/record-model.md "Limits") */

/* Longest string value, in bytes (each element of a repeated field counts alone). */
#define FS_RECORD_TEXT_MAX (64u << 10)
/* Most bytes the values one write sets may take, encoded. */
#define FS_RECORD_WRITE_MAX (1u << 20)

/* ------------------------------------------------------------------------- */
/* Hybrid logical clock: Unix milliseconds << 16 | a 16-bit logical counter. */

typedef struct fs_hlc {
    uint64_t last; /* the greatest timestamp issued or observed */
} fs_hlc;

#define FS_HLC_LOGICAL_BITS 16

/* A timestamp for a local event at wall clock wall_ms: greater than any issued
 * or observed before, and >= wall_ms << 16. */
uint64_t fs_hlc_now(fs_hlc *clock, uint64_t wall_ms);
/* Takes a remote timestamp into account, so later local events order after it. */
void fs_hlc_observe(fs_hlc *clock, uint64_t remote);
/* The wall-clock milliseconds part of a timestamp. */
uint64_t fs_hlc_wall_ms(uint64_t hlc);

/* ------------------------------------------------------------------------- */
/* Version vectors */

typedef struct fs_dot {
    uint64_t replica;
    uint64_t counter;
} fs_dot;

typedef struct fs_vv {
    fs_dot *entries; /* ascending by replica, counters > 0 */
    size_t n;
    size_t cap;
} fs_vv;

typedef enum fs_vv_order {
    FS_VV_EQUAL,
    FS_VV_BEFORE, /* a saw strictly less than b */
    FS_VV_AFTER,  /* a saw strictly more than b */
    FS_VV_CONCURRENT,
} fs_vv_order;

void fs_vv_init(fs_vv *vv);
void fs_vv_clear(fs_vv *vv);
/* vv[replica] (0 when absent). */
uint64_t fs_vv_get(const fs_vv *vv, uint64_t replica);
/* Sets vv[replica] = counter (counter 0 removes the entry). */
int fs_vv_set(fs_vv *vv, uint64_t replica, uint64_t counter);
/* True when vv has seen the event dot, i.e. vv[dot.replica] >= dot.counter. */
bool fs_vv_covers(const fs_vv *vv, fs_dot dot);
fs_vv_order fs_vv_compare(const fs_vv *a, const fs_vv *b);
/* into = max(into, other) entry by entry. */
int fs_vv_merge(fs_vv *into, const fs_vv *other);
int fs_vv_copy(fs_vv *out, const fs_vv *src);

/* ------------------------------------------------------------------------- */
/* Record state */

/* fs_event.alive: whether the event holds a live sibling of `alive`, and which. */
#define FS_ALIVE_NONE (-1)
#define FS_ALIVE_FALSE 0
#define FS_ALIVE_TRUE 1

typedef struct fs_event {
    fs_dot dot;
    uint64_t hlc;
    int alive;       /* FS_ALIVE_NONE, FS_ALIVE_FALSE or FS_ALIVE_TRUE */
    uint8_t *fields; /* wire-format sibling values of this write */
    size_t fields_len;
    uint32_t *cleared; /* fields this write unset, ascending */
    size_t ncleared;
} fs_event;

/* Longest record id, in bytes (ids are UUIDs in practice). */
#define FS_RECORD_ID_MAX 256
/* Largest encoded RecordState fs_state_decode accepts (FS_ETOOBIG beyond). */
#define FS_STATE_MAX_BYTES (16u << 20)

typedef struct fs_state {
    fs_kind kind;
    char *id;
    fs_vv vv;
    fs_event *events; /* ascending by dot */
    size_t nevents;
} fs_state;

/* A new empty state (vv empty, no events: not visible) for kind and id
 * (1 to FS_RECORD_ID_MAX bytes; FS_EINVAL otherwise). Replica id 0 is reserved:
 * it is never minted, and writes and decoding refuse it. */
int fs_state_new(fs_state **out, fs_kind kind, const char *id, fs_err *err);
void fs_state_free(fs_state *st);
int fs_state_copy(fs_state **out, const fs_state *src, fs_err *err);

/* Decodes a RecordState. Rejects (FS_ECORRUPT, with the reason in err) unknown
 * kinds, a missing id, a dot its own vv does not cover, duplicate dots or replicas,
 * malformed event fields, field 1 inside an event; accepts non-canonical order and
 * returns the canonical form. */
int fs_state_decode(fs_state **out, const uint8_t *buf, size_t len, fs_err *err);
/* Decodes a state this program encoded and stored (a device's own encrypted
 * store, which authenticates every page): the checks of fs_state_decode except
 * the two that re-parse every event's values (canonical order, parsing as the
 * kind's message), which its encoding already guarantees; they were two thirds
 * of decoding a note. Safe on any bytes, but bytes that did not come from
 * fs_state_encode may give a non-canonical state, which the record functions
 * refuse (FS_ECORRUPT) rather than misread. Never for bytes from a peer, nor
 * for the server's database, which outlives versions and other hands touch. */
int fs_state_decode_stored(fs_state **out, const uint8_t *buf, size_t len, fs_err *err);
/* Canonical encoding. *out is malloc'd; the caller frees it. */
int fs_state_encode(const fs_state *st, uint8_t **out, size_t *len, fs_err *err);
/* Conversion to and from the generated message (for embedding in other messages).
 * fs_state_from_pb validates and canonicalises exactly as fs_state_decode.
 * fs_state_to_pb fills a message whose pointers borrow from st, with two malloc'd
 * storage blocks (*vv_storage, *ev_storage, NULL when empty) released by
 * fs_state_pb_storage_free (nevents is accepted for symmetry and not needed). */
int fs_state_from_pb(fs_state **out, const Fieldsync__RecordState *pb, fs_err *err);
int fs_state_to_pb(const fs_state *st, Fieldsync__RecordState *pb,
                   Fieldsync__VersionVectorEntry **vv_storage, Fieldsync__Event **ev_storage,
                   fs_err *err);
void fs_state_pb_storage_free(Fieldsync__VersionVectorEntry *vv_storage,
                              Fieldsync__Event *ev_storage, size_t nevents);

/*
 * Local write at replica: fields (wire format of st's kind, any order; field 1
 * ignored) are the values set, cleared the field numbers unset. One new event
 * with dot (replica, vv[replica] + 1) and hlc gets a sibling of every such field
 * and `alive` = true, superseding every sibling of those fields the state held.
 * A write of no field still revives the record (alive = true).
 * FS_EINVAL, with st unchanged, for malformed wire format, a value that does not
 * parse as the kind's field type, values outside the limits (above), a field
 * both set and cleared, a cleared number outside 2 .. 2^29-1, replica 0, or an
 * exhausted counter. hlc comes from the
 * caller's fs_hlc (fs_hlc_now after observing the HLCs of joined states).
 */
int fs_record_write(fs_state *st, uint64_t replica, uint64_t hlc, const uint8_t *fields,
                    size_t fields_len, const uint32_t *cleared, size_t ncleared, fs_err *err);
/* The same with the set fields taken from a (partial) plain message of st's kind. */
int fs_record_write_msg(fs_state *st, uint64_t replica, uint64_t hlc,
                        const ProtobufCMessage *fields, const uint32_t *cleared, size_t ncleared,
                        fs_err *err);
/* Local delete: a write of `alive` = false only. */
int fs_record_delete(fs_state *st, uint64_t replica, uint64_t hlc, fs_err *err);

/*
 * Join: *out = join(a, b). Commutative, associative, idempotent.
 * vv = max(a.vv, b.vv); a sibling of a is kept if b holds the same sibling
 * (field and dot) or b.vv does not cover its dot; a sibling of b is kept if a.vv
 * does not cover its dot. a and b must name the same kind and id (FS_EINVAL).
 * When a and b hold one dot with different contents (a faulty or hostile peer),
 * the smaller wins per sibling (a clearing before a value, values by bytes, alive
 * false before true) and the event keeps the smaller HLC, so the join still does
 * not depend on argument order. Output is canonical.
 */
int fs_record_join(fs_state **out, const fs_state *a, const fs_state *b, fs_err *err);
/* In place: into = join(into, other). */
int fs_record_join_into(fs_state *into, const fs_state *other, fs_err *err);

/*
 * Whether st keeps the limits: its id and every string value of every sibling
 * (nested messages included) valid UTF-8 without NUL, each string value at most
 * FS_RECORD_TEXT_MAX bytes, the values of each event at most FS_RECORD_WRITE_MAX.
 * FS_EINVAL naming the record and the field otherwise. Local writes never make
 * a state that fails (fs_record_write refuses such values) and a join of states
 * that keep the limits keeps them: check states where they arrive from
 * elsewhere (a push, a pull page, a push's answer). fs_state_decode does not:
 * states stored before the limits existed must still load.
 */
int fs_record_validate(const fs_state *st, fs_err *err);

/*
 * Whether a and b agree on every write both hold: for each dot in both, the
 * same HLC and, for every sibling both still hold, the same value, clearing
 * or `alive` (they may differ in which siblings were superseded). 0 when they
 * do; FS_ECONFLICT with *dot set to the first dot they disagree on, which
 * only a faulty or hostile peer produces (see fs_record_join); FS_ECORRUPT or
 * FS_ENOMEM, with err, when a state is not canonical or memory runs out.
 */
int fs_record_agree(const fs_state *a, const fs_state *b, fs_dot *dot, fs_err *err);

/* True if any sibling of `alive` is true. */
bool fs_record_alive(const fs_state *st);
/* The greatest HLC of any event (0 for an empty state). */
uint64_t fs_record_hlc(const fs_state *st);

/*
 * Visible value: every field takes its sibling with the greatest (hlc, replica,
 * counter); a cleared winner leaves the field unset. *out is the plain message
 * of st's kind (with id set), to be freed with protobuf_c_message_free_unpacked;
 * fields unknown to this build are kept in its unknown fields.
 */
int fs_record_visible(const fs_state *st, ProtobufCMessage **out, fs_err *err);
/* The visible value as canonical wire bytes (malloc'd), id (field 1) first,
 * without decoding. */
int fs_record_visible_bytes(const fs_state *st, uint8_t **out, size_t *len, fs_err *err);
/* The visible value of one string field as a C string (malloc'd; NULL when
 * unset or cleared), what fs_record_visible's message holds in it, without
 * decoding the other fields. */
int fs_record_visible_string(const fs_state *st, uint32_t field, char **out, fs_err *err);

/* Wire types of fs_field_read.type that the record kinds' fields use. */
#define FS_FIELD_WIRE_VARINT 0
#define FS_FIELD_WIRE_LEN 2

/* A field read from a message's wire bytes without unpacking the message. */
typedef struct fs_field_read {
    bool set;             /* the field occurs */
    uint8_t type;         /* its wire type: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit */
    uint64_t number;      /* a varint's or a fixed field's value */
    const uint8_t *bytes; /* length-delimited: the payload, inside the bytes read or owned */
    size_t len;
    void *owned; /* what fs_field_read_clear frees (fs_record_read_nested's strings) */
} fs_field_read;

/* Reads fields[0..n) of the message buf[0..len) (fs_record_visible_bytes, say)
 * in one pass, each from its last occurrence: what protobuf's parser keeps of
 * a non-repeated scalar or string field. A message field's occurrences merge
 * instead: read a field inside one with fs_record_read_nested. 0, or
 * FS_ECORRUPT with err when buf is not wire format. */
int fs_record_read_fields(const uint8_t *buf, size_t len, const uint32_t *fields, size_t n,
                          fs_field_read *out, fs_err *err);
/* Field inner (a string or a varint field) of the message field outer of a
 * message of type desc in buf: outer's occurrences merged and unpacked by
 * protobuf-c, as fs_record_visible's message holds it. A string is copied
 * into out->owned. 0; FS_ECORRUPT when outer's payload does not unpack;
 * FS_EINVAL when outer or inner is not such a field; FS_ENOMEM. */
int fs_record_read_nested(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *desc,
                          uint32_t outer, uint32_t inner, fs_field_read *out, fs_err *err);
void fs_field_read_clear(fs_field_read *r);

/* One sibling of a field in conflict. */
typedef struct fs_sibling {
    fs_dot dot;
    uint64_t hlc;
    bool cleared;         /* this write unset the field */
    int alive;            /* for FS_FIELD_ALIVE: FS_ALIVE_TRUE or FS_ALIVE_FALSE, else NONE */
    const uint8_t *value; /* wire-format occurrences of the field (borrowed from st) */
    size_t value_len;
    bool visible; /* the winner shown by fs_record_visible; for alive, every sibling
                     equal to fs_record_alive (any true sibling keeps the record) */
} fs_sibling;

typedef struct fs_conflict {
    uint32_t field;   /* field number, or FS_FIELD_ALIVE */
    const char *name; /* field name from the descriptor, "alive", or NULL if unknown */
    fs_sibling *siblings;
    size_t nsiblings; /* >= 2, ascending by (hlc, replica, counter) */
} fs_conflict;

/* Every field with more than one live sibling, ascending by field number (alive
 * first). Free with fs_conflicts_free. */
int fs_record_conflicts(const fs_state *st, fs_conflict **out, size_t *n, fs_err *err);
void fs_conflicts_free(fs_conflict *c, size_t n);

#endif
