/*
 * wire_check.c: whether wire bytes parse as a message of a descriptor, decided
 * by walking them once, without allocating (fs_wire_parses, wire.h).
 *
 * The answer is the one protobuf_c_message_unpack(desc, NULL, len, buf) gives
 * in protobuf-c 1.4.1, whose unpack builds the whole message only for the
 * caller to free it. The rules are that function's, read from its source
 * (parse_tag_and_wiretype, scan_length_prefixed_data, count_packed_elements,
 * parse_member, parse_required_member, parse_packed_repeated_member, the
 * required-field check); tests/fuzz/record/fuzz_wire_parses.c holds the two
 * side by side on every descriptor reachable from the record kinds.
 *
 * T1  tag: a varint of at most 5 bytes, within the buffer; field number = varint >> 3 (32 bits)
 * T2  a tag whose first byte has bits 3..7 all clear is refused; a longer tag of field 0 is not
 * T3  a field number the descriptor lacks (0, above 2^29-1, any other) is unknown: accepted
 * T4  wire types 3 and 4 (groups), 6 and 7 are refused, for known and unknown fields alike
 * T5  varint (0): ends within its first 10 bytes and the buffer; the 10th byte may hold any bits
 * T6  fixed (1 and 5): 8 and 4 bytes must remain
 * T7  length (2): a varint of at most 5 bytes, value at most INT_MAX, payload within the buffer
 * T8  every field is scanned (T1-T7) and then parsed (V1-V6): all must hold, in any order
 * V1  int32 sint32 uint32 int64 sint64 uint64 enum: wire type 0, any value (no range, enum check)
 * V2  fixed32, sfixed32, float: wire type 5; fixed64, sfixed64, double: wire type 1
 * V3  bool: any wire type T4 lets through (0, 1, 2, 5): its wire type is not checked
 * V4  string, bytes: wire type 2, any bytes (no UTF-8 check, NUL allowed)
 * V5  message: wire type 2 and its payload parses by these rules, each occurrence
 * V6  oneof members parse as optional fields
 * P1  repeated scalar (or [packed]) field with wire type 2: a packed run, whatever the .proto says
 * P2  packed fixed32, sfixed32, float: length a multiple of 4; 64-bit ones: a multiple of 8
 * P3  packed varint types and bool: varints each ending within 10 bytes and within the run
 * P4  a repeated field with another wire type is one element, by V1-V5
 * R1  a required field without a default must occur (any wire type); one with a default need not
 * L1  at most 134217712 fields per message (unpack's scan slabs); more is refused
 * L2  nesting: unlimited in protobuf-c; FS_WIRE_MAX_DEPTH here, unreachable in fieldsync.proto
 * E1  empty input parses (a message with nothing set)
 * Only an allocation failure inside unpack (a huge input) can make the two differ otherwise.
 * L2 refuses what unpack would accept only for a recursive message: none of fieldsync.proto's
 * messages is (the record kinds nest three levels at most).
 */
#include <limits.h>

#include "wire.h"

/* protobuf-c's scan slabs: 16 members, then twice as many per slab, 23
 * slabs in all (MAX_SCANNED_MEMBER_SLAB); one more member is refused. */
#define UNPACK_MAX_FIELDS (16u * ((1u << 23) - 1u))
/* Longest tag and length prefix protobuf-c reads (T1, T7). */
#define TAG_MAX_BYTES 5
#define LENGTH_MAX_BYTES 5
/* A field's expected wire type when any is accepted (bool, V3). */
#define WIRE_ANY 0xff
/* An unknown field type: nothing parses as it. */
#define WIRE_NONE 0xfe

/* One field as protobuf-c scans it: [value, end) is the payload. */
typedef struct scanned {
    uint32_t number;
    uint8_t type;
    size_t value;
    size_t end;
} scanned;

/* Length of the varint at p (T5, P3): 0 when it does not end within its first
 * ten bytes and n. */
static size_t varint_len(const uint8_t *p, size_t n)
{
    size_t max = n < FS_WIRE_VARINT_MAX ? n : FS_WIRE_VARINT_MAX;
    for (size_t i = 0; i < max; i++)
        if ((p[i] & 0x80) == 0)
            return i + 1;
    return 0;
}

/* The tag at p (T1, T2): its length, or 0 when refused. */
static size_t scan_tag(const uint8_t *p, size_t n, uint32_t *number, uint8_t *type)
{
    if ((p[0] & 0xf8) == 0)
        return 0;
    *type = p[0] & 7;
    uint32_t v = (uint32_t)(p[0] & 0x7f) >> 3;
    size_t max = n < TAG_MAX_BYTES ? n : TAG_MAX_BYTES;
    for (size_t i = 0; i < max; i++) {
        if (i > 0)
            v |= (uint32_t)(p[i] & 0x7f) << (7 * i - 3);
        if ((p[i] & 0x80) == 0) {
            *number = v;
            return i + 1;
        }
    }
    return 0;
}

