/*
 * methods_record.c: record.get / list / put / delete and conflicts.list /
 * resolve (docs/socket-api.md). Each method turns JSON into a store call and the
 * store's answer back into JSON through json_record.c; the record model itself
 * (writes, siblings, visibility) stays in proto/ and store/. A put of an
 * opportunity goes through the sales method's rules first (pipeline.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldsync/log.h"
#include "json_record.h"
#include "pipeline.h"
#include "rpc.h"

static int id_param(json_t *params, bool required, const char **id, fs_rpc_err *e)
{
    if (fs_rpc_param_string(params, "id", required, id, e) != 0)
        return -1;
    if (*id != NULL && (strlen(*id) == 0 || strlen(*id) > FS_STORE_ID_MAX))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "id", "an id has 1 to %d bytes",
                           FS_STORE_ID_MAX);
    return 0;
}

void fs_rpc_notify_changed(fs_daemon *d, fs_kind kind, const char *id, bool deleted)
{
    fs_daemon_local_change(d);
    fs_daemon_notify(d, FS_TOPIC_RECORD, "record.changed",
                     json_pack("{s:s,s:s,s:s,s:b}", "kind", fs_kind_name(kind), "id", id, "origin",
                               "local", "deleted", deleted));
}

static json_t *conflict_names(const fs_state *state)
{
    fs_conflict *c = NULL;
    size_t n = 0;
    json_t *a = json_array();
    if (a == NULL || fs_record_conflicts(state, &c, &n, NULL) != 0)
        return a;
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof(buf), "field_%u", c[i].field);
        json_array_append_new(a, json_string(c[i].name != NULL ? c[i].name : buf));
    }
    fs_conflicts_free(c, n);
    return a;
}

int fs_rpc_record_view(fs_store *st, fs_kind kind, const char *id, json_t **out, fs_rpc_err *e)
{
    fs_state *state = NULL;
    ProtobufCMessage *vis = NULL;
    fs_err err = {0};
    if (fs_store_get(st, kind, id, &state, &vis, &err) != 0) {
        if (err.code == FS_ENOTFOUND)
            return fs_rpc_fail(e, FS_RPC_NOT_FOUND, "id", "no %s with id \"%.128s\"",
                               fs_kind_name(kind), id);
        return fs_rpc_fail_fs(e, &err);
    }
    json_t *rec = vis != NULL ? fs_json_from_msg(vis) : json_null();
    if (vis != NULL && rec != NULL)
        json_object_set_new(rec, "id", fs_json_text(id));
    *out = json_pack("{s:s,s:o,s:b,s:o,s:o}", "kind", fs_kind_name(kind), "id", fs_json_text(id),
                     "deleted", vis == NULL, "record", rec, "conflicts", conflict_names(state));
    if (vis != NULL)
        protobuf_c_message_free_unpacked(vis, NULL);
    fs_state_free(state);
    return *out != NULL ? 0 : fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
}

/* The {kind, id} params of a call on one record, and the open store. */
static int ref_params(fs_daemon *d, json_t *params, fs_kind *kind, const char **id, fs_store **st,
                      fs_rpc_err *e)
{
    static const char *const allowed[] = {"kind", "id", NULL};
    if (fs_rpc_params_check(params, allowed, e) != 0 || fs_rpc_param_kind(params, kind, e) != 0 ||
        id_param(params, true, id, e) != 0 || fs_rpc_need_store(d, st, e) != 0)
        return -1;
    return 0;
}

static int m_get(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    fs_kind kind;
    const char *id;
    fs_store *st;
    if (ref_params(d, params, &kind, &id, &st, e) != 0)
        return -1;
    return fs_rpc_record_view(st, kind, id, result, e);
}

/* Does the record exist and is it visible? */
static bool record_visible(fs_store *st, fs_kind kind, const char *id)
{
    ProtobufCMessage *vis = NULL;
    if (fs_store_get(st, kind, id, NULL, &vis, NULL) != 0 || vis == NULL)
        return false;
    protobuf_c_message_free_unpacked(vis, NULL);
    return true;
}

