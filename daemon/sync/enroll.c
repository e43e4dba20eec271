/*
 * enroll.c: enrolling this device with a server (POST /v1/enroll).
 *
 * What enrollment yields (replica id, token, user, server id) goes into the
 * encrypted store, never the configuration: whoever copies the config file
 * does not get the device's identity. The server URL is written last, because
 * its presence is what makes the engine consider itself enrolled: an
 * enrollment interrupted half-way leaves an unenrolled device that simply
 * enrolls again with a new code.
 *
 * The request names the replica id the store has written with so far (minted
 * by the store before enrollment, or given by an earlier one): the server then
 * accepts this device's unsynced writes under that id as its own
 * (protocol.md, "Whose writes a device may push").
 */
#include "sync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/log.h"

static int save(fs_sync *s, const fs_sync_enrollment *e, bool was_enrolled, fs_err *err)
{
    int rc = fs_store_set_replica(s->st, e->replica, err);
    if (rc == 0)
        rc = fs_store_meta_set(s->st, FS_META_USER, e->user, strlen(e->user), err);
    if (rc == 0)
        rc = fs_store_meta_set(s->st, FS_META_SERVER_ID, e->server_id, strlen(e->server_id), err);
    if (rc == 0)
        rc = fs_store_meta_set(s->st, FS_META_DEVICE_TOKEN, e->token->bytes, e->token->len, err);
    if (rc == 0) /* before the first pull: a manager's device refuses edits at once */
        rc = fs_store_meta_set_u64(s->st, FS_META_READ_ONLY, e->read_only, err);
    /* a new identity pulls from the start; records of an earlier enrollment that
     * this one does not give are swept by a resync */
    if (rc == 0)
        rc = was_enrolled ? fs_store_resync_begin(s->st, err)
                          : fs_store_meta_set_u64(s->st, FS_META_CURSOR, 0, err);
    if (rc == 0 && !was_enrolled) /* a snapshot of a server this device forgot */
        rc = fs_store_meta_delete(s->st, FS_META_PULL_SNAPSHOT, err);
    if (rc == 0)
        rc =
            fs_store_meta_set(s->st, FS_META_SERVER_URL, s->enroll_url, strlen(s->enroll_url), err);
    return rc;
}

