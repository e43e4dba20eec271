/*
 * handler.c: the endpoints' common parts (configuration, error responses,
 * protocol check, token authentication) and enrollment. Push and pull are in
 * handler_sync.c.
 *
 * Enrollment trades a one-time code for a device: the server mints the replica
 * id (random, never 0, never used before) and a random 256-bit token it keeps
 * only as a hash, then answers with both. Code use, device row and answer are
 * one transaction, so a code is never burnt without a device to show for it.
 *
 * The request may name the replica id the device's store wrote with until now
 * (its provisional id, or an earlier enrollment's). The new device is let
 * push new writes of that id too (handler_sync.c, trust.c) when no device
 * owns it, or only revoked devices of the same user do: a laptop that worked
 * before it was enrolled, or one enrolled again after a revocation, keeps its
 * unsynced changes. An id another live device owns is not granted (a copied
 * store); the enrollment still succeeds, and that id's new writes are refused
 * record by record.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldsync.pb-c.h"
#include "handler_int.h"
#include "fieldsync/log.h"
#include "token.h"

/* Tries before giving up on minting an unused replica id (a clash is ~2^-64). */
#define SRV_REPLICA_TRIES 8
/* A full disk is not freed in a second: devices come back in a minute. */
#define SRV_STORAGE_FULL_RETRY_S 60

void srv_config_default(srv_config *c)
{
    memset(c, 0, sizeof(*c));
    c->body_limit = SRV_BODY_LIMIT_DEFAULT;
    c->push_states_max = SRV_PUSH_STATES_DEFAULT;
    c->push_answer_max = SRV_PUSH_ANSWER_DEFAULT;
    c->clock_skew_s = SRV_CLOCK_SKEW_DEFAULT_S;
    c->pull_limit = SRV_PULL_LIMIT_DEFAULT;
    c->pull_limit_max = SRV_PULL_LIMIT_MAX;
    c->pull_max_bytes = SRV_PULL_BYTES_MAX;
    c->horizon_s = SRV_HORIZON_DEFAULT_S;
}

int64_t srv_config_now(const srv_config *c)
{
    return c->clock != NULL ? c->clock(c->clock_arg) : (int64_t)time(NULL);
}

void srv_response_clear(srv_response *rs)
{
    if (rs == NULL)
        return;
    if (rs->body != NULL)
        sodium_memzero(rs->body, rs->len);
    free(rs->body);
    memset(rs, 0, sizeof(*rs));
}

int srv_response_error(srv_response *rs, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    Fieldsync__ErrorResponse er = FIELDSYNC__ERROR_RESPONSE__INIT;
    er.code = (char *)code;
    er.message = msg;
    srv_response_clear(rs);
    rs->status = status;
    rs->content_type = SRV_CONTENT_TYPE;
    rs->len = fieldsync__error_response__get_packed_size(&er);
    rs->body = malloc(rs->len ? rs->len : 1);
    if (rs->body == NULL)
        return FS_ENOMEM;
    fieldsync__error_response__pack(&er, rs->body);
    return 0;
}

int srv_storage_failure(srv_response *rs, const fs_err *err)
{
    fs_log(FS_LOG_ERROR, "%s", fs_err_message(err));
    if (err != NULL && (err->code == FS_EBUSY || err->code == FS_ECONFLICT)) {
        int rc = srv_response_error(rs, 503, "busy", "the server is busy: retry shortly");
        rs->retry_after = 1;
        return rc;
    }
    if (err != NULL && err->code == FS_ENOSPC) {
        int rc = srv_response_error(rs, 507, "storage_full",
                                    "the server's disk is full: nothing of this request was "
                                    "stored; the device keeps its changes and sends them again");
        rs->retry_after = SRV_STORAGE_FULL_RETRY_S;
        return rc;
    }
    return srv_response_error(rs, 500, "internal",
                              "the server could not complete the request: retry later");
}

bool srv_check_protocol(const srv_request *rq, srv_response *rs)
{
    if (rq->protocol != NULL && strcmp(rq->protocol, SRV_PROTOCOL_VERSION) == 0)
        return true;
    srv_response_error(rs, 400, "protocol_version",
                       "this server speaks Fieldsync-Protocol %s; the request %s%s%s: update "
                       "fieldsync",
                       SRV_PROTOCOL_VERSION, rq->protocol ? "asked for version \"" : "has none",
                       rq->protocol ? rq->protocol : "", rq->protocol ? "\"" : "");
    return false;
}

