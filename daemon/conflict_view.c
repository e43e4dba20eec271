/*
 * conflict_view.c: a record's conflicts in the socket API's JSON form
 * (docs/socket-api.md, conflicts.list). Besides each sibling's value, dot and
 * time, a rep needs to know which record it is and who wrote what: the record
 * gets its name (the first of name, title, objective, next_step, description
 * that its visible value holds) and each sibling the name of the device that
 * wrote it, from the device list the server sends with pulls
 * (daemon/sync/devices.c), or "this device".
 */
#include "conflict_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json_record.h"

int fs_conflicts_load(fs_store *st, fs_kind kind, const char *id, fs_state **state, fs_conflict **c,
                      size_t *n, fs_rpc_err *e)
{
    fs_err err = {0};
    *state = NULL;
    *c = NULL;
    *n = 0;
    if (fs_store_get(st, kind, id, state, NULL, &err) != 0) {
        if (err.code == FS_ENOTFOUND)
            return fs_rpc_fail(e, FS_RPC_NOT_FOUND, "id", "no %s with id \"%.128s\"",
                               fs_kind_name(kind), id);
        return fs_rpc_fail_fs(e, &err);
    }
    if (fs_record_conflicts(*state, c, n, &err) != 0) {
        fs_state_free(*state);
        *state = NULL;
        return fs_rpc_fail_fs(e, &err);
    }
    return 0;
}

/* Unpacks the sibling's wire bytes as a message of the kind (the bytes are the
 * field's occurrences), then reads that one field. */
json_t *fs_conflict_sibling_value(fs_kind kind, const fs_conflict *c, const fs_sibling *sib)
{
    if (c->field == FS_FIELD_ALIVE)
        return json_boolean(sib->alive == FS_ALIVE_TRUE);
    if (sib->cleared || sib->value == NULL)
        return json_null();
    const ProtobufCMessageDescriptor *d = fs_kind_descriptor(kind);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, c->field);
    if (f == NULL)
        return json_null();
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, sib->value_len, sib->value);
    if (m == NULL)
        return json_null();
    json_t *v = fs_json_from_field(m, f);
    protobuf_c_message_free_unpacked(m, NULL);
    return v != NULL ? v : json_null();
}

/* The record's label, or null: the first text field of these it holds. */
static json_t *record_name(const fs_state *state)
{
    static const char *const fields[] = {"name", "title", "objective", "next_step", "description"};
    ProtobufCMessage *m = NULL;
    json_t *out = json_null();
    if (fs_record_visible(state, &m, NULL) != 0)
        return out;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && json_is_null(out); i++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(m->descriptor, fields[i]);
        const char *v = f != NULL && f->type == PROTOBUF_C_TYPE_STRING
                            ? *(char *const *)((const char *)m + f->offset)
                            : NULL;
        if (v != NULL && v[0] != '\0') {
            json_decref(out);
            out = fs_json_text(v);
        }
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return out;
}

/* "alice-laptop (alice)", "this device", or null when the server never named it. */
static json_t *device_json(const fs_device_names *names, uint64_t self, uint64_t replica)
{
    const char *user = NULL, *name = fs_device_names_get(names, replica, &user);
    char buf[300];
    if (replica == self)
        return json_string("this device");
    if (name == NULL)
        return json_null();
    if (user != NULL && user[0] != '\0')
        snprintf(buf, sizeof(buf), "%s (%s)", name, user);
    else
        snprintf(buf, sizeof(buf), "%s", name);
    return fs_json_text(buf);
}

static json_t *conflict_json(fs_kind kind, const fs_conflict *c, const fs_device_names *names,
                             uint64_t self)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "field_%u", c->field);
    json_t *sibs = json_array();
    for (size_t i = 0; sibs != NULL && i < c->nsiblings; i++) {
        const fs_sibling *s = &c->siblings[i];
        char rep[17], hlc[17], when[32];
        time_t t = (time_t)(fs_hlc_wall_ms(s->hlc) / 1000);
        struct tm tm;
        snprintf(rep, sizeof(rep), "%016" PRIx64, s->dot.replica);
        snprintf(hlc, sizeof(hlc), "%016" PRIx64, s->hlc);
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_array_append_new(
            sibs, json_pack("{s:o,s:b,s:s,s:o,s:b,s:I,s:s,s:s,s:b}", "value",
                            fs_conflict_sibling_value(kind, c, s), "cleared", s->cleared, "replica",
                            rep, "device", device_json(names, self, s->dot.replica), "this_device",
                            s->dot.replica == self, "counter", (json_int_t)s->dot.counter, "hlc",
                            hlc, "time", when, "visible", s->visible));
    }
    return json_pack("{s:s,s:I,s:o}", "field", c->name ? c->name : buf, "number",
                     (json_int_t)c->field, "siblings", sibs);
}

json_t *fs_conflict_record_json(fs_kind kind, const char *id, const fs_state *state,
                                const fs_conflict *c, size_t n, const fs_device_names *names,
                                uint64_t self)
{
    json_t *fields = json_array();
    for (size_t j = 0; fields != NULL && j < n; j++)
        json_array_append_new(fields, conflict_json(kind, &c[j], names, self));
    return json_pack("{s:s,s:o,s:o,s:o}", "kind", fs_kind_name(kind), "id", fs_json_text(id),
                     "name", record_name(state), "fields", fields);
}