static int explain(const fs_http_resp *r, fs_err *err)
{
    char code[64], msg[256];
    if (r->outcome == FS_HTTP_NETWORK)
        return fs_err_set(err, FS_ENET,
                          "enrollment: server unreachable: %s (check the URL and "
                          "the network)",
                          r->error);
    if (r->outcome == FS_HTTP_TLS)
        return fs_err_set(err, FS_ENET,
                          "enrollment: TLS failed: %s (check the server "
                          "certificate or the CA file)",
                          r->error);
    if (r->outcome != FS_HTTP_OK)
        return fs_err_set(err, FS_EIO, "enrollment: %s", r->error);
    fs_sync_decode_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
    if (strcmp(code, "code_used") == 0 || strcmp(code, "code_expired") == 0 ||
        strcmp(code, "code_invalid") == 0)
        return fs_err_set(err, FS_EDENIED,
                          "enrollment refused (%s): %s; ask the administrator "
                          "for a new code (fieldsync-server enroll-code USER)",
                          code, msg[0] ? msg : "the code does not work");
    return fs_err_set(err, FS_EIO, "enrollment: the server answered %ld%s%s%s%s", r->status,
                      code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

static void on_enroll_done(void *arg, const fs_http_resp *r)
{
    fs_sync *s = arg;
    fs_sync_enrollment e = {0};
    fs_err err;
    fs_err_clear(&err);
    bool was_enrolled = s->url != NULL;
    s->enroll_req = NULL;
    int rc = r->outcome == FS_HTTP_OK && r->status == 200 ? 0 : explain(r, &err);
    if (rc == 0)
        rc = fs_sync_decode_enroll(r->body, r->len, &e, &err);
    if (rc == 0)
        rc = save(s, &e, was_enrolled, &err);
    if (rc == 0)
        rc = fs_sync_load_config(s, &err);
    if (rc == 0) {
        fs_log(FS_LOG_INFO, "sync: enrolled with %s as user %s (replica %016llx)", s->url, e.user,
               (unsigned long long)e.replica);
        s->attempt = 0;
        fs_sync_set_state(s, FS_SYNC_IDLE, NULL);
        fs_sync_schedule(s, 0);
    }
    fs_sync_enrollment_clear(&e);
    free(s->enroll_url);
    s->enroll_url = NULL;
    fs_sync_enroll_fn done = s->enroll_done;
    s->enroll_done = NULL;
    if (done != NULL)
        done(s->enroll_arg, rc, &err);
}

int fs_sync_enroll(fs_sync *s, const char *url, const char *code, const char *device_name,
                   fs_sync_enroll_fn done, void *arg, fs_err *err)
{
    uint8_t *body = NULL;
    size_t len = 0;
    if (s->enroll_url != NULL || s->running)
        return fs_err_set(err, FS_EBUSY,
                          "an enrollment or a sync is in progress: try again "
                          "when it is done");
    if (s->url != NULL && s->state != FS_SYNC_REVOKED)
        return fs_err_set(err, FS_EEXIST, "this device is already enrolled with %s", s->url);
    if (url == NULL || strlen(url) > 500)
        return fs_err_set(err, FS_EINVAL, "server URL missing or over 500 bytes");
    int rc = fs_http_url_check(url, err);
    if (rc != 0)
        return rc;
    if (code == NULL || code[0] == '\0' || strlen(code) > 64)
        return fs_err_set(err, FS_EINVAL, "enrollment code missing or too long");
    if (device_name == NULL)
        device_name = s->opts.device_name;
    if (device_name != NULL && strlen(device_name) > 128)
        return fs_err_set(err, FS_EINVAL, "device name is over 128 bytes");
    s->enroll_url = strdup(url);
    if (s->enroll_url == NULL)
        return fs_err_set(err, FS_ENOMEM, "enrollment: out of memory");
    rc = fs_sync_encode_enroll(code, device_name, fs_store_replica(s->st), &body, &len, err);
    if (rc == 0)
        rc = fs_http_post(s->http, url, "/v1/enroll", (fs_http_body){body, len, false}, NULL,
                          on_enroll_done, s, &s->enroll_req, err);
    if (rc != 0) {
        free(s->enroll_url);
        s->enroll_url = NULL;
        return rc;
    }
    s->enroll_done = done;
    s->enroll_arg = arg;
    return 0;
}

void fs_sync_enroll_abort(fs_sync *s)
{
    fs_http_cancel(s->http, s->enroll_req);
    s->enroll_req = NULL;
    free(s->enroll_url);
    s->enroll_url = NULL;
    s->enroll_done = NULL;
}

int fs_sync_forget(fs_sync *s, fs_err *err)
{
    if (s->running || s->enroll_url != NULL)
        return fs_err_set(err, FS_EBUSY,
                          "a sync or enrollment is in progress: try again when "
                          "it is done");
    /* without a server, nobody refuses this device's changes: it writes again */
    static const char *const keys[] = {FS_META_SERVER_URL, FS_META_DEVICE_TOKEN, FS_META_READ_ONLY};
    int rc = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && (rc == 0 || rc == FS_ENOTFOUND); i++)
        rc = fs_store_meta_delete(s->st, keys[i], err);
    if (rc == FS_ENOTFOUND)
        rc = 0;
    if (rc != 0)
        return rc;
    free(s->url);
    s->url = NULL;
    fs_sync_revoked(s, "forgotten"); /* cancels every timer */
    fs_sync_set_state(s, FS_SYNC_UNCONFIGURED, NULL);
    return 0;
}
