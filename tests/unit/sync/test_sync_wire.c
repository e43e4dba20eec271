/*
 * test_sync_wire.c: every answer the sync client decodes is validated whole
 * before it reaches the store. Push answers with the wrong count, order,
 * record, a joined state of another record or an invalid state are refused; a
 * joined state outside the record limits acknowledges without being applied;
 * pull pages without a cursor, moving it back, claiming more without moving,
 * over the size limit or with bad removals are refused, while a page's states
 * that do not decode or break the limits are left out alone; enrollment answers
 * without a replica id, with a short token or without a user are refused;
 * error bodies are sanitised; push bodies respect the byte limit; gzip round
 * trips and a decompression bomb stops at the limit; a request body is gzip'd
 * from its threshold on, and once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/gzip.h"
#include "sync_http.h"
#include "sync_wire.h"

static fs_state *account_state(const char *id, uint64_t replica, const char *name)
{
    fs_state *st = NULL;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = (char *)name;
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, NULL), 0);
    assert_int_equal(fs_record_write_msg(st, replica, 1000ull << 16, &a.base, NULL, 0, NULL), 0);
    return st;
}

typedef struct fixture {
    fs_outbox_batch batch;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->batch.n = 3;
    f->batch.items = calloc(3, sizeof(*f->batch.items));
    f->batch.items[0].state = account_state("a1", 7, "Alpha");
    f->batch.items[1].state = account_state("a2", 7, "Beta");
    f->batch.items[2].state = account_state("a3", 7, "Gamma");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fs_outbox_batch_clear(&f->batch);
    free(f);
    return 0;
}

/* A PushResponse answering items[order[i]] with joined (or refused when refuse[i]). */
static uint8_t *push_response(const fs_outbox_batch *b, const int *order, const bool *refuse,
                              size_t n, size_t *len)
{
    Fieldsync__PushResponse m = FIELDSYNC__PUSH_RESPONSE__INIT;
    Fieldsync__PushResult res[8], *ptrs[8];
    Fieldsync__RecordRef refs[8];
    Fieldsync__RecordState pbs[8];
    Fieldsync__Refusal refusal = FIELDSYNC__REFUSAL__INIT;
    Fieldsync__VersionVectorEntry *vvs[8] = {0};
    Fieldsync__Event *evs[8] = {0};
    refusal.has_reason = 1;
    refusal.reason = FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY;
    refusal.message = "not\x01yours";
    for (size_t i = 0; i < n; i++) {
        const fs_state *st = b->items[order[i]].state;
        fieldsync__push_result__init(&res[i]);
        fieldsync__record_ref__init(&refs[i]);
        fieldsync__record_state__init(&pbs[i]);
        refs[i].has_kind = 1;
        refs[i].kind = st->kind;
        refs[i].id = st->id;
        res[i].ref = &refs[i];
        if (refuse != NULL && refuse[i]) {
            res[i].outcome_case = FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED;
            res[i].refused = &refusal;
        } else {
            assert_int_equal(fs_state_to_pb(st, &pbs[i], &vvs[i], &evs[i], NULL), 0);
            res[i].outcome_case = FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED;
            res[i].joined = &pbs[i];
        }
        ptrs[i] = &res[i];
    }
    m.n_results = n;
    m.results = ptrs;
    *len = fieldsync__push_response__get_packed_size(&m);
    uint8_t *buf = malloc(*len + 1);
    fieldsync__push_response__pack(&m, buf);
    for (size_t i = 0; i < n; i++)
        fs_state_pb_storage_free(vvs[i], evs[i], 0);
    return buf;
}

static void test_push_answer_in_order_is_accepted(void **state)
{
    fixture *f = *state;
    int order[] = {0, 1, 2};
    bool refuse[] = {false, true, false};
    size_t len;
    uint8_t *buf = push_response(&f->batch, order, refuse, 3, &len);
    fs_sync_push_answer a;
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 3, &a, NULL), 0);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.refused, 1);
    assert_non_null(a.results[0].joined);
    assert_null(a.results[1].joined);
    assert_int_equal(a.results[1].reason, FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    assert_string_equal(a.results[1].message, "not?yours"); /* control bytes sanitised */
    fs_sync_push_answer_clear(&a);
    free(buf);
}

/* "unchanged" answers an item with the state sent: nothing to join, and the
 * push asks for such answers. */
