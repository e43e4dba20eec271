/*
 * test_server_enroll.c: enrollment through the handler: a good code gives a
 * fresh replica id and a token that authenticates; a used, expired, unknown or
 * mistyped code and a malformed body are refused and burn nothing. On SQLite,
 * and with `postgresql` inside tests/pg/pgcluster.py run, on PostgreSQL.
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

typedef struct fx {
    char dir[256];
    srv_storage *s;
    srv_config cfg;
    int64_t now;
    char code[SRV_CODE_LEN + 1];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->s = tu_storage_new(f->dir);
    f->now = 1700000000;
    tu_config(&f->cfg, &f->now);
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(srv_admin_enroll_code(f->s, "anna", f->now, 3600, f->code, NULL), 0);
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

static int enroll(fx *f, const char *code, srv_response *rs)
{
    Fieldsync__EnrollRequest rq = FIELDSYNC__ENROLL_REQUEST__INIT;
    rq.code = (char *)code;
    rq.device_name = "laptop";
    uint8_t buf[256];
    size_t len = fieldsync__enroll_request__pack(&rq, buf);
    memset(rs, 0, sizeof(*rs));
    assert_int_equal(tu_call(srv_handle_enroll, f->s, &f->cfg, NULL, buf, len, rs), 0);
    return rs->status;
}

static size_t ndevices(fx *f)
{
    srv_device *d;
    size_t n;
    assert_int_equal(f->s->ops->device_list(f->s, 0, &d, &n, NULL), 0);
    free(d);
    return n;
}

static void test_good_code_enrolls_a_device_whose_token_works(void **state)
{
    fx *f = *state;
    srv_response rs;
    assert_int_equal(enroll(f, f->code, &rs), 200);
    Fieldsync__EnrollResponse *er = fieldsync__enroll_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(er);
    assert_true(er->has_replica_id);
    assert_int_not_equal(er->replica_id, 0);
    assert_int_equal(er->token.len, SRV_TOKEN_BYTES);
    assert_string_equal(er->user, "anna");
    assert_true(er->has_read_only && !er->read_only); /* a rep writes */
    assert_int_equal(strlen(er->server_id), SRV_SERVER_ID_LEN);
    /* the database holds a hash, never the token */
    srv_device *d;
    size_t n;
    assert_int_equal(f->s->ops->device_list(f->s, 0, &d, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].replica, er->replica_id);
    free(d);
    char bearer[80] = "Bearer ";
    for (size_t i = 0; i < SRV_TOKEN_BYTES; i++)
        sprintf(bearer + 7 + 2 * i, "%02x", er->token.data[i]);
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    srv_response pr = {0};
    assert_int_equal(tu_call(srv_handle_pull, f->s, &f->cfg, bearer, body, len, &pr), 0);
    assert_int_equal(pr.status, 200);
    srv_response_clear(&pr);
    free(body);
    fieldsync__enroll_response__free_unpacked(er, NULL);
    srv_response_clear(&rs);
}

static void test_a_managers_device_learns_at_enrollment_that_it_writes_nothing(void **state)
{
    fx *f = *state;
    char code[SRV_CODE_LEN + 1];
    srv_response rs;
    tu_user(f->s, "mgr", SRV_ROLE_MANAGER, NULL);
    assert_int_equal(srv_admin_enroll_code(f->s, "mgr", f->now, 3600, code, NULL), 0);
    assert_int_equal(enroll(f, code, &rs), 200);
    Fieldsync__EnrollResponse *er = fieldsync__enroll_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(er);
    assert_true(er->has_read_only && er->read_only);
    fieldsync__enroll_response__free_unpacked(er, NULL);
    srv_response_clear(&rs);
}

