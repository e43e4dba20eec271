/*
 * test_secret.c: guarded secrets (secret.h): sizes, contents, randomness, and
 * that freeing wipes and accepts NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fieldsync/secret.h"

static void test_new_secret_is_zero_filled_with_the_asked_length(void **state)
{
    (void)state;
    fs_secret *s = NULL;
    assert_int_equal(fs_secret_new(&s, 64, NULL), 0);
    assert_int_equal(s->len, 64);
    uint8_t zero[64] = {0};
    assert_memory_equal(s->bytes, zero, 64);
    fs_secret_free(s);
}

static void test_random_secrets_differ(void **state)
{
    (void)state;
    fs_secret *a = NULL, *b = NULL;
    assert_int_equal(fs_secret_random(&a, 32, NULL), 0);
    assert_int_equal(fs_secret_random(&b, 32, NULL), 0);
    assert_memory_not_equal(a->bytes, b->bytes, 32);
    fs_secret_free(a);
    fs_secret_free(b);
}

static void test_from_copies_the_bytes(void **state)
{
    (void)state;
    fs_secret *s = NULL;
    assert_int_equal(fs_secret_from(&s, "key material", 12, NULL), 0);
    assert_int_equal(s->len, 12);
    assert_memory_equal(s->bytes, "key material", 12);
    fs_secret_free(s);
}

static void test_zero_length_secrets_work(void **state)
{
    (void)state;
    fs_secret *s = NULL;
    assert_int_equal(fs_secret_from(&s, NULL, 0, NULL), 0);
    assert_int_equal(s->len, 0);
    fs_secret_free(s);
    fs_secret_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_secret_is_zero_filled_with_the_asked_length),
        cmocka_unit_test(test_random_secrets_differ),
        cmocka_unit_test(test_from_copies_the_bytes),
        cmocka_unit_test(test_zero_length_secrets_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
