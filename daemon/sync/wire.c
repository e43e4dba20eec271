/*
 * wire.c: request bodies and the validation of every answer from the server.
 *
 * The server is trusted to join correctly but not to be well-formed: an answer
 * is checked whole (counts, order, record names, each state through
 * fs_state_from_pb) before the engine hands any of it to the store, so a
 * truncated, hostile or buggy answer is refused as a unit and the batch or page
 * is simply asked for again.
 *
 * One record is not worth a page: a pulled state that does not decode or is
 * outside the record limits (fs_record_validate: text that is not UTF-8, say,
 * stored by an older server) is skipped, counted and reported, and the rest of
 * the page applies. A push answer's joined state outside the limits is the
 * server's acknowledgement all the same: the item counts as joined with the
 * state that was sent, so the change leaves the outbox and the local state
 * stays as it is. So does an answer "unchanged" (protocol.md, "push"), which
 * says the join left the state sent as it was.
 */
#include "sync_wire.h"

#include <sodium.h>

#include "fieldsync/utf8.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nomem(fs_err *err, const char *what)
{
    return fs_err_set(err, FS_ENOMEM, "%s: out of memory", what);
}

/* Counts a state left out for reason, keeping the first reason in why. */
static void skip(size_t *skipped, char why[FS_ERR_MSG_MAX], const fs_err *reason)
{
    if ((*skipped)++ == 0)
        snprintf(why, FS_ERR_MSG_MAX, "%s", fs_err_message(reason));
}

static int pack_buffer(size_t size, uint8_t **out, size_t *len, fs_err *err, const char *what)
{
    *out = malloc(size > 0 ? size : 1);
    if (*out == NULL)
        return nomem(err, what);
    *len = size;
    return 0;
}

int fs_sync_encode_enroll(const char *code, const char *device_name, uint64_t prior_replica,
                          uint8_t **out, size_t *len, fs_err *err)
{
    Fieldsync__EnrollRequest rq = FIELDSYNC__ENROLL_REQUEST__INIT;
    rq.code = (char *)code;
    rq.device_name = (char *)device_name;
    rq.has_prior_replica_id = prior_replica != 0;
    rq.prior_replica_id = prior_replica;
    int rc = pack_buffer(fieldsync__enroll_request__get_packed_size(&rq), out, len, err,
                         "building the enrollment request");
    if (rc == 0)
        fieldsync__enroll_request__pack(&rq, *out);
    return rc;
}

int fs_sync_encode_pull(const fs_sync_pull_req *q, uint8_t **out, size_t *len, fs_err *err)
{
    Fieldsync__PullRequest rq = FIELDSYNC__PULL_REQUEST__INIT;
    rq.has_cursor = 1;
    rq.cursor = q->cursor;
    rq.has_limit = q->limit > 0;
    rq.limit = q->limit;
    rq.has_full = q->full;
    rq.full = q->full;
    rq.has_devices_digest = q->devices_digest != NULL && q->digest_len > 0;
    rq.devices_digest.data = (uint8_t *)(uintptr_t)q->devices_digest;
    rq.devices_digest.len = q->digest_len;
    rq.has_snapshot = q->snapshot != NULL;
    rq.snapshot.data = (uint8_t *)(uintptr_t)q->snapshot;
    rq.snapshot.len = q->snapshot_len;
    int rc = pack_buffer(fieldsync__pull_request__get_packed_size(&rq), out, len, err,
                         "building a pull request");
    if (rc == 0)
        fieldsync__pull_request__pack(&rq, *out);
    return rc;
}

typedef struct push_parts {
    Fieldsync__RecordState *pbs;
    Fieldsync__RecordState **ptrs;
    Fieldsync__VersionVectorEntry **vvs;
    Fieldsync__Event **evs;
    size_t n;
} push_parts;

static void push_parts_clear(push_parts *p, const fs_outbox_batch *batch)
{
    for (size_t i = 0; i < p->n; i++)
        fs_state_pb_storage_free(p->vvs[i], p->evs[i], batch->items[i].state->nevents);
    free(p->pbs);
    free(p->ptrs);
    free(p->vvs);
    free(p->evs);
}

