/*
 * wire.h (private to proto/): a small walker over protobuf wire format, for the
 * sibling values of an event, which the record model handles as bytes so that
 * fields this build does not know travel untouched.
 *
 * Everything here treats its input as hostile: every varint, length and wire
 * type is checked against the buffer, groups (wire types 3 and 4) and the
 * reserved wire types 6 and 7 are refused, and no read goes past len.
 *
 * fs_wire_parses (wire_check.c) answers a different question with its own
 * rules: whether bytes parse as a message of a descriptor, as protobuf-c's
 * unpack decides it, which is laxer than fs_wire_next in places (field 0 in a
 * long tag, a tenth varint byte over 64 bits) and stricter in others.
 */
#ifndef FS_PROTO_WIRE_H
#define FS_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define FS_WIRE_VARINT 0
#define FS_WIRE_I64 1
#define FS_WIRE_LEN 2
#define FS_WIRE_I32 5

/* Largest field number protobuf allows (2^29 - 1). */
#define FS_WIRE_MAX_FIELD 536870911u
/* Longest varint: ten bytes hold 64 bits. */
#define FS_WIRE_VARINT_MAX 10

/* One occurrence of a field: [start, end) is the whole occurrence, [value, end)
 * its payload (for FS_WIRE_LEN the bytes after the length). */
typedef struct fs_wire_field {
    uint32_t number;
    uint8_t type;
    uint64_t number_value; /* varint value, or the fixed 32/64-bit value */
    size_t start;          /* offset of the tag */
    size_t value;          /* offset of the payload (LEN: after the length) */
    size_t end;            /* offset just past the payload */
} fs_wire_field;

/* A run of consecutive occurrences of one field in a canonical buffer. */
typedef struct fs_wire_span {
    uint32_t number;
    size_t start;
    size_t end;
} fs_wire_span;

/* Reads a varint at *pos. 0, or -1 when truncated or longer than 64 bits. */
int fs_wire_get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out);
/* Writes v as a minimal varint into out (FS_WIRE_VARINT_MAX bytes); returns its length. */
size_t fs_wire_put_varint(uint8_t *out, uint64_t v);

/* Reads the field at *pos and advances *pos past it. 1 when a field was read, 0 at
 * the end of the buffer, -1 when malformed (*why says how, statically allocated). */
int fs_wire_next(const uint8_t *buf, size_t len, size_t *pos, fs_wire_field *f, const char **why);

/* Flags for fs_wire_canon. */
#define FS_WIRE_STRIP_ID 1u /* drop field 1 instead of refusing it */

/*
 * The canonical form of a buffer of fields: occurrences stably sorted by field
 * number (each field's occurrences keep their order), tags, varints and lengths
 * re-encoded minimally, field 1 refused (or dropped with FS_WIRE_STRIP_ID).
 * *out is malloc'd (NULL when *out_len is 0). Returns 0, FS_ECORRUPT with *why,
 * or FS_ENOMEM.
 */
int fs_wire_canon(const uint8_t *buf, size_t len, unsigned flags, uint8_t **out, size_t *out_len,
                  const char **why);
/* Whether buf is its own canonical form (well-formed, occurrences ascending
 * by field number, every tag, varint and length minimal, no field 1): what
 * our encoder writes and most peers send, whose canonical form is a copy. */
bool fs_wire_canonical(const uint8_t *buf, size_t len);

/* The spans of a canonical buffer, one per field number, ascending. *out is
 * malloc'd (NULL when *n is 0). Returns 0, FS_ECORRUPT or FS_ENOMEM. */
int fs_wire_spans(const uint8_t *buf, size_t len, fs_wire_span **out, size_t *n);

/* Messages nested inside a message that fs_wire_parses follows (validate.c
 * allows values the same depth). */
#define FS_WIRE_MAX_DEPTH 8

/*
 * Whether buf parses as a message of desc: exactly when protobuf-c 1.4.1's
 * protobuf_c_message_unpack(desc, NULL, len, buf) would return a message, found
 * without allocating (wire_check.c lists the rules), except that messages
 * nested more than FS_WIRE_MAX_DEPTH deep are refused.
 */
bool fs_wire_parses(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len);

#endif