/* The length prefix at p (T7): its length, or 0 when refused. */
static size_t scan_length(const uint8_t *p, size_t n, size_t *value)
{
    size_t v = 0;
    size_t max = n < LENGTH_MAX_BYTES ? n : LENGTH_MAX_BYTES;
    for (size_t i = 0; i < max; i++) {
        v |= (size_t)(p[i] & 0x7f) << (7 * i);
        if ((p[i] & 0x80) == 0) {
            if (v > INT_MAX || v > n - (i + 1))
                return 0;
            *value = v;
            return i + 1;
        }
    }
    return 0;
}

/* The field at *pos, advancing *pos past it (T1-T7); false when refused. */
static bool scan_field(const uint8_t *buf, size_t len, size_t *pos, scanned *f)
{
    size_t p = *pos, n, v;
    if ((n = scan_tag(buf + p, len - p, &f->number, &f->type)) == 0)
        return false;
    p += n;
    switch (f->type) {
    case FS_WIRE_VARINT:
        if ((n = varint_len(buf + p, len - p)) == 0)
            return false;
        f->value = p;
        break;
    case FS_WIRE_I64:
    case FS_WIRE_I32:
        n = f->type == FS_WIRE_I64 ? 8 : 4;
        if (len - p < n)
            return false;
        f->value = p;
        break;
    case FS_WIRE_LEN:
        if ((n = scan_length(buf + p, len - p, &v)) == 0)
            return false;
        f->value = p + n;
        n += v;
        break;
    default:
        return false;
    }
    f->end = p + n;
    *pos = p + n;
    return true;
}

/* The wire type a value of t must have (V1-V4), WIRE_ANY or WIRE_NONE. */
static uint8_t wire_of(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_ENUM:
        return FS_WIRE_VARINT;
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return FS_WIRE_I32;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return FS_WIRE_I64;
    case PROTOBUF_C_TYPE_BOOL:
        return WIRE_ANY;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return FS_WIRE_LEN;
    default:
        return WIRE_NONE;
    }
}

/* A packed run of n bytes at p of elements of type t (P2, P3). */
static bool packed_ok(ProtobufCType t, const uint8_t *p, size_t n)
{
    switch (wire_of(t)) {
    case FS_WIRE_I32:
        return n % 4 == 0;
    case FS_WIRE_I64:
        return n % 8 == 0;
    case FS_WIRE_VARINT:
    case WIRE_ANY:
        while (n > 0) {
            size_t s = varint_len(p, n);
            if (s == 0)
                return false;
            p += s;
            n -= s;
        }
        return true;
    default: /* string, bytes, message: not packable */
        return false;
    }
}

static bool parses(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                   unsigned depth);

/* The occurrence f of the known field fd (V1-V6, P1-P4). */
static bool value_ok(const ProtobufCFieldDescriptor *fd, const uint8_t *buf, const scanned *f,
                     unsigned depth)
{
    if (fd->label == PROTOBUF_C_LABEL_REPEATED && f->type == FS_WIRE_LEN &&
        ((fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED) || wire_of(fd->type) != FS_WIRE_LEN))
        return packed_ok(fd->type, buf + f->value, f->end - f->value);
    uint8_t want = wire_of(fd->type);
    if (want == WIRE_ANY)
        return true;
    if (want != f->type)
        return false;
    if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
        return true;
    return depth < FS_WIRE_MAX_DEPTH &&
           parses(fd->descriptor, buf + f->value, f->end - f->value, depth + 1);
}

/* Whether field number id occurs in buf, which scans cleanly. */
static bool occurs(const uint8_t *buf, size_t len, uint32_t id)
{
    size_t pos = 0;
    scanned f;
    while (pos < len && scan_field(buf, len, &pos, &f))
        if (f.number == id)
            return true;
    return false;
}

/* R1. A second pass, paid only by messages with required fields (the record
 * kinds have none, proto2 `optional` throughout). */
static bool required_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        if (fd->label == PROTOBUF_C_LABEL_REQUIRED && fd->default_value == NULL &&
            !occurs(buf, len, fd->id))
            return false;
    }
    return true;
}

static bool parses(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                   unsigned depth)
{
    const ProtobufCFieldDescriptor *fd = NULL;
    size_t pos = 0, count = 0;
    scanned f;
    while (pos < len) {
        if (!scan_field(buf, len, &pos, &f) || ++count > UNPACK_MAX_FIELDS)
            return false;
        /* A field's occurrences mostly come together: look it up once. */
        if (fd == NULL || fd->id != f.number)
            fd = protobuf_c_message_descriptor_get_field(desc, f.number);
        if (fd != NULL && !value_ok(fd, buf, &f, depth))
            return false;
    }
    return required_ok(desc, buf, len);
}

bool fs_wire_parses(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len)
{
    return parses(desc, buf, len, 0);
}
