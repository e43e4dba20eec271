/*
 * fields.c: a few fields of a message read straight from its wire bytes.
 *
 * The store's list tables hold two to five fields of each record's visible
 * value. Unpacking the whole message for them (a visit with its note: every
 * string copied into a block of its own, then freed) was most of what
 * projecting a record cost; walking the bytes once and keeping where the
 * wanted fields are costs a fraction of it. The rules are protobuf's, so that
 * the result is what the unpacked message holds: the last occurrence of a
 * non-repeated field wins, and a message field's occurrences merge (and are
 * unpacked by protobuf-c itself: fs_record_read_nested).
 */
#include <stdlib.h>
#include <string.h>

#include "record_internal.h"
#include "wire.h"

_Static_assert(FS_FIELD_WIRE_VARINT == FS_WIRE_VARINT && FS_FIELD_WIRE_LEN == FS_WIRE_LEN,
               "record.h's wire types are wire.h's");

static int malformed(fs_err *err, const char *why)
{
    return fs_err_set(err, FS_ECORRUPT, "a visible value is not wire format (%s)", why);
}

static void keep(fs_field_read *out, const uint8_t *buf, const fs_wire_field *f)
{
    out->set = true;
    out->type = f->type;
    out->number = f->number_value;
    out->bytes = f->type == FS_WIRE_LEN ? buf + f->value : NULL;
    out->len = f->type == FS_WIRE_LEN ? f->end - f->value : 0;
}

int fs_record_read_fields(const uint8_t *buf, size_t len, const uint32_t *fields, size_t n,
                          fs_field_read *out, fs_err *err)
{
    size_t pos = 0;
    fs_wire_field f;
    const char *why = NULL;
    int rc;
    memset(out, 0, n * sizeof(*out));
    while ((rc = fs_wire_next(buf, len, &pos, &f, &why)) == 1)
        for (size_t i = 0; i < n; i++)
            if (fields[i] == f.number)
                keep(&out[i], buf, &f);
    return rc == 0 ? 0 : malformed(err, why);
}

/* The payloads of outer's occurrences in buf, one after the other: the bytes
 * protobuf parses as their merge. *out is inside buf for one occurrence, else
 * the malloc'd *copy; *n is 0 when outer does not occur. */
static int outer_payload(const uint8_t *buf, size_t len, uint32_t outer, const uint8_t **out,
                         size_t *n, uint8_t **copy, fs_err *err)
{
    size_t pos = 0, count = 0, w = 0;
    fs_wire_field f;
    const char *why = NULL;
    int rc;
    *out = *copy = NULL;
    *n = 0;
    for (int pass = 0; pass < 2; pass++) {
        while ((rc = fs_wire_next(buf, len, &pos, &f, &why)) == 1) {
            if (f.number != outer)
                continue;
            if (f.type != FS_WIRE_LEN)
                return malformed(err, "a message field that is not length-delimited");
            if (pass == 0) {
                *out = buf + f.value;
                *n += f.end - f.value;
                count++;
            } else {
                memcpy(*copy + w, buf + f.value, f.end - f.value);
                w += f.end - f.value;
            }
        }
        if (rc != 0)
            return malformed(err, why);
        if (count < 2)
            return 0;
        if (pass == 0 && (*out = *copy = malloc(*n)) == NULL)
            return fs_err_set(err, FS_ENOMEM, "out of memory reading a message field");
        pos = 0;
    }
    return 0;
}

/* Whether take can read field f: a non-repeated string or varint field. */
static bool readable(const ProtobufCFieldDescriptor *f)
{
    if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED ||
        (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return false;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_BOOL:
        return true;
    default:
        return false;
    }
}

/* Field f (readable) of the unpacked message m, as fs_field_read. */
static int take(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, fs_field_read *out,
                fs_err *err)
{
    const char *at = (const char *)m + f->offset;
    bool has = f->label != PROTOBUF_C_LABEL_OPTIONAL ||
               *(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)at;
        if (s == NULL || s == f->default_value)
            return 0;
        char *copy = strdup(s);
        if (copy == NULL)
            return fs_err_set(err, FS_ENOMEM, "out of memory reading a message field");
        *out = (fs_field_read){.set = true,
                               .type = FS_WIRE_LEN,
                               .bytes = (const uint8_t *)copy,
                               .len = strlen(copy),
                               .owned = copy};
        return 0;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
        out->number = *(const uint64_t *)at;
        break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_ENUM:
        out->number = (uint64_t)(int64_t) * (const int32_t *)at;
        break;
    case PROTOBUF_C_TYPE_UINT32:
        out->number = *(const uint32_t *)at;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        out->number = *(const protobuf_c_boolean *)at != 0;
        break;
    default: /* readable() lets no other type through */
        break;
    }
    out->set = has;
    out->type = FS_WIRE_VARINT;
    if (!has)
        out->number = 0;
    return 0;
}

/* Inside a message field, protobuf-c's rules decide: they take what this
 * project's walker refuses there (a field number above protobuf's limit in
 * a tag of five bytes, say). fs_record_validate refuses such values where
 * states come in, but a reader of any state then gives what its message
 * holds, as the fuzz target checks. The message fields listed are small (an
 * address, an amount). */
int fs_record_read_nested(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *desc,
                          uint32_t outer, uint32_t inner, fs_field_read *out, fs_err *err)
{
    memset(out, 0, sizeof(*out));
    const ProtobufCFieldDescriptor *fo = protobuf_c_message_descriptor_get_field(desc, outer);
    const ProtobufCFieldDescriptor *fi =
        fo != NULL && fo->type == PROTOBUF_C_TYPE_MESSAGE
            ? protobuf_c_message_descriptor_get_field(fo->descriptor, inner)
            : NULL;
    if (!readable(fi) || fo->label == PROTOBUF_C_LABEL_REPEATED)
        return fs_err_set(err, FS_EINVAL, "%s has no field %u.%u to read", desc->name, outer,
                          inner);
    const uint8_t *payload;
    uint8_t *copy;
    size_t n;
    int rc = outer_payload(buf, len, outer, &payload, &n, &copy, err);
    if (rc != 0 || payload == NULL)
        return rc;
    ProtobufCMessage *m = protobuf_c_message_unpack(fo->descriptor, NULL, n, payload);
    free(copy);
    if (m == NULL)
        return malformed(err, "a message field that does not unpack");
    rc = take(m, fi, out, err);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

void fs_field_read_clear(fs_field_read *r)
{
    if (r == NULL)
        return;
    free(r->owned);
    memset(r, 0, sizeof(*r));
}
