/*
 * methods_admin.c: the methods about the daemon itself rather than records:
 * status, init, unlock, lock, change_passphrase, check, subscriptions, the
 * outbox listing (docs/socket-api.md).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fieldsync/log.h"
#include "fieldsync/outbox.h"
#include "json_record.h"
#include "loop.h"
#include "rpc.h"

static const char *const no_params[] = {NULL};

static json_t *state_result(const fs_daemon *d)
{
    return json_pack("{s:s}", "state", fs_daemon_state_name(d->state));
}

static void notify_state(fs_daemon *d)
{
    fs_daemon_notify(d, FS_TOPIC_STATE, "state.changed", state_result(d));
}

static json_t *outbox_counts(fs_store *st, fs_rpc_err *e)
{
    size_t n[3];
    fs_err err = {0};
    for (int s = 0; s < 3; s++)
        if (fs_outbox_count(st, s, &n[s], &err) != 0) {
            fs_rpc_fail_fs(e, &err);
            return NULL;
        }
    return json_pack("{s:I,s:I,s:I}", "pending", (json_int_t)n[0], "in_flight", (json_int_t)n[1],
                     "refused", (json_int_t)n[2]);
}

static int m_status(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    if (fs_rpc_params_check(params, no_params, e) != 0)
        return -1;
    json_t *r =
        json_pack("{s:s,s:s,s:b,s:b,s:s,s:s,s:o,s:I,s:I}", "version", FS_DAEMON_VERSION, "state",
                  fs_daemon_state_name(d->state), "encrypted", !d->plain, "passphrase",
                  d->needs_passphrase, "data_dir", d->cfg->data_dir ? d->cfg->data_dir : "",
                  "socket", d->cfg->socket_path ? d->cfg->socket_path : "", "sync",
                  fs_rpc_sync_status(d), "clients", (json_int_t)d->nclients, "uptime_s",
                  (json_int_t)((fs_loop_now_ms() - d->started_ms) / 1000));
    if (r == NULL)
        return fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
    if (d->store != NULL) {
        char hex[17];
        snprintf(hex, sizeof(hex), "%016" PRIx64, fs_store_replica(d->store));
        json_object_set_new(r, "replica", json_string(hex));
        json_t *counts = outbox_counts(d->store, e);
        if (counts == NULL) {
            json_decref(r);
            return -1;
        }
        json_object_set_new(r, "outbox", counts);
        uint64_t backlog = 0;
        fs_err err = {0};
        if (fs_store_search_backlog(d->store, &backlog, &err) != 0) {
            json_decref(r);
            return fs_rpc_fail_fs(e, &err);
        }
        json_object_set_new(r, "search_backlog", json_integer((json_int_t)backlog));
    }
    *result = r;
    return 0;
}

/* The optional "passphrase" param; an empty one is refused. */
static int passphrase_param(json_t *params, const char *key, const char **pass, size_t *len,
                            fs_rpc_err *e)
{
    if (fs_rpc_param_string(params, key, false, pass, e) != 0)
        return -1;
    *len = *pass != NULL ? json_string_length(json_object_get(params, key)) : 0;
    if (*pass != NULL && *len == 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "the passphrase may not be empty");
    return 0;
}

static int m_init(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"passphrase", NULL};
    const char *pass;
    size_t len;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        passphrase_param(params, "passphrase", &pass, &len, e) != 0)
        return -1;
    if (d->state != FS_DAEMON_UNINITIALIZED)
        return fs_rpc_fail(e, FS_RPC_ALREADY_EXISTS, NULL,
                           "a store already exists at %s: unlock it instead", d->cfg->db_file);
    fs_err err = {0};
    if (fs_daemon_create(d, pass, len, &err) != 0)
        return fs_rpc_fail_fs(e, &err);
    char hex[17];
    snprintf(hex, sizeof(hex), "%016" PRIx64, fs_store_replica(d->store));
    *result = json_pack("{s:s,s:s}", "state", "unlocked", "replica", hex);
    notify_state(d);
    return 0;
}

