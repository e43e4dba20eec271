/*
 * test_error.c: the error table and fs_err helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fieldsync/error.h"

static void test_set_returns_code_and_formats_message(void **state)
{
    (void)state;
    fs_err err;
    fs_err_clear(&err);
    assert_int_equal(fs_err_set(&err, FS_EAUTH, "page %d of %s", 17, "a.db"), FS_EAUTH);
    assert_int_equal(err.code, FS_EAUTH);
    assert_string_equal(fs_err_message(&err), "page 17 of a.db");
}

static void test_empty_message_falls_back_to_code_text(void **state)
{
    (void)state;
    fs_err err;
    fs_err_clear(&err);
    err.code = FS_ENOMEM;
    assert_string_equal(fs_err_message(&err), "out of memory");
}

static void test_null_err_is_accepted(void **state)
{
    (void)state;
    assert_int_equal(fs_err_set(NULL, FS_EIO, "ignored"), FS_EIO);
    fs_err_clear(NULL);
}

static void test_every_code_has_distinct_text(void **state)
{
    (void)state;
    for (int a = 0; a >= FS_ENOSPC; a--)
        for (int b = a - 1; b >= FS_ENOSPC; b--)
            assert_true(strcmp(fs_strerror(a), fs_strerror(b)) != 0);
    assert_string_equal(fs_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_returns_code_and_formats_message),
        cmocka_unit_test(test_empty_message_falls_back_to_code_text),
        cmocka_unit_test(test_null_err_is_accepted),
        cmocka_unit_test(test_every_code_has_distinct_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
