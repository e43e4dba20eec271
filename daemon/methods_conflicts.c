/*
 * methods_conflicts.c: conflicts.list and conflicts.resolve
 * (docs/socket-api.md). A conflict is a field with more than one live sibling
 * (proto/ finds them); resolving one is an ordinary local write of the chosen
 * value, which supersedes every sibling it saw, so it syncs like any edit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_record.h"
#include "rpc.h"

static void hex64(uint64_t v, char out[17])
{
    snprintf(out, 17, "%016" PRIx64, v);
}

static void iso_time(uint64_t hlc, char out[32])
{
    time_t t = (time_t)(fs_hlc_wall_ms(hlc) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A sibling's value as JSON: unpack its wire bytes as a message of the kind
 * (the bytes are the field's occurrences), then read that one field. */
static json_t *sibling_value(fs_kind kind, const fs_conflict *c, const fs_sibling *sib)
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

static json_t *conflict_json(fs_kind kind, const fs_conflict *c)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "field_%u", c->field);
    json_t *sibs = json_array();
    for (size_t i = 0; sibs != NULL && i < c->nsiblings; i++) {
        const fs_sibling *s = &c->siblings[i];
        char rep[17], hlc[17], when[32];
        hex64(s->dot.replica, rep);
        hex64(s->hlc, hlc);
        iso_time(s->hlc, when);
        json_array_append_new(sibs, json_pack("{s:o,s:b,s:s,s:I,s:s,s:s,s:b}", "value",
                                              sibling_value(kind, c, s), "cleared", s->cleared,
                                              "replica", rep, "counter", (json_int_t)s->dot.counter,
                                              "hlc", hlc, "time", when, "visible", s->visible));
    }
    return json_pack("{s:s,s:I,s:o}", "field", c->name ? c->name : buf, "number",
                     (json_int_t)c->field, "siblings", sibs);
}

/* The state's conflicts; *state and *c owned by the caller. */
static int load_conflicts(fs_store *st, fs_kind kind, const char *id, fs_state **state,
                          fs_conflict **c, size_t *n, fs_rpc_err *e)
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

static int m_list(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"limit", NULL};
    long long limit = 100;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_int(params, "limit", 1, 1000, &limit, e) != 0 ||
        fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_ref *refs = NULL;
    size_t nrefs = 0;
    fs_err err = {0};
    if (fs_store_conflicts(st, (size_t)limit, &refs, &nrefs, &err) != 0)
        return fs_rpc_fail_fs(e, &err);
    json_t *records = json_array();
    int rc = 0;
    for (size_t i = 0; rc == 0 && records != NULL && i < nrefs; i++) {
        fs_state *state;
        fs_conflict *c;
        size_t n;
        if ((rc = load_conflicts(st, refs[i].kind, refs[i].id, &state, &c, &n, e)) != 0)
            break;
        json_t *fields = json_array();
        for (size_t j = 0; fields != NULL && j < n; j++)
            json_array_append_new(fields, conflict_json(refs[i].kind, &c[j]));
        json_array_append_new(records,
                              json_pack("{s:s,s:o,s:o}", "kind", fs_kind_name(refs[i].kind), "id",
                                        fs_json_text(refs[i].id), "fields", fields));
        fs_conflicts_free(c, n);
        fs_state_free(state);
    }
    fs_refs_free(refs, nrefs);
    if (rc != 0) {
        json_decref(records);
        return -1;
    }
    *result = json_pack("{s:o}", "records", records);
    return 0;
}

/* Writes the chosen alive value: true keeps the record, false deletes it. */
static int resolve_alive(fs_daemon *d, fs_store *st, fs_kind kind, const char *id, bool alive,
                         fs_rpc_err *e)
{
    fs_err err = {0};
    int rc;
    if (alive) {
        const ProtobufCMessageDescriptor *desc = fs_kind_descriptor(kind);
        ProtobufCMessage *empty = malloc(desc->sizeof_message);
        if (empty == NULL)
            return fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
        desc->message_init(empty);
        rc = fs_store_put(st, kind, id, empty, NULL, 0, &err);
        free(empty);
    } else {
        rc = fs_store_delete(st, kind, id, &err);
    }
    if (rc != 0)
        return fs_rpc_fail_fs(e, &err);
    fs_rpc_notify_changed(d, kind, id, !alive);
    return 0;
}