static int m_unlock(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"passphrase", NULL};
    const char *pass;
    size_t len;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        passphrase_param(params, "passphrase", &pass, &len, e) != 0)
        return -1;
    if (d->state == FS_DAEMON_UNINITIALIZED)
        return fs_rpc_fail(e, FS_RPC_NOT_INITIALIZED, NULL, "there is no store yet: call init");
    if (d->state == FS_DAEMON_UNLOCKED)
        return fs_rpc_fail(e, FS_RPC_INVALID_STATE, NULL, "the store is already unlocked");
    if (d->needs_passphrase && pass == NULL)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "passphrase",
                           "the key file is protected: give the passphrase");
    fs_err err = {0};
    if (fs_daemon_unlock(d, pass, len, &err) != 0) {
        if (err.code == FS_EAUTH)
            return fs_rpc_fail(e, FS_RPC_AUTH_FAILED, "passphrase",
                               "wrong passphrase (or damaged key file): try again");
        return fs_rpc_fail_fs(e, &err);
    }
    *result = state_result(d);
    notify_state(d);
    return 0;
}

static int m_lock(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    if (fs_rpc_params_check(params, no_params, e) != 0)
        return -1;
    if (d->state == FS_DAEMON_UNINITIALIZED)
        return fs_rpc_fail(e, FS_RPC_NOT_INITIALIZED, NULL, "there is no store yet: call init");
    if (d->state == FS_DAEMON_LOCKED)
        return fs_rpc_fail(e, FS_RPC_INVALID_STATE, NULL, "the store is already locked");
    fs_err err = {0};
    if (fs_daemon_lock(d, &err) != 0)
        return fs_rpc_fail_fs(e, &err);
    *result = state_result(d);
    notify_state(d);
    return 0;
}

static int m_change_passphrase(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                               fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"old", "new", NULL};
    const char *old, *new;
    size_t old_len, new_len;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        passphrase_param(params, "old", &old, &old_len, e) != 0 ||
        passphrase_param(params, "new", &new, &new_len, e) != 0 ||
        fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    if (!d->needs_passphrase)
        return fs_rpc_fail(e, FS_RPC_INVALID_STATE, NULL,
                           "the key file is a raw key (unattended mode): there is no passphrase "
                           "to change");
    if (old == NULL || new == NULL)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, old == NULL ? "old" : "new",
                           "give both \"old\" and \"new\"");
    fs_err err = {0};
    if (fs_store_change_passphrase(st, old, old_len, new, new_len, &err) != 0) {
        if (err.code == FS_EAUTH)
            return fs_rpc_fail(e, FS_RPC_AUTH_FAILED, "old", "the old passphrase is wrong");
        return fs_rpc_fail_fs(e, &err);
    }
    *result = json_object();
    return 0;
}

/* The integrity check through the cipher (fs_store_check): reads the whole
 * store, so other calls wait for it (1.1 s for a 135 MB store here). */
static int m_check(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    fs_store *st;
    if (fs_rpc_params_check(params, no_params, e) != 0 || fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_check_report r;
    fs_err err = {0};
    if (fs_store_check(st, &r, &err) != 0)
        return fs_rpc_fail_fs(e, &err);
    json_t *problems = json_array();
    for (size_t i = 0; problems != NULL && i < r.nkept; i++)
        json_array_append_new(problems, json_string(r.problems[i]));
    *result = json_pack("{s:b,s:I,s:I,s:o}", "ok", r.nproblems == 0, "pages", (json_int_t)r.pages,
                        "problem_count", (json_int_t)r.nproblems, "problems", problems);
    if (r.nkept > 0)
        fs_log(FS_LOG_WARN, "check: the store is damaged: %zu problems, the first: %s", r.nproblems,
               r.problems[0]);
    fs_check_report_clear(&r);
    if (*result == NULL)
        return fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Subscriptions */

static const struct {
    const char *name;
    unsigned bit;
} topics[] = {
    {"record.changed", FS_TOPIC_RECORD},
    {"sync.progress", FS_TOPIC_SYNC},
    {"state.changed", FS_TOPIC_STATE},
};
#define NTOPICS (sizeof(topics) / sizeof(topics[0]))

static int topics_param(json_t *params, unsigned *bits, fs_rpc_err *e)
{
    static const char *const allowed[] = {"topics", NULL};
    if (fs_rpc_params_check(params, allowed, e) != 0)
        return -1;
    json_t *a = json_object_get(params, "topics");
    if (a == NULL || json_is_null(a)) {
        *bits = FS_TOPIC_ALL;
        return 0;
    }
    if (!json_is_array(a))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "topics", "\"topics\" must be an array");
    *bits = 0;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        size_t t = 0;
        while (t < NTOPICS &&
               !(json_is_string(v) && strcmp(json_string_value(v), topics[t].name) == 0))
            t++;
        if (t == NTOPICS)
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "topics",
                               "unknown topic: use record.changed, sync.progress or state.changed");
        *bits |= topics[t].bit;
    }
    return 0;
}

