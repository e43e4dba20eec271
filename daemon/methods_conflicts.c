/*
 * methods_conflicts.c: conflicts.list and conflicts.resolve
 * (docs/socket-api.md). A conflict is a field with more than one live sibling
 * (proto/ finds them); resolving is an ordinary local write of the chosen
 * values, which supersedes every sibling it saw, so it syncs like any edit.
 * One field takes a value or a sibling; `keep` resolves every conflicting
 * field of the record at once (or the one named) with the value shown now, or
 * with this device's own, in one write. What the list shows of each conflict:
 * conflict_view.c.
 */
#include <stdlib.h>
#include <string.h>

#include "conflict_view.h"
#include "json_record.h"

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
    fs_device_names *names = NULL;
    size_t nrefs = 0;
    fs_err err = {0};
    if (fs_store_conflicts(st, (size_t)limit, &refs, &nrefs, &err) != 0 ||
        fs_device_names_load(st, &names, &err) != 0) {
        fs_refs_free(refs, nrefs);
        return fs_rpc_fail_fs(e, &err);
    }
    json_t *records = json_array();
    int rc = 0;
    for (size_t i = 0; rc == 0 && records != NULL && i < nrefs; i++) {
        fs_state *state;
        fs_conflict *c;
        size_t n;
        if ((rc = fs_conflicts_load(st, refs[i].kind, refs[i].id, &state, &c, &n, e)) != 0)
            break;
        json_array_append_new(records, fs_conflict_record_json(refs[i].kind, refs[i].id, state, c,
                                                               n, names, fs_store_replica(st)));
        fs_conflicts_free(c, n);
        fs_state_free(state);
    }
    fs_refs_free(refs, nrefs);
    fs_device_names_free(names);
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

/* Writes the fields of obj ({"field": JSON value, ...}) in one put. */
static int write_fields(fs_daemon *d, fs_store *st, fs_kind kind, const char *id, json_t *obj,
                        fs_rpc_err *e)
{
    const ProtobufCMessageDescriptor *desc = fs_kind_descriptor(kind);
    uint32_t *cleared = calloc(desc->n_fields + 1, sizeof(*cleared));
    size_t ncleared = 0;
    char field[FS_JSON_FIELD_MAX];
    ProtobufCMessage *msg = NULL;
    fs_err err = {0};
    if (cleared == NULL)
        return fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
    int rc = fs_json_to_msg(&msg, cleared, &ncleared, desc, obj, field, &err);
    if (rc != 0)
        rc = fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "value", "value: %s", err.msg);
    else if (fs_store_put(st, kind, id, msg, cleared, ncleared, &err) != 0)
        rc = fs_rpc_fail_fs(e, &err);
    if (msg != NULL)
        protobuf_c_message_free_unpacked(msg, NULL);
    free(cleared);
    if (rc == 0)
        fs_rpc_notify_changed(d, kind, id, false);
    return rc;
}

/* Writes one field's value (a JSON value, or a chosen sibling's). */
static int resolve_value(fs_daemon *d, fs_store *st, fs_kind kind, const char *id,
                         const fs_conflict *c, json_t *value, fs_rpc_err *e)
{
    json_t *obj = json_object();
    if (obj == NULL || json_object_set(obj, c->name, value) != 0) {
        json_decref(obj);
        return fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
    }
    int rc = write_fields(d, st, kind, id, obj, e);
    json_decref(obj);
    return rc;
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
                           "give one of \"value\", \"sibling\" or \"keep\"");
    if (sib != NULL) {
        if (!json_is_integer(sib) || json_integer_value(sib) < 0 ||
            (size_t)json_integer_value(sib) >= c->nsiblings)
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "sibling",
                               "\"sibling\" must index the field's siblings (0 to %zu)",
                               c->nsiblings - 1);
        const fs_sibling *s = &c->siblings[json_integer_value(sib)];
        if (c->field == FS_FIELD_ALIVE)
            return resolve_alive(d, st, kind, id, s->alive == FS_ALIVE_TRUE, e);
        value = fs_conflict_sibling_value(kind, c, s);
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

