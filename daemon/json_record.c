/*
 * json_record.c: records <-> JSON over the protobuf-c descriptors (see
 * json_record.h). Nothing here knows a record kind: every field is reached by
 * its descriptor's offset, presence flag and type, so a field added to the
 * .proto appears in the socket API without code changes.
 *
 * Messages built here are allocated with malloc throughout, so that
 * protobuf_c_message_free_unpacked(msg, NULL) frees them like unpacked ones.
 *
 * Text leaves as valid UTF-8 whatever the store holds (fs_json_text): a record
 * stored before the record limits existed must not make an answer that cannot
 * be encoded.
 */
#include "json_record.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/calendar.h"
#include "fieldsync/utf8.h"

#define FS_JSON_MAX_DEPTH 8

/* ------------------------------------------------------------------------- */
/* Enums and dates */

int fs_json_enum_from_name(const ProtobufCEnumDescriptor *e, const char *name, int *value)
{
    char upper[64];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(upper))
        return -1;
    for (size_t i = 0; i <= n; i++)
        upper[i] = (char)toupper((unsigned char)name[i]);
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(e, upper);
    if (v == NULL)
        return -1;
    *value = v->value;
    return 0;
}

const char *fs_json_enum_name(const ProtobufCEnumDescriptor *e, int value, char *buf, size_t n)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(e, value);
    if (v == NULL || strlen(v->name) >= n)
        return NULL;
    size_t i = 0;
    for (; v->name[i] != '\0'; i++)
        buf[i] = (char)tolower((unsigned char)v->name[i]);
    buf[i] = '\0';
    return buf;
}

bool fs_json_is_date_field(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "date") == 0 || (n > 5 && strcmp(name + n - 5, "_date") == 0);
}

bool fs_json_valid_date(const char *s)
{
    return fs_calendar_valid(s);
}

/* ------------------------------------------------------------------------- */
/* Layout helpers */

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static void *field_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (char *)m + f->offset;
}

static void *quant_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (char *)m + f->quantifier_offset;
}

static bool is_pointer_type(ProtobufCType t)
{
    return t == PROTOBUF_C_TYPE_STRING || t == PROTOBUF_C_TYPE_MESSAGE;
}

static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(size_t *)quant_ptr(m, f) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(uint32_t *)quant_ptr(m, f) == f->id;
    if (is_pointer_type(f->type))
        return *(void **)field_ptr(m, f) != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(protobuf_c_boolean *)quant_ptr(m, f) != 0;
    return true;
}

/* ------------------------------------------------------------------------- */
/* Message -> JSON */

json_t *fs_json_text(const char *s)
{
    size_t n = strlen(s);
    if (fs_utf8_valid(s, n))
        return json_stringn_nocheck(s, n);
    char *fixed = fs_utf8_repair(s, n, &n);
    json_t *j = fixed != NULL ? json_stringn_nocheck(fixed, n) : NULL;
    free(fixed);
    return j;
}

json_t *fs_json_text_or_null(const char *s)
{
    return s != NULL ? fs_json_text(s) : json_null();
}

static json_t *scalar_to_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    char buf[64];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = *(const uint64_t *)p;
        if (v <= INT64_MAX)
            return json_integer((json_int_t)v);
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return json_string(buf);
    }
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const char *name = fs_json_enum_name(f->descriptor, v, buf, sizeof(buf));
        return name != NULL ? json_string(name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return fs_json_text(s != NULL ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        json_t *s = json_array(); /* bytes as an array of octets: no kind uses them */
        for (size_t i = 0; s != NULL && i < b->len; i++)
            json_array_append_new(s, json_integer(b->data[i]));
        return s;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub != NULL ? fs_json_from_msg(sub) : json_object();
    }
    }
    return json_null();
}

json_t *fs_json_from_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (!field_present(m, f))
        return NULL;
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return scalar_to_json(f, field_ptr(m, f));
    size_t n = *(size_t *)quant_ptr(m, f);
    const char *arr = *(char **)field_ptr(m, f);
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, scalar_to_json(f, arr + i * elem_size(f->type))) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *fs_json_from_msg(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *o = json_object();
    for (unsigned i = 0; o != NULL && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!field_present(m, f))
            continue;
        json_t *v = fs_json_from_field(m, f);
        if (v == NULL || json_object_set_new(o, f->name, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* ------------------------------------------------------------------------- */
/* JSON -> message */

typedef struct conv {
    char *field; /* dotted path of the field being converted */
    fs_err *err;
    int depth;
} conv;

static int bad(conv *c, const char *fmt, const char *detail)
{
    return fs_err_set(c->err, FS_EINVAL, fmt, c->field, detail);
}

static int msg_from_json(conv *c, const ProtobufCMessageDescriptor *d, json_t *obj,
                         ProtobufCMessage **out);

static int int_in_range(conv *c, json_t *v, json_int_t lo, json_int_t hi, json_int_t *out)
{
    if (!json_is_integer(v))
        return bad(c, "%s: expected an integer%s", "");
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return bad(c, "%s: integer out of range%s", "");
    *out = x;
    return 0;
}

static int string_to(conv *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
    if (!json_is_string(v))
        return bad(c, "%s: expected a string%s", "");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (memchr(s, '\0', n) != NULL)
        return bad(c, "%s: strings may not contain NUL%s", "");
    if (fs_json_is_date_field(f->name) && !fs_json_valid_date(s))
        return bad(c, "%s: \"%s\" is not a date as YYYY-MM-DD", s);
    char *copy = strndup(s, n);
    if (copy == NULL)
        return fs_err_set(c->err, FS_ENOMEM, "out of memory");
    *(char **)p = copy;
    return 0;
}

static int enum_to(conv *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
    int value;
    if (!json_is_string(v))
        return bad(c, "%s: expected an enum value name as a string%s", "");
    if (fs_json_enum_from_name(f->descriptor, json_string_value(v), &value) != 0)
        return bad(c, "%s: \"%s\" is not one of its values (see docs/socket-api.md)",
                   json_string_value(v));
    *(int *)p = value;
    return 0;
}

static int scalar_from_json(conv *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
    json_int_t x;
    int rc = 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if ((rc = int_in_range(c, v, INT32_MIN, INT32_MAX, &x)) == 0)
            *(int32_t *)p = (int32_t)x;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((rc = int_in_range(c, v, 0, UINT32_MAX, &x)) == 0)
            *(uint32_t *)p = (uint32_t)x;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if ((rc = int_in_range(c, v, INT64_MIN, INT64_MAX, &x)) == 0)
            *(int64_t *)p = (int64_t)x;
        return rc;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if ((rc = int_in_range(c, v, 0, INT64_MAX, &x)) == 0)
            *(uint64_t *)p = (uint64_t)x;
        return rc;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return bad(c, "%s: expected a number%s", "");
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)p = (float)json_number_value(v);
        else
            *(double *)p = json_number_value(v);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return bad(c, "%s: expected true or false%s", "");
        *(protobuf_c_boolean *)p = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return enum_to(c, f, v, p);
    case PROTOBUF_C_TYPE_STRING:
        return string_to(c, f, v, p);
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!json_is_object(v))
            return bad(c, "%s: expected an object%s", "");
        return msg_from_json(c, f->descriptor, v, (ProtobufCMessage **)p);
    case PROTOBUF_C_TYPE_BYTES:
        break;
    }
    return bad(c, "%s: this field type cannot be set over the socket%s", "");
}

