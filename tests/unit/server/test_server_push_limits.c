/*
 * test_server_push_limits.c: the size limits of a push, through the handler
 * against a real SQLite storage: at most push_states_max states, a decoding
 * budget, and an answer of at most push_answer_max bytes. Each is refused as
 * a whole with 413 and a reason, and keeps nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync.pb-c.h"
#include "srv_test_util.h"

typedef struct fx {
    char dir[256];
    srv_storage *s;
    srv_config cfg;
    int64_t now;
    char anna[80];
    uint64_t ra;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->s = tu_storage_new(f->dir);
    f->now = 1700000000;
    tu_config(&f->cfg, &f->now);
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    tu_enroll(f->s, &f->cfg, "anna", f->anna, &f->ra);
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

/* n accounts acc-0 .. acc-(n-1) written by the device. */
static fs_state **accounts(fx *f, size_t n)
{
    fs_state **st = calloc(n, sizeof(*st));
    char id[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "acc-%zu", i);
        st[i] = tu_account(f->ra, id, "Brenner Logistik und Spedition");
    }
    return st;
}

static void free_all(fs_state **st, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fs_state_free(st[i]);
    free(st);
}

/* Pushes body as the device; returns the status, and the error message in msg. */
static int push_raw(fx *f, const uint8_t *body, size_t len, char *msg, size_t cap)
{
    srv_response rs = {0};
    assert_int_equal(tu_call(srv_handle_push, f->s, &f->cfg, f->anna, body, len, &rs), 0);
    int status = rs.status;
    msg[0] = '\0';
    if (status != 200) {
        Fieldsync__ErrorResponse *e = fieldsync__error_response__unpack(NULL, rs.len, rs.body);
        assert_non_null(e);
        assert_string_equal(e->code, "too_large");
        snprintf(msg, cap, "%s", e->message);
        fieldsync__error_response__free_unpacked(e, NULL);
    }
    srv_response_clear(&rs);
    return status;
}

static int push_states(fx *f, fs_state *const *st, size_t n, char *msg, size_t cap)
{
    size_t len;
    uint8_t *body = tu_push_body(st, n, &len);
    int status = push_raw(f, body, len, msg, cap);
    free(body);
    return status;
}

static void test_push_over_the_state_cap_is_413_and_keeps_nothing(void **state)
{
    fx *f = *state;
    char msg[512];
    f->cfg.push_states_max = 10;
    fs_state **st = accounts(f, 11);
    assert_int_equal(push_states(f, st, 11, msg, sizeof(msg)), 413);
    assert_non_null(strstr(msg, "at most 10 states"));
    assert_int_equal(tu_last_seq(f->s), 0);
    assert_int_equal(push_states(f, st, 10, msg, sizeof(msg)), 200);
    assert_int_equal(tu_last_seq(f->s), 10);
    free_all(st, 11);
}

static void test_body_of_empty_states_is_413_before_it_is_all_decoded(void **state)
{
    fx *f = *state;
    char msg[512];
    f->cfg.body_limit = 64 << 10;
    /* 32,768 empty RecordStates (0a 00): 64 KiB on the wire, about 3 MB decoded */
    size_t len = f->cfg.body_limit;
    uint8_t *body = malloc(len);
    for (size_t i = 0; i < len; i += 2) {
        body[i] = 0x0a;
        body[i + 1] = 0x00;
    }
    assert_int_equal(push_raw(f, body, len, msg, sizeof(msg)), 413);
    assert_non_null(strstr(msg, "decodes to more than"));
    free(body);
    /* an honest push of nearly the same size decodes within the budget */
    fs_state **st = accounts(f, 600);
    size_t hlen;
    uint8_t *honest = tu_push_body(st, 600, &hlen);
    assert_true(hlen > len / 2 && hlen < len);
    assert_int_equal(push_raw(f, honest, hlen, msg, sizeof(msg)), 200);
    free(honest);
    free_all(st, 600);
}

static void test_push_whose_answer_passes_the_cap_is_413_and_keeps_nothing(void **state)
{
    fx *f = *state;
    char msg[512];
    fs_state **st = accounts(f, 40);
    size_t len;
    uint8_t *body = tu_push_body(st, 40, &len);
    /* the joined states come back: an answer of about the body's size */
    f->cfg.push_answer_max = len / 2;
    assert_int_equal(push_raw(f, body, len, msg, sizeof(msg)), 413);
    assert_non_null(strstr(msg, "push fewer states"));
    assert_int_equal(tu_last_seq(f->s), 0);
    f->cfg.push_answer_max = 2 * len;
    assert_int_equal(push_raw(f, body, len, msg, sizeof(msg)), 200);
    assert_int_equal(tu_last_seq(f->s), 40);
    free(body);
    free_all(st, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_push_over_the_state_cap_is_413_and_keeps_nothing),
        T(test_body_of_empty_states_is_413_before_it_is_all_decoded),
        T(test_push_whose_answer_passes_the_cap_is_413_and_keeps_nothing),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