static void test_push_answer_unchanged_stands_for_the_state_sent(void **state)
{
    fixture *f = *state;
    int order[] = {0, 1, 2};
    size_t len;
    uint8_t *buf = push_response(&f->batch, order, NULL, 3, &len);
    Fieldsync__PushResponse *m = fieldsync__push_response__unpack(NULL, len, buf);
    free(buf);
    fieldsync__record_state__free_unpacked(m->results[1]->joined, NULL); /* the oneof's member */
    m->results[1]->outcome_case = FIELDSYNC__PUSH_RESULT__OUTCOME_UNCHANGED;
    m->results[1]->unchanged = 1;
    len = fieldsync__push_response__get_packed_size(m);
    buf = malloc(len);
    fieldsync__push_response__pack(m, buf);
    fieldsync__push_response__free_unpacked(m, NULL);
    fs_sync_push_answer a;
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 3, &a, NULL), 0);
    assert_ptr_equal(a.results[1].joined, f->batch.items[1].state);
    assert_true(a.results[1].unchanged);
    assert_false(a.results[0].unchanged);
    assert_int_equal(a.refused, 0);
    fs_sync_push_answer_clear(&a);
    free(buf);
    size_t nsent;
    assert_int_equal(fs_sync_encode_push(&f->batch, 1 << 20, &nsent, &buf, &len, NULL), 0);
    Fieldsync__PushRequest *rq = fieldsync__push_request__unpack(NULL, len, buf);
    assert_true(rq->has_unchanged_ok && rq->unchanged_ok);
    fieldsync__push_request__free_unpacked(rq, NULL);
    free(buf);
}

static void test_push_answer_with_wrong_count_is_refused(void **state)
{
    fixture *f = *state;
    int order[] = {0, 1, 2};
    size_t len;
    fs_err err;
    fs_sync_push_answer a;
    uint8_t *buf = push_response(&f->batch, order, NULL, 2, &len);
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 3, &a, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "2 results for 3"));
    free(buf);
    buf = push_response(&f->batch, order, NULL, 3, &len);
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 2, &a, &err), FS_ECORRUPT);
    free(buf);
}

static void test_push_answer_out_of_order_is_refused(void **state)
{
    fixture *f = *state;
    int order[] = {1, 0, 2};
    size_t len;
    fs_sync_push_answer a;
    uint8_t *buf = push_response(&f->batch, order, NULL, 3, &len);
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 3, &a, NULL), FS_ECORRUPT);
    assert_null(a.results);
    free(buf);
}

static void test_push_answer_joining_another_record_is_refused(void **state)
{
    fixture *f = *state;
    /* the ref names a1 but the joined state is a2's */
    fs_outbox_batch fake = f->batch;
    fs_outbox_item items[1] = {f->batch.items[1]};
    fake.items = items;
    fake.n = 1;
    int order[] = {0};
    size_t len;
    uint8_t *buf = push_response(&fake, order, NULL, 1, &len);
    Fieldsync__PushResponse *m = fieldsync__push_response__unpack(NULL, len, buf);
    free(buf);
    free(m->results[0]->ref->id); /* protobuf-c's default allocator is malloc */
    m->results[0]->ref->id = strdup("a1");
    len = fieldsync__push_response__get_packed_size(m);
    buf = malloc(len);
    fieldsync__push_response__pack(m, buf);
    fieldsync__push_response__free_unpacked(m, NULL);
    fs_sync_push_answer a;
    fs_err err;
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 1, &a, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "another record"));
    free(buf);
}

static void test_push_answer_without_outcome_or_garbage_is_refused(void **state)
{
    fixture *f = *state;
    Fieldsync__PushResponse m = FIELDSYNC__PUSH_RESPONSE__INIT;
    Fieldsync__PushResult r = FIELDSYNC__PUSH_RESULT__INIT, *rp = &r;
    Fieldsync__RecordRef ref = FIELDSYNC__RECORD_REF__INIT;
    ref.has_kind = 1;
    ref.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    ref.id = "a1";
    r.ref = &ref;
    m.n_results = 1;
    m.results = &rp;
    uint8_t buf[256];
    size_t len = fieldsync__push_response__pack(&m, buf);
    fs_sync_push_answer a;
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 1, &a, NULL), FS_ECORRUPT);
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert_int_equal(fs_sync_decode_push(junk, sizeof(junk), &f->batch, 1, &a, NULL), FS_ECORRUPT);
}