int fs_sync_encode_push(const fs_outbox_batch *batch, size_t max_bytes, size_t *nsent,
                        uint8_t **out, size_t *len, fs_err *err)
{
    push_parts p = {0};
    size_t total = 0, cap = batch->n;
    int rc = 0;
    *out = NULL;
    *nsent = 0;
    p.pbs = calloc(cap + 1, sizeof(*p.pbs));
    p.ptrs = calloc(cap + 1, sizeof(*p.ptrs));
    p.vvs = calloc(cap + 1, sizeof(*p.vvs));
    p.evs = calloc(cap + 1, sizeof(*p.evs));
    if (p.pbs == NULL || p.ptrs == NULL || p.vvs == NULL || p.evs == NULL)
        rc = nomem(err, "building a push");
    for (size_t i = 0; rc == 0 && i < cap; i++) {
        Fieldsync__RecordState init = FIELDSYNC__RECORD_STATE__INIT;
        p.pbs[i] = init;
        rc = fs_state_to_pb(batch->items[i].state, &p.pbs[i], &p.vvs[i], &p.evs[i], err);
        if (rc != 0)
            break;
        p.n++;
        /* the state's size plus its tag and length prefix */
        size_t one = fieldsync__record_state__get_packed_size(&p.pbs[i]) + 11;
        if (i > 0 && total + one > max_bytes) {
            p.n--;
            fs_state_pb_storage_free(p.vvs[i], p.evs[i], batch->items[i].state->nevents);
            break;
        }
        p.ptrs[i] = &p.pbs[i];
        total += one;
    }
    if (rc == 0) {
        Fieldsync__PushRequest rq = FIELDSYNC__PUSH_REQUEST__INIT;
        rq.n_states = p.n;
        rq.states = p.ptrs;
        rq.has_unchanged_ok = rq.unchanged_ok = 1;
        rc = pack_buffer(fieldsync__push_request__get_packed_size(&rq), out, len, err,
                         "building a push");
        if (rc == 0) {
            fieldsync__push_request__pack(&rq, *out);
            *nsent = p.n;
        }
    }
    push_parts_clear(&p, batch);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Answers */

static void copy_name(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src != NULL && src[i] != '\0' && i + 1 < size; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

void fs_sync_enrollment_clear(fs_sync_enrollment *e)
{
    if (e == NULL)
        return;
    fs_secret_free(e->token);
    memset(e, 0, sizeof(*e));
}

static int check_enroll(const Fieldsync__EnrollResponse *m, fs_err *err)
{
    if (!m->has_replica_id || m->replica_id == 0)
        return fs_err_set(err, FS_ECORRUPT, "the enrollment answer has no replica id");
    if (!m->has_token || m->token.len != FS_SYNC_TOKEN_BYTES)
        return fs_err_set(err, FS_ECORRUPT, "the enrollment answer's token is not %d bytes",
                          FS_SYNC_TOKEN_BYTES);
    if (m->user == NULL || m->user[0] == '\0' || strlen(m->user) > FS_SYNC_NAME_MAX)
        return fs_err_set(err, FS_ECORRUPT, "the enrollment answer has no valid user name");
    if (m->server_id != NULL && strlen(m->server_id) > FS_SYNC_NAME_MAX)
        return fs_err_set(err, FS_ECORRUPT, "the enrollment answer's server id is too long");
    return 0;
}

int fs_sync_decode_enroll(const uint8_t *buf, size_t len, fs_sync_enrollment *out, fs_err *err)
{
    memset(out, 0, sizeof(*out));
    Fieldsync__EnrollResponse *m = fieldsync__enroll_response__unpack(NULL, len, buf);
    if (m == NULL)
        return fs_err_set(err, FS_ECORRUPT, "the enrollment answer is not an EnrollResponse");
    int rc = check_enroll(m, err);
    if (rc == 0)
        rc = fs_secret_from(&out->token, m->token.data, m->token.len, err);
    if (rc == 0) {
        out->replica = m->replica_id;
        copy_name(out->user, sizeof(out->user), m->user);
        copy_name(out->server_id, sizeof(out->server_id), m->server_id);
        out->read_only = m->has_read_only && m->read_only;
    }
    if (m->has_token && m->token.data != NULL)
        sodium_memzero(m->token.data, m->token.len);
    fieldsync__enroll_response__free_unpacked(m, NULL);
    if (rc != 0)
        fs_sync_enrollment_clear(out);
    return rc;
}

void fs_sync_push_answer_clear(fs_sync_push_answer *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++) {
        if (a->joined != NULL)
            fs_state_free(a->joined[i]);
        if (a->messages != NULL)
            free(a->messages[i]);
    }
    free(a->joined);
    free(a->messages);
    free(a->results);
    memset(a, 0, sizeof(*a));
}

static bool names(const Fieldsync__RecordRef *ref, const fs_state *st)
{
    return ref != NULL && ref->has_kind && (fs_kind)ref->kind == st->kind && ref->id != NULL &&
           strcmp(ref->id, st->id) == 0;
}

static int push_result(const Fieldsync__PushResult *r, const fs_state *sent, size_t i,
                       fs_sync_push_answer *a, fs_err *err)
{
    if (!names(r->ref, sent))
        return fs_err_set(err, FS_ECORRUPT,
                          "push answer %zu does not name the %s %s that was pushed there", i,
                          fs_kind_name(sent->kind), sent->id);
    if (r->outcome_case == FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED) {
        fs_err why;
        int rc = fs_state_from_pb(&a->joined[i], r->joined, err);
        if (rc != 0)
            return rc;
        if (a->joined[i]->kind != sent->kind || strcmp(a->joined[i]->id, sent->id) != 0)
            return fs_err_set(err, FS_ECORRUPT, "push answer %zu joins another record", i);
        a->results[i].joined = a->joined[i];
        if (fs_record_validate(a->joined[i], &why) != 0) {
            skip(&a->skipped, a->skip_why, &why);
            a->results[i].joined = sent;
        }
        return 0;
    }
    if (r->outcome_case == FIELDSYNC__PUSH_RESULT__OUTCOME_UNCHANGED) {
        /* the join left the state sent as it was: the device has it already */
        a->results[i].joined = sent;
        a->results[i].unchanged = true;
        return 0;
    }
    if (r->outcome_case != FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED || r->refused == NULL)
        return fs_err_set(err, FS_ECORRUPT, "push answer %zu is neither joined nor refused", i);
    a->results[i].reason = r->refused->has_reason ? (int)r->refused->reason : 0;
    if (r->refused->message != NULL) {
        size_t n = strlen(r->refused->message);
        a->messages[i] = malloc(n + 1);
        if (a->messages[i] == NULL)
            return nomem(err, "reading a push answer");
        copy_name(a->messages[i], n + 1, r->refused->message);
        a->results[i].message = a->messages[i];
    }
    a->refused++;
    return 0;
}

int fs_sync_decode_push(const uint8_t *buf, size_t len, const fs_outbox_batch *batch, size_t nsent,
                        fs_sync_push_answer *out, fs_err *err)
{
    memset(out, 0, sizeof(*out));
    if (nsent > batch->n)
        return fs_err_set(err, FS_EINVAL, "push answer checked against %zu of %zu items", nsent,
                          batch->n);
    Fieldsync__PushResponse *m = fieldsync__push_response__unpack(NULL, len, buf);
    if (m == NULL)
        return fs_err_set(err, FS_ECORRUPT, "the push answer is not a PushResponse");
    int rc = 0;
    if (m->n_results != nsent)
        rc = fs_err_set(err, FS_ECORRUPT, "the push answer has %zu results for %zu states",
                        m->n_results, nsent);
    if (rc == 0) {
        out->results = calloc(nsent + 1, sizeof(*out->results));
        out->joined = calloc(nsent + 1, sizeof(*out->joined));
        out->messages = calloc(nsent + 1, sizeof(*out->messages));
        out->n = nsent;
        if (out->results == NULL || out->joined == NULL || out->messages == NULL)
            rc = nomem(err, "reading a push answer");
    }
    for (size_t i = 0; rc == 0 && i < nsent; i++)
        rc = push_result(m->results[i], batch->items[i].state, i, out, err);
    fieldsync__push_response__free_unpacked(m, NULL);
    if (rc != 0)
        fs_sync_push_answer_clear(out);
    return rc;
}

void fs_sync_pull_page_clear(fs_sync_pull_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nstates; i++)
        fs_state_free(p->states[i]);
    for (size_t i = 0; i < p->nremovals; i++)
        free(p->removals[i].id);
    free(p->states);
    free(p->removals);
    free(p->devices);
    free(p->snapshot);
    memset(p, 0, sizeof(*p));
}

