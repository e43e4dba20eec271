/*
 * test_server_trust.c: whose writes a device may push (trust.c), through the
 * push and enroll handlers against a real SQLite storage. A device adds only
 * its own writes: another replica's counters, writes and known values cannot
 * be forged, a new write's clock may not run far ahead of the server's, and a
 * refused state changes nothing. The replica id a store wrote with before
 * enrollment is the new device's when nobody else owns it.
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

#define FOREIGN FIELDSYNC__REFUSAL__REASON__FOREIGN_WRITE
#define AHEAD FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD

typedef struct fx {
    char dir[256];
    srv_storage *s;
    srv_config cfg;
    int64_t now;
    char anna_a[80], anna_b[80];
    uint64_t ra, rb;
    char msg[512]; /* the last refusal's message */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->s = tu_storage_new(f->dir);
    f->now = 1700000000;
    tu_config(&f->cfg, &f->now);
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    tu_user(f->s, "bob", SRV_ROLE_REP, NULL);
    tu_enroll(f->s, &f->cfg, "anna", f->anna_a, &f->ra);
    tu_enroll(f->s, &f->cfg, "anna", f->anna_b, &f->rb);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tu_storage_free(f->s, f->dir);
    free(f);
    return 0;
}

/* Pushes st as bearer: 0 when joined (*joined, if given, receives the
 * server's state), else the refusal reason (its message in f->msg). */
static int push(fx *f, const char *bearer, const fs_state *st, fs_state **joined)
{
    Fieldsync__PushResponse *pr = tu_push(f->s, &f->cfg, bearer, (fs_state *const *)&st, 1);
    const Fieldsync__PushResult *r = pr->results[0];
    int reason = 0;
    f->msg[0] = '\0';
    if (r->outcome_case == FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED) {
        reason = (int)r->refused->reason;
        snprintf(f->msg, sizeof(f->msg), "%s", r->refused->message);
    } else if (joined != NULL) {
        assert_int_equal(fs_state_from_pb(joined, r->joined, NULL), 0);
    }
    fieldsync__push_response__free_unpacked(pr, NULL);
    return reason;
}

static fs_state *copy(const fs_state *st)
{
    fs_state *c = NULL;
    assert_int_equal(fs_state_copy(&c, st, NULL), 0);
    return c;
}

/* A write of the account's name at replica with an explicit HLC. */
static void rename_at(fs_state *st, uint64_t replica, uint64_t hlc, const char *name)
{
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = (char *)name;
    assert_int_equal(fs_record_write_msg(st, replica, hlc, &a.base, NULL, 0, NULL), 0);
}

static void test_a_write_under_another_devices_id_is_refused(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    assert_int_equal(push(f, f->anna_a, a, NULL), 0);
    uint64_t seq = tu_last_seq(f->s);
    /* b holds the server's state and writes as if it were a */
    fs_state *b = copy(a);
    tu_rename(b, f->ra, "Forged");
    assert_int_equal(push(f, f->anna_b, b, NULL), FOREIGN);
    assert_non_null(strstr(f->msg, "only add its own writes"));
    assert_int_equal(tu_last_seq(f->s), seq);
    /* the same edit as b's own write goes through */
    fs_state *b2 = copy(a);
    tu_rename(b2, f->rb, "Brenner AG");
    fs_state *j = NULL;
    assert_int_equal(push(f, f->anna_b, b2, &j), 0);
    assert_string_equal(tu_name(j), "Brenner AG");
    fs_state_free(j);
    fs_state_free(b2);
    fs_state_free(b);
    fs_state_free(a);
}

static void test_a_forged_counter_cannot_swallow_the_owners_next_write(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    assert_int_equal(push(f, f->anna_a, a, NULL), 0);
    /* b claims to have seen a's writes up to 1000, without any of them */
    fs_state *b = copy(a);
    assert_int_equal(fs_vv_set(&b->vv, f->ra, 1000), 0);
    tu_rename(b, f->rb, "Brenner AG");
    assert_int_equal(push(f, f->anna_b, b, NULL), FOREIGN);
    assert_non_null(strstr(f->msg, "up to 1000"));
    /* a's next write is not taken for one the server has seen: it shows */
    tu_rename(a, f->ra, "Brenner GmbH");
    fs_state *j = NULL;
    assert_int_equal(push(f, f->anna_a, a, &j), 0);
    assert_string_equal(tu_name(j), "Brenner GmbH");
    assert_int_equal(fs_vv_get(&j->vv, f->ra), 2);
    fs_state_free(j);
    fs_state_free(b);
    fs_state_free(a);
}