/* The sibling keep chooses: the one shown now, or (self != 0) the latest this
 * device wrote, else the one shown. */
static const fs_sibling *keep_sibling(const fs_conflict *c, uint64_t self)
{
    const fs_sibling *shown = NULL, *own = NULL;
    for (size_t i = 0; i < c->nsiblings; i++) {
        if (c->siblings[i].visible && shown == NULL)
            shown = &c->siblings[i];
        if (self != 0 && c->siblings[i].dot.replica == self)
            own = &c->siblings[i]; /* ascending: the last is the latest */
    }
    return own != NULL ? own : shown != NULL ? shown : &c->siblings[c->nsiblings - 1];
}

/* Resolves every conflicting field (or the one named) by keep in one write; an
 * alive kept false deletes the record. */
static int resolve_keep(fs_daemon *d, fs_store *st, fs_kind kind, const char *id,
                        const fs_conflict *c, size_t n, const char *field, uint64_t self,
                        fs_rpc_err *e)
{
    json_t *obj = json_object();
    int alive = -1;
    size_t matched = 0;
    for (size_t i = 0; obj != NULL && i < n; i++) {
        if (c[i].name == NULL || (field != NULL && strcmp(c[i].name, field) != 0))
            continue;
        const fs_sibling *s = keep_sibling(&c[i], self);
        matched++;
        if (c[i].field == FS_FIELD_ALIVE)
            alive = s->alive == FS_ALIVE_TRUE;
        else
            json_object_set_new(obj, c[i].name, fs_conflict_sibling_value(kind, &c[i], s));
    }
    int rc = obj == NULL ? fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory") : 0;
    if (rc == 0 && matched == 0)
        rc = fs_rpc_fail(e, FS_RPC_NOT_FOUND, field ? "field" : "id",
                         "%s%s%s %s %.128s is not "
                         "in conflict",
                         field ? "field " : "", field ? field : "", field ? " of" : "",
                         fs_kind_name(kind), id);
    else if (rc == 0 && (alive == 0 || json_object_size(obj) == 0))
        rc = resolve_alive(d, st, kind, id, alive != 0, e);
    else if (rc == 0)
        rc = write_fields(d, st, kind, id, obj, e);
    json_decref(obj);
    return rc;
}

static int m_resolve(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                     fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"kind", "id", "field", "value", "sibling", "keep", NULL};
    fs_kind kind;
    const char *id, *field, *keep;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 || fs_rpc_param_kind(params, &kind, e) != 0 ||
        fs_rpc_param_string(params, "id", true, &id, e) != 0 ||
        fs_rpc_param_string(params, "keep", false, &keep, e) != 0 ||
        fs_rpc_param_string(params, "field", keep == NULL, &field, e) != 0)
        return -1;
    if (keep != NULL && (strcmp(keep, "visible") != 0 && strcmp(keep, "mine") != 0))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "keep",
                           "\"keep\" is \"visible\" (the values shown now) or \"mine\" (this "
                           "device's, where it wrote one)");
    if (keep != NULL && (json_object_get(params, "value") || json_object_get(params, "sibling")))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "keep",
                           "give one of \"value\", \"sibling\" or \"keep\"");
    if (fs_rpc_need_writable(d, &st, e) != 0)
        return -1;
    fs_state *state;
    fs_conflict *c;
    size_t n;
    if (fs_conflicts_load(st, kind, id, &state, &c, &n, e) != 0)
        return -1;
    const fs_conflict *hit = field != NULL ? find_conflict(c, n, field) : NULL;
    int rc;
    if (keep != NULL)
        rc = resolve_keep(d, st, kind, id, c, n, field,
                          strcmp(keep, "mine") == 0 ? fs_store_replica(st) : 0, e);
    else if (hit == NULL)
        rc = fs_rpc_fail(e, FS_RPC_NOT_FOUND, "field",
                         "field \"%.64s\" of %s %.128s is not in conflict", field,
                         fs_kind_name(kind), id);
    else
        rc = resolve(d, st, kind, id, hit, params, e);
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