static int repeated_from_json(conv *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                              json_t *v)
{
    if (!json_is_array(v))
        return bad(c, "%s: expected an array%s", "");
    size_t n = json_array_size(v), es = elem_size(f->type);
    char *arr = calloc(n > 0 ? n : 1, es);
    if (arr == NULL)
        return fs_err_set(c->err, FS_ENOMEM, "out of memory");
    /* Owned by m from here: free_unpacked frees the first `count` elements. */
    *(char **)field_ptr(m, f) = arr;
    size_t base = strlen(c->field);
    for (size_t i = 0; i < n; i++) {
        snprintf(c->field + base, FS_JSON_FIELD_MAX - base, "[%zu]", i);
        int rc = scalar_from_json(c, f, json_array_get(v, i), arr + i * es);
        if (rc != 0)
            return rc;
        *(size_t *)quant_ptr(m, f) = i + 1;
    }
    c->field[base] = '\0';
    return 0;
}

static int set_field(conv *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, json_t *v)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return repeated_from_json(c, m, f, v);
    int rc = scalar_from_json(c, f, v, field_ptr(m, f));
    if (rc != 0)
        return rc;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)quant_ptr(m, f) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_pointer_type(f->type))
        *(protobuf_c_boolean *)quant_ptr(m, f) = 1;
    return 0;
}

static ProtobufCMessage *msg_alloc(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = malloc(d->sizeof_message);
    if (m != NULL)
        d->message_init(m);
    return m;
}

/* Appends ".name" (or "name" at the top) to the path; returns the old length. */
static size_t path_push(conv *c, const char *name)
{
    size_t base = strlen(c->field);
    snprintf(c->field + base, FS_JSON_FIELD_MAX - base, "%s%s", base > 0 ? "." : "", name);
    return base;
}

static int msg_from_json(conv *c, const ProtobufCMessageDescriptor *d, json_t *obj,
                         ProtobufCMessage **out)
{
    if (++c->depth > FS_JSON_MAX_DEPTH)
        return bad(c, "%s: nested too deeply%s", "");
    ProtobufCMessage *m = msg_alloc(d);
    if (m == NULL)
        return fs_err_set(c->err, FS_ENOMEM, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t base = path_push(c, key);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
        int rc = f == NULL ? bad(c, "%s: no such field in %s", d->short_name) : 0;
        if (rc == 0 && !json_is_null(v))
            rc = set_field(c, m, f, v);
        if (rc != 0) {
            protobuf_c_message_free_unpacked(m, NULL);
            return rc;
        }
        c->field[base] = '\0';
    }
    c->depth--;
    *out = m;
    return 0;
}

static bool clears(json_t *v)
{
    return json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0);
}

int fs_json_to_msg(ProtobufCMessage **out, uint32_t *cleared, size_t *ncleared,
                   const ProtobufCMessageDescriptor *d, json_t *obj, char *field, fs_err *err)
{
    field[0] = '\0';
    *out = NULL;
    *ncleared = 0;
    conv c = {.field = field, .err = err};
    if (!json_is_object(obj))
        return fs_err_set(err, FS_EINVAL, "record: expected an object");
    ProtobufCMessage *m = NULL;
    int rc = msg_from_json(&c, d, obj, &m);
    if (rc != 0)
        return rc;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
        if (f->id != 1 && clears(v))
            cleared[(*ncleared)++] = f->id;
    }
    /* The id travels beside the record, never inside it. */
    const ProtobufCFieldDescriptor *idf = protobuf_c_message_descriptor_get_field(d, 1);
    if (idf != NULL && idf->type == PROTOBUF_C_TYPE_STRING) {
        char **idp = field_ptr(m, idf);
        free(*idp);
        *idp = NULL;
    }
    field[0] = '\0';
    *out = m;
    return 0;
}