static void test_a_known_write_cannot_be_rewritten_or_cleared(void **state)
{
    fx *f = *state;
    fs_state *empty = NULL;
    assert_int_equal(fs_state_new(&empty, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-1", NULL), 0);
    fs_state *a = copy(empty), *forged = copy(empty), *cleared = copy(empty);
    rename_at(a, f->ra, 5ull << 16, "Brenner");
    assert_int_equal(push(f, f->anna_a, a, NULL), 0);
    uint64_t seq = tu_last_seq(f->s);
    /* the same dot (a, 1) with smaller bytes, which the join would keep */
    rename_at(forged, f->ra, 5ull << 16, "A");
    assert_int_equal(push(f, f->anna_b, forged, NULL), FOREIGN);
    assert_non_null(strstr(f->msg, "cannot be changed"));
    static const uint32_t name[] = {2};
    assert_int_equal(fs_record_write(cleared, f->ra, 5ull << 16, NULL, 0, name, 1, NULL), 0);
    assert_int_equal(push(f, f->anna_b, cleared, NULL), FOREIGN);
    /* and a's own copy, rewritten (a store restored from an old backup) */
    assert_int_equal(push(f, f->anna_a, forged, NULL), FIELDSYNC__REFUSAL__REASON__INVALID);
    assert_non_null(strstr(f->msg, "restored"));
    assert_int_equal(tu_last_seq(f->s), seq);
    fs_state_free(empty);
    fs_state_free(a);
    fs_state_free(forged);
    fs_state_free(cleared);
}

static void test_a_new_write_dated_past_the_skew_is_refused(void **state)
{
    fx *f = *state;
    uint64_t now_ms = (uint64_t)f->now * 1000;
    fs_state *st = NULL;
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-1", NULL), 0);
    fs_state *late = copy(st);
    rename_at(st, f->ra, (now_ms + 3600 * 1000) << 16, "From the future");
    assert_int_equal(push(f, f->anna_a, st, NULL), AHEAD);
    assert_non_null(strstr(f->msg, "3600 s ahead"));
    assert_int_equal(tu_last_seq(f->s), 0);
    /* within the skew (5 minutes by default) it is accepted */
    rename_at(late, f->ra, (now_ms + 240 * 1000) << 16, "Slightly fast");
    assert_int_equal(push(f, f->anna_a, late, NULL), 0);
    /* and the skew is a setting */
    f->cfg.clock_skew_s = 60;
    fs_state *fast = copy(late);
    rename_at(fast, f->ra, (now_ms + 240 * 1000) << 16 | 1, "Too fast now");
    assert_int_equal(push(f, f->anna_a, fast, NULL), AHEAD);
    fs_state_free(fast);
    fs_state_free(late);
    fs_state_free(st);
}

static void test_the_stores_prior_replica_is_the_new_devices_when_nobody_owns_it(void **state)
{
    fx *f = *state;
    const uint64_t provisional = 0x7e57;
    char anna_c[80], bob[80];
    uint64_t rc, rbob;
    /* written before enrollment, under the store's provisional id */
    fs_state *st = tu_account(provisional, "acc-1", "Offline work");
    tu_enroll_prior(f->s, &f->cfg, "anna", provisional, anna_c, &rc);
    assert_int_not_equal(rc, provisional);
    assert_int_equal(push(f, anna_c, st, NULL), 0);
    /* nobody else gets it: not bob, nor another device of anna's */
    tu_enroll_prior(f->s, &f->cfg, "bob", provisional, bob, &rbob);
    fs_state *b = tu_account(provisional, "acc-b", "Cloned store");
    assert_int_equal(push(f, bob, b, NULL), FOREIGN);
    char anna_d[80];
    tu_enroll_prior(f->s, &f->cfg, "anna", rc, anna_d, NULL);
    fs_state *d = copy(st);
    tu_rename(d, rc, "Copied laptop");
    assert_int_equal(push(f, anna_d, d, NULL), FOREIGN);
    fs_state_free(d);
    fs_state_free(b);
    fs_state_free(st);
}

static void test_a_revoked_laptop_enrolled_again_keeps_its_unsynced_writes(void **state)
{
    fx *f = *state;
    fs_state *st = tu_account(f->ra, "acc-1", "Brenner");
    assert_int_equal(push(f, f->anna_a, st, NULL), 0);
    tu_rename(st, f->ra, "Written while revoked");
    srv_device *d;
    size_t n;
    assert_int_equal(f->s->ops->device_list(f->s, 0, &d, &n, NULL), 0);
    assert_int_equal(d[0].replica, f->ra);
    assert_int_equal(srv_admin_device_revoke(f->s, d[0].id, f->now, NULL), 0);
    free(d);
    char again[80];
    tu_enroll_prior(f->s, &f->cfg, "anna", f->ra, again, NULL);
    fs_state *j = NULL;
    assert_int_equal(push(f, again, st, &j), 0);
    assert_string_equal(tu_name(j), "Written while revoked");
    fs_state_free(j);
    fs_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_a_write_under_another_devices_id_is_refused),
        T(test_a_forged_counter_cannot_swallow_the_owners_next_write),
        T(test_a_known_write_cannot_be_rewritten_or_cleared),
        T(test_a_new_write_dated_past_the_skew_is_refused),
        T(test_the_stores_prior_replica_is_the_new_devices_when_nobody_owns_it),
        T(test_a_revoked_laptop_enrolled_again_keeps_its_unsynced_writes),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
