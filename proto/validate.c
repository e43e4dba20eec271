/*
 * validate.c: the limits every record keeps (docs/record-model.md "Limits"),
 * checked over the record kinds' descriptors: every string value, at any depth
 * of nested messages, is UTF-8 without NUL and at most FS_RECORD_TEXT_MAX
 * bytes; the values of one write take at most FS_RECORD_WRITE_MAX bytes; a
 * record's id is UTF-8.
 *
 * A local write checks the values it sets (fs_record_write); states that come
 * from elsewhere are checked whole (fs_record_validate). The checks hold per
 * value and per event, and a join only keeps events or parts of them, so the
 * join of two states that keep the limits keeps them as well.
 */
#include <stdio.h>
#include <string.h>

#include "fieldsync/utf8.h"
#include "record_internal.h"
#include "wire.h"

/* Nested messages go this deep at most (the kinds use three levels). */
#define VALUES_MAX_DEPTH 8

/* Where a value sits: the message fields it is inside, the innermost first
 * (NULL: a field of the record's own message). Spelled out only for an error:
 * formatting it for every nested message was 75,000 snprintf calls in a pull
 * of 20,000 records. */
typedef struct path {
    const char *field;
    const struct path *outer;
} path;

/* p as "address." ("" for none) in out[size]. */
static void path_text(const path *p, char *out, size_t size)
{
    if (p == NULL) {
        out[0] = '\0';
        return;
    }
    path_text(p->outer, out, size);
    size_t n = strlen(out);
    snprintf(out + n, size - n, "%s.", p->field);
}

static int text_check(const uint8_t *s, size_t n, const path *at, const char *name, char *why,
                      size_t whylen)
{
    char problem[96], where[FS_RECORD_PATH_MAX];
    if (n > FS_RECORD_TEXT_MAX)
        snprintf(problem, sizeof(problem),
                 "is %zu bytes long, over the limit of %u bytes for a text", n, FS_RECORD_TEXT_MAX);
    else if (memchr(s, '\0', n) != NULL)
        snprintf(problem, sizeof(problem), "contains a NUL byte");
    else if (!fs_utf8_valid((const char *)s, n))
        snprintf(problem, sizeof(problem), "is not valid UTF-8 text");
    else
        return 0;
    path_text(at, where, sizeof(where));
    snprintf(why, whylen, "%s%s %s", where, name, problem);
    return FS_EINVAL;
}

/* Every string of the message desc whose wire bytes are buf, at path at.
 * Fields desc does not know pass. */
static int walk(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                const path *at, int depth, char *why, size_t whylen)
{
    fs_wire_field f;
    const char *bad = NULL;
    char where[FS_RECORD_PATH_MAX];
    size_t pos = 0;
    int more;
    while ((more = fs_wire_next(buf, len, &pos, &f, &bad)) == 1) {
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(desc, f.number);
        if (fd == NULL || f.type != FS_WIRE_LEN)
            continue;
        int rc = 0;
        if (fd->type == PROTOBUF_C_TYPE_STRING) {
            rc = text_check(buf + f.value, f.end - f.value, at, fd->name, why, whylen);
        } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            path sub = {fd->name, at};
            if (depth == VALUES_MAX_DEPTH) {
                path_text(&sub, where, sizeof(where));
                snprintf(why, whylen, "%s is nested too deeply", where);
                return FS_EINVAL;
            }
            rc = walk(fd->descriptor, buf + f.value, f.end - f.value, &sub, depth + 1, why, whylen);
        }
        if (rc != 0)
            return rc;
    }
    if (more < 0) {
        path_text(at, where, sizeof(where));
        snprintf(why, whylen, "%smalformed values: %s", where, bad);
        return FS_EINVAL;
    }
    return 0;
}

int fs_values_check(const ProtobufCMessageDescriptor *desc, const uint8_t *fields, size_t len,
                    char *why, size_t whylen)
{
    if (len > FS_RECORD_WRITE_MAX) {
        snprintf(why, whylen, "the values of one write take %zu bytes, over the limit of %u", len,
                 FS_RECORD_WRITE_MAX);
        return FS_EINVAL;
    }
    return walk(desc, fields, len, NULL, 0, why, whylen);
}

int fs_record_validate(const fs_state *st, fs_err *err)
{
    char why[FS_ERR_MSG_MAX - 128];
    const ProtobufCMessageDescriptor *desc = fs_kind_descriptor(st->kind);
    if (desc == NULL)
        return fs_err_set(err, FS_EINVAL, "unknown record kind %d", (int)st->kind);
    if (!fs_utf8_valid(st->id, strlen(st->id)))
        return fs_err_set(err, FS_EINVAL, "%s id is not valid UTF-8 text", fs_kind_name(st->kind));
    for (size_t i = 0; i < st->nevents; i++)
        if (fs_values_check(desc, st->events[i].fields, st->events[i].fields_len, why,
                            sizeof(why)) != 0)
            return fs_err_set(err, FS_EINVAL, "%s %s: %s", fs_kind_name(st->kind), st->id, why);
    return 0;
}
