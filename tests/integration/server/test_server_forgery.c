/*
 * test_server_forgery.c: the real fieldsync-server binary refusing, over
 * HTTP, a device that forges another device's writes inside its own
 * territory (docs/protocol.md, "Whose writes a device may push"): a write
 * under the other's replica id, a version vector entry claiming the other's
 * future writes, a known write sent back rewritten, a write dated past
 * --clock-skew; and a revoked device that cannot push at all. Each refusal
 * leaves the server's state as it was, and the victim's next write lands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fieldsync.pb-c.h"
#include "itest.h"
#include "srv_test_util.h"

#define FOREIGN FIELDSYNC__REFUSAL__REASON__FOREIGN_WRITE

typedef struct fx {
    it_server sv;
    char anna_a[80], anna_b[80];
    uint64_t ra, rb;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    it_init(&f->sv);
    const char *add[] = {"user", "add", "anna", "--role", "rep", NULL};
    assert_int_equal(it_admin(&f->sv, NULL, 0, add), 0);
    const char *serve[] = {"--clock-skew", "1m", NULL};
    it_start_args(&f->sv, NULL, serve);
    it_enroll(&f->sv, "anna", f->anna_a, &f->ra);
    it_enroll(&f->sv, "anna", f->anna_b, &f->rb);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    int code = it_stop(&f->sv, false);
    it_cleanup(&f->sv);
    assert_int_equal(code, 0);
    free(f);
    return 0;
}

/* Pushes st: 0 when joined (*joined, if given, gets the server's state), else
 * the refusal reason. status receives the HTTP status. */
static int push(fx *f, const char *bearer, const fs_state *st, fs_state **joined, long *status)
{
    size_t len;
    uint8_t *body = tu_push_body((fs_state *const *)&st, 1, &len);
    it_req rq = {.path = "/v1/push", .bearer = bearer, .body = body, .len = len};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    free(body);
    *status = rs.status;
    int reason = 0;
    if (rs.status == 200) {
        Fieldsync__PushResponse *pr = fieldsync__push_response__unpack(NULL, rs.len, rs.body);
        assert_non_null(pr);
        assert_int_equal(pr->n_results, 1);
        if (pr->results[0]->outcome_case == FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED)
            reason = (int)pr->results[0]->refused->reason;
        else if (joined != NULL)
            assert_int_equal(fs_state_from_pb(joined, pr->results[0]->joined, NULL), 0);
        fieldsync__push_response__free_unpacked(pr, NULL);
    }
    it_resp_clear(&rs);
    return reason;
}

static int push_ok_or_reason(fx *f, const char *bearer, const fs_state *st, fs_state **joined)
{
    long status;
    int reason = push(f, bearer, st, joined, &status);
    assert_int_equal(status, 200);
    return reason;
}

static fs_state *copy(const fs_state *st)
{
    fs_state *c = NULL;
    assert_int_equal(fs_state_copy(&c, st, NULL), 0);
    return c;
}

static void test_forged_writes_of_another_device_are_refused_over_http(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    assert_int_equal(push_ok_or_reason(f, f->anna_a, a, NULL), 0);
    /* b writes as a, claims a's next 100 writes, and rewrites a's name */
    fs_state *as_a = copy(a), *counter = copy(a), *rewritten = NULL;
    tu_rename(as_a, f->ra, "Forged");
    assert_int_equal(fs_vv_set(&counter->vv, f->ra, 101), 0);
    assert_int_equal(fs_state_new(&rewritten, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-1", NULL), 0);
    Fieldsync__Account acc = FIELDSYNC__ACCOUNT__INIT;
    acc.name = "A";
    assert_int_equal(
        fs_record_write_msg(rewritten, f->ra, a->events[0].hlc, &acc.base, NULL, 0, NULL), 0);
    assert_int_equal(push_ok_or_reason(f, f->anna_b, as_a, NULL), FOREIGN);
    assert_int_equal(push_ok_or_reason(f, f->anna_b, counter, NULL), FOREIGN);
    assert_int_equal(push_ok_or_reason(f, f->anna_b, rewritten, NULL), FOREIGN);
    /* a's next write lands and shows: nothing of b's forgeries was kept */
    tu_rename(a, f->ra, "Brenner GmbH");
    fs_state *j = NULL;
    assert_int_equal(push_ok_or_reason(f, f->anna_a, a, &j), 0);
    assert_string_equal(tu_name(j), "Brenner GmbH");
    assert_int_equal(fs_vv_get(&j->vv, f->ra), 2); /* not the forged 101 */
    fs_state_free(j);
    fs_state_free(rewritten);
    fs_state_free(counter);
    fs_state_free(as_a);
    fs_state_free(a);
}

static void test_write_dated_past_the_configured_skew_is_refused(void **state)
{
    fx *f = *state;
    uint64_t now_ms = (uint64_t)time(NULL) * 1000;
    fs_state *st = NULL, *soon = NULL;
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-2", NULL), 0);
    soon = copy(st);
    Fieldsync__Account acc = FIELDSYNC__ACCOUNT__INIT;
    acc.name = "Five minutes fast";
    assert_int_equal(
        fs_record_write_msg(st, f->ra, (now_ms + 300 * 1000) << 16, &acc.base, NULL, 0, NULL), 0);
    assert_int_equal(push_ok_or_reason(f, f->anna_a, st, NULL),
                     FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD);
    acc.name = "Ten seconds fast"; /* --clock-skew 1m allows it */
    assert_int_equal(
        fs_record_write_msg(soon, f->ra, (now_ms + 10 * 1000) << 16, &acc.base, NULL, 0, NULL), 0);
    assert_int_equal(push_ok_or_reason(f, f->anna_a, soon, NULL), 0);
    fs_state_free(soon);
    fs_state_free(st);
}

static void test_revoked_device_cannot_push(void **state)
{
    fx *f = *state;
    const char *revoke[] = {"device", "revoke", "2", NULL};
    assert_int_equal(it_admin(&f->sv, NULL, 0, revoke), 0);
    fs_state *b = tu_account(f->rb, "acc-3", "After revocation");
    long status;
    push(f, f->anna_b, b, NULL, &status);
    assert_int_equal(status, 401);
    /* nothing of it reached the server: the other device pulls nothing */
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    it_req rq = {.path = "/v1/pull", .bearer = f->anna_a, .body = body, .len = len};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 200);
    Fieldsync__PullResponse *pr = fieldsync__pull_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(pr);
    assert_int_equal(pr->n_states, 0);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    it_resp_clear(&rs);
    free(body);
    fs_state_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_forged_writes_of_another_device_are_refused_over_http),
        T(test_write_dated_past_the_configured_skew_is_refused),
        T(test_revoked_device_cannot_push),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
