/*
 * handler_sync.c: push and pull (docs/protocol.md "push", "pull").
 *
 * Push authorization. Every record belongs to an account: an account to
 * itself, any other kind to its visible account_id. The account's owner is the
 * server's territory table, never the record's `owner` field. A rep may write a
 * record when the account of its joined state, and of the server's copy if
 * there is one, is theirs. An account nobody owns yet is claimed by the first
 * rep who pushes it. A child record whose account is unknown is refused
 * (NOT_YOUR_TERRITORY) unless the account arrives in the same push: accounts
 * are processed before the other kinds, whatever their order in the batch, so
 * "pushed in the same batch" and "owned by the time the child is checked" are
 * the same rule. A manager's device writes nothing (READ_ONLY).
 *
 * Whose writes. Inside its territory a device may add only its own writes:
 * before the join, each state is held to srv_trust_check (trust.c) against
 * the server's copy (FOREIGN_WRITE, CLOCK_AHEAD).
 *
 * The whole push is one transaction: a storage failure answers 500/503 and
 * keeps nothing; per-record refusals are answers, not failures. A transaction
 * that lost to a concurrent one (PostgreSQL's serialization failures) runs
 * again from the start before the push is answered 503.
 *
 * Size. A push's decoding draws on a budget (SRV_PUSH_DECODE_FACTOR times the
 * body limit), a push carries at most cfg->push_states_max states, and its
 * answer at most cfg->push_answer_max bytes; past any of them the push is
 * refused as a whole with 413 and keeps nothing. Without them a body of
 * empty states decoded and answered to sixty times its size.
 *
 * Crash points (FIELDSYNC_CRASH_AT, include/fieldsync/crash.h):
 *   server.push.record     after each state of a push, before commit;
 *   server.push.committed  after the commit, before the answer is built.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync.pb-c.h"
#include "fieldsync/crash.h"
#include "handler_int.h"
#include "owner.h"
#include "fieldsync/log.h"
#include "devices.h"
#include "pbout.h"
#include "snapshot.h"
#include "trust.h"

/* Field numbers of the messages written by hand (fieldsync.proto). */
enum {
    PB_REF_KIND = 1,
    PB_REF_ID = 2,
    PB_REFUSAL_REASON = 1,
    PB_REFUSAL_MESSAGE = 2,
    PB_RESULT_REF = 1,
    PB_RESULT_JOINED = 2,
    PB_RESULT_REFUSED = 3,
    PB_RESULT_UNCHANGED = 10,
    PB_PUSH_RESULTS = 1,
    PB_PULL_STATES = 1,
    PB_PULL_REMOVALS = 2,
    PB_PULL_NEXT_CURSOR = 3,
    PB_PULL_MORE = 4,
    PB_PULL_RESYNC = 5,
    PB_PULL_TOTAL = 6,
    PB_PULL_READ_ONLY = 7,
    PB_PULL_DEVICES = 8,
    PB_PULL_SNAPSHOT = 10,
};

/* A protobuf-c allocator that fails once a decoding has used its budget.
 * Frees are not counted back: unpacking only allocates. */
typedef struct decode_budget {
    ProtobufCAllocator a;
    size_t left;
    bool exhausted;
} decode_budget;

static void *budget_alloc(void *data, size_t size)
{
    decode_budget *b = data;
    if (size > b->left) {
        b->exhausted = true;
        return NULL;
    }
    b->left -= size;
    return malloc(size);
}

static void budget_free(void *data, void *p)
{
    (void)data;
    free(p);
}

/* What a pull answer carries besides its page (protocol.md, "pull"). */
typedef struct pull_extras {
    bool resync;    /* resync_required: nothing else is sent */
    bool has_total; /* a pull from cursor 0: how many states in all */
    uint64_t total;
    srv_device_list devices; /* packed NULL: the device holds the current list */
} pull_extras;

/* The answer for one pushed state. */
typedef struct push_outcome {
    int reason; /* 0: joined */
    char message[256];
    uint8_t *joined; /* encoded joined state (NULL when unchanged) */
    size_t joined_len;
    bool unchanged; /* joined is the state pushed, and the device takes that answer */
} push_outcome;

