/*
 * engine.c: the sync engine's lifecycle and state machine.
 *
 *   unconfigured --enroll--> idle --trigger--> syncing --ok--> idle
 *                                                 |--network--> offline --retry--> syncing
 *                                                 |--server/protocol--> error --retry--> syncing
 *                                                 \--401--> revoked (stops; enroll again)
 *
 * Triggers: a local change (debounced), the periodic timer (armed only while
 * idle and enrolled), fs_sync_now / fs_sync_resync, and the network coming back
 * (netwatch.c). A trigger during a run sets `rerun`, so the run that follows
 * picks the change up; triggers never start a second run. At most one of the
 * period and retry timers is armed, and none at all while unconfigured or
 * revoked: an idle daemon does not wake up for nothing.
 */
#include "sync_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldsync/log.h"
#include "loop.h"

const char *fs_sync_state_name(fs_sync_state s)
{
    switch (s) {
    case FS_SYNC_UNCONFIGURED:
        return "unconfigured";
    case FS_SYNC_IDLE:
        return "idle";
    case FS_SYNC_SYNCING:
        return "syncing";
    case FS_SYNC_OFFLINE:
        return "offline";
    case FS_SYNC_ERROR:
        return "error";
    case FS_SYNC_REVOKED:
        return "revoked";
    }
    return "unknown";
}

static void apply_defaults(fs_sync_opts *o)
{
    if (o->period_s == 0)
        o->period_s = 900;
    if (o->debounce_ms == 0)
        o->debounce_ms = 2000;
    if (o->connect_timeout_ms == 0)
        o->connect_timeout_ms = 10000;
    if (o->low_speed_s == 0)
        o->low_speed_s = 30;
    if (o->request_timeout_s == 0)
        o->request_timeout_s = 300;
    if (o->push_count == 0)
        o->push_count = 1000;
    if (o->push_bytes == 0)
        o->push_bytes = 4u << 20;
    if (o->pull_limit == 0)
        o->pull_limit = 1000;
    if (o->pull_pages_max == 0)
        o->pull_pages_max = 1000;
    if (o->max_response == 0)
        o->max_response = 64u << 20;
    if (o->gzip_min == 0)
        o->gzip_min = 1024;
    if (o->backoff_base_ms == 0)
        o->backoff_base_ms = 1000;
    if (o->backoff_cap_ms == 0)
        o->backoff_cap_ms = 300000;
}

void fs_sync_set_state(fs_sync *s, fs_sync_state state, const char *fmt, ...)
{
    char reason[FS_ERR_MSG_MAX] = "";
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
    }
    if (s->state == state && strcmp(s->reason, reason) == 0)
        return;
    /* idle after syncing is routine; idle after a failure is news */
    bool routine =
        state == FS_SYNC_SYNCING ||
        (state == FS_SYNC_IDLE && s->state != FS_SYNC_OFFLINE && s->state != FS_SYNC_ERROR);
    if (s->state != state)
        fs_log(routine ? FS_LOG_DEBUG : FS_LOG_INFO, "sync: %s%s%s", fs_sync_state_name(state),
               reason[0] ? ": " : "", reason);
    s->state = state;
    memcpy(s->reason, reason, sizeof(reason));
    if (s->cb.state_changed != NULL)
        s->cb.state_changed(s->cb.arg, state, s->reason);
}

static void cancel_timers(fs_sync *s)
{
    fs_loop_timer_del(s->loop, s->t_debounce);
    fs_loop_timer_del(s->loop, s->t_period);
    fs_loop_timer_del(s->loop, s->t_retry);
    s->t_debounce = s->t_period = s->t_retry = NULL;
    s->next_attempt_ms = 0;
}

static bool can_run(const fs_sync *s)
{
    return s->url != NULL && s->state != FS_SYNC_REVOKED && s->state != FS_SYNC_UNCONFIGURED;
}

static void on_retry(fs_loop *loop, void *arg)
{
    (void)loop;
    fs_sync *s = arg;
    s->t_retry = NULL;
    s->next_attempt_ms = 0;
    if (can_run(s))
        fs_sync_run_start(s);
}

static void on_period(fs_loop *loop, void *arg)
{
    (void)loop;
    fs_sync *s = arg;
    s->t_period = NULL;
    s->next_attempt_ms = 0;
    if (can_run(s))
        fs_sync_run_start(s);
}

static void on_debounce(fs_loop *loop, void *arg)
{
    (void)loop;
    fs_sync *s = arg;
    s->t_debounce = NULL;
    if (!can_run(s))
        return;
    if (s->running) {
        s->rerun = true;
        return;
    }
    /* while backing off, a local change waits for the retry: it cannot reach
     * an unreachable server any sooner */
    if (s->t_retry == NULL)
        fs_sync_run_start(s);
}