static int pull_removal(const Fieldsync__RecordRef *r, size_t i, fs_ref *out, fs_err *err)
{
    if (r == NULL || !r->has_kind || fs_kind_descriptor((fs_kind)r->kind) == NULL)
        return fs_err_set(err, FS_ECORRUPT, "pull removal %zu has no known record kind", i);
    size_t n = r->id != NULL ? strlen(r->id) : 0;
    if (n == 0 || n > FS_RECORD_ID_MAX)
        return fs_err_set(err, FS_ECORRUPT, "pull removal %zu has no valid id", i);
    out->kind = (fs_kind)r->kind;
    out->id = malloc(n + 1);
    if (out->id == NULL)
        return nomem(err, "reading a pull page");
    memcpy(out->id, r->id, n + 1);
    return 0;
}

/* A page that goes on with a snapshot: asked for, and moving its position. */
static int check_snapshot(const Fieldsync__PullResponse *m, uint64_t cursor,
                          const uint8_t *snapshot, size_t snapshot_len, fs_err *err)
{
    if (snapshot == NULL || cursor != 0)
        return fs_err_set(err, FS_ECORRUPT, "the pull page goes on with a snapshot not asked for");
    if (m->snapshot.len == 0 || m->snapshot.len > FS_SYNC_SNAPSHOT_MAX)
        return fs_err_set(err, FS_ECORRUPT, "the pull page's snapshot position is %zu bytes",
                          m->snapshot.len);
    if (!m->has_more || !m->more || !m->has_next_cursor || m->next_cursor != cursor)
        return fs_err_set(err, FS_ECORRUPT,
                          "a snapshot page must say more and keep the cursor at %llu",
                          (unsigned long long)cursor);
    if (m->snapshot.len == snapshot_len && memcmp(m->snapshot.data, snapshot, snapshot_len) == 0)
        return fs_err_set(err, FS_ECORRUPT, "the snapshot page does not move its position");
    return 0;
}