static json_t *topics_result(unsigned bits)
{
    json_t *a = json_array();
    for (size_t t = 0; a != NULL && t < NTOPICS; t++)
        if (bits & topics[t].bit)
            json_array_append_new(a, json_string(topics[t].name));
    return json_pack("{s:o}", "topics", a);
}

static int m_subscribe(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                       fs_rpc_err *e)
{
    (void)d;
    unsigned bits;
    if (topics_param(params, &bits, e) != 0)
        return -1;
    s->topics |= bits;
    *result = topics_result(s->topics);
    return 0;
}

static int m_unsubscribe(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                         fs_rpc_err *e)
{
    (void)d;
    unsigned bits;
    if (topics_param(params, &bits, e) != 0)
        return -1;
    s->topics &= ~bits;
    *result = topics_result(s->topics);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Outbox and sync */

static const char *const status_names[] = {"pending", "in_flight", "refused"};

static json_t *entry_json(const fs_outbox_entry *x)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I}", "seq", (json_int_t)x->seq, "kind",
                          fs_kind_name(x->kind) ? fs_kind_name(x->kind) : "unknown", "id", x->id,
                          "status", x->status <= 2 ? status_names[x->status] : "unknown",
                          "queued_at", (json_int_t)x->queued_at);
    if (o != NULL && x->status == FS_OUTBOX_REFUSED) {
        char buf[64];
        const char *r =
            fs_json_enum_name(&fieldsync__refusal__reason__descriptor, x->reason, buf, sizeof(buf));
        json_object_set_new(o, "reason", r ? json_string(r) : json_integer(x->reason));
        if (x->message != NULL)
            json_object_set_new(o, "message", json_string(x->message));
    }
    return o;
}

static int m_outbox_list(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                         fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"status", "limit", NULL};
    const char *status;
    long long limit = 100;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_string(params, "status", false, &status, e) != 0 ||
        fs_rpc_param_int(params, "limit", 1, 1000, &limit, e) != 0 ||
        fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    int which = -1;
    for (int i = 0; status != NULL && i < 3; i++)
        if (strcmp(status, status_names[i]) == 0)
            which = i;
    if (status != NULL && which < 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "status",
                           "status must be pending, in_flight or refused");
    fs_outbox_entry *entries = NULL;
    size_t n = 0;
    fs_err err = {0};
    if (fs_outbox_list(st, which, (size_t)limit, &entries, &n, &err) != 0)
        return fs_rpc_fail_fs(e, &err);
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, entry_json(&entries[i]));
    fs_outbox_entries_free(entries, n);
    json_t *counts = outbox_counts(st, e);
    if (counts == NULL) {
        json_decref(arr);
        return -1;
    }
    *result = json_pack("{s:o,s:o}", "entries", arr, "counts", counts);
    return 0;
}

/* outbox.retry / outbox.drop: what to do with a refused entry. */
static int outbox_seq_call(fs_daemon *d, json_t *params, json_t **result, fs_rpc_err *e,
                           int (*fn)(fs_store *, int64_t, fs_err *))
{
    static const char *const allowed[] = {"seq", NULL};
    long long seq = -1;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_int(params, "seq", 1, INT64_MAX, &seq, e) != 0)
        return -1;
    if (seq < 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "seq", "missing parameter \"seq\"");
    if (fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_err err = {0};
    if (fn(st, (int64_t)seq, &err) != 0) {
        if (err.code == FS_ENOTFOUND)
            return fs_rpc_fail(e, FS_RPC_NOT_FOUND, "seq",
                               "outbox entry %lld is not a refused entry (see outbox.list)", seq);
        return fs_rpc_fail_fs(e, &err);
    }
    *result = json_object();
    return 0;
}

static int m_outbox_retry(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                          fs_rpc_err *e)
{
    (void)s;
    return outbox_seq_call(d, params, result, e, fs_outbox_retry);
}

static int m_outbox_drop(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                         fs_rpc_err *e)
{
    (void)s;
    return outbox_seq_call(d, params, result, e, fs_outbox_drop);
}

const fs_rpc_method fs_rpc_methods_admin[] = {
    {"status", m_status, false},
    {"init", m_init, true},
    {"unlock", m_unlock, true},
    {"lock", m_lock, false},
    {"change_passphrase", m_change_passphrase, true},
    {"check", m_check, false},
    {"subscribe", m_subscribe, false},
    {"unsubscribe", m_unsubscribe, false},
    {"outbox.list", m_outbox_list, false},
    {"outbox.retry", m_outbox_retry, false},
    {"outbox.drop", m_outbox_drop, false},
    {NULL, NULL, false},
};