void fs_sync_schedule(fs_sync *s, int64_t delay_ms)
{
    int64_t at = fs_loop_now_ms() + (delay_ms < 0 ? 0 : delay_ms);
    if (s->t_retry != NULL && s->next_attempt_ms <= at)
        return;
    fs_loop_timer_del(s->loop, s->t_retry);
    fs_loop_timer_del(s->loop, s->t_period);
    s->t_retry = s->t_period = NULL;
    if (fs_loop_timer_add(s->loop, at, on_retry, s, &s->t_retry, NULL) == 0)
        s->next_attempt_ms = at;
}

void fs_sync_run_succeeded(fs_sync *s)
{
    s->attempt = 0;
    fs_err err;
    if (fs_store_set_last_sync(s->st, (uint64_t)time(NULL), &err) != 0)
        fs_log(FS_LOG_WARN, "sync: recording the last sync time: %s", fs_err_message(&err));
    fs_sync_set_state(s, FS_SYNC_IDLE, NULL);
    if (s->rerun || s->want_resync) {
        s->rerun = false;
        fs_sync_schedule(s, 0);
        return;
    }
    int64_t at = fs_loop_now_ms() + (int64_t)s->opts.period_s * 1000;
    if (s->t_period == NULL && s->t_retry == NULL &&
        fs_loop_timer_add(s->loop, at, on_period, s, &s->t_period, NULL) == 0)
        s->next_attempt_ms = at;
}