static void test_push_answer_with_invalid_state_is_refused(void **state)
{
    fixture *f = *state;
    int order[] = {0};
    size_t len;
    uint8_t *buf = push_response(&f->batch, order, NULL, 1, &len);
    Fieldsync__PushResponse *m = fieldsync__push_response__unpack(NULL, len, buf);
    free(buf);
    /* an event its own version vector does not cover */
    m->results[0]->joined->vv[0]->counter = 0;
    len = fieldsync__push_response__get_packed_size(m);
    buf = malloc(len);
    fieldsync__push_response__pack(m, buf);
    fieldsync__push_response__free_unpacked(m, NULL);
    fs_sync_push_answer a;
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 1, &a, NULL), FS_ECORRUPT);
    free(buf);
}

/* Makes the first byte of the record's name, the value its first write set,
 * something UTF-8 never holds: a state as an older server may have stored it. */
static void break_text(fs_state *st)
{
    uint8_t *fields = st->events[0].fields;
    assert_true(st->events[0].fields_len > 2 && fields[0] == 0x12); /* field 2, length-delimited */
    fields[2] = 0xff;
}

static void test_push_answer_outside_the_limits_acknowledges_without_applying(void **state)
{
    fixture *f = *state;
    fs_outbox_batch served = {.n = 2, .items = calloc(2, sizeof(fs_outbox_item))};
    served.items[0].state = account_state("a1", 7, "Alpha");
    served.items[1].state = account_state("a2", 9, "Beta from elsewhere");
    break_text(served.items[1].state);
    int order[] = {0, 1};
    size_t len;
    uint8_t *buf = push_response(&served, order, NULL, 2, &len);
    fs_sync_push_answer a;
    assert_int_equal(fs_sync_decode_push(buf, len, &f->batch, 2, &a, NULL), 0);
    assert_int_equal(a.refused, 0);
    assert_int_equal(a.skipped, 1);
    assert_non_null(strstr(a.skip_why, "account a2: name is not valid UTF-8"));
    assert_ptr_equal(a.results[0].joined, a.joined[0]);
    assert_ptr_equal(a.results[1].joined, f->batch.items[1].state); /* the state sent */
    fs_sync_push_answer_clear(&a);
    fs_outbox_batch_clear(&served);
    free(buf);
}

static void test_push_body_respects_the_byte_limit(void **state)
{
    fixture *f = *state;
    uint8_t *body = NULL;
    size_t len = 0, nsent = 0;
    assert_int_equal(fs_sync_encode_push(&f->batch, 1u << 20, &nsent, &body, &len, NULL), 0);
    assert_int_equal(nsent, 3);
    Fieldsync__PushRequest *rq = fieldsync__push_request__unpack(NULL, len, body);
    assert_non_null(rq);
    assert_int_equal(rq->n_states, 3);
    assert_string_equal(rq->states[2]->id, "a3");
    fieldsync__push_request__free_unpacked(rq, NULL);
    free(body);
    /* a limit below one state still sends one: progress is always made */
    assert_int_equal(fs_sync_encode_push(&f->batch, 1, &nsent, &body, &len, NULL), 0);
    assert_int_equal(nsent, 1);
    free(body);
    size_t one = len;
    assert_int_equal(fs_sync_encode_push(&f->batch, one + one / 2 + 11, &nsent, &body, &len, NULL),
                     0);
    assert_int_equal(nsent, 1);
    free(body);
}

/* ------------------------------------------------------------------------- */
/* Pull */

static uint8_t *pull_response(Fieldsync__PullResponse *m, size_t *len)
{
    *len = fieldsync__pull_response__get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    fieldsync__pull_response__pack(m, buf);
    return buf;
}