static void write_ref(srv_buf *out, uint32_t field, int kind, const char *id)
{
    srv_buf ref = {0};
    if (kind != 0)
        srv_buf_varint_field(&ref, PB_REF_KIND, (uint64_t)(uint32_t)kind);
    if (id != NULL)
        srv_buf_bytes_field(&ref, PB_REF_ID, id, strlen(id));
    srv_buf_message_field(out, field, &ref);
    srv_buf_clear(&ref);
}

static int refuse(push_outcome *o, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(push_outcome *o, int reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    o->reason = reason;
    vsnprintf(o->message, sizeof(o->message), fmt, ap);
    va_end(ap);
    return 0;
}

/* The account a state belongs to (malloc'd), or NULL with *invalid set when a
 * child has no account_id. */
static int account_of(const fs_state *st, char **account, fs_err *err)
{
    *account = NULL;
    if (st->kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
        *account = strdup(st->id);
        return *account ? 0 : fs_err_set(err, FS_ENOMEM, "out of memory");
    }
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(fs_kind_descriptor(st->kind), "account_id");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_STRING)
        return 0;
    int rc = fs_record_visible_string(st, f->id, account, err);
    if (rc == 0 && *account != NULL && (*account)[0] == '\0') {
        free(*account);
        *account = NULL;
    }
    return rc;
}

/* Whether user may write under account; claims an unowned account for the
 * user when the record is the account itself. */
static int authorize(srv_storage *s, const srv_user *user, const fs_state *st, const char *account,
                     push_outcome *o, bool *ok, fs_err *err)
{
    int64_t owner;
    *ok = false;
    int rc = s->ops->territory_get(s, account, &owner, err);
    if (rc == FS_ENOTFOUND && st->kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
        rc = s->ops->territory_set(s, account, user->id, err);
        *ok = rc == 0;
        return rc;
    }
    if (rc == FS_ENOTFOUND)
        return refuse(o, FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY,
                      "account %s is unknown to the server: push the account first or in "
                      "the same batch",
                      account);
    if (rc != 0)
        return rc;
    if (owner != user->id)
        return refuse(o, FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY,
                      "account %s belongs to another rep", account);
    *ok = true;
    return 0;
}

/* Who pushes: the device, its user, and the rules its states are held to. */
typedef struct pusher {
    const srv_device *dev;
    const srv_user *user;
    srv_trust trust;
    bool unchanged_ok; /* PushRequest.unchanged_ok */
} pusher;

/* Whether the join left the pushed state as it was: enc is the joined state's
 * encoding, and both encodings are canonical. */
static int same_as_pushed(const fs_state *pushed, const uint8_t *enc, size_t enc_len, bool *same,
                          fs_err *err)
{
    uint8_t *mine = NULL;
    size_t len = 0;
    int rc = fs_state_encode(pushed, &mine, &len, err);
    *same = rc == 0 && len == enc_len && memcmp(mine, enc, len) == 0;
    free(mine);
    return rc;
}

