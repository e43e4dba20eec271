/*
 * test_server_sync.c: push and pull through the handler layer against a real
 * SQLite storage: joins, idempotence, territory rules, refusals, paging,
 * reassignment, tombstone gc and resync, and requests refused as a whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin.h"
#include "fieldsync.pb-c.h"
#include "srv_test_util.h"

typedef tu_team fx;

/* Pushes states as bearer; returns the decoded answer (status must be 200). */
static Fieldsync__PushResponse *push(fx *f, const char *bearer, fs_state *const *st, size_t n)
{
    return tu_push(f->s, &f->cfg, bearer, st, n);
}

/* Sends a pull body (freed here) as bearer; returns the decoded 200 answer. */
static Fieldsync__PullResponse *pull_body(fx *f, const char *bearer, uint8_t *body, size_t len)
{
    long status;
    Fieldsync__PullResponse *pr = tu_send_pull(f->s, &f->cfg, bearer, body, len, &status);
    assert_int_equal(status, 200);
    assert_non_null(pr);
    return pr;
}

static Fieldsync__PullResponse *pull(fx *f, const char *bearer, uint64_t cursor, uint32_t limit)
{
    size_t len;
    uint8_t *body = tu_pull_body(cursor, limit, &len);
    return pull_body(f, bearer, body, len);
}

/* A forced resync's pull: PullRequest.full set. */
static Fieldsync__PullResponse *pull_full(fx *f, const char *bearer, uint64_t cursor)
{
    size_t len;
    uint8_t *body = tu_pull_full_body(cursor, &len);
    return pull_body(f, bearer, body, len);
}

static int reason_of(const Fieldsync__PushResult *r)
{
    return r->outcome_case == FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED ? (int)r->refused->reason : 0;
}

static fs_state *state_of(const Fieldsync__RecordState *pb)
{
    fs_state *st = NULL;
    assert_int_equal(fs_state_from_pb(&st, pb, NULL), 0);
    return st;
}

/* No change after cursor since reaches the reader bearer. On SQLite change
 * numbers move only with a change, so the last one is still since; on
 * PostgreSQL they come from transaction ids (docs/server.md), which any write
 * (a device's last-seen time) moves, so only the pull can tell. */
static void assert_nothing_after(fx *f, const char *bearer, uint64_t since)
{
    if (!tu_is_pg())
        assert_int_equal(tu_last_seq(f->s), since);
    Fieldsync__PullResponse *pr = pull(f, bearer, since, 0);
    assert_false(pr->resync_required);
    assert_int_equal(pr->n_states, 0);
    assert_int_equal(pr->n_removals, 0);
    assert_false(pr->more);
    fieldsync__pull_response__free_unpacked(pr, NULL);
}

/* Pushes st and joins the server's answer into it, as a device does. */
static void push_one_ok(fx *f, const char *bearer, fs_state *st)
{
    Fieldsync__PushResponse *pr = push(f, bearer, &st, 1);
    assert_int_equal(reason_of(pr->results[0]), 0);
    tu_join_answer(st, pr->results[0]);
    fieldsync__push_response__free_unpacked(pr, NULL);
}

static void test_push_then_pull_on_other_device_returns_state(void **state)
{
    fx *f = *state;
    fs_state *acc = tu_account(f->ra, "acc-1", "Brenner Logistik");
    push_one_ok(f, f->anna_a, acc);
    Fieldsync__PullResponse *pr = pull(f, f->anna_b, 0, 0);
    assert_int_equal(pr->n_states, 1);
    fs_state *got = state_of(pr->states[0]);
    assert_string_equal(tu_name(got), "Brenner Logistik");
    assert_false(pr->more);
    assert_nothing_after(f, f->anna_b, pr->next_cursor);
    fs_state_free(got);
    fs_state_free(acc);
    fieldsync__pull_response__free_unpacked(pr, NULL);
}

static void test_concurrent_writes_from_two_devices_are_joined(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    push_one_ok(f, f->anna_a, a);
    fs_state *b = NULL;
    assert_int_equal(fs_state_copy(&b, a, NULL), 0);
    tu_rename(a, f->ra, "Brenner GmbH");
    tu_rename(b, f->rb, "Brenner AG");
    push_one_ok(f, f->anna_a, a);
    Fieldsync__PushResponse *pr = push(f, f->anna_b, &b, 1);
    fs_state *joined = state_of(pr->results[0]->joined);
    fs_conflict *c = NULL;
    size_t nc = 0;
    assert_int_equal(fs_record_conflicts(joined, &c, &nc, NULL), 0);
    /* both concurrent writes of name survive as siblings: nothing dropped */
    size_t name_conflicts = 0;
    for (size_t i = 0; i < nc; i++)
        if (c[i].field == 2) {
            assert_int_equal(c[i].nsiblings, 2);
            name_conflicts++;
        }
    assert_int_equal(name_conflicts, 1);
    assert_int_equal(fs_vv_get(&joined->vv, f->ra), 2);
    assert_int_equal(fs_vv_get(&joined->vv, f->rb), 1);
    fs_conflicts_free(c, nc);
    fs_state_free(joined);
    fs_state_free(a);
    fs_state_free(b);
    fieldsync__push_response__free_unpacked(pr, NULL);
}