static void test_pull_page_is_decoded_and_validated(void **state)
{
    fixture *f = *state;
    Fieldsync__PullResponse m = FIELDSYNC__PULL_RESPONSE__INIT;
    Fieldsync__RecordState pb = FIELDSYNC__RECORD_STATE__INIT, *pbp = &pb;
    Fieldsync__RecordRef ref = FIELDSYNC__RECORD_REF__INIT, *refp = &ref;
    Fieldsync__VersionVectorEntry *vv = NULL;
    Fieldsync__Event *ev = NULL;
    assert_int_equal(fs_state_to_pb(f->batch.items[0].state, &pb, &vv, &ev, NULL), 0);
    ref.has_kind = 1;
    ref.kind = FIELDSYNC__RECORD_KIND__CONTACT;
    ref.id = "c9";
    m.n_states = 1;
    m.states = &pbp;
    m.n_removals = 1;
    m.removals = &refp;
    m.has_next_cursor = 1;
    m.next_cursor = 17;
    m.has_more = 1;
    m.more = 1;
    size_t len;
    uint8_t *buf = pull_response(&m, &len);
    fs_sync_pull_page p;
    fs_err err;
    assert_int_equal(fs_sync_decode_pull(buf, len, 5, NULL, 0, &p, NULL), 0);
    assert_int_equal(p.nstates, 1);
    assert_string_equal(p.states[0]->id, "a1");
    assert_int_equal(p.nremovals, 1);
    assert_string_equal(p.removals[0].id, "c9");
    assert_int_equal(p.next_cursor, 17);
    assert_true(p.more);
    fs_sync_pull_page_clear(&p);
    /* more without moving the cursor would loop forever */
    assert_int_equal(fs_sync_decode_pull(buf, len, 17, NULL, 0, &p, &err), FS_ECORRUPT);
    /* a cursor moving back */
    assert_int_equal(fs_sync_decode_pull(buf, len, 18, NULL, 0, &p, &err), FS_ECORRUPT);
    free(buf);
    /* no cursor at all */
    m.has_next_cursor = 0;
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, &err), FS_ECORRUPT);
    free(buf);
    /* removal of an unknown kind or without id */
    m.has_next_cursor = 1;
    ref.kind = 99;
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, &err), FS_ECORRUPT);
    free(buf);
    ref.kind = FIELDSYNC__RECORD_KIND__CONTACT;
    ref.id = "";
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, &err), FS_ECORRUPT);
    free(buf);
    fs_state_pb_storage_free(vv, ev, 0);
}

/* A snapshot's pages keep the cursor at 0 and move their position instead:
 * one must have been asked for, say more, and move. */
static void test_pull_snapshot_pages_are_validated(void **state)
{
    (void)state;
    Fieldsync__PullResponse m = FIELDSYNC__PULL_RESPONSE__INIT;
    static uint8_t big[FS_SYNC_SNAPSHOT_MAX + 1];
    m.has_next_cursor = m.has_more = m.more = m.has_snapshot = 1;
    m.snapshot.data = (uint8_t *)"pos2";
    m.snapshot.len = 4;
    size_t len;
    uint8_t *buf = pull_response(&m, &len);
    fs_sync_pull_page p;
    fs_err err;
    const uint8_t *begin = (const uint8_t *)"", *pos1 = (const uint8_t *)"pos1";
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, begin, 0, &p, NULL), 0);
    assert_int_equal(p.snapshot_len, 4);
    assert_memory_equal(p.snapshot, "pos2", 4);
    assert_int_equal(p.next_cursor, 0);
    fs_sync_pull_page_clear(&p);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, pos1, 4, &p, NULL), 0);
    fs_sync_pull_page_clear(&p);
    /* not moving, not asked for, or asked from a cursor */
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, (const uint8_t *)"pos2", 4, &p, &err),
                     FS_ECORRUPT);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, &err), FS_ECORRUPT);
    assert_int_equal(fs_sync_decode_pull(buf, len, 5, pos1, 4, &p, &err), FS_ECORRUPT);
    free(buf);
    /* a snapshot page must say more and keep the cursor */
    m.more = 0;
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, begin, 0, &p, &err), FS_ECORRUPT);
    free(buf);
    m.more = 1;
    m.next_cursor = 3;
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, begin, 0, &p, &err), FS_ECORRUPT);
    free(buf);
    m.next_cursor = 0;
    m.snapshot.data = big;
    m.snapshot.len = sizeof(big);
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, begin, 0, &p, &err), FS_ECORRUPT);
    free(buf);
    /* its last page: no position, the cursor where the feed goes on */
    m.has_snapshot = 0;
    m.next_cursor = 9;
    m.more = 0;
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, pos1, 4, &p, NULL), 0);
    assert_null(p.snapshot);
    assert_int_equal(p.next_cursor, 9);
    fs_sync_pull_page_clear(&p);
    free(buf);
}

