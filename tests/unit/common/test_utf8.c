/*
 * test_utf8.c: strict UTF-8 validation (RFC 3629 boundaries, each kind of bad
 * byte) and the U+FFFD repair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/utf8.h"

static bool valid(const char *s)
{
    return fs_utf8_valid(s, strlen(s));
}

static void accepts_every_length_up_to_the_last_code_point(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("Hansen Fleet Services"));
    assert_true(valid("M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x9a\x9a")); /* ü € 🚚 */
    assert_true(valid("\xc2\x80\xdf\xbf"));                            /* U+0080, U+07FF */
    assert_true(valid("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"));        /* U+0800, U+D7FF, U+E000 */
    assert_true(valid("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));            /* U+10000, U+10FFFF */
    assert_true(fs_utf8_valid("a\0b", 3));
    assert_true(valid("1234567\xc3\xa9 across an eight-byte step"));
}

static void refuses_each_kind_of_bad_byte(void **state)
{
    (void)state;
    assert_false(valid("\x80"));                    /* a lone continuation byte */
    assert_false(valid("\xff\xfe"));                /* bytes UTF-8 never uses */
    assert_false(valid("\xc0\xaf"));                /* overlong '/' */
    assert_false(valid("\xe0\x9f\xbf"));            /* overlong 3-byte */
    assert_false(valid("\xf0\x8f\xbf\xbf"));        /* overlong 4-byte */
    assert_false(valid("\xed\xa0\x80"));            /* a surrogate, U+D800 */
    assert_false(valid("\xf4\x90\x80\x80"));        /* U+110000 */
    assert_false(valid("\xf5\x80\x80\x80"));        /* a lead beyond f4 */
    assert_false(valid("ok \xc3"));                 /* cut at the end */
    assert_false(fs_utf8_valid("\xe2\x82\xac", 2)); /* cut by the length */
    assert_false(valid("\xe2\x28\xa1"));            /* a bad continuation */
    assert_false(valid("sixteen ascii by\xff"));    /* after whole ASCII words */
    assert_false(valid("12345678\xc3"));            /* cut after a whole word */
}

static void repair_replaces_only_the_bad_bytes(void **state)
{
    (void)state;
    size_t n = 0;
    char *r = fs_utf8_repair("Bad \xff\xfe name \xc3\xbc \xe2\x82", 17, &n);
    assert_non_null(r);
    assert_string_equal(r, "Bad \xef\xbf\xbd\xef\xbf\xbd name \xc3\xbc \xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(n, strlen(r));
    assert_true(fs_utf8_valid(r, n));
    free(r);
    r = fs_utf8_repair("fine", 4, &n);
    assert_string_equal(r, "fine");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_every_length_up_to_the_last_code_point),
        cmocka_unit_test(refuses_each_kind_of_bad_byte),
        cmocka_unit_test(repair_replaces_only_the_bad_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