static int check_pull(const Fieldsync__PullResponse *m, uint64_t cursor, const uint8_t *snapshot,
                      size_t snapshot_len, fs_err *err)
{
    if (m->n_states > FS_STORE_APPLY_MAX || m->n_removals > FS_STORE_APPLY_MAX)
        return fs_err_set(err, FS_ECORRUPT,
                          "the pull page holds %zu states and %zu removals, over the limit of %d",
                          m->n_states, m->n_removals, FS_STORE_APPLY_MAX);
    if (m->has_snapshot)
        return check_snapshot(m, cursor, snapshot, snapshot_len, err);
    if (!m->has_next_cursor)
        return fs_err_set(err, FS_ECORRUPT, "the pull page has no next cursor");
    if (m->next_cursor < cursor)
        return fs_err_set(err, FS_ECORRUPT, "the pull page moves the cursor back from %llu to %llu",
                          (unsigned long long)cursor, (unsigned long long)m->next_cursor);
    if (m->has_more && m->more && m->next_cursor == cursor)
        return fs_err_set(err, FS_ECORRUPT, "the pull page says more but does not move the cursor");
    return 0;
}

/* The states of a page that decode and keep the limits; the others are skipped. */
static int pull_states(const Fieldsync__PullResponse *m, fs_sync_pull_page *out, fs_err *err)
{
    for (size_t i = 0; i < m->n_states; i++) {
        fs_state *st = NULL;
        fs_err why;
        int rc = fs_state_from_pb(&st, m->states[i], &why);
        if (rc == 0)
            rc = fs_record_validate(st, &why);
        if (rc == FS_ENOMEM) {
            fs_state_free(st);
            return nomem(err, "reading a pull page");
        }
        if (rc != 0) {
            fs_state_free(st);
            skip(&out->skipped, out->skip_why, &why);
            continue;
        }
        out->states[out->nstates++] = st;
    }
    return 0;
}