static void test_pull_page_leaves_out_bad_states_and_keeps_the_rest(void **state)
{
    fixture *f = *state;
    fs_state *bad_text = account_state("b1", 9, "Bad text");
    break_text(bad_text);
    const fs_state *sts[] = {f->batch.items[0].state, bad_text, f->batch.items[1].state,
                             f->batch.items[2].state};
    Fieldsync__RecordState pbs[4], *pbp[4];
    Fieldsync__VersionVectorEntry *vv[4] = {0};
    Fieldsync__Event *ev[4] = {0};
    for (size_t i = 0; i < 4; i++) {
        fieldsync__record_state__init(&pbs[i]);
        assert_int_equal(fs_state_to_pb(sts[i], &pbs[i], &vv[i], &ev[i], NULL), 0);
        pbp[i] = &pbs[i];
    }
    pbs[2].vv[0]->counter = 0; /* a2: an event its own vv does not cover */
    Fieldsync__PullResponse m = FIELDSYNC__PULL_RESPONSE__INIT;
    m.n_states = 4;
    m.states = pbp;
    m.has_next_cursor = 1;
    m.next_cursor = 40;
    size_t len;
    uint8_t *buf = pull_response(&m, &len);
    fs_sync_pull_page p;
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, NULL), 0);
    assert_int_equal(p.nstates, 2);
    assert_string_equal(p.states[0]->id, "a1");
    assert_string_equal(p.states[1]->id, "a3");
    assert_int_equal(p.skipped, 2);
    assert_non_null(strstr(p.skip_why, "account b1: name is not valid UTF-8")); /* the first */
    assert_int_equal(p.next_cursor, 40); /* the page moves on past what it left out */
    fs_sync_pull_page_clear(&p);
    free(buf);
    for (size_t i = 0; i < 4; i++)
        fs_state_pb_storage_free(vv[i], ev[i], 0);
    fs_state_free(bad_text);
}

static void test_pull_resync_required_needs_nothing_else(void **state)
{
    (void)state;
    Fieldsync__PullResponse m = FIELDSYNC__PULL_RESPONSE__INIT;
    m.has_resync_required = 1;
    m.resync_required = 1;
    size_t len;
    uint8_t *buf = pull_response(&m, &len);
    fs_sync_pull_page p;
    assert_int_equal(fs_sync_decode_pull(buf, len, 99, NULL, 0, &p, NULL), 0);
    assert_true(p.resync_required);
    assert_int_equal(p.nstates, 0);
    fs_sync_pull_page_clear(&p);
    free(buf);
}

static void test_pull_page_over_the_limit_is_refused(void **state)
{
    (void)state;
    size_t n = FS_STORE_APPLY_MAX + 1;
    Fieldsync__PullResponse m = FIELDSYNC__PULL_RESPONSE__INIT;
    Fieldsync__RecordRef ref = FIELDSYNC__RECORD_REF__INIT;
    Fieldsync__RecordRef **refs = calloc(n, sizeof(*refs));
    ref.has_kind = 1;
    ref.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    ref.id = "x";
    for (size_t i = 0; i < n; i++)
        refs[i] = &ref;
    m.n_removals = n;
    m.removals = refs;
    m.has_next_cursor = 1;
    m.next_cursor = 1;
    size_t len;
    uint8_t *buf = pull_response(&m, &len);
    fs_sync_pull_page p;
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, NULL), FS_ECORRUPT);
    free(buf);
    free(refs);
}

/* ------------------------------------------------------------------------- */
/* Enroll, errors, gzip */

static uint8_t *enroll_response(uint64_t replica, size_t token_len, const char *user, size_t *len)
{
    static uint8_t token[64];
    memset(token, 0xab, sizeof(token));
    Fieldsync__EnrollResponse m = FIELDSYNC__ENROLL_RESPONSE__INIT;
    m.has_replica_id = 1;
    m.replica_id = replica;
    m.has_token = 1;
    m.token.data = token;
    m.token.len = token_len;
    m.user = (char *)user;
    m.server_id = "srv";
    *len = fieldsync__enroll_response__get_packed_size(&m);
    uint8_t *buf = malloc(*len);
    fieldsync__enroll_response__pack(&m, buf);
    return buf;
}