/* A device that takes "unchanged" gets that flag for a state the join left as
 * pushed, and the joined state when the server knew more (or wrote the
 * account's owner); a device that does not ask gets every joined state. */
static void test_push_answers_unchanged_when_the_join_keeps_the_pushed_state(void **state)
{
    fx *f = *state;
    fs_state *acc = tu_account(f->ra, "acc-1", "Brenner");
    fs_state *con = tu_contact(f->ra, "con-1", "acc-1", "Eva");
    fs_state *both[2] = {acc, con};
    size_t len;
    srv_response rs = {0};
    uint8_t *body = tu_push_body_unchanged_ok(both, 2, &len);
    assert_int_equal(tu_call(srv_handle_push, f->s, &f->cfg, f->anna_a, body, len, &rs), 0);
    free(body);
    Fieldsync__PushResponse *pr = fieldsync__push_response__unpack(NULL, rs.len, rs.body);
    srv_response_clear(&rs);
    /* the server wrote the account's owner; the contact stayed as pushed */
    assert_int_equal(pr->results[0]->outcome_case, FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED);
    assert_int_equal(pr->results[1]->outcome_case, FIELDSYNC__PUSH_RESULT__OUTCOME_UNCHANGED);
    assert_string_equal(pr->results[1]->ref->id, "con-1");
    fieldsync__push_response__free_unpacked(pr, NULL);
    /* the other device's copy lacks a rename: it gets the joined state */
    fs_state *stale = NULL;
    assert_int_equal(fs_state_copy(&stale, con, NULL), 0);
    tu_rename(con, f->ra, "Eva Kraus");
    push_one_ok(f, f->anna_a, con);
    tu_rename(stale, f->rb, "Eva K.");
    body = tu_push_body_unchanged_ok(&stale, 1, &len);
    assert_int_equal(tu_call(srv_handle_push, f->s, &f->cfg, f->anna_b, body, len, &rs), 0);
    free(body);
    pr = fieldsync__push_response__unpack(NULL, rs.len, rs.body);
    srv_response_clear(&rs);
    assert_int_equal(pr->results[0]->outcome_case, FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED);
    fieldsync__push_response__free_unpacked(pr, NULL);
    /* without unchanged_ok, as devices before it: the state, not the flag */
    tu_rename(con, f->ra, "Eva Kraus-Berg");
    pr = push(f, f->anna_a, &con, 1);
    assert_int_equal(pr->results[0]->outcome_case, FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED);
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(acc);
    fs_state_free(con);
    fs_state_free(stale);
}

static void test_repeated_push_assigns_no_new_sequence(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    push_one_ok(f, f->anna_a, a);
    uint64_t seq = tu_last_seq(f->s);
    push_one_ok(f, f->anna_a, a);
    push_one_ok(f, f->anna_a, a);
    assert_nothing_after(f, f->anna_b, seq);
    fs_state_free(a);
}

