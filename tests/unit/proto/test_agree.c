/*
 * test_agree.c: fs_record_agree, whether two states say the same about the
 * writes both hold: copies of one history agree whatever each has superseded
 * since; one dot written twice with another value, clearing, alive or HLC
 * does not, and the dot is named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define R1 0x1111
#define R2 0x2222

static fs_state *copy(const fs_state *st)
{
    fs_state *c = NULL;
    assert_int_equal(fs_state_copy(&c, st, NULL), 0);
    return c;
}

/* a history both sides share: R1 wrote name and city in one event */
static fs_state *base(void)
{
    fs_state *st = new_account();
    tb f = {.len = 0};
    tb_str(&f, 2, "Acme");
    tb_str(&f, 3, "steel");
    assert_int_equal(fs_record_write(st, R1, 100, f.data, f.len, NULL, 0, NULL), 0);
    return st;
}

static int agree(const fs_state *a, const fs_state *b, fs_dot *dot)
{
    fs_err err;
    int rc = fs_record_agree(a, b, dot, &err);
    assert_true(rc == 0 || rc == FS_ECONFLICT);
    assert_int_equal(fs_record_agree(b, a, dot, &err), rc); /* symmetric */
    return rc;
}

static void test_agree_copies_of_one_history_whatever_each_superseded(void **state)
{
    (void)state;
    fs_state *a = base(), *b = copy(a);
    fs_dot dot;
    assert_int_equal(agree(a, b, &dot), 0);
    /* b supersedes the name (field 2) of R1's event, a its city (field 3) */
    write_str(b, R2, 200, 2, "Acme GmbH");
    write_str(a, R1, 300, 3, "copper");
    assert_int_equal(agree(a, b, &dot), 0);
    fs_state *j = join(a, b);
    assert_int_equal(agree(j, a, &dot), 0);
    assert_int_equal(agree(j, b, &dot), 0);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
}

static void test_agree_refuses_one_dot_with_another_value(void **state)
{
    (void)state;
    fs_state *a = base(), *b = copy(a);
    write_str(a, R2, 200, 2, "Acme GmbH");
    write_str(b, R2, 200, 2, "Acme AG"); /* the same dot (R2, 1) */
    fs_dot dot = {0, 0};
    assert_int_equal(agree(a, b, &dot), FS_ECONFLICT);
    assert_int_equal(dot.replica, R2);
    assert_int_equal(dot.counter, 1);
    fs_state_free(a);
    fs_state_free(b);
}

static void test_agree_refuses_a_clearing_or_another_hlc_for_one_dot(void **state)
{
    (void)state;
    fs_state *a = base(), *b = copy(a), *c = copy(a);
    write_str(a, R2, 200, 2, "Acme GmbH");
    static const uint32_t name[] = {2};
    assert_int_equal(fs_record_write(b, R2, 200, NULL, 0, name, 1, NULL), 0);
    write_str(c, R2, 999, 2, "Acme GmbH"); /* the same value at another HLC */
    fs_dot dot;
    assert_int_equal(agree(a, b, &dot), FS_ECONFLICT);
    assert_int_equal(agree(a, c, &dot), FS_ECONFLICT);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(c);
}

static void test_agree_refuses_a_delete_written_as_an_edit(void **state)
{
    (void)state;
    fs_state *a = base(), *b = copy(a);
    write_str(a, R2, 200, 2, "Acme GmbH"); /* alive = true */
    assert_int_equal(fs_record_delete(b, R2, 200, NULL), 0);
    fs_dot dot;
    /* the edit holds name and alive, the delete only alive: alive differs */
    assert_int_equal(agree(a, b, &dot), FS_ECONFLICT);
    fs_state_free(a);
    fs_state_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agree_copies_of_one_history_whatever_each_superseded),
        cmocka_unit_test(test_agree_refuses_one_dot_with_another_value),
        cmocka_unit_test(test_agree_refuses_a_clearing_or_another_hlc_for_one_dot),
        cmocka_unit_test(test_agree_refuses_a_delete_written_as_an_edit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