/* Joins one decoded, valid state into storage for the pusher. */
static int push_one(srv_storage *s, const pusher *p, const fs_state *pushed, push_outcome *o,
                    fs_err *err)
{
    const srv_user *user = p->user;
    srv_record old;
    fs_state *joined = NULL;
    char *account = NULL;
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    bool ok = false;
    int rc = s->ops->record_get(s, pushed->kind, pushed->id, &old, err);
    bool exists = rc == 0;
    if (rc == FS_ENOTFOUND)
        rc = fs_state_new(&joined, pushed->kind, pushed->id, err);
    else if (rc == 0 && fs_state_decode(&joined, old.state, old.state_len, err) != 0)
        rc = fs_err_set(err, FS_ECORRUPT, "stored state of %s is damaged", pushed->id);
    if (rc == 0 && exists)
        rc = authorize(s, user, pushed, old.account_id, o, &ok, err);
    if (rc != 0 || (exists && !ok))
        goto done;
    /* joined is still the server's copy (or an empty state) */
    rc = srv_trust_check(&p->trust, joined, pushed, o->message, sizeof(o->message), err);
    if (rc > 0)
        o->reason = rc;
    if (rc != 0) {
        rc = rc > 0 ? 0 : rc;
        goto done;
    }
    if ((rc = fs_record_join_into(joined, pushed, err)) != 0)
        goto done;
    if ((rc = account_of(joined, &account, err)) != 0)
        goto done;
    if (account == NULL) {
        rc = refuse(o, FIELDSYNC__REFUSAL__REASON__INVALID, "%s %s has no account_id",
                    fs_kind_name(pushed->kind), pushed->id);
        goto done;
    }
    if (!(exists && strcmp(account, old.account_id) == 0) &&
        ((rc = authorize(s, user, joined, account, o, &ok, err)) != 0 || !ok))
        goto done;
    bool stamped; /* the account is the user's: its owner field says so */
    if ((rc = srv_owner_stamp(joined, user->name, &stamped, err)) != 0)
        goto done;
    if ((rc = fs_state_encode(joined, &enc, &enc_len, err)) != 0)
        goto done;
    if (!exists || enc_len != old.state_len || memcmp(enc, old.state, enc_len) != 0) {
        srv_record rec = {.kind = joined->kind,
                          .id = joined->id,
                          .account_id = account,
                          .owner = user->id, /* authorize: the account is the user's */
                          .writer = p->dev->id,
                          .stored = exists,
                          .alive = fs_record_alive(joined),
                          .state = enc,
                          .state_len = enc_len};
        rc = s->ops->next_seq(s, &rec.seq, err);
        if (rc == 0)
            rc = s->ops->record_put(s, &rec, err);
    }
    /* a device that takes "unchanged" is not sent back what it sent */
    if (rc == 0 && p->unchanged_ok)
        rc = same_as_pushed(pushed, enc, enc_len, &o->unchanged, err);
    if (rc == 0 && !o->unchanged) {
        o->joined = enc;
        o->joined_len = enc_len;
        enc = NULL;
    }
done:
    if (exists)
        srv_record_clear(&old);
    fs_state_free(joined);
    free(account);
    free(enc);
    return rc;
}

/* Validates and processes state i (accounts in the first pass, others in the
 * second). */
static int push_state(srv_storage *s, const pusher *p, const Fieldsync__RecordState *pb,
                      push_outcome *o, fs_err *err)
{
    fs_state *st = NULL;
    fs_err why = {0};
    if (fs_state_from_pb(&st, pb, &why) != 0)
        return refuse(o, FIELDSYNC__REFUSAL__REASON__INVALID, "%s", fs_err_message(&why));
    int rc = 0;
    if (fs_record_validate(st, &why) != 0)
        rc = refuse(o, FIELDSYNC__REFUSAL__REASON__INVALID, "%s", fs_err_message(&why));
    else if (strlen(st->id) > SRV_ID_MAX)
        rc = refuse(o, FIELDSYNC__REFUSAL__REASON__INVALID, "record id longer than %d bytes",
                    SRV_ID_MAX);
    else if (p->user->role != SRV_ROLE_REP)
        rc = refuse(o, FIELDSYNC__REFUSAL__REASON__READ_ONLY,
                    "user %s is a manager: their devices read the team's records and write "
                    "none",
                    p->user->name);
    else
        rc = push_one(s, p, st, o, err);
    fs_state_free(st);
    return rc;
}

static int push_answer(const Fieldsync__PushRequest *req, const push_outcome *outs,
                       srv_response *rs)
{
    srv_buf out = {0}, res = {0}, refusal = {0};
    for (size_t i = 0; i < req->n_states; i++) {
        const Fieldsync__RecordState *pb = req->states[i];
        srv_buf_reset(&res);
        write_ref(&res, PB_RESULT_REF, pb->has_kind ? (int)pb->kind : 0, pb->id);
        if (outs[i].reason == 0 && outs[i].unchanged) {
            srv_buf_varint_field(&res, PB_RESULT_UNCHANGED, 1);
        } else if (outs[i].reason == 0) {
            srv_buf_bytes_field(&res, PB_RESULT_JOINED, outs[i].joined, outs[i].joined_len);
        } else {
            srv_buf_reset(&refusal);
            srv_buf_varint_field(&refusal, PB_REFUSAL_REASON, (uint64_t)outs[i].reason);
            srv_buf_bytes_field(&refusal, PB_REFUSAL_MESSAGE, outs[i].message,
                                strlen(outs[i].message));
            srv_buf_message_field(&res, PB_RESULT_REFUSED, &refusal);
        }
        srv_buf_message_field(&out, PB_PUSH_RESULTS, &res);
    }
    srv_buf_clear(&res);
    srv_buf_clear(&refusal);
    srv_response_clear(rs);
    rs->status = 200;
    rs->content_type = SRV_CONTENT_TYPE;
    return srv_buf_finish(&out, &rs->body, &rs->len);
}