static void test_pull_extras_total_read_only_and_device_names(void **state)
{
    (void)state;
    Fieldsync__PullResponse m = FIELDSYNC__PULL_RESPONSE__INIT;
    Fieldsync__Device d1 = FIELDSYNC__DEVICE__INIT, d2 = FIELDSYNC__DEVICE__INIT;
    Fieldsync__Device *devs[] = {&d1, &d2};
    Fieldsync__DeviceList list = FIELDSYNC__DEVICE_LIST__INIT;
    uint8_t digest[16] = {1, 2, 3};
    d1.has_replica = d2.has_replica = 1;
    d1.replica = 0xaa;
    d1.name = "laptop";
    d1.user = "ann";
    d2.replica = 0xbb;
    d2.name = "tablet";
    list.n_devices = 2;
    list.devices = devs;
    list.has_digest = 1;
    list.digest.data = digest;
    list.digest.len = sizeof(digest);
    m.has_next_cursor = 1;
    m.next_cursor = 4;
    m.has_total = 1;
    m.total = 2100;
    m.has_read_only = 1;
    m.read_only = 1;
    m.devices = &list;
    size_t len;
    uint8_t *buf = pull_response(&m, &len);
    fs_sync_pull_page p;
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, NULL), 0);
    assert_true(p.has_total && p.total == 2100 && p.read_only == 1);
    assert_non_null(p.devices);
    Fieldsync__DeviceList *back = fieldsync__device_list__unpack(NULL, p.devices_len, p.devices);
    assert_non_null(back);
    assert_int_equal(back->n_devices, 2);
    assert_string_equal(back->devices[1]->name, "tablet");
    assert_memory_equal(back->digest.data, digest, sizeof(digest));
    fieldsync__device_list__free_unpacked(back, NULL);
    fs_sync_pull_page_clear(&p);
    free(buf);
    /* a name that is not UTF-8 drops the list, not the page; no read_only said */
    d2.name = "tab\xfflet";
    m.has_read_only = 0;
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, NULL), 0);
    assert_null(p.devices);
    assert_int_equal(p.read_only, -1);
    fs_sync_pull_page_clear(&p);
    free(buf);
    d2.name = "tablet"; /* a device without its replica id: the same */
    d2.has_replica = 0;
    buf = pull_response(&m, &len);
    assert_int_equal(fs_sync_decode_pull(buf, len, 0, NULL, 0, &p, NULL), 0);
    assert_null(p.devices);
    fs_sync_pull_page_clear(&p);
    free(buf);
}

static void test_enroll_answer_is_validated(void **state)
{
    (void)state;
    size_t len;
    fs_sync_enrollment e;
    uint8_t *buf = enroll_response(0x1234, 32, "ann", &len);
    assert_int_equal(fs_sync_decode_enroll(buf, len, &e, NULL), 0);
    assert_int_equal(e.replica, 0x1234);
    assert_int_equal(e.token->len, 32);
    assert_int_equal(e.token->bytes[0], 0xab);
    assert_string_equal(e.user, "ann");
    assert_string_equal(e.server_id, "srv");
    assert_false(e.read_only); /* not said: a rep's */
    fs_sync_enrollment_clear(&e);
    free(buf);
    buf = enroll_response(0, 32, "ann", &len);
    assert_int_equal(fs_sync_decode_enroll(buf, len, &e, NULL), FS_ECORRUPT);
    assert_null(e.token);
    free(buf);
    buf = enroll_response(5, 31, "ann", &len);
    assert_int_equal(fs_sync_decode_enroll(buf, len, &e, NULL), FS_ECORRUPT);
    free(buf);
    buf = enroll_response(5, 32, NULL, &len);
    assert_int_equal(fs_sync_decode_enroll(buf, len, &e, NULL), FS_ECORRUPT);
    free(buf);
    assert_int_equal(fs_sync_decode_enroll((const uint8_t *)"\xff", 1, &e, NULL), FS_ECORRUPT);
}