/* Writes the value of field (a JSON value, or a chosen sibling). */
static int resolve_value(fs_daemon *d, fs_store *st, fs_kind kind, const char *id,
                         const fs_conflict *c, json_t *value, fs_rpc_err *e)
{
    uint32_t cleared[1];
    size_t ncleared = 0;
    char field[FS_JSON_FIELD_MAX];
    ProtobufCMessage *msg = NULL;
    fs_err err = {0};
    json_t *obj = json_object();
    if (obj == NULL || json_object_set(obj, c->name, value) != 0) {
        json_decref(obj);
        return fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
    }
    int rc = fs_json_to_msg(&msg, cleared, &ncleared, fs_kind_descriptor(kind), obj, field, &err);
    json_decref(obj);
    if (rc != 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "value", "value: %s", err.msg);
    rc = fs_store_put(st, kind, id, msg, cleared, ncleared, &err);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (rc != 0)
        return fs_rpc_fail_fs(e, &err);
    fs_rpc_notify_changed(d, kind, id, false);
    return 0;
}

static const fs_conflict *find_conflict(const fs_conflict *c, size_t n, const char *field)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].name != NULL && strcmp(c[i].name, field) == 0)
            return &c[i];
    return NULL;
}

static int resolve(fs_daemon *d, fs_store *st, fs_kind kind, const char *id, const fs_conflict *c,
                   json_t *params, fs_rpc_err *e)
{
    json_t *value = json_object_get(params, "value");
    json_t *sib = json_object_get(params, "sibling");
    if ((value == NULL) == (sib == NULL))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "value",
                           "give either \"value\" or \"sibling\"");
    if (sib != NULL) {
        if (!json_is_integer(sib) || json_integer_value(sib) < 0 ||
            (size_t)json_integer_value(sib) >= c->nsiblings)
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "sibling",
                               "\"sibling\" must index the field's siblings (0 to %zu)",
                               c->nsiblings - 1);
        const fs_sibling *s = &c->siblings[json_integer_value(sib)];
        if (c->field == FS_FIELD_ALIVE)
            return resolve_alive(d, st, kind, id, s->alive == FS_ALIVE_TRUE, e);
        value = sibling_value(kind, c, s);
        int rc = resolve_value(d, st, kind, id, c, value, e);
        json_decref(value);
        return rc;
    }
    if (c->field == FS_FIELD_ALIVE) {
        if (!json_is_boolean(value))
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "value",
                               "the alive field takes true (keep) or false (delete)");
        return resolve_alive(d, st, kind, id, json_is_true(value), e);
    }
    return resolve_value(d, st, kind, id, c, value, e);
}

static int m_resolve(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                     fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"kind", "id", "field", "value", "sibling", NULL};
    fs_kind kind;
    const char *id, *field;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 || fs_rpc_param_kind(params, &kind, e) != 0 ||
        fs_rpc_param_string(params, "id", true, &id, e) != 0 ||
        fs_rpc_param_string(params, "field", true, &field, e) != 0 ||
        fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_state *state;
    fs_conflict *c;
    size_t n;
    if (load_conflicts(st, kind, id, &state, &c, &n, e) != 0)
        return -1;
    const fs_conflict *hit = find_conflict(c, n, field);
    int rc = hit == NULL ? fs_rpc_fail(e, FS_RPC_NOT_FOUND, "field",
                                       "field \"%.64s\" of %s %.128s is not in conflict", field,
                                       fs_kind_name(kind), id)
                         : resolve(d, st, kind, id, hit, params, e);
    fs_conflicts_free(c, n);
    fs_state_free(state);
    if (rc != 0)
        return -1;
    return fs_rpc_record_view(st, kind, id, result, e);
}

const fs_rpc_method fs_rpc_methods_conflicts[] = {
    {"conflicts.list", m_list, false},
    {"conflicts.resolve", m_resolve, false},
    {NULL, NULL, false},
};