static int put_msg(fs_daemon *d, fs_store *st, fs_kind kind, const char *id,
                   const ProtobufCMessage *msg, const uint32_t *cleared, size_t ncleared,
                   fs_rpc_err *e)
{
    fs_err err = {0};
    if (fs_store_put(st, kind, id, msg, cleared, ncleared, &err) != 0)
        return fs_rpc_fail_fs(e, &err);
    fs_rpc_notify_changed(d, kind, id, false);
    return 0;
}

/* The sales method's rules on a put of an opportunity (pipeline.h): may
 * complete msg and cleared, or refuse the put. */
static int pipeline_rules(fs_store *st, const char *id, ProtobufCMessage *msg, uint32_t *cleared,
                          size_t *ncleared, const char *override, fs_rpc_err *e)
{
    ProtobufCMessage *cur = NULL;
    fs_err err = {0};
    char today[11], field[FS_PIPELINE_FIELD_MAX];
    int rc = fs_store_get(st, FIELDSYNC__RECORD_KIND__OPPORTUNITY, id, NULL, &cur, &err);
    if (rc != 0 && rc != FS_ENOTFOUND)
        return fs_rpc_fail_fs(e, &err);
    fs_rpc_today(today);
    rc = fs_pipeline_put((const Fieldsync__Opportunity *)cur, (Fieldsync__Opportunity *)msg,
                         cleared, ncleared, today, override, field, &err);
    if (cur != NULL)
        protobuf_c_message_free_unpacked(cur, NULL);
    if (rc == FS_EDENIED)
        return fs_rpc_fail(e, FS_RPC_PIPELINE_RULE, field, "%s", err.msg);
    if (rc == FS_EINVAL)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, field, "%s", err.msg);
    return rc == 0 ? 0 : fs_rpc_fail_fs(e, &err);
}

/* The override param: a reason, on opportunities only. */
static int override_param(json_t *params, fs_kind kind, const char **override, fs_rpc_err *e)
{
    if (fs_rpc_param_string(params, "override", false, override, e) != 0)
        return -1;
    if (*override != NULL && kind != FIELDSYNC__RECORD_KIND__OPPORTUNITY)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "override",
                           "override applies to an opportunity's stage move");
    if (*override != NULL && strspn(*override, " \t\r\n") == strlen(*override))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "override",
                           "override needs the reason for moving against the rules");
    return 0;
}

static int m_put(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"kind", "id", "record", "override", NULL};
    fs_kind kind;
    const char *id, *override;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 || fs_rpc_param_kind(params, &kind, e) != 0 ||
        id_param(params, false, &id, e) != 0 || override_param(params, kind, &override, e) != 0)
        return -1;
    json_t *rec = json_object_get(params, "record");
    if (!json_is_object(rec))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "record",
                           "\"record\" must be an object of the fields to set");
    const ProtobufCMessageDescriptor *desc = fs_kind_descriptor(kind);
    uint32_t *cleared = calloc(desc->n_fields + 1, sizeof(uint32_t));
    ProtobufCMessage *msg = NULL;
    size_t ncleared = 0;
    char field[FS_JSON_FIELD_MAX];
    fs_err err = {0};
    int rc = -1;
    if (cleared == NULL) {
        fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
        goto done;
    }
    if (fs_json_to_msg(&msg, cleared, &ncleared, desc, rec, field, &err) != 0) {
        fs_rpc_fail(e, err.code == FS_ENOMEM ? FS_RPC_INTERNAL : FS_RPC_INVALID_PARAMS,
                    field[0] ? field : "record", "record.%s", err.msg);
        goto done;
    }
    if (fs_rpc_need_writable(d, &st, e) != 0)
        goto done;
    char minted[FS_STORE_NEW_ID_LEN + 1];
    if (id == NULL) {
        fs_store_new_id(minted);
        id = minted;
    }
    if (kind == FIELDSYNC__RECORD_KIND__OPPORTUNITY &&
        pipeline_rules(st, id, msg, cleared, &ncleared, override, e) != 0)
        goto done;
    bool created = !record_visible(st, kind, id);
    if (put_msg(d, st, kind, id, msg, cleared, ncleared, e) != 0 ||
        fs_rpc_record_view(st, kind, id, result, e) != 0)
        goto done;
    json_object_set_new(*result, "created", json_boolean(created));
    json_object_del(*result, "deleted");
    rc = 0;