/* About what one result adds to the answer (ref, tags, lengths). */
#define PUSH_RESULT_OVERHEAD 32

/* Runs both passes inside the open write transaction; FS_ETOOBIG once the
 * answer would pass cfg->push_answer_max. */
static int push_all(srv_storage *s, const srv_config *cfg, const pusher *p,
                    const Fieldsync__PushRequest *req, push_outcome *outs, size_t *refused,
                    fs_err *err)
{
    int rc = 0;
    size_t answer = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (size_t i = 0; i < req->n_states && rc == 0; i++) {
            bool is_account =
                req->states[i]->has_kind && req->states[i]->kind == FIELDSYNC__RECORD_KIND__ACCOUNT;
            if (is_account != (pass == 0))
                continue;
            rc = push_state(s, p, req->states[i], &outs[i], err);
            if (rc == 0 && outs[i].reason != 0)
                (*refused)++;
            answer += PUSH_RESULT_OVERHEAD + (req->states[i]->id ? strlen(req->states[i]->id) : 0) +
                      (outs[i].reason ? strlen(outs[i].message) : outs[i].joined_len);
            if (rc == 0 && answer > cfg->push_answer_max)
                rc = fs_err_set(err, FS_ETOOBIG,
                                "the answer to this push would pass the server's limit of %zu "
                                "bytes: push fewer states at once",
                                cfg->push_answer_max);
            /* tests kill the server here: inside the transaction, after a write */
            fs_crash_point("server.push.record");
        }
    }
    return rc;
}

/* The push's transaction; run again while it loses to a concurrent one
 * (FS_ECONFLICT, PostgreSQL), up to SRV_CONFLICT_TRIES times. */
static int push_txn(srv_storage *s, const srv_config *cfg, const pusher *p,
                    const Fieldsync__PushRequest *req, push_outcome *outs, size_t *refused,
                    fs_err *err)
{
    int rc = FS_ECONFLICT;
    for (int attempt = 0; attempt < SRV_CONFLICT_TRIES && rc == FS_ECONFLICT; attempt++) {
        for (size_t i = 0; i < req->n_states; i++)
            free(outs[i].joined);
        memset(outs, 0, req->n_states * sizeof(*outs));
        *refused = 0;
        rc = s->ops->begin(s, true, err);
        if (rc == 0)
            rc = push_all(s, cfg, p, req, outs, refused, err);
        if (rc == 0)
            rc = s->ops->device_seen(s, p->dev->id, srv_config_now(cfg), false, 0, err);
        if (rc == 0)
            rc = s->ops->commit(s, err);
        if (rc != 0)
            s->ops->rollback(s);
    }
    return rc;
}

/* Decodes a PushRequest within its budget and state count, or fills rs with
 * the refusal (400, 413) and returns NULL. */
static Fieldsync__PushRequest *push_decode(const srv_config *cfg, const srv_request *rq,
                                           srv_response *rs)
{
    decode_budget b = {.a = {budget_alloc, budget_free, NULL},
                       .left = SRV_PUSH_DECODE_FACTOR * cfg->body_limit};
    b.a.allocator_data = &b;
    Fieldsync__PushRequest *req = fieldsync__push_request__unpack(&b.a, rq->len, rq->body);
    if (req == NULL && b.exhausted)
        srv_response_error(rs, 413, "too_large",
                           "the push decodes to more than %zu bytes: send fewer or smaller states",
                           SRV_PUSH_DECODE_FACTOR * cfg->body_limit);
    else if (req == NULL)
        srv_response_error(rs, 400, "malformed", "the body is not a valid PushRequest message");
    else if (req->n_states > cfg->push_states_max)
        srv_response_error(rs, 413, "too_large",
                           "a push carries at most %zu states and this one has %zu: send smaller "
                           "batches",
                           cfg->push_states_max, req->n_states);
    else
        return req;
    if (req != NULL)
        fieldsync__push_request__free_unpacked(req, NULL);
    return NULL;
}