static void test_code_is_accepted_in_lower_case_without_dashes(void **state)
{
    fx *f = *state;
    char typed[SRV_CODE_LEN + 1];
    size_t n = 0;
    for (const char *p = f->code; *p; p++)
        if (*p != '-')
            typed[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    typed[n] = '\0';
    srv_response rs;
    assert_int_equal(enroll(f, typed, &rs), 200);
    srv_response_clear(&rs);
}

static void test_reused_code_is_refused(void **state)
{
    fx *f = *state;
    srv_response rs;
    assert_int_equal(enroll(f, f->code, &rs), 200);
    srv_response_clear(&rs);
    assert_int_equal(enroll(f, f->code, &rs), 403);
    assert_string_equal(tu_error_code(&rs), "code_used");
    srv_response_clear(&rs);
    assert_int_equal(ndevices(f), 1);
}

static void test_expired_code_is_refused(void **state)
{
    fx *f = *state;
    f->now += 3600;
    srv_response rs;
    assert_int_equal(enroll(f, f->code, &rs), 403);
    assert_string_equal(tu_error_code(&rs), "code_expired");
    srv_response_clear(&rs);
    assert_int_equal(ndevices(f), 0);
}

static void test_unknown_or_mistyped_code_is_refused(void **state)
{
    fx *f = *state;
    const char *bad[] = {"0000-0000-0000-0000", "ABC", "", "ABCD-EFGH-JKMN-PQRU",
                         "ABCD-EFGH-JKMN-PQRST"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        srv_response rs;
        assert_int_equal(enroll(f, bad[i], &rs), 403);
        assert_string_equal(tu_error_code(&rs), "code_invalid");
        srv_response_clear(&rs);
    }
    assert_int_equal(ndevices(f), 0);
    /* the real code still works afterwards */
    srv_response rs;
    assert_int_equal(enroll(f, f->code, &rs), 200);
    srv_response_clear(&rs);
}

static void test_malformed_enroll_body_is_400_and_burns_no_code(void **state)
{
    fx *f = *state;
    static const uint8_t junk[] = {0x0a, 0x40, 'x'};
    srv_response rs = {0};
    assert_int_equal(tu_call(srv_handle_enroll, f->s, &f->cfg, NULL, junk, sizeof(junk), &rs), 0);
    assert_int_equal(rs.status, 400);
    assert_string_equal(tu_error_code(&rs), "malformed");
    srv_response_clear(&rs);
    assert_int_equal(enroll(f, f->code, &rs), 200);
    srv_response_clear(&rs);
}

static void test_enroll_without_protocol_header_is_400(void **state)
{
    fx *f = *state;
    srv_request rq = {.body = (const uint8_t *)"", .len = 0};
    srv_response rs = {0};
    assert_int_equal(srv_handle_enroll(f->s, &f->cfg, &rq, &rs), 0);
    assert_int_equal(rs.status, 400);
    assert_string_equal(tu_error_code(&rs), "protocol_version");
    srv_response_clear(&rs);
}

static void test_replica_ids_are_never_reused(void **state)
{
    fx *f = *state;
    uint64_t seen[20];
    char bearer[80];
    for (int i = 0; i < 20; i++) {
        tu_enroll(f->s, &f->cfg, "anna", bearer, &seen[i]);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(seen[i], seen[j]);
    }
    /* the storage refuses a replica id that was ever used, revoked or not */
    srv_device d = {.user_id = 1, .replica = seen[3], .created_at = f->now};
    uint8_t hash[SRV_HASH_LEN] = {1};
    assert_int_equal(f->s->ops->device_add(f->s, &d, hash, NULL, NULL), FS_EEXIST);
}

static void test_a_granted_prior_replica_is_never_minted_for_another_device(void **state)
{
    fx *f = *state;
    char bearer[80];
    uint64_t replica;
    tu_enroll_prior(f->s, &f->cfg, "anna", 0x7e57, bearer, &replica);
    srv_device *owners = NULL;
    size_t n = 0;
    assert_int_equal(f->s->ops->replica_owners(f->s, 0x7e57, &owners, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(owners[0].replica, replica);
    assert_int_equal(owners[0].prior_replica, 0x7e57);
    free(owners);
    assert_int_equal(f->s->ops->replica_owners(f->s, replica, &owners, &n, NULL), 0);
    assert_int_equal(n, 1);
    free(owners);
    /* the storage refuses to mint it as another device's replica id */
    srv_device d = {.user_id = 1, .replica = 0x7e57, .created_at = f->now};
    uint8_t hash[SRV_HASH_LEN] = {2};
    assert_int_equal(f->s->ops->device_add(f->s, &d, hash, NULL, NULL), FS_EEXIST);
    assert_int_equal(f->s->ops->replica_owners(f->s, 0x1234, &owners, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(owners);
}

int main(int argc, char **argv)
{
    tu_use_backend(argc > 1 ? argv[1] : "sqlite");
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_good_code_enrolls_a_device_whose_token_works),
        T(test_a_managers_device_learns_at_enrollment_that_it_writes_nothing),
        T(test_code_is_accepted_in_lower_case_without_dashes),
        T(test_reused_code_is_refused),
        T(test_expired_code_is_refused),
        T(test_unknown_or_mistyped_code_is_refused),
        T(test_malformed_enroll_body_is_400_and_burns_no_code),
        T(test_enroll_without_protocol_header_is_400),
        T(test_replica_ids_are_never_reused),
        T(test_a_granted_prior_replica_is_never_minted_for_another_device),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