done:
    if (msg != NULL)
        protobuf_c_message_free_unpacked(msg, NULL);
    free(cleared);
    return rc;
}

/* Deletes an account: refused while it has children, unless cascade deletes
 * them too (children.c); every deleted record is notified. */
static int delete_account(fs_daemon *d, fs_store *st, const char *id, bool cascade,
                          json_t **deleted, fs_rpc_err *e)
{
    fs_children c;
    fs_err err = {0};
    int rc = fs_store_delete_account(st, id, cascade, &c, &err);
    if (rc == FS_ECONFLICT)
        rc = fs_rpc_fail(e, FS_RPC_HAS_CHILDREN, "cascade", "%s", fs_err_message(&err));
    else if (rc == FS_ENOTFOUND)
        rc = fs_rpc_fail(e, FS_RPC_NOT_FOUND, "id", "no visible account with id \"%.128s\"", id);
    else if (rc != 0)
        rc = fs_rpc_fail_fs(e, &err);
    if (rc == 0) {
        *deleted = json_object();
        for (fs_kind k = FIELDSYNC__RECORD_KIND__CONTACT; k <= FS_KIND_MAX; k++)
            json_object_set_new(*deleted, fs_kind_name(k), json_integer((json_int_t)c.n[k]));
        for (size_t i = 0; i < c.total; i++)
            fs_rpc_notify_changed(d, c.refs[i].kind, c.refs[i].id, true);
    }
    fs_children_clear(&c);
    return rc;
}

static int m_delete(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"kind", "id", "cascade", NULL};
    fs_kind kind;
    const char *id;
    fs_store *st;
    bool cascade = false;
    json_t *children = NULL;
    if (fs_rpc_params_check(params, allowed, e) != 0 || fs_rpc_param_kind(params, &kind, e) != 0 ||
        id_param(params, true, &id, e) != 0 ||
        fs_rpc_param_bool(params, "cascade", &cascade, e) != 0 ||
        fs_rpc_need_writable(d, &st, e) != 0)
        return -1;
    fs_err err = {0};
    if (kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
        if (delete_account(d, st, id, cascade, &children, e) != 0) {
            json_decref(children);
            return -1;
        }
    } else if (json_object_get(params, "cascade") != NULL) {
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "cascade",
                           "cascade applies to accounts: only they have records under them");
    } else if (fs_store_delete(st, kind, id, &err) != 0) {
        if (err.code == FS_ENOTFOUND)
            return fs_rpc_fail(e, FS_RPC_NOT_FOUND, "id", "no visible %s with id \"%.128s\"",
                               fs_kind_name(kind), id);
        return fs_rpc_fail_fs(e, &err);
    }
    fs_rpc_notify_changed(d, kind, id, true);
    *result = json_pack("{s:s,s:s,s:b}", "kind", fs_kind_name(kind), "id", id, "deleted", 1);
    if (children != NULL)
        json_object_set_new(*result, "children_deleted", children);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* record.list */

static int enum_filter(json_t *params, const char *key, const ProtobufCEnumDescriptor *ed, int *out,
                       fs_rpc_err *e)
{
    const char *name;
    if (fs_rpc_param_string(params, key, false, &name, e) != 0)
        return -1;
    if (name != NULL && fs_json_enum_from_name(ed, name, out) != 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "\"%.64s\" is not a %s value", name, key);
    return 0;
}