int srv_handle_push(srv_storage *s, const srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    srv_device dev;
    srv_user user;
    fs_err err = {0};
    size_t refused = 0;
    if (!srv_check_protocol(rq, rs) || !srv_authenticate(s, rq, &dev, &user, rs))
        return 0;
    Fieldsync__PushRequest *req = push_decode(cfg, rq, rs);
    if (req == NULL)
        return rs->body != NULL ? 0 : FS_ENOMEM;
    pusher p = {
        .dev = &dev, .user = &user, .unchanged_ok = req->has_unchanged_ok && req->unchanged_ok};
    srv_trust_init(&p.trust, &dev, srv_config_now(cfg), cfg->clock_skew_s);
    push_outcome *outs = calloc(req->n_states ? req->n_states : 1, sizeof(*outs));
    int rc = outs == NULL
                 ? fs_err_set(&err, FS_ENOMEM, "out of memory for a push of %zu", req->n_states)
                 : push_txn(s, cfg, &p, req, outs, &refused, &err);
    if (rc != 0) {
        rc = rc == FS_ETOOBIG ? srv_response_error(rs, 413, "too_large", "%s", fs_err_message(&err))
                              : srv_storage_failure(rs, &err);
    } else {
        /* committed but not yet answered: the device will push again */
        fs_crash_point("server.push.committed");
        rc = push_answer(req, outs, rs);
        fs_log(FS_LOG_DEBUG, "device %lld pushed %zu states, %zu refused", (long long)dev.id,
               req->n_states, refused);
    }
    for (size_t i = 0; outs != NULL && i < req->n_states; i++)
        free(outs[i].joined);
    free(outs);
    fieldsync__push_request__free_unpacked(req, NULL);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Pull */

static int pull_answer(const srv_pull_page *page, const pull_extras *x, const srv_user *user,
                       srv_response *rs)
{
    srv_buf out = {0};
    for (size_t i = 0; i < page->n; i++) {
        const srv_pull_item *it = &page->items[i];
        if (it->state != NULL)
            srv_buf_bytes_field(&out, PB_PULL_STATES, it->state, it->state_len);
        else
            write_ref(&out, PB_PULL_REMOVALS, (int)it->kind, it->id);
    }
    if (x->resync) {
        srv_buf_varint_field(&out, PB_PULL_RESYNC, 1);
    } else {
        srv_buf_varint_field(&out, PB_PULL_NEXT_CURSOR, page->next_cursor);
        srv_buf_varint_field(&out, PB_PULL_MORE, page->more ? 1 : 0);
        srv_buf_varint_field(&out, PB_PULL_READ_ONLY, user->role != SRV_ROLE_REP);
        if (x->has_total)
            srv_buf_varint_field(&out, PB_PULL_TOTAL, x->total);
        if (x->devices.packed != NULL)
            srv_buf_bytes_field(&out, PB_PULL_DEVICES, x->devices.packed, x->devices.len);
        if (page->snapshot != NULL)
            srv_buf_bytes_field(&out, PB_PULL_SNAPSHOT, page->snapshot, page->snapshot_len);
    }
    srv_response_clear(rs);
    rs->status = 200;
    rs->content_type = SRV_CONTENT_TYPE;
    return srv_buf_finish(&out, &rs->body, &rs->len);
}

/* The total of a pull from 0 (on its first page: a snapshot's pages all ask
 * from 0), and the device names on a last page unless the device holds them
 * already (digest). */
static int pull_extras_read(srv_storage *s, const srv_user *user, const srv_pull_query *q,
                            const ProtobufCBinaryData *snap, const srv_pull_page *page,
                            const uint8_t *digest, size_t digest_len, pull_extras *x, fs_err *err)
{
    int rc = 0;
    if (q->cursor == 0 && (snap == NULL || snap->len == 0) && s->ops->pull_count != NULL) {
        rc = s->ops->pull_count(s, user, &x->total, err);
        x->has_total = rc == 0;
    }
    if (rc == 0 && !page->more && (rc = srv_device_list_get(s, &x->devices, err)) == 0 &&
        srv_device_list_known(&x->devices, digest, digest_len))
        srv_device_list_clear(&x->devices);
    return rc;
}

/* Reads the page (or decides resync) and its extras in one read snapshot. full:
 * the pull is a resync's, which sweeps what it is not given. snap: the
 * request's snapshot position when the page is a snapshot's (snapshot.h),
 * else NULL. */
static int pull_read(srv_storage *s, const srv_user *user, const srv_pull_query *q, bool full,
                     const ProtobufCBinaryData *snap, const uint8_t *digest, size_t digest_len,
                     srv_pull_page *page, pull_extras *x, fs_err *err)
{
    bool *resync = &x->resync;
    uint64_t floor = 0, last = 0;
    int rc = s->ops->begin(s, false, err);
    if (rc != 0)
        return rc;
    rc = s->ops->floor_get(s, user, &floor, err);
    if (rc == 0)
        rc = s->ops->last_seq(s, &last, err);
    /* Below the floor, tombstones this device never saw may be gone: only a
     * full resync is correct, and a full pull is one (its later pages start
     * above 0, often below the floor; the sweep at its end stands in for the
     * collected tombstones). Above the last seq, the device saw changes this
     * database does not have (a restore from backup): even a full pull must
     * start again, since its earlier pages may hold states the server lost. */
    *resync = rc == 0 && q->cursor > 0 && ((q->cursor < floor && !full) || q->cursor > last);
    if (rc == 0 && !*resync && snap != NULL)
        rc = srv_snapshot_page(s, user, q, last, snap->data, snap->len, page, err);
    else if (rc == 0 && !*resync)
        rc = s->ops->pull(s, user, q, page, err);
    if (rc == 0 && !*resync)
        rc = pull_extras_read(s, user, q, snap, page, digest, digest_len, x, err);
    if (rc == 0)
        rc = s->ops->commit(s, err);
    if (rc != 0) {
        s->ops->rollback(s);
        srv_pull_page_clear(page);
        srv_device_list_clear(&x->devices);
    }
    return rc;
}

int srv_handle_pull(srv_storage *s, const srv_config *cfg, const srv_request *rq, srv_response *rs)
{
    srv_device dev;
    srv_user user;
    srv_pull_page page = {0};
    pull_extras x = {0};
    uint8_t digest[SRV_DEVICES_DIGEST_LEN];
    size_t digest_len = 0;
    fs_err err = {0};
    if (!srv_check_protocol(rq, rs) || !srv_authenticate(s, rq, &dev, &user, rs))
        return 0;
    Fieldsync__PullRequest *req = fieldsync__pull_request__unpack(NULL, rq->len, rq->body);
    if (req == NULL)
        return srv_response_error(rs, 400, "malformed",
                                  "the body is not a valid PullRequest message");
    bool full = req->has_full && req->full;
    srv_pull_query q = {
        .cursor = req->has_cursor ? req->cursor : 0,
        .limit = req->has_limit && req->limit > 0 ? req->limit : cfg->pull_limit,
        .max_bytes = cfg->pull_max_bytes,
        /* a full (resync) pull sweeps what it is not given: it gets everything */
        .skip_writer = full ? 0 : dev.id,
    };
    if (q.limit > cfg->pull_limit_max)
        q.limit = cfg->pull_limit_max;
    if (req->has_devices_digest && req->devices_digest.len == sizeof(digest)) {
        digest_len = sizeof(digest);
        memcpy(digest, req->devices_digest.data, digest_len);
    }
    /* a rep's pull from 0 may be a snapshot; a manager's reads the team in
     * change order */
    bool snap = req->has_snapshot && q.cursor == 0 && user.role == SRV_ROLE_REP;
    int rc = pull_read(s, &user, &q, full, snap ? &req->snapshot : NULL, digest, digest_len, &page,
                       &x, &err);
    fieldsync__pull_request__free_unpacked(req, NULL);
    if (rc == FS_EINVAL)
        return srv_response_error(rs, 400, "malformed", "%s", fs_err_message(&err));
    if (rc == 0)
        rc = s->ops->device_seen(s, dev.id, srv_config_now(cfg), true, q.cursor, &err);
    if (rc != 0) {
        srv_pull_page_clear(&page);
        srv_device_list_clear(&x.devices);
        return srv_storage_failure(rs, &err);
    }
    rc = pull_answer(&page, &x, &user, rs);
    if (x.resync)
        fs_log(FS_LOG_INFO, "device %lld must resync (cursor %llu)", (long long)dev.id,
               (unsigned long long)q.cursor);
    srv_pull_page_clear(&page);
    srv_device_list_clear(&x.devices);
    return rc;
}
