/*
 * test_keyfile_damage.c: key files that are damaged, truncated, oversized,
 * forged or plain garbage. Each must give a clean error (FS_ECORRUPT, FS_EAUTH
 * or FS_EVERSION, with a message and no keys), never a key, and above all never
 * a different key than the one the intact file holds. The reads are exactly
 * sized sodium_malloc buffers, so an overrun would hit a guard page even
 * without ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fieldsync/keyfile.h"
#include "keyfile_format.h"
#include "keytest.h"

static bool clean_failure(int rc)
{
    return rc == FS_ECORRUPT || rc == FS_EAUTH || rc == FS_EVERSION;
}

/* Opens a damaged variant; it must fail cleanly, whatever the damage. */
static void assert_refused(const char *path, const uint8_t *buf, size_t len, const char *pass,
                           const char *what, size_t pos)
{
    uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    kt_write(path, buf, len);
    int rc = kt_open(path, pass, dek, next, &has_next);
    if (!clean_failure(rc))
        fail_msg("%s at %zu (length %zu): open gave %d (%s)", what, pos, len, rc, fs_strerror(rc));
}

/* Flips every bit of every byte of the file, one at a time. */
static void flip_every_bit(const char *path, const char *pass)
{
    size_t len;
    uint8_t *orig = kt_read(path, &len);
    uint8_t *buf = malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, orig, len);
            buf[i] ^= (uint8_t)(1u << bit);
            assert_refused(path, buf, len, pass, "bit flip", i * 8 + (size_t)bit);
        }
    }
    free(buf);
    free(orig);
}

static void make_rekeying_file(const char *path)
{
    uint8_t dek[FS_DEK_BYTES];
    fs_secret *n = NULL;
    kt_create(path, dek);
    assert_int_equal(fs_key_begin_rekey(path, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    fs_secret_free(n);
}

static void make_raw_file(const char *path, bool with_next)
{
    fs_keys keys;
    fs_secret *n = NULL;
    assert_int_equal(fs_key_create_raw(path, &keys, NULL), 0);
    fs_keys_clear(&keys);
    if (with_next)
        assert_int_equal(fs_key_begin_rekey(path, NULL, 0, &n, NULL), 0);
    fs_secret_free(n);
}

static void test_every_bit_flip_of_a_passphrase_file_is_refused(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    kt_create(d->key, dek);
    flip_every_bit(d->key, KT_PASS);
}

static void test_every_bit_flip_of_a_file_mid_rekey_is_refused(void **state)
{
    kt_dir *d = *state;
    make_rekeying_file(d->key);
    flip_every_bit(d->key, KT_PASS);
}

static void test_every_bit_flip_of_a_raw_file_is_refused(void **state)
{
    kt_dir *d = *state;
    make_raw_file(d->key, false);
    flip_every_bit(d->key, NULL);
    unlink(d->key);
    make_raw_file(d->key, true);
    flip_every_bit(d->key, NULL);
}

static void truncate_at_every_length(const char *path, const char *pass)
{
    size_t len;
    uint8_t *orig = kt_read(path, &len);
    for (size_t n = 0; n < len; n++)
        assert_refused(path, orig, n, pass, "truncation", n);
    free(orig);
}

static void test_a_file_truncated_at_any_length_is_refused(void **state)
{
    kt_dir *d = *state;
    make_rekeying_file(d->key);
    truncate_at_every_length(d->key, KT_PASS);
    unlink(d->key);
    make_raw_file(d->key, true);
    truncate_at_every_length(d->key, NULL);
}

static void test_trailing_bytes_and_oversized_files_are_refused(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    kt_create(d->key, dek);
    size_t len;
    uint8_t *orig = kt_read(d->key, &len);
    uint8_t *buf = calloc(1, 1 << 16);
    memcpy(buf, orig, len);
    const size_t sizes[] = {len + 1, len + FS_KEY_WRAPPED_BYTES, FS_KEY_FILE_MAX_BYTES,
                            FS_KEY_FILE_MAX_BYTES + 1, 1 << 16};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        fs_err err;
        fs_keys keys;
        kt_write(d->key, buf, sizes[i]);
        assert_int_equal(fs_key_open(d->key, KT_PASS, KT_LEN(KT_PASS), &keys, &err), FS_ECORRUPT);
        assert_null(keys.dek);
    }
    free(buf);
    free(orig);
}

static void test_garbage_is_not_a_key_file(void **state)
{
    kt_dir *d = *state;
    uint8_t buf[FS_KEY_FILE_MAX_BYTES];
    fs_err err;
    fs_keys keys;
    bool needs;
    for (int round = 0; round < 50; round++) {
        size_t len = (size_t)(round * 7) % sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)(i * 131 + (size_t)round * 17);
        kt_write(d->key, buf, len);
        assert_int_equal(fs_key_open(d->key, KT_PASS, KT_LEN(KT_PASS), &keys, &err), FS_ECORRUPT);
        assert_non_null(strstr(err.msg, "not a fieldsync key file"));
        assert_int_equal(fs_key_needs_passphrase(d->key, &needs, NULL), FS_ECORRUPT);
    }
}

