/*
 * test_server_token.c: device tokens, enrollment codes, their hashes and
 * replica ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "token.h"

static int setup(void **state)
{
    (void)state;
    return srv_crypto_init(NULL);
}

static void test_bearer_parses_only_64_lowercase_hex(void **state)
{
    (void)state;
    uint8_t t[SRV_TOKEN_BYTES];
    char ok[80] = "Bearer ";
    for (int i = 0; i < SRV_TOKEN_BYTES; i++)
        sprintf(ok + 7 + 2 * i, "%02x", i * 7);
    assert_int_equal(srv_token_parse_bearer(ok, t), 0);
    assert_int_equal(t[3], 21);
    char upper[80];
    strcpy(upper, ok);
    upper[7 + 2 * 31] = 'D'; /* d9 -> D9 */
    const char *bad[] = {NULL, "", "Bearer ", "bearer 00", upper, "Bearer zz", ok + 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(srv_token_parse_bearer(bad[i], t), FS_EINVAL);
    char longer[90];
    snprintf(longer, sizeof(longer), "%s00", ok);
    assert_int_equal(srv_token_parse_bearer(longer, t), FS_EINVAL);
}

static void test_token_hash_is_deterministic_and_not_the_token(void **state)
{
    (void)state;
    uint8_t t[SRV_TOKEN_BYTES], h1[SRV_HASH_BYTES], h2[SRV_HASH_BYTES];
    srv_token_mint(t);
    srv_token_hash(t, h1);
    srv_token_hash(t, h2);
    assert_memory_equal(h1, h2, SRV_HASH_BYTES);
    assert_memory_not_equal(h1, t, SRV_HASH_BYTES);
    t[0] ^= 1;
    srv_token_hash(t, h2);
    assert_memory_not_equal(h1, h2, SRV_HASH_BYTES);
}

static void test_code_hash_ignores_case_dashes_and_aliases(void **state)
{
    (void)state;
    uint8_t a[SRV_HASH_BYTES], b[SRV_HASH_BYTES];
    assert_int_equal(srv_code_hash("AB01-CDEF-GH1K-MN0P", a), 0);
    assert_int_equal(srv_code_hash("ab0l cdef gh1k mnop", b), 0);
    assert_memory_equal(a, b, SRV_HASH_BYTES);
    assert_int_equal(srv_code_hash("ABCD-EFGH-JKMN-PQRU", a), FS_EINVAL); /* U */
    assert_int_equal(srv_code_hash("ABCD-EFGH-JKMN-PQR", a), FS_EINVAL);
    assert_int_equal(srv_code_hash("ABCD-EFGH-JKMN-PQRST", a), FS_EINVAL);
    assert_int_equal(srv_code_hash(NULL, a), FS_EINVAL);
    char code[SRV_CODE_LEN + 1];
    srv_code_mint(code);
    assert_int_equal(strlen(code), SRV_CODE_LEN);
    assert_int_equal(srv_code_hash(code, a), 0);
    /* a code hash differs from a token hash of the same bytes (domain keys) */
    uint8_t t[SRV_TOKEN_BYTES] = {0}, th[SRV_HASH_BYTES];
    memcpy(t, "AB01CDEFGH1KMN0P", 16);
    srv_token_hash(t, th);
    assert_int_equal(srv_code_hash("AB01-CDEF-GH1K-MN0P", a), 0);
    assert_memory_not_equal(a, th, SRV_HASH_BYTES);
}

static void test_replica_ids_are_never_zero(void **state)
{
    (void)state;
    for (int i = 0; i < 1000; i++)
        assert_int_not_equal(srv_replica_mint(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_parses_only_64_lowercase_hex),
        cmocka_unit_test(test_token_hash_is_deterministic_and_not_the_token),
        cmocka_unit_test(test_code_hash_ignores_case_dashes_and_aliases),
        cmocka_unit_test(test_replica_ids_are_never_zero),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