bool srv_authenticate(srv_storage *s, const srv_request *rq, srv_device *dev, srv_user *user,
                      srv_response *rs)
{
    uint8_t token[SRV_TOKEN_BYTES], hash[SRV_HASH_BYTES];
    fs_err err = {0};
    if (srv_token_parse_bearer(rq->authorization, token) != 0) {
        srv_response_error(rs, 401, "unauthenticated",
                           "missing or malformed Authorization: expected \"Bearer\" and the "
                           "device token as 64 lowercase hex digits; enroll the device");
        return false;
    }
    srv_token_hash(token, hash);
    sodium_memzero(token, sizeof(token));
    int rc = s->ops->device_by_token(s, hash, dev, &err);
    if (rc == FS_ENOTFOUND) {
        srv_response_error(rs, 401, "unauthenticated",
                           "unknown device token: enroll the device again");
        return false;
    }
    if (rc == 0 && dev->revoked_at != 0) {
        fs_log(FS_LOG_INFO, "refused revoked device %lld", (long long)dev->id);
        srv_response_error(rs, 401, "device_revoked",
                           "this device was revoked by the administrator: ask them for a new "
                           "enrollment code");
        return false;
    }
    if (rc == 0)
        rc = s->ops->user_get_id(s, dev->user_id, user, &err);
    if (rc != 0) {
        srv_storage_failure(rs, &err);
        return false;
    }
    return true;
}

bool srv_admit(srv_storage *s, const srv_request *rq, bool device, int64_t *device_id,
               srv_response *rs)
{
    srv_device dev = {0};
    srv_user user;
    bool ok = srv_check_protocol(rq, rs) && (!device || srv_authenticate(s, rq, &dev, &user, rs));
    *device_id = dev.id;
    return ok;
}

/* ------------------------------------------------------------------------- */
/* Enrollment */

/* Checks the code inside the write transaction; fills rs and returns false
 * when it cannot be used. */
static bool enroll_check_code(srv_storage *s, const uint8_t *hash, int64_t now, srv_code *code,
                              srv_response *rs, fs_err *err)
{
    int rc = s->ops->code_get(s, hash, code, err);
    if (rc == FS_ENOTFOUND) {
        srv_response_error(rs, 403, "code_invalid",
                           "unknown enrollment code: check it, or ask the administrator for one");
        return false;
    }
    if (rc != 0) {
        srv_storage_failure(rs, err);
        return false;
    }
    if (code->used_at != 0) {
        srv_response_error(rs, 403, "code_used",
                           "this enrollment code was already used: ask the administrator for a "
                           "new one");
        return false;
    }
    if (now >= code->expires_at) {
        srv_response_error(rs, 403, "code_expired",
                           "this enrollment code has expired: ask the administrator for a new "
                           "one");
        return false;
    }
    return true;
}

/* The prior replica id the new device of code's user may own: prior when no
 * device owns it or only revoked devices of that user do, else 0. */
static int enroll_prior(srv_storage *s, const srv_code *code, uint64_t prior, uint64_t *granted,
                        fs_err *err)
{
    srv_device *owners = NULL;
    size_t n = 0;
    *granted = 0;
    if (prior == 0)
        return 0;
    int rc = s->ops->replica_owners(s, prior, &owners, &n, err);
    size_t i = 0;
    while (rc == 0 && i < n && owners[i].user_id == code->user_id && owners[i].revoked_at != 0)
        i++;
    if (rc == 0 && i == n)
        *granted = prior;
    else if (rc == 0)
        fs_log(FS_LOG_WARN,
               "enrollment for user %lld: the store's replica %016llx belongs to device %lld, "
               "which is not a revoked device of that user; its new writes will be refused",
               (long long)code->user_id, (unsigned long long)prior, (long long)owners[i].id);
    free(owners);
    return rc;
}