/* A filter given for a kind that has no such column is an error, not ignored. */
static int filter_applies(json_t *params, const char *key, bool applies, fs_kind kind,
                          fs_rpc_err *e)
{
    if (applies || json_object_get(params, key) == NULL)
        return 0;
    return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "filter \"%s\" does not apply to %s", key,
                       fs_kind_name(kind));
}

static int list_query(json_t *params, fs_list_query *q, fs_rpc_err *e)
{
    fs_kind k = q->kind;
    bool acc = k == FIELDSYNC__RECORD_KIND__ACCOUNT, opp = k == FIELDSYNC__RECORD_KIND__OPPORTUNITY;
    const char *order;
    long long limit = 100;
    if (filter_applies(params, "tier", acc, k, e) != 0 ||
        filter_applies(params, "funnel_stage", acc, k, e) != 0 ||
        filter_applies(params, "stage", opp, k, e) != 0 ||
        filter_applies(params, "owner", acc, k, e) != 0 ||
        filter_applies(params, "city", acc, k, e) != 0 ||
        filter_applies(params, "account_id", !acc, k, e) != 0 ||
        enum_filter(params, "tier", &fieldsync__account__tier__descriptor, &q->tier, e) != 0 ||
        enum_filter(params, acc ? "funnel_stage" : "stage",
                    acc ? &fieldsync__account__funnel_stage__descriptor
                        : &fieldsync__opportunity__stage__descriptor,
                    &q->stage, e) != 0 ||
        fs_rpc_param_string(params, "owner", false, &q->owner, e) != 0 ||
        fs_rpc_param_string(params, "city", false, &q->city, e) != 0 ||
        fs_rpc_param_string(params, "account_id", false, &q->account_id, e) != 0 ||
        fs_rpc_param_string(params, "cursor", false, &q->cursor, e) != 0 ||
        fs_rpc_param_string(params, "order", false, &order, e) != 0 ||
        fs_rpc_param_int(params, "limit", 1, 1000, &limit, e) != 0)
        return -1;
    if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "order", "order must be \"asc\" or \"desc\"");
    q->descending = order != NULL && strcmp(order, "desc") == 0;
    q->limit = (size_t)limit;
    return 0;
}

/* A listed record; a stored state that could not be read says so in "damaged". */
static json_t *list_item(const fs_list_item *it)
{
    json_t *o = it->msg != NULL ? fs_json_from_msg(it->msg)
                                : json_pack("{s:o}", "damaged", fs_json_text(it->damaged));
    if (o != NULL)
        json_object_set_new(o, "id", fs_json_text(it->id));
    return o;
}

static int m_list(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"kind", "tier",       "funnel_stage", "stage", "owner",
                                          "city", "account_id", "order",        "limit", "cursor",
                                          NULL};
    fs_list_query q = {0};
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_kind(params, &q.kind, e) != 0 || list_query(params, &q, e) != 0 ||
        fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_list_page page = {0};
    fs_err err = {0};
    if (fs_store_list(st, &q, &page, &err) != 0) {
        if (err.code == FS_EINVAL)
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "cursor", "%s", fs_err_message(&err));
        return fs_rpc_fail_fs(e, &err);
    }
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < page.n; i++)
        json_array_append_new(items, list_item(&page.items[i]));
    *result = json_pack("{s:o,s:s?}", "items", items, "next_cursor", page.next_cursor);
    if (*result != NULL && page.next_cursor == NULL)
        json_object_set_new(*result, "next_cursor", json_null());
    fs_list_page_clear(&page);
    return *result != NULL ? 0 : fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
}

const fs_rpc_method fs_rpc_methods_record[] = {
    {"record.get", m_get, false}, {"record.list", m_list, false},
    {"record.put", m_put, false}, {"record.delete", m_delete, false},
    {NULL, NULL, false},
};