/* The magic, a valid version and nothing else, or zeros after it. */
static void test_a_bare_or_zeroed_header_is_refused(void **state)
{
    kt_dir *d = *state;
    uint8_t buf[FS_KEY_HEADER_BYTES + FS_KEY_WRAPPED_BYTES] = {0};
    memcpy(buf, FS_KEY_MAGIC, FS_KEY_MAGIC_BYTES);
    buf[FS_KEY_OFF_VERSION] = FS_KEY_VERSION;
    for (size_t len = FS_KEY_MAGIC_BYTES; len <= sizeof(buf); len++)
        assert_refused(d->key, buf, len, KT_PASS, "zeroed header", len);
    buf[FS_KEY_OFF_MODE] = FS_KEY_MODE_PASSPHRASE;
    buf[FS_KEY_OFF_ALG] = FS_KEY_ALG_ARGON2ID13;
    buf[FS_KEY_OFF_OPSLIMIT] = 1;
    buf[FS_KEY_OFF_MEMLIMIT + 1] = 0x20; /* 8 KiB: well-formed, but zero slot */
    assert_refused(d->key, buf, sizeof(buf), KT_PASS, "zero slot", 0);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* A forged header asking for absurd Argon2id work is refused before any work. */
static void test_absurd_kdf_parameters_in_a_file_are_refused(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    kt_create(d->key, dek);
    size_t len;
    uint8_t *orig = kt_read(d->key, &len);
    const uint64_t ops[] = {0, FS_KDF_OPSLIMIT_MAX + 1, UINT64_MAX, 1, 1, 1};
    const uint64_t mem[] = {8192, 8192, 8192, 0, (uint64_t)FS_KDF_MEMLIMIT_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        fs_err err;
        fs_keys keys;
        put_le64(orig + FS_KEY_OFF_OPSLIMIT, ops[i]);
        put_le64(orig + FS_KEY_OFF_MEMLIMIT, mem[i]);
        kt_write(d->key, orig, len);
        assert_int_equal(fs_key_open(d->key, KT_PASS, KT_LEN(KT_PASS), &keys, &err), FS_ECORRUPT);
        assert_non_null(strstr(err.msg, "out-of-range Argon2id"));
    }
    free(orig);
}

/* The slot index is bound into each slot's associated data: swapping the DEK
 * and the next DEK must not silently swap the keys. */
static void test_swapped_slots_are_refused(void **state)
{
    kt_dir *d = *state;
    make_rekeying_file(d->key);
    size_t len;
    uint8_t *buf = kt_read(d->key, &len);
    uint8_t tmp[FS_KEY_WRAPPED_BYTES];
    uint8_t *a = buf + FS_KEY_HEADER_BYTES, *b = a + FS_KEY_WRAPPED_BYTES;
    memcpy(tmp, a, sizeof(tmp));
    memcpy(a, b, sizeof(tmp));
    memcpy(b, tmp, sizeof(tmp));
    assert_refused(d->key, buf, len, KT_PASS, "swapped slots", 0);
    free(buf);
}

/* A slot copied from another key file with the same passphrase: other salt,
 * other KEK, so it does not open. */
static void test_a_slot_from_another_file_is_refused(void **state)
{
    kt_dir *d = *state;
    char other[320];
    snprintf(other, sizeof(other), "%s/other.key", d->root);
    uint8_t dek[FS_DEK_BYTES];
    kt_create(d->key, dek);
    kt_create(other, dek);
    size_t len, olen;
    uint8_t *mine = kt_read(d->key, &len), *theirs = kt_read(other, &olen);
    uint8_t *buf = malloc(len);
    assert_int_equal(len, olen);
    memcpy(buf, mine, len); /* their slot under my header */
    memcpy(buf + FS_KEY_HEADER_BYTES, theirs + FS_KEY_HEADER_BYTES, FS_KEY_WRAPPED_BYTES);
    assert_refused(d->key, buf, len, KT_PASS, "foreign slot", 0);
    memcpy(buf, mine, len); /* my slot under their header (their salt) */
    memcpy(buf, theirs, FS_KEY_HEADER_BYTES);
    assert_refused(d->key, buf, len, KT_PASS, "foreign header", 0);
    free(buf);
    free(mine);
    free(theirs);
}

/* Damage of the next slot alone: the DEK opens under the same KEK, so the
 * failure is reported as damage, not as a wrong passphrase. */
static void test_damaged_next_slot_is_reported_as_damage(void **state)
{
    kt_dir *d = *state;
    make_rekeying_file(d->key);
    size_t len;
    uint8_t *buf = kt_read(d->key, &len);
    buf[len - 1] ^= 0x01;
    kt_write(d->key, buf, len);
    fs_err err;
    fs_keys keys;
    assert_int_equal(fs_key_open(d->key, KT_PASS, KT_LEN(KT_PASS), &keys, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "next key"));
    assert_null(keys.dek);
    assert_null(keys.next);
    free(buf);
}

/* The format layer alone, on exact-size guarded buffers: every prefix of a
 * valid file parses as an error without touching bytes past its end. */
static void test_parse_never_reads_past_the_buffer(void **state)
{
    kt_dir *d = *state;
    make_rekeying_file(d->key);
    size_t len;
    uint8_t *orig = kt_read(d->key, &len);
    for (size_t n = 0; n <= len; n++) {
        fs_secret *exact = NULL;
        fs_key_file kf;
        assert_int_equal(fs_secret_from(&exact, orig, n, NULL), 0);
        int rc = fs_key_parse(&kf, exact->bytes, n, "buf", NULL);
        assert_int_equal(rc, n == len ? 0 : FS_ECORRUPT);
        fs_secret_free(exact);
    }
    free(orig);
}

#define T(name) cmocka_unit_test_setup_teardown(name, kt_setup, kt_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_bit_flip_of_a_passphrase_file_is_refused),
        T(test_every_bit_flip_of_a_file_mid_rekey_is_refused),
        T(test_every_bit_flip_of_a_raw_file_is_refused),
        T(test_a_file_truncated_at_any_length_is_refused),
        T(test_trailing_bytes_and_oversized_files_are_refused),
        T(test_garbage_is_not_a_key_file),
        T(test_a_bare_or_zeroed_header_is_refused),
        T(test_absurd_kdf_parameters_in_a_file_are_refused),
        T(test_swapped_slots_are_refused),
        T(test_a_slot_from_another_file_is_refused),
        T(test_damaged_next_slot_is_reported_as_damage),
        T(test_parse_never_reads_past_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