static void test_child_of_unknown_account_is_refused(void **state)
{
    fx *f = *state;
    fs_state *c = tu_contact(f->ra, "con-1", "acc-unknown", "Eva");
    Fieldsync__PushResponse *pr = push(f, f->anna_a, &c, 1);
    assert_int_equal(reason_of(pr->results[0]), FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    assert_nothing_after(f, f->anna_b, 0);
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(c);
}

static void test_child_before_its_account_in_one_batch_is_accepted(void **state)
{
    fx *f = *state;
    fs_state *batch[2] = {tu_contact(f->ra, "con-1", "acc-1", "Eva"),
                          tu_account(f->ra, "acc-1", "Brenner")};
    Fieldsync__PushResponse *pr = push(f, f->anna_a, batch, 2);
    /* answers stay in request order */
    assert_int_equal(reason_of(pr->results[0]), 0);
    assert_int_equal(reason_of(pr->results[1]), 0);
    assert_string_equal(pr->results[0]->ref->id, "con-1");
    assert_string_equal(pr->results[1]->ref->id, "acc-1");
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(batch[0]);
    fs_state_free(batch[1]);
}

static void test_other_reps_account_is_refused_and_not_pulled(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    push_one_ok(f, f->anna_a, a);
    fs_state *b = tu_account(f->rbob, "acc-1", "Hijacked");
    fs_state *c = tu_contact(f->rbob, "con-9", "acc-1", "Spy");
    fs_state *both[2] = {b, c};
    Fieldsync__PushResponse *pr = push(f, f->bob, both, 2);
    assert_int_equal(reason_of(pr->results[0]), FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    assert_int_equal(reason_of(pr->results[1]), FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    Fieldsync__PullResponse *pl = pull(f, f->bob, 0, 0);
    assert_int_equal(pl->n_states, 0);
    fieldsync__pull_response__free_unpacked(pl, NULL);
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(c);
}

static void test_moving_contact_to_another_reps_account_is_refused(void **state)
{
    fx *f = *state;
    fs_state *mine = tu_account(f->ra, "acc-1", "Brenner");
    fs_state *his = tu_account(f->rbob, "acc-2", "Kessler");
    fs_state *con = tu_contact(f->rbob, "con-1", "acc-2", "Eva");
    push_one_ok(f, f->anna_a, mine);
    push_one_ok(f, f->bob, his);
    push_one_ok(f, f->bob, con);
    /* anna writes account_id = acc-1 into bob's contact */
    fs_state *stolen = tu_contact(f->ra, "con-1", "acc-1", "Eva");
    Fieldsync__PushResponse *pr = push(f, f->anna_a, &stolen, 1);
    assert_int_equal(reason_of(pr->results[0]), FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(mine);
    fs_state_free(his);
    fs_state_free(con);
    fs_state_free(stolen);
}

static void test_manager_reads_team_and_writes_nothing(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    fs_state *b = tu_account(f->rbob, "acc-2", "Kessler");
    push_one_ok(f, f->anna_a, a);
    push_one_ok(f, f->bob, b);
    Fieldsync__PullResponse *pl = pull(f, f->mgr, 0, 0);
    assert_int_equal(pl->n_states, 1); /* anna is in the team, bob is not */
    assert_string_equal(pl->states[0]->id, "acc-1");
    fieldsync__pull_response__free_unpacked(pl, NULL);
    uint64_t seq = tu_last_seq(f->s);
    tu_rename(a, 77, "Manager edit");
    Fieldsync__PushResponse *pr = push(f, f->mgr, &a, 1);
    assert_int_equal(reason_of(pr->results[0]), FIELDSYNC__REFUSAL__REASON__READ_ONLY);
    assert_nothing_after(f, f->anna_b, seq);
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(a);
    fs_state_free(b);
}

static void test_pull_from_zero_says_how_many_and_whether_the_user_writes(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof(id), "acc-%d", i);
        fs_state *a = tu_account(f->ra, id, "Brenner");
        push_one_ok(f, f->anna_a, a);
        fs_state_free(a);
    }
    Fieldsync__PullResponse *p = pull(f, f->anna_b, 0, 2);
    assert_true(p->has_total && p->total == 3 && p->n_states == 2 && p->more);
    assert_true(p->has_read_only && !p->read_only);
    uint64_t next = p->next_cursor;
    fieldsync__pull_response__free_unpacked(p, NULL);
    p = pull(f, f->anna_b, next, 2); /* only the first page counts */
    assert_false(p->has_total);
    fieldsync__pull_response__free_unpacked(p, NULL);
    p = pull(f, f->mgr, 0, 0); /* the team's records; a manager writes nothing */
    assert_true(p->has_total && p->total == 3 && p->has_read_only && p->read_only);
    fieldsync__pull_response__free_unpacked(p, NULL);
    p = pull(f, f->bob, 0, 0);
    assert_true(p->has_total && p->total == 0);
    fieldsync__pull_response__free_unpacked(p, NULL);
}

static Fieldsync__PullResponse *pull_with_digest(fx *f, const char *bearer,
                                                 const ProtobufCBinaryData *digest)
{
    Fieldsync__PullRequest rq = FIELDSYNC__PULL_REQUEST__INIT;
    rq.has_cursor = 1;
    rq.has_devices_digest = digest != NULL;
    if (digest != NULL)
        rq.devices_digest = *digest;
    size_t len = fieldsync__pull_request__get_packed_size(&rq);
    uint8_t *body = malloc(len + 1);
    fieldsync__pull_request__pack(&rq, body);
    return pull_body(f, bearer, body, len);
}

static void test_last_page_names_the_devices_until_the_device_holds_them(void **state)
{
    fx *f = *state;
    Fieldsync__PullResponse *p = pull_with_digest(f, f->anna_a, NULL);
    assert_false(p->more);
    assert_non_null(p->devices);
    assert_int_equal(p->devices->n_devices, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(p->devices->devices[i]->name, "test laptop");
        if (i > 0) /* ascending by replica id */
            assert_true(p->devices->devices[i - 1]->replica < p->devices->devices[i]->replica);
        if (p->devices->devices[i]->replica == f->rbob)
            assert_string_equal(p->devices->devices[i]->user, "bob");
    }
    uint8_t held[64];
    ProtobufCBinaryData digest = {p->devices->digest.len, held};
    assert_true(p->devices->has_digest && digest.len == 16);
    memcpy(held, p->devices->digest.data, digest.len);
    fieldsync__pull_response__free_unpacked(p, NULL);
    p = pull_with_digest(f, f->anna_b, &digest); /* holds the list: not sent again */
    assert_null(p->devices);
    fieldsync__pull_response__free_unpacked(p, NULL);
    char bearer[80];
    tu_enroll(f->s, &f->cfg, "bob", bearer, NULL);
    p = pull_with_digest(f, f->anna_b, &digest); /* a new device: the new list */
    assert_non_null(p->devices);
    assert_int_equal(p->devices->n_devices, 5);
    assert_memory_not_equal(p->devices->digest.data, held, 16);
    fieldsync__pull_response__free_unpacked(p, NULL);
}

static void test_invalid_state_is_refused_without_failing_the_batch(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    size_t len;
    uint8_t *good = tu_push_body(&a, 1, &len);
    /* unknown kind 99, id "x"; then a state with no id; then a dot its vv misses */
    static const uint8_t bad[] = {0x0a, 0x05, 0x08, 0x63, 0x12, 0x01, 0x78, 0x0a, 0x02, 0x08, 0x01,
                                  0x0a, 0x12, 0x08, 0x01, 0x12, 0x01, 0x79, 0x22, 0x0b, 0x09, 0x05,
                                  0,    0,    0,    0,    0,    0,    0,    0x10, 0x01};
    uint8_t *body = malloc(len + sizeof(bad));
    memcpy(body, bad, sizeof(bad));
    memcpy(body + sizeof(bad), good, len);
    srv_response rs = {0};
    assert_int_equal(
        tu_call(srv_handle_push, f->s, &f->cfg, f->anna_a, body, len + sizeof(bad), &rs), 0);
    assert_int_equal(rs.status, 200);
    Fieldsync__PushResponse *pr = fieldsync__push_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(pr);
    assert_int_equal(pr->n_results, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(reason_of(pr->results[i]), FIELDSYNC__REFUSAL__REASON__INVALID);
    assert_int_equal(reason_of(pr->results[3]), 0);
    fieldsync__push_response__free_unpacked(pr, NULL);
    srv_response_clear(&rs);
    free(body);
    free(good);
    fs_state_free(a);
}

static void test_state_outside_the_record_limits_is_refused_alone(void **state)
{
    fx *f = *state;
    fs_state *st[2] = {tu_account(f->ra, "acc-1", "Brenner"), tu_account(f->ra, "acc-2", "Alder")};
    /* a client that does not check: the name's first byte is no UTF-8 */
    uint8_t *name = memmem(st[0]->events[0].fields, st[0]->events[0].fields_len, "Brenner", 7);
    assert_non_null(name);
    *name = 0xff;
    Fieldsync__PushResponse *pr = push(f, f->anna_a, st, 2);
    assert_int_equal(reason_of(pr->results[0]), FIELDSYNC__REFUSAL__REASON__INVALID);
    assert_string_equal(pr->results[0]->refused->message,
                        "account acc-1: name is not valid UTF-8 text");
    assert_int_equal(reason_of(pr->results[1]), 0);
    fieldsync__push_response__free_unpacked(pr, NULL);
    Fieldsync__PullResponse *pl = pull(f, f->anna_b, 0, 0);
    assert_int_equal(pl->n_states, 1); /* nothing of the refused state was kept */
    assert_string_equal(pl->states[0]->id, "acc-2");
    fieldsync__pull_response__free_unpacked(pl, NULL);
    fs_state_free(st[0]);
    fs_state_free(st[1]);
}

static void test_malformed_push_body_is_400_and_changes_nothing(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    size_t len;
    uint8_t *body = tu_push_body(&a, 1, &len);
    srv_response rs = {0};
    /* truncated in the middle of the state */
    assert_int_equal(tu_call(srv_handle_push, f->s, &f->cfg, f->anna_a, body, len - 3, &rs), 0);
    assert_int_equal(rs.status, 400);
    assert_string_equal(tu_error_code(&rs), "malformed");
    assert_nothing_after(f, f->anna_b, 0);
    int64_t owner;
    assert_int_equal(f->s->ops->territory_get(f->s, "acc-1", &owner, NULL), FS_ENOTFOUND);
    srv_response_clear(&rs);
    free(body);
    fs_state_free(a);
}

static void test_protocol_header_missing_or_other_version_is_400(void **state)
{
    fx *f = *state;
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    const char *versions[] = {NULL, "2", "", "1.0"};
    for (size_t i = 0; i < 4; i++) {
        srv_request rq = {
            .authorization = f->anna_a, .protocol = versions[i], .body = body, .len = len};
        srv_response rs = {0};
        assert_int_equal(srv_handle_pull(f->s, &f->cfg, &rq, &rs), 0);
        assert_int_equal(rs.status, 400);
        assert_string_equal(tu_error_code(&rs), "protocol_version");
        srv_response_clear(&rs);
    }
    free(body);
}

static void test_bad_or_unknown_token_is_401_unauthenticated(void **state)
{
    fx *f = *state;
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    char upper[80];
    strcpy(upper, f->anna_a);
    upper[10] = upper[10] >= 'a' ? (char)(upper[10] - 32) : 'A';
    char other[80];
    strcpy(other, f->anna_a);
    other[20] = other[20] == '0' ? '1' : '0';
    const char *bad[] = {NULL, "", "Bearer", "Basic abc", upper, other, "Bearer 00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        srv_response rs = {0};
        assert_int_equal(tu_call(srv_handle_pull, f->s, &f->cfg, bad[i], body, len, &rs), 0);
        assert_int_equal(rs.status, 401);
        assert_string_equal(tu_error_code(&rs), "unauthenticated");
        srv_response_clear(&rs);
    }
    free(body);
}

static void test_revoked_device_gets_401_device_revoked(void **state)
{
    fx *f = *state;
    srv_device *d;
    size_t n;
    assert_int_equal(f->s->ops->device_list(f->s, 0, &d, &n, NULL), 0);
    assert_int_equal(srv_admin_device_revoke(f->s, d[0].id, f->now, NULL), 0);
    free(d);
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    srv_response rs = {0};
    assert_int_equal(tu_call(srv_handle_pull, f->s, &f->cfg, f->anna_a, body, len, &rs), 0);
    assert_int_equal(rs.status, 401);
    assert_string_equal(tu_error_code(&rs), "device_revoked");
    srv_response_clear(&rs);
    /* nor can it push: its replica id writes nothing new */
    fs_state *a = tu_account(f->ra, "acc-1", "After revocation");
    size_t plen;
    uint8_t *push = tu_push_body(&a, 1, &plen);
    assert_int_equal(tu_call(srv_handle_push, f->s, &f->cfg, f->anna_a, push, plen, &rs), 0);
    assert_int_equal(rs.status, 401);
    assert_string_equal(tu_error_code(&rs), "device_revoked");
    assert_nothing_after(f, f->anna_b, 0);
    srv_response_clear(&rs);
    free(push);
    fs_state_free(a);
    /* the rep's other device still works */
    assert_int_equal(tu_call(srv_handle_pull, f->s, &f->cfg, f->anna_b, body, len, &rs), 0);
    assert_int_equal(rs.status, 200);
    srv_response_clear(&rs);
    free(body);
}

static void test_pull_pages_in_sequence_order(void **state)
{
    fx *f = *state;
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "acc-%d", i);
        fs_state *a = tu_account(f->ra, id, "Account");
        push_one_ok(f, f->anna_a, a);
        fs_state_free(a);
    }
    uint64_t cursor = 0;
    int seen = 0, pages = 0;
    for (;;) {
        Fieldsync__PullResponse *pr = pull(f, f->anna_b, cursor, 2);
        for (size_t i = 0; i < pr->n_states; i++) {
            snprintf(id, sizeof(id), "acc-%d", seen++);
            assert_string_equal(pr->states[i]->id, id);
        }
        assert_true(pr->n_states <= 2);
        assert_true(pr->next_cursor >= cursor);
        cursor = pr->next_cursor;
        pages++;
        bool more = pr->more;
        fieldsync__pull_response__free_unpacked(pr, NULL);
        if (!more)
            break;
    }
    assert_int_equal(seen, 5);
    assert_int_equal(pages, 3);
}

static void test_pull_limit_and_bytes_are_capped(void **state)
{
    fx *f = *state;
    f->cfg.pull_limit_max = 3;
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "acc-%d", i);
        fs_state *a = tu_account(f->ra, id, "Account");
        push_one_ok(f, f->anna_a, a);
        fs_state_free(a);
    }
    Fieldsync__PullResponse *pr = pull(f, f->anna_b, 0, 100000);
    assert_int_equal(pr->n_states, 3);
    assert_true(pr->more);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    f->cfg.pull_max_bytes = 1; /* at least one state per page, never zero */
    pr = pull(f, f->anna_b, 0, 0);
    assert_int_equal(pr->n_states, 1);
    assert_true(pr->more);
    fieldsync__pull_response__free_unpacked(pr, NULL);
}