static void test_error_body_is_sanitised_or_empty(void **state)
{
    (void)state;
    char code[16], msg[32];
    Fieldsync__ErrorResponse m = FIELDSYNC__ERROR_RESPONSE__INIT;
    m.code = "device_revoked_and_much_longer_than_the_buffer";
    m.message = "line\nbreak\x1b[31m";
    uint8_t buf[256];
    size_t len = fieldsync__error_response__pack(&m, buf);
    fs_sync_decode_error(buf, len, code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(code, "device_revoked_");
    assert_string_equal(msg, "line?break?[31m");
    fs_sync_decode_error((const uint8_t *)"\xff\xff", 2, code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(code, "");
    fs_sync_decode_error(NULL, 0, code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(msg, "");
}

static void test_gzip_round_trips_and_refuses_bombs_and_garbage(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    uint8_t *in = calloc(1, n), *z = NULL, *out = NULL;
    size_t zlen = 0, olen = 0;
    for (size_t i = 0; i < n; i += 97)
        in[i] = (uint8_t)i;
    assert_int_equal(fs_gzip_compress(in, n, &z, &zlen, NULL), 0);
    assert_true(zlen < n / 10);
    assert_int_equal(fs_gzip_decompress(z, zlen, n, &out, &olen, NULL), 0);
    assert_int_equal(olen, n);
    assert_memory_equal(out, in, n);
    free(out);
    /* one byte over the limit */
    assert_int_equal(fs_gzip_decompress(z, zlen, n - 1, &out, &olen, NULL), FS_ETOOBIG);
    assert_null(out);
    /* truncated and corrupted */
    assert_int_equal(fs_gzip_decompress(z, zlen / 2, n, &out, &olen, NULL), FS_ECORRUPT);
    z[zlen / 2] ^= 0x55;
    assert_int_not_equal(fs_gzip_decompress(z, zlen, n, &out, &olen, NULL), 0);
    assert_int_equal(fs_gzip_decompress((const uint8_t *)"plain", 5, n, &out, &olen, NULL),
                     FS_ECORRUPT);
    free(z);
    free(in);
}

static fs_http_body body_of(size_t len)
{
    fs_http_body b = {.bytes = malloc(len ? len : 1), .len = len};
    assert_non_null(b.bytes);
    for (size_t i = 0; i < len; i++)
        b.bytes[i] = (uint8_t)(i % 7);
    return b;
}

static void test_http_body_is_gzipped_from_its_threshold_and_once(void **state)
{
    (void)state;
    fs_http_body small = body_of(1023), empty = body_of(0), big = body_of(4096);
    const uint8_t *small_bytes = small.bytes;
    assert_int_equal(fs_http_body_gzip(&small, 1024, NULL), 0);
    assert_int_equal(fs_http_body_gzip(&empty, 1024, NULL), 0);
    assert_false(small.gzipped || empty.gzipped);
    assert_ptr_equal(small.bytes, small_bytes);
    assert_int_equal(small.len, 1023);

    assert_int_equal(fs_http_body_gzip(&big, 1024, NULL), 0);
    assert_true(big.gzipped);
    assert_true(big.len < 4096);
    /* a second pass (fs_http_post's) leaves a gzip'd body as it is, however
     * small its threshold */
    fs_http_body again = big;
    assert_int_equal(fs_http_body_gzip(&again, 1, NULL), 0);
    assert_memory_equal(&again, &big, sizeof(big));
    uint8_t *out = NULL;
    size_t olen = 0;
    assert_int_equal(fs_gzip_decompress(big.bytes, big.len, 4096, &out, &olen, NULL), 0);
    fs_http_body plain = body_of(4096);
    assert_int_equal(olen, 4096);
    assert_memory_equal(out, plain.bytes, 4096);
    free(out);
    free(plain.bytes);
    free(big.bytes);
    free(small.bytes);
    free(empty.bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_push_answer_in_order_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_answer_unchanged_stands_for_the_state_sent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_push_answer_with_wrong_count_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_push_answer_out_of_order_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_answer_joining_another_record_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_push_answer_without_outcome_or_garbage_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_answer_with_invalid_state_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_push_answer_outside_the_limits_acknowledges_without_applying, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_body_respects_the_byte_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_page_is_decoded_and_validated, setup, teardown),
        cmocka_unit_test(test_pull_snapshot_pages_are_validated),
        cmocka_unit_test_setup_teardown(test_pull_page_leaves_out_bad_states_and_keeps_the_rest,
                                        setup, teardown),
        cmocka_unit_test(test_pull_resync_required_needs_nothing_else),
        cmocka_unit_test(test_pull_page_over_the_limit_is_refused),
        cmocka_unit_test(test_pull_extras_total_read_only_and_device_names),
        cmocka_unit_test(test_enroll_answer_is_validated),
        cmocka_unit_test(test_error_body_is_sanitised_or_empty),
        cmocka_unit_test(test_gzip_round_trips_and_refuses_bombs_and_garbage),
        cmocka_unit_test(test_http_body_is_gzipped_from_its_threshold_and_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