/* Mints a device for code's user; token receives its secret. */
static int enroll_add_device(srv_storage *s, const srv_code *code, const char *name, uint64_t prior,
                             int64_t now, srv_device *dev, uint8_t token[SRV_TOKEN_BYTES],
                             fs_err *err)
{
    uint8_t hash[SRV_HASH_BYTES];
    memset(dev, 0, sizeof(*dev));
    dev->user_id = code->user_id;
    dev->created_at = now;
    snprintf(dev->name, sizeof(dev->name), "%s", name ? name : "");
    int rc = enroll_prior(s, code, prior, &dev->prior_replica, err);
    if (rc != 0)
        return rc;
    rc = FS_EEXIST;
    for (int i = 0; i < SRV_REPLICA_TRIES && rc == FS_EEXIST; i++) {
        dev->replica = srv_replica_mint();
        srv_token_mint(token);
        srv_token_hash(token, hash);
        rc = dev->replica == dev->prior_replica ? FS_EEXIST
                                                : s->ops->device_add(s, dev, hash, &dev->id, err);
    }
    return rc;
}

static int enroll_answer(srv_storage *s, const srv_device *dev, const uint8_t *token,
                         srv_response *rs, fs_err *err)
{
    srv_user user;
    char server_id[SRV_SERVER_ID_LEN + 1];
    int rc = s->ops->user_get_id(s, dev->user_id, &user, err);
    if (rc == 0)
        rc = s->ops->server_id(s, server_id, err);
    if (rc != 0)
        return rc;
    Fieldsync__EnrollResponse er = FIELDSYNC__ENROLL_RESPONSE__INIT;
    er.has_replica_id = 1;
    er.replica_id = dev->replica;
    er.has_token = 1;
    er.token.data = (uint8_t *)(uintptr_t)token;
    er.token.len = SRV_TOKEN_BYTES;
    er.user = user.name;
    er.server_id = server_id;
    er.has_read_only = 1;
    er.read_only = user.role != SRV_ROLE_REP;
    srv_response_clear(rs);
    rs->status = 200;
    rs->content_type = SRV_CONTENT_TYPE;
    rs->len = fieldsync__enroll_response__get_packed_size(&er);
    if ((rs->body = malloc(rs->len)) == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory answering an enrollment");
    fieldsync__enroll_response__pack(&er, rs->body);
    return 0;
}

int srv_handle_enroll(srv_storage *s, const srv_config *cfg, const srv_request *rq,
                      srv_response *rs)
{
    if (!srv_check_protocol(rq, rs))
        return 0;
    Fieldsync__EnrollRequest *req = fieldsync__enroll_request__unpack(NULL, rq->len, rq->body);
    if (req == NULL)
        return srv_response_error(rs, 400, "malformed",
                                  "the body is not a valid EnrollRequest message");
    uint8_t hash[SRV_HASH_BYTES], token[SRV_TOKEN_BYTES];
    srv_code code;
    srv_device dev;
    fs_err err = {0};
    int64_t now = srv_config_now(cfg);
    int rc = 0;
    if (req->device_name != NULL && strlen(req->device_name) > SRV_DEVICE_NAME_MAX) {
        rc = srv_response_error(rs, 400, "malformed", "device_name is longer than %d bytes",
                                SRV_DEVICE_NAME_MAX);
        goto done;
    }
    if (srv_code_hash(req->code, hash) != 0) {
        rc = srv_response_error(rs, 403, "code_invalid",
                                "an enrollment code is 16 letters and digits "
                                "(XXXX-XXXX-XXXX-XXXX): check it");
        goto done;
    }
    if (s->ops->begin(s, true, &err) != 0) {
        rc = srv_storage_failure(rs, &err);
        goto done;
    }
    if (!enroll_check_code(s, hash, now, &code, rs, &err)) {
        s->ops->rollback(s);
        goto done;
    }
    rc = s->ops->code_use(s, hash, now, &err);
    if (rc == 0)
        rc = enroll_add_device(s, &code, req->device_name,
                               req->has_prior_replica_id ? req->prior_replica_id : 0, now, &dev,
                               token, &err);
    if (rc == 0)
        rc = enroll_answer(s, &dev, token, rs, &err);
    if (rc == 0)
        rc = s->ops->commit(s, &err);
    sodium_memzero(token, sizeof(token));
    if (rc != 0) {
        s->ops->rollback(s);
        rc = srv_storage_failure(rs, &err);
        goto done;
    }
    fs_log(FS_LOG_INFO, "enrolled device %lld for user %lld%s", (long long)dev.id,
           (long long)dev.user_id,
           dev.prior_replica ? " (with its store's earlier replica id)" : "");
done:
    fieldsync__enroll_request__free_unpacked(req, NULL);
    return rc;
}