static bool good_name(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n <= FS_SYNC_NAME_MAX && fs_utf8_valid(s != NULL ? s : "", n);
}

/* The page's device list, re-encoded, when every entry holds together. */
static int pull_devices(const Fieldsync__DeviceList *l, fs_sync_pull_page *out, fs_err *err)
{
    if (l == NULL || !l->has_digest || l->digest.len == 0 || l->digest.len > 64)
        return 0;
    for (size_t i = 0; i < l->n_devices; i++) {
        const Fieldsync__Device *d = l->devices[i];
        if (!d->has_replica || d->replica == 0 || !good_name(d->name) || !good_name(d->user))
            return 0;
    }
    out->devices_len = fieldsync__device_list__get_packed_size(l);
    out->devices = malloc(out->devices_len > 0 ? out->devices_len : 1);
    if (out->devices == NULL)
        return nomem(err, "reading a pull page");
    fieldsync__device_list__pack(l, out->devices);
    return 0;
}

static int pull_fill(const Fieldsync__PullResponse *m, fs_sync_pull_page *out, fs_err *err)
{
    out->states = calloc(m->n_states + 1, sizeof(*out->states));
    out->removals = calloc(m->n_removals + 1, sizeof(*out->removals));
    if (out->states == NULL || out->removals == NULL)
        return nomem(err, "reading a pull page");
    int rc = pull_states(m, out, err);
    for (size_t i = 0; rc == 0 && i < m->n_removals; i++)
        if ((rc = pull_removal(m->removals[i], i, &out->removals[i], err)) == 0)
            out->nremovals++;
    if (rc != 0)
        return rc;
    out->next_cursor = m->next_cursor;
    out->more = m->has_more && m->more;
    if (m->has_snapshot) {
        out->snapshot = malloc(m->snapshot.len);
        if (out->snapshot == NULL)
            return nomem(err, "reading a pull page");
        memcpy(out->snapshot, m->snapshot.data, m->snapshot.len);
        out->snapshot_len = m->snapshot.len;
    }
    out->has_total = m->has_total;
    out->total = m->total;
    out->read_only = m->has_read_only ? m->read_only : -1;
    return pull_devices(m->devices, out, err);
}

int fs_sync_decode_pull(const uint8_t *buf, size_t len, uint64_t cursor, const uint8_t *snapshot,
                        size_t snapshot_len, fs_sync_pull_page *out, fs_err *err)
{
    memset(out, 0, sizeof(*out));
    Fieldsync__PullResponse *m = fieldsync__pull_response__unpack(NULL, len, buf);
    if (m == NULL)
        return fs_err_set(err, FS_ECORRUPT, "the pull answer is not a PullResponse");
    int rc = 0;
    if (m->has_resync_required && m->resync_required)
        out->resync_required = true; /* nothing else counts in such an answer */
    else if ((rc = check_pull(m, cursor, snapshot, snapshot_len, err)) == 0)
        rc = pull_fill(m, out, err);
    fieldsync__pull_response__free_unpacked(m, NULL);
    if (rc != 0)
        fs_sync_pull_page_clear(out);
    return rc;
}

void fs_sync_decode_error(const uint8_t *buf, size_t len, char *code, size_t code_size, char *msg,
                          size_t msg_size)
{
    code[0] = '\0';
    msg[0] = '\0';
    if (buf == NULL || len == 0)
        return;
    Fieldsync__ErrorResponse *m = fieldsync__error_response__unpack(NULL, len, buf);
    if (m == NULL)
        return;
    copy_name(code, code_size, m->code);
    copy_name(msg, msg_size, m->message);
    fieldsync__error_response__free_unpacked(m, NULL);
}
