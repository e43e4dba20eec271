/*
 * sync_events.c: wires the sync client (daemon/sync/, include/fieldsync/sync.h)
 * into the daemon. The engine runs on the daemon's loop for as long as the store
 * is open (state.c); what it reports becomes notifications:
 *
 *   sync.state     {state, reason}                 the engine's state changed
 *   sync.progress  {phase, records, bytes, ...}    after each request of a run
 *   sync.done      {ok, pushed, pulled, ...}       a run ended (or failed)
 *   sync.enrolled  {ok, user | message}            an enrollment ended
 *   record.changed {origin: "remote"}              the server changed a record
 *
 * The socket API answers sync.now/resync/enroll at once (the RPC layer answers
 * in order, one call at a time); clients that want the outcome subscribe to
 * sync.progress first and wait for sync.done or sync.enrolled.
 */
#include "sync_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "fieldsync/sync.h"

static void on_state(void *arg, fs_sync_state state, const char *reason)
{
    fs_daemon *d = arg;
    fs_log(state == FS_SYNC_ERROR || state == FS_SYNC_REVOKED ? FS_LOG_WARN : FS_LOG_INFO,
           "sync: %s%s%s", fs_sync_state_name(state), reason && *reason ? ": " : "",
           reason ? reason : "");
    fs_daemon_notify(
        d, FS_TOPIC_SYNC, "sync.state",
        json_pack("{s:s,s:s}", "state", fs_sync_state_name(state), "reason", reason ? reason : ""));
}

json_t *fs_daemon_progress_json(const fs_sync_progress *p)
{
    json_t *params =
        json_pack("{s:s,s:b,s:I,s:I,s:f,s:b,s:I}", "phase", p->phase ? p->phase : "push", "resync",
                  p->resync, "records", (json_int_t)p->records, "bytes", (json_int_t)p->bytes,
                  "rate", p->rate, "more", p->more, "cursor", (json_int_t)p->cursor);
    if (params != NULL) {
        json_object_set_new(params, "total",
                            p->total > 0 ? json_integer((json_int_t)p->total) : json_null());
        json_object_set_new(params, "eta_ms",
                            p->eta_ms < 0 ? json_null() : json_integer((json_int_t)p->eta_ms));
    }
    return params;
}

static void on_progress(void *arg, const fs_sync_progress *p)
{
    fs_daemon_notify(arg, FS_TOPIC_SYNC, "sync.progress", fs_daemon_progress_json(p));
}

static void on_record(void *arg, fs_kind kind, const char *id, bool removed)
{
    fs_daemon *d = arg;
    fs_daemon_notify(d, FS_TOPIC_RECORD, "record.changed",
                     json_pack("{s:s,s:s,s:s,s:b}", "kind", fs_kind_name(kind), "id", id, "origin",
                               "remote", "deleted", removed));
}

static void on_done(void *arg, const fs_sync_result *r)
{
    fs_daemon *d = arg;
    json_t *p = json_pack("{s:b,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "ok", r->code == 0,
                          "resync", r->resync, "pushed", (json_int_t)r->pushed, "refused",
                          (json_int_t)r->refused, "pulled", (json_int_t)r->pulled, "changed",
                          (json_int_t)r->changed, "removed", (json_int_t)r->removed, "skipped",
                          (json_int_t)r->skipped, "requests", (json_int_t)r->requests, "bytes_up",
                          (json_int_t)r->bytes_up, "bytes_down", (json_int_t)r->bytes_down);
    if (p != NULL && r->code != 0)
        json_object_set_new(p, "message", json_string(r->message ? r->message : ""));
    if (p != NULL && r->resync)
        json_object_set_new(
            p, "report",
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "added", (json_int_t)r->rs.added, "updated",
                      (json_int_t)r->rs.updated, "removed", (json_int_t)r->rs.removed, "conflicts",
                      (json_int_t)r->rs.conflicts, "kept_local", (json_int_t)r->rs.kept_local,
                      "restored", (json_int_t)r->rs.restored));
    fs_daemon_notify(d, FS_TOPIC_SYNC, "sync.done", p);
}

int fs_daemon_sync_start(fs_daemon *d, fs_err *err)
{
    char host[256] = "fieldsync device";
    gethostname(host, sizeof(host) - 1);
    fs_sync_opts opts = {
        .ca_file = d->cfg->server_ca_file,
        .period_s = d->cfg->sync_interval_s,
        .debounce_ms = d->cfg->sync_debounce_ms,
        .device_name = host,
    };
    fs_sync_callbacks cb = {
        .state_changed = on_state,
        .progress = on_progress,
        .record_changed = on_record,
        .run_done = on_done,
        .arg = d,
    };
    return fs_sync_new(&d->sync, d->loop, d->store, &opts, &cb, err);
}

void fs_daemon_local_change(fs_daemon *d)
{
    if (d->sync != NULL)
        fs_sync_local_change(d->sync);
}