static void test_cursor_beyond_last_change_requires_resync(void **state)
{
    fx *f = *state;
    /* far beyond: PostgreSQL's numbers move with every transaction */
    Fieldsync__PullResponse *pr = pull(f, f->anna_a, tu_last_seq(f->s) + ((uint64_t)1 << 40), 0);
    assert_true(pr->resync_required);
    assert_int_equal(pr->n_states, 0);
    fieldsync__pull_response__free_unpacked(pr, NULL);
}

/* The visible owner field of an account state (static buffer), "" when unset. */
static const char *owner_of(const fs_state *st)
{
    static char owner[64];
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_record_visible(st, &m, NULL), 0);
    const char *v = ((const Fieldsync__Account *)m)->owner;
    snprintf(owner, sizeof(owner), "%s", v ? v : "");
    protobuf_c_message_free_unpacked(m, NULL);
    return owner;
}

static void test_pushed_account_gets_its_reps_name_as_owner(void **state)
{
    fx *f = *state;
    fs_state *acc = tu_account(f->ra, "acc-1", "Brenner");
    Fieldsync__Account typo = FIELDSYNC__ACCOUNT__INIT;
    typo.owner = "anne";
    assert_int_equal(fs_record_write_msg(acc, f->ra, 2, &typo.base, NULL, 0, NULL), 0);
    Fieldsync__PushResponse *pr = push(f, f->anna_a, &acc, 1);
    fs_state *joined = state_of(pr->results[0]->joined);
    assert_string_equal(owner_of(joined), "anna");
    assert_string_equal(tu_name(joined), "Brenner");
    assert_true(fs_record_alive(joined));
    assert_int_equal(joined->vv.n, 2); /* the device's writes and the server's */
    fieldsync__push_response__free_unpacked(pr, NULL);
    /* the rep's other device gets it so */
    Fieldsync__PullResponse *pl = pull(f, f->anna_b, 0, 0);
    assert_int_equal(pl->n_states, 1);
    fs_state *pulled = state_of(pl->states[0]);
    assert_string_equal(owner_of(pulled), "anna");
    fieldsync__pull_response__free_unpacked(pl, NULL);
    /* once the device has it, pushing again changes nothing */
    uint64_t seq = tu_last_seq(f->s);
    assert_int_equal(fs_record_join_into(acc, joined, NULL), 0);
    push_one_ok(f, f->anna_a, acc);
    assert_nothing_after(f, f->anna_b, seq);
    fs_state_free(pulled);
    fs_state_free(joined);
    fs_state_free(acc);
}

