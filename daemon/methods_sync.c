/*
 * methods_sync.c: the sync methods of the socket API (docs/socket-api.md
 * "Sync"): enroll, now, resync, status, forget. Each starts work on the sync
 * client and answers at once; the outcome arrives as sync.* notifications
 * (sync_events.c), so a client subscribes to sync.progress before calling.
 */
#include <inttypes.h>
#include <stdio.h>

#include "fieldsync/sync.h"
#include "rpc.h"
#include "sync_events.h"

static const char *const no_params[] = {NULL};

/* The open store's sync client, or the locked / not-initialized error. */
static int need_sync(fs_daemon *d, fs_sync **out, fs_rpc_err *e)
{
    fs_store *st;
    if (fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    if (d->sync == NULL) /* no event loop (tests, fuzzing): never enrolled */
        return fs_rpc_fail(e, FS_RPC_NO_SERVER, NULL,
                           "no server configured: this daemon runs without a sync client");
    *out = d->sync;
    return 0;
}

/* A sync client error as a JSON-RPC error. */
static int sync_fail(fs_sync *s, const fs_err *err, fs_rpc_err *e)
{
    switch (err->code) {
    case FS_ESTATE:
        if (fs_sync_get_state(s) == FS_SYNC_UNCONFIGURED)
            return fs_rpc_fail(e, FS_RPC_NO_SERVER, NULL,
                               "no server configured: enroll this device first "
                               "(fieldsync enroll URL CODE)");
        return fs_rpc_fail(e, FS_RPC_INVALID_STATE, NULL, "%s", fs_err_message(err));
    case FS_EBUSY:
        return fs_rpc_fail(e, FS_RPC_BUSY, NULL, "%s", fs_err_message(err));
    case FS_EEXIST:
        return fs_rpc_fail(e, FS_RPC_INVALID_STATE, NULL, "%s", fs_err_message(err));
    case FS_EINVAL:
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, NULL, "%s", fs_err_message(err));
    default:
        return fs_rpc_fail_fs(e, err);
    }
}

static int started(fs_sync *s, json_t **result, fs_rpc_err *e)
{
    *result =
        json_pack("{s:b,s:s}", "started", 1, "state", fs_sync_state_name(fs_sync_get_state(s)));
    return *result != NULL ? 0 : fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
}

static void enroll_done(void *arg, int code, const fs_err *err)
{
    fs_daemon *d = arg;
    json_t *p = json_pack("{s:b}", "ok", code == 0);
    if (p != NULL && code != 0)
        json_object_set_new(p, "message", json_string(fs_err_message(err)));
    fs_daemon_notify(d, FS_TOPIC_SYNC, "sync.enrolled", p);
}

static int m_enroll(fs_daemon *d, fs_rpc_session *sess, json_t *params, json_t **result,
                    fs_rpc_err *e)
{
    (void)sess;
    static const char *const allowed[] = {"url", "code", "device_name", NULL};
    const char *url, *code, *name = NULL;
    fs_sync *s = NULL;
    if (fs_rpc_params_check(params, allowed, e) != 0 || need_sync(d, &s, e) != 0 ||
        fs_rpc_param_string(params, "url", true, &url, e) != 0 ||
        fs_rpc_param_string(params, "code", true, &code, e) != 0 ||
        fs_rpc_param_string(params, "device_name", false, &name, e) != 0)
        return -1;
    fs_err err = {0};
    if (fs_sync_enroll(s, url, code, name, enroll_done, d, &err) != 0)
        return sync_fail(s, &err, e);
    return started(s, result, e);
}

static int m_now(fs_daemon *d, fs_rpc_session *sess, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)sess;
    fs_sync *s = NULL;
    if (fs_rpc_params_check(params, no_params, e) != 0 || need_sync(d, &s, e) != 0)
        return -1;
    fs_err err = {0};
    if (fs_sync_now(s, &err) != 0)
        return sync_fail(s, &err, e);
    return started(s, result, e);
}

static int m_resync(fs_daemon *d, fs_rpc_session *sess, json_t *params, json_t **result,
                    fs_rpc_err *e)
{
    (void)sess;
    static const char *const allowed[] = {"full", NULL};
    bool full = true;
    fs_sync *s = NULL;
    if (fs_rpc_params_check(params, allowed, e) != 0 || need_sync(d, &s, e) != 0 ||
        fs_rpc_param_bool(params, "full", &full, e) != 0)
        return -1;
    fs_err err = {0};
    if (fs_sync_resync(s, full, &err) != 0)
        return sync_fail(s, &err, e);
    return started(s, result, e);
}

/* The server's clock and the changes dated ahead of it (sync-client.md "Clocks"). */
static json_t *with_clock(json_t *r, const fs_sync_status *st)
{
    if (r == NULL)
        return NULL;
    json_object_set_new(r, "clock_offset_s",
                        st->clock_known ? json_integer(st->clock_offset_s) : json_null());
    json_object_set_new(r, "waiting_for_clock", json_integer((json_int_t)st->clock_waiting));
    json_object_set_new(r, "clock_wait_s", json_integer(st->clock_wait_s));
    return r;
}

json_t *fs_rpc_sync_status(fs_daemon *d)
{
    if (d->sync == NULL)
        return json_pack("{s:s}", "state", "unconfigured");
    fs_sync_status st;
    fs_err err = {0};
    if (fs_sync_get_status(d->sync, &st, &err) != 0)
        return json_pack("{s:s,s:s}", "state", "error", "reason", fs_err_message(&err));
    char replica[17];
    snprintf(replica, sizeof(replica), "%016" PRIx64, st.replica);
    json_t *r = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:b,s:b,s:o}", "state",
                          fs_sync_state_name(st.state), "reason", st.reason, "last_sync",
                          (json_int_t)st.last_sync, "pending", (json_int_t)st.pending, "refused",
                          (json_int_t)st.refused, "conflicts", (json_int_t)st.conflicts, "server",
                          st.server_url, "user", st.user, "replica", replica, "cursor",
                          (json_int_t)st.cursor, "next_attempt", (json_int_t)st.next_attempt,
                          "resyncing", st.resyncing, "read_only", st.read_only, "progress",
                          st.running ? fs_daemon_progress_json(&st.progress) : json_null());
    return with_clock(r, &st);
}

static int m_status(fs_daemon *d, fs_rpc_session *sess, json_t *params, json_t **result,
                    fs_rpc_err *e)
{
    (void)sess;
    fs_store *st;
    if (fs_rpc_params_check(params, no_params, e) != 0 || fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    *result = fs_rpc_sync_status(d);
    return *result != NULL ? 0 : fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
}

static int m_forget(fs_daemon *d, fs_rpc_session *sess, json_t *params, json_t **result,
                    fs_rpc_err *e)
{
    (void)sess;
    fs_sync *s = NULL;
    if (fs_rpc_params_check(params, no_params, e) != 0 || need_sync(d, &s, e) != 0)
        return -1;
    fs_err err = {0};
    if (fs_sync_forget(s, &err) != 0)
        return sync_fail(s, &err, e);
    *result = json_pack("{s:s}", "state", fs_sync_state_name(fs_sync_get_state(s)));
    return 0;
}

const fs_rpc_method fs_rpc_methods_sync[] = {
    {"sync.enroll", m_enroll, true}, /* the code is a one-time secret: wiped after the call */
    {"sync.now", m_now, false},
    {"sync.resync", m_resync, false},
    {"sync.status", m_status, false},
    {"sync.forget", m_forget, false},
    {NULL, NULL, false},
};