void fs_sync_run_failed(fs_sync *s, fs_sync_state state, int code, int64_t retry_after_ms,
                        const char *fmt, ...)
{
    (void)code;
    char reason[FS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    s->attempt++;
    int64_t delay = fs_sync_backoff_ms(s->attempt, s->opts.backoff_base_ms, s->opts.backoff_cap_ms,
                                       retry_after_ms, randombytes_random());
    s->rerun = false;
    fs_sync_schedule(s, delay);
    fs_sync_set_state(s, state, "%s (retry in %llds)", reason, (long long)(delay + 999) / 1000);
}

void fs_sync_revoked(fs_sync *s, const char *fmt, ...)
{
    char reason[FS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    cancel_timers(s);
    s->rerun = s->want_resync = false;
    fs_sync_set_state(s, FS_SYNC_REVOKED, "%s", reason);
}

void fs_sync_http_failed(fs_sync *s, const fs_http_resp *r, const char *what)
{
    char code[64], msg[256];
    switch (r->outcome) {
    case FS_HTTP_NETWORK:
        fs_sync_run_failed(s, FS_SYNC_OFFLINE, FS_ENET, -1, "%s: server unreachable: %s", what,
                           r->error);
        return;
    case FS_HTTP_TLS:
        fs_sync_run_failed(s, FS_SYNC_ERROR, FS_ENET, -1,
                           "%s: TLS failed: %s (check the server certificate or the CA file)", what,
                           r->error);
        return;
    case FS_HTTP_TOO_BIG:
    case FS_HTTP_LOCAL:
    case FS_HTTP_BAD_BODY:
        fs_sync_run_failed(s, FS_SYNC_ERROR, FS_EIO, -1, "%s: %s", what, r->error);
        return;
    case FS_HTTP_OK:
        break;
    }
    fs_sync_decode_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
    if (r->status == 401 && strcmp(code, "device_revoked") == 0) {
        fs_sync_revoked(s, "the administrator revoked this device: enroll it again with a new "
                           "code (fieldsync enroll URL CODE)");
    } else if (r->status == 401) {
        fs_sync_revoked(s,
                        "the server does not know this device (%s): enroll it again with a "
                        "new code",
                        code[0] ? code : "unauthenticated");
    } else {
        fs_sync_run_failed(s, FS_SYNC_ERROR, FS_EIO, r->retry_after_ms,
                           "%s: server answered %ld%s%s%s%s", what, r->status, code[0] ? " " : "",
                           code, msg[0] ? ": " : "", msg);
    }
}

int fs_sync_load_config(fs_sync *s, fs_err *err)
{
    uint8_t *url = NULL;
    size_t len = 0;
    free(s->url);
    s->url = NULL;
    int rc = fs_store_meta_get(s->st, FS_META_SERVER_URL, &url, &len, err);
    if (rc == FS_ENOTFOUND) {
        fs_err_clear(err);
        return 0;
    }
    if (rc != 0)
        return rc;
    if (len == 0) {
        free(url);
        return 0;
    }
    s->url = (char *)url;
    return 0;
}

int fs_sync_new(fs_sync **out, fs_loop *loop, fs_store *st, const fs_sync_opts *opts,
                const fs_sync_callbacks *cb, fs_err *err)
{
    fs_sync *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return fs_err_set(err, FS_ENOMEM, "sync engine: out of memory");
    s->loop = loop;
    s->st = st;
    s->nl_fd = -1;
    if (opts != NULL)
        s->opts = *opts;
    apply_defaults(&s->opts);
    if (cb != NULL)
        s->cb = *cb;
    s->ca_file = s->opts.ca_file ? strdup(s->opts.ca_file) : NULL;
    s->device_name = s->opts.device_name ? strdup(s->opts.device_name) : NULL;
    s->opts.ca_file = s->ca_file;
    s->opts.device_name = s->device_name;
    fs_http_opts ho = {s->opts.ca_file,           s->opts.connect_timeout_ms, s->opts.low_speed_s,
                       s->opts.request_timeout_s, s->opts.max_response,       s->opts.gzip_min};
    int rc = fs_crypto_init(err);
    if (rc == 0)
        rc = fs_http_new(&s->http, loop, &ho, err);
    if (rc == 0)
        rc = fs_sync_load_config(s, err);
    if (rc != 0) {
        fs_sync_free(s);
        return rc;
    }
    if (!s->opts.no_netwatch)
        fs_sync_netwatch_open(s);
    if (s->url != NULL) {
        s->state = FS_SYNC_IDLE;
        fs_sync_schedule(s, 0); /* catch up with what happened while the daemon was down */
    }
    *out = s;
    return 0;
}

void fs_sync_free(fs_sync *s)
{
    if (s == NULL)
        return;
    fs_sync_run_abort(s);
    fs_sync_enroll_abort(s);
    cancel_timers(s);
    fs_sync_netwatch_close(s);
    fs_http_free(s->http);
    free(s->url);
    free(s->ca_file);
    free(s->device_name);
    free(s);
}

void fs_sync_local_change(fs_sync *s)
{
    if (s == NULL || !can_run(s))
        return;
    fs_loop_timer_del(s->loop, s->t_debounce);
    s->t_debounce = NULL;
    fs_loop_timer_add(s->loop, fs_loop_now_ms() + s->opts.debounce_ms, on_debounce, s,
                      &s->t_debounce, NULL);
}

int fs_sync_now(fs_sync *s, fs_err *err)
{
    if (s->url == NULL)
        return fs_err_set(err, FS_ESTATE,
                          "this device is not enrolled: run fieldsync enroll "
                          "URL CODE first");
    if (s->state == FS_SYNC_REVOKED)
        return fs_err_set(err, FS_ESTATE, "%s", s->reason);
    if (s->running) {
        s->rerun = true;
        return 0;
    }
    /* an immediate attempt, but the backoff continues: pressing "sync now" against a
     * dead server must not undo the jitter */
    fs_sync_schedule(s, 0);
    return 0;
}

int fs_sync_resync(fs_sync *s, bool full, fs_err *err)
{
    int rc = fs_sync_now(s, err);
    if (rc == 0 && full)
        s->want_resync = true;
    return rc;
}

fs_sync_state fs_sync_get_state(const fs_sync *s)
{
    return s->state;
}

static int64_t wall_of(int64_t mono_ms)
{
    if (mono_ms == 0)
        return 0;
    int64_t delta = mono_ms - fs_loop_now_ms();
    return (int64_t)time(NULL) + (delta > 0 ? (delta + 999) / 1000 : 0);
}

int fs_sync_get_status(fs_sync *s, fs_sync_status *out, fs_err *err)
{
    size_t pending = 0, inflight = 0;
    uint64_t last = 0;
    uint8_t *user = NULL;
    size_t ulen = 0;
    memset(out, 0, sizeof(*out));
    out->state = s->state;
    snprintf(out->reason, sizeof(out->reason), "%s", s->reason);
    snprintf(out->server_url, sizeof(out->server_url), "%s", s->url ? s->url : "");
    out->replica = fs_store_replica(s->st);
    out->next_attempt = s->running ? 0 : wall_of(s->next_attempt_ms);
    int rc = fs_outbox_count(s->st, FS_OUTBOX_PENDING, &pending, err);
    if (rc == 0)
        rc = fs_outbox_count(s->st, FS_OUTBOX_IN_FLIGHT, &inflight, err);
    if (rc == 0)
        rc = fs_outbox_count(s->st, FS_OUTBOX_REFUSED, &out->refused, err);
    if (rc == 0)
        rc = fs_store_conflict_count(s->st, &out->conflicts, err);
    if (rc == 0)
        rc = fs_sync_clock_status(s, out, err);
    if (rc == 0)
        rc = fs_store_meta_get_u64(s->st, FS_META_LAST_SYNC, &last, err);
    if (rc == 0)
        rc = fs_store_meta_get_u64(s->st, FS_META_CURSOR, &out->cursor, err);
    if (rc == 0)
        rc = fs_store_resync_active(s->st, &out->resyncing, err);
    uint64_t ro = 0;
    if (rc == 0)
        rc = fs_store_meta_get_u64(s->st, FS_META_READ_ONLY, &ro, err);
    out->read_only = ro != 0;
    out->running = s->running;
    if (s->running)
        out->progress = s->progress;
    if (rc == 0 && fs_store_meta_get(s->st, FS_META_USER, &user, &ulen, NULL) == 0)
        snprintf(out->user, sizeof(out->user), "%s", (const char *)user);
    free(user);
    out->resyncing = out->resyncing || s->want_resync || (s->running && s->resync);
    out->pending = pending + inflight;
    out->last_sync = (int64_t)last;
    return rc;
}