static void test_account_naming_its_rep_or_deleted_is_stored_as_pushed(void **state)
{
    fx *f = *state;
    fs_state *named = tu_account(f->ra, "acc-1", "Brenner");
    Fieldsync__Account own = FIELDSYNC__ACCOUNT__INIT;
    own.owner = "anna";
    assert_int_equal(fs_record_write_msg(named, f->ra, 2, &own.base, NULL, 0, NULL), 0);
    fs_state *gone = tu_account(f->ra, "acc-2", "Gone");
    tu_delete(gone, f->ra);
    fs_state *batch[2] = {named, gone};
    Fieldsync__PushResponse *pr = push(f, f->anna_a, batch, 2);
    for (size_t i = 0; i < 2; i++) {
        fs_state *joined = state_of(pr->results[i]->joined);
        assert_int_equal(joined->vv.n, 1); /* no write of the server's */
        assert_int_equal(fs_record_alive(joined), i == 0);
        fs_state_free(joined);
    }
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(named);
    fs_state_free(gone);
}

static void test_reassign_moves_records_and_old_rep_gets_removals(void **state)
{
    fx *f = *state;
    fs_state *batch[2] = {tu_account(f->ra, "acc-1", "Brenner"),
                          tu_contact(f->ra, "con-1", "acc-1", "Eva")};
    Fieldsync__PushResponse *pr = push(f, f->anna_a, batch, 2);
    fieldsync__push_response__free_unpacked(pr, NULL);
    uint64_t cursor = tu_last_seq(f->s);
    size_t moved;
    assert_int_equal(srv_admin_reassign(f->s, "acc-1", "bob", &moved, NULL), 0);
    assert_int_equal(moved, 2);
    Fieldsync__PullResponse *old = pull(f, f->anna_b, cursor, 0);
    assert_int_equal(old->n_states, 0);
    assert_int_equal(old->n_removals, 2);
    fieldsync__pull_response__free_unpacked(old, NULL);
    Fieldsync__PullResponse *neu = pull(f, f->bob, 0, 0);
    assert_int_equal(neu->n_states, 2);
    assert_int_equal(neu->n_removals, 0);
    /* the account says who owns it now, and keeps what anna wrote */
    for (size_t i = 0; i < neu->n_states; i++) {
        fs_state *got = state_of(neu->states[i]);
        if (got->kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
            assert_string_equal(owner_of(got), "bob");
            assert_string_equal(tu_name(got), "Brenner");
        }
        fs_state_free(got);
    }
    fieldsync__pull_response__free_unpacked(neu, NULL);
    /* the manager keeps none: bob is not in the team, so removals for it too */
    Fieldsync__PullResponse *m = pull(f, f->mgr, cursor, 0);
    assert_int_equal(m->n_removals, 2);
    fieldsync__pull_response__free_unpacked(m, NULL);
    tu_rename(batch[0], f->ra, "Late edit");
    pr = push(f, f->anna_a, batch, 1);
    assert_int_equal(reason_of(pr->results[0]), FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    fieldsync__push_response__free_unpacked(pr, NULL);
    fs_state_free(batch[0]);
    fs_state_free(batch[1]);
}

/* The pushing device has its writes from the push's answer: its pulls leave
 * them out (and pass their seqs), the rep's other device gets them, a full
 * pull (a resync sweeps what it is not given) gets them too, and a later
 * write by the other device comes back to the first. */
static void test_pull_leaves_out_the_pullers_own_writes(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    fs_state *c = tu_contact(f->ra, "c-1", "acc-1", "Ida Roth");
    push_one_ok(f, f->anna_a, a);
    push_one_ok(f, f->anna_a, c);
    Fieldsync__PullResponse *pa = pull(f, f->anna_a, 0, 0);
    assert_int_equal(pa->n_states, 0);
    assert_false(pa->more);
    assert_nothing_after(f, f->anna_b, pa->next_cursor);
    fieldsync__pull_response__free_unpacked(pa, NULL);
    Fieldsync__PullResponse *pb = pull(f, f->anna_b, 0, 0);
    assert_int_equal(pb->n_states, 2);
    fieldsync__pull_response__free_unpacked(pb, NULL);
    Fieldsync__PullResponse *full = pull_full(f, f->anna_a, 0);
    assert_int_equal(full->n_states, 2);
    fieldsync__pull_response__free_unpacked(full, NULL);
    uint64_t cursor = tu_last_seq(f->s);
    tu_rename(a, f->rb, "Brenner & Sohn");
    push_one_ok(f, f->anna_b, a);
    pa = pull(f, f->anna_a, cursor, 0);
    assert_int_equal(pa->n_states, 1);
    fs_state *got = state_of(pa->states[0]);
    assert_string_equal(tu_name(got), "Brenner & Sohn");
    fs_state_free(got);
    fieldsync__pull_response__free_unpacked(pa, NULL);
    fs_state_free(a);
    fs_state_free(c);
}

static void test_tombstone_kept_until_active_devices_pulled_past_it(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    fs_state *gone = tu_account(f->ra, "acc-2", "Gone");
    push_one_ok(f, f->anna_a, a);
    push_one_ok(f, f->anna_a, gone);
    uint64_t before_delete = tu_last_seq(f->s);
    /* both devices pull up to before the delete */
    fieldsync__pull_response__free_unpacked(pull(f, f->anna_a, before_delete, 0), NULL);
    fieldsync__pull_response__free_unpacked(pull(f, f->anna_b, before_delete, 0), NULL);
    tu_delete(gone, f->ra);
    push_one_ok(f, f->anna_a, gone);
    srv_gc_report r;
    assert_int_equal(srv_admin_gc(f->s, f->now, f->cfg.horizon_s, &r, NULL), 0);
    assert_int_equal(r.tombstones, 0); /* no device has pulled past the delete */
    /* device A pulls past it (its own delete is not sent back: it has it); B
     * stays silent beyond the horizon */
    Fieldsync__PullResponse *pa = pull(f, f->anna_a, before_delete, 0);
    assert_int_equal(pa->n_states, 0);
    assert_true(pa->next_cursor > before_delete);
    fieldsync__pull_response__free_unpacked(pull(f, f->anna_a, pa->next_cursor, 0), NULL);
    fieldsync__pull_response__free_unpacked(pa, NULL);
    f->now += f->cfg.horizon_s + 1;
    fieldsync__pull_response__free_unpacked(pull(f, f->anna_a, tu_last_seq(f->s), 0), NULL);
    assert_int_equal(srv_admin_gc(f->s, f->now, f->cfg.horizon_s, &r, NULL), 0);
    assert_int_equal(r.tombstones, 1);
    srv_record rec;
    assert_int_equal(
        f->s->ops->record_get(f->s, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-2", &rec, NULL),
        FS_ENOTFOUND);
    /* the silent device must resync rather than miss the delete */
    Fieldsync__PullResponse *pb = pull(f, f->anna_b, before_delete, 0);
    assert_true(pb->resync_required);
    assert_int_equal(pb->n_states, 0);
    fieldsync__pull_response__free_unpacked(pb, NULL);
    /* a full resync from 0 works and no longer holds the tombstone */
    pb = pull(f, f->anna_b, 0, 0);
    assert_false(pb->resync_required);
    assert_int_equal(pb->n_states, 1);
    fieldsync__pull_response__free_unpacked(pb, NULL);
    fs_state_free(a);
    fs_state_free(gone);
}

/* A resync's later pages start above 0 and often below a floor raised while
 * the device was away: a full pull is answered there (its sweep stands in for
 * the collected tombstones), a normal pull is not, and a full pull above the
 * last change (a restored server) must start again. */
static void test_full_pull_below_the_floor_is_answered(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    fs_state *b = tu_account(f->ra, "acc-2", "Roth");
    fs_state *gone = tu_account(f->ra, "acc-3", "Gone");
    push_one_ok(f, f->anna_a, a);
    uint64_t after_a = tu_last_seq(f->s); /* where B's page from 0 ended */
    push_one_ok(f, f->anna_a, b);
    push_one_ok(f, f->anna_a, gone);
    tu_delete(gone, f->ra);
    push_one_ok(f, f->anna_a, gone);
    /* only device A reads on: the floor rises past the tombstone */
    fieldsync__pull_response__free_unpacked(pull(f, f->anna_a, tu_last_seq(f->s), 0), NULL);
    srv_gc_report r;
    assert_int_equal(srv_admin_gc(f->s, f->now, f->cfg.horizon_s, &r, NULL), 0);
    assert_int_equal(r.tombstones, 1);
    Fieldsync__PullResponse *pb = pull(f, f->anna_b, after_a, 0);
    assert_true(pb->resync_required);
    fieldsync__pull_response__free_unpacked(pb, NULL);
    pb = pull_full(f, f->anna_b, after_a);
    assert_false(pb->resync_required);
    assert_int_equal(pb->n_states, 1); /* acc-2; acc-1 came with the page from 0 */
    assert_false(pb->more);
    uint64_t end = pb->next_cursor;
    fieldsync__pull_response__free_unpacked(pb, NULL);
    assert_nothing_after(f, f->anna_b, end);
    pb = pull_full(f, f->anna_b, tu_last_seq(f->s) + 1);
    assert_true(pb->resync_required);
    fieldsync__pull_response__free_unpacked(pb, NULL);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(gone);
}

static void test_pull_records_cursor_and_last_seen(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    push_one_ok(f, f->anna_a, a);
    f->now += 100;
    fieldsync__pull_response__free_unpacked(pull(f, f->anna_b, 1, 0), NULL);
    srv_device *d;
    size_t n;
    assert_int_equal(f->s->ops->device_list(f->s, 0, &d, &n, NULL), 0);
    assert_int_equal(d[1].cursor, 1);
    assert_int_equal(d[1].last_seen_at, f->now);
    free(d);
    fs_state_free(a);
}

int main(int argc, char **argv)
{
    tu_use_backend(argc > 1 ? argv[1] : "sqlite");
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tu_team_setup, tu_team_teardown)
        T(test_push_then_pull_on_other_device_returns_state),
        T(test_concurrent_writes_from_two_devices_are_joined),
        T(test_push_answers_unchanged_when_the_join_keeps_the_pushed_state),
        T(test_repeated_push_assigns_no_new_sequence),
        T(test_child_of_unknown_account_is_refused),
        T(test_child_before_its_account_in_one_batch_is_accepted),
        T(test_other_reps_account_is_refused_and_not_pulled),
        T(test_moving_contact_to_another_reps_account_is_refused),
        T(test_manager_reads_team_and_writes_nothing),
        T(test_pull_from_zero_says_how_many_and_whether_the_user_writes),
        T(test_last_page_names_the_devices_until_the_device_holds_them),
        T(test_invalid_state_is_refused_without_failing_the_batch),
        T(test_state_outside_the_record_limits_is_refused_alone),
        T(test_malformed_push_body_is_400_and_changes_nothing),
        T(test_protocol_header_missing_or_other_version_is_400),
        T(test_bad_or_unknown_token_is_401_unauthenticated),
        T(test_revoked_device_gets_401_device_revoked),
        T(test_pull_pages_in_sequence_order),
        T(test_pull_limit_and_bytes_are_capped),
        T(test_cursor_beyond_last_change_requires_resync),
        T(test_pushed_account_gets_its_reps_name_as_owner),
        T(test_account_naming_its_rep_or_deleted_is_stored_as_pushed),
        T(test_reassign_moves_records_and_old_rep_gets_removals),
        T(test_pull_leaves_out_the_pullers_own_writes),
        T(test_tombstone_kept_until_active_devices_pulled_past_it),
        T(test_full_pull_below_the_floor_is_answered),
        T(test_pull_records_cursor_and_last_seen),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
