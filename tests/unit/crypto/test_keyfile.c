/*
 * test_keyfile.c: the key file's behaviour through its public API: create and
 * open in both modes, wrong or missing passphrases, KDF parameters stored and
 * honoured (and absurd ones refused), change of passphrase, the rekey states,
 * file permissions on every write, and no key or passphrase in the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fieldsync/keyfile.h"
#include "keyfile_format.h"
#include "keytest.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void test_create_then_open_returns_the_same_dek(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    kt_create(d->key, dek);
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(dek, got, FS_DEK_BYTES);
    assert_false(has_next);
    uint8_t zero[FS_DEK_BYTES] = {0};
    assert_memory_not_equal(dek, zero, FS_DEK_BYTES);
}

static void test_two_files_get_different_deks(void **state)
{
    kt_dir *d = *state;
    char other[320];
    snprintf(other, sizeof(other), "%s/other.key", d->root);
    uint8_t a[FS_DEK_BYTES], b[FS_DEK_BYTES];
    kt_create(d->key, a);
    kt_create(other, b);
    assert_memory_not_equal(a, b, FS_DEK_BYTES);
}

static void test_wrong_passphrase_fails_with_eauth(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    kt_create(d->key, dek);
    assert_int_equal(kt_open(d->key, KT_PASS2, dek, next, &has_next), FS_EAUTH);
    assert_int_equal(kt_open(d->key, "correct horse battery stapl", dek, next, &has_next),
                     FS_EAUTH);
}

static void test_missing_passphrase_for_passphrase_file_fails_with_einval(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next, needs = false;
    kt_create(d->key, dek);
    assert_int_equal(kt_open(d->key, NULL, dek, next, &has_next), FS_EINVAL);
    assert_int_equal(fs_key_needs_passphrase(d->key, &needs, NULL), 0);
    assert_true(needs);
}

static void test_create_refuses_an_existing_file_and_leaves_it_intact(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    fs_keys keys;
    fs_err err;
    kt_create(d->key, dek);
    assert_int_equal(
        fs_key_create(d->key, KT_PASS2, KT_LEN(KT_PASS2), fs_kdf_params_fast(), &keys, &err),
        FS_EEXIST);
    assert_null(keys.dek);
    assert_int_equal(fs_key_create_raw(d->key, &keys, &err), FS_EEXIST);
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(dek, got, FS_DEK_BYTES);
}

static void test_create_refuses_an_empty_passphrase(void **state)
{
    kt_dir *d = *state;
    fs_keys keys;
    assert_int_equal(fs_key_create(d->key, "", 0, fs_kdf_params_fast(), &keys, NULL), FS_EINVAL);
    assert_int_equal(fs_key_create(d->key, NULL, 0, fs_kdf_params_fast(), &keys, NULL), FS_EINVAL);
    assert_int_equal(kt_mode(d->key), -1);
}

static void test_create_refuses_out_of_range_kdf_parameters(void **state)
{
    kt_dir *d = *state;
    fs_kdf_params fast = fs_kdf_params_fast();
    const fs_kdf_params bad[] = {
        {0, fast.memlimit},
        {FS_KDF_OPSLIMIT_MAX + 1, fast.memlimit},
        {fast.opslimit, fast.memlimit - 1},
        {fast.opslimit, FS_KDF_MEMLIMIT_MAX + 1},
        {UINT64_MAX, SIZE_MAX},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fs_keys keys;
        fs_err err;
        assert_int_equal(fs_key_create(d->key, KT_PASS, KT_LEN(KT_PASS), bad[i], &keys, &err),
                         FS_EINVAL);
        assert_non_null(strstr(err.msg, "out of range"));
        assert_int_equal(kt_mode(d->key), -1);
    }
}

static void test_open_of_a_missing_file_fails_with_enotfound(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next, needs;
    assert_int_equal(kt_open(d->key, KT_PASS, dek, next, &has_next), FS_ENOTFOUND);
    assert_int_equal(fs_key_needs_passphrase(d->key, &needs, NULL), FS_ENOTFOUND);
}

static void test_open_of_a_directory_is_refused(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    assert_int_equal(mkdir(d->key, 0700), 0);
    assert_int_equal(kt_open(d->key, KT_PASS, dek, next, &has_next), FS_EINVAL);
}

static void test_raw_mode_round_trips_without_passphrase(void **state)
{
    kt_dir *d = *state;
    fs_keys keys;
    uint8_t got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next, needs = true;
    assert_int_equal(fs_key_create_raw(d->key, &keys, NULL), 0);
    assert_int_equal(fs_key_needs_passphrase(d->key, &needs, NULL), 0);
    assert_false(needs);
    assert_int_equal(kt_open(d->key, NULL, got, next, &has_next), 0);
    assert_memory_equal(keys.dek->bytes, got, FS_DEK_BYTES);
    assert_false(has_next);
    fs_keys_clear(&keys);
    assert_null(keys.dek);
}

static void test_default_parameters_are_stored_and_honoured(void **state)
{
    kt_dir *d = *state;
    fs_keys keys;
    fs_err err;
    fs_kdf_params def = fs_kdf_params_default();
    assert_int_equal(fs_key_create(d->key, KT_PASS, KT_LEN(KT_PASS), def, &keys, &err), 0);
    size_t len;
    uint8_t *buf = kt_read(d->key, &len);
    assert_int_equal(le64(buf + FS_KEY_OFF_OPSLIMIT), def.opslimit);
    assert_int_equal(le64(buf + FS_KEY_OFF_MEMLIMIT), def.memlimit);
    free(buf);
    uint8_t got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(keys.dek->bytes, got, FS_DEK_BYTES);
    fs_keys_clear(&keys);
}

/* Open must derive with the file's parameters: with any others the KEK differs
 * and unwrapping fails, so success proves the stored ones were used. */
static void test_open_uses_the_parameters_stored_in_the_file(void **state)
{
    kt_dir *d = *state;
    fs_keys keys;
    fs_kdf_params odd = {3, 3 * fs_kdf_params_fast().memlimit};
    assert_int_equal(fs_key_create(d->key, KT_PASS, KT_LEN(KT_PASS), odd, &keys, NULL), 0);
    uint8_t got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(keys.dek->bytes, got, FS_DEK_BYTES);
    fs_keys_clear(&keys);
}

static void test_change_passphrase_old_fails_new_works_dek_kept(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    kt_create(d->key, dek);
    size_t len1, len2;
    uint8_t *before = kt_read(d->key, &len1);
    assert_int_equal(fs_key_change_passphrase(d->key, KT_PASS, KT_LEN(KT_PASS), KT_PASS2,
                                              KT_LEN(KT_PASS2), fs_kdf_params_fast(), NULL),
                     0);
    uint8_t *after = kt_read(d->key, &len2);
    assert_int_equal(len1, len2);
    /* a new salt: the old KEK is useless even to someone who kept it */
    assert_memory_not_equal(before + FS_KEY_OFF_SALT, after + FS_KEY_OFF_SALT, FS_KEY_SALT_BYTES);
    free(before);
    free(after);
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), FS_EAUTH);
    assert_int_equal(kt_open(d->key, KT_PASS2, got, next, &has_next), 0);
    assert_memory_equal(dek, got, FS_DEK_BYTES);
}

static void test_change_passphrase_with_wrong_old_one_changes_nothing(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    kt_create(d->key, dek);
    size_t len1, len2;
    uint8_t *before = kt_read(d->key, &len1);
    assert_int_equal(fs_key_change_passphrase(d->key, "nope", 4, KT_PASS2, KT_LEN(KT_PASS2),
                                              fs_kdf_params_fast(), NULL),
                     FS_EAUTH);
    assert_int_equal(fs_key_change_passphrase(d->key, KT_PASS, KT_LEN(KT_PASS), "", 0,
                                              fs_kdf_params_fast(), NULL),
                     FS_EINVAL);
    uint8_t *after = kt_read(d->key, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(before, after, len1);
    free(before);
    free(after);
}

static void test_change_passphrase_keeps_the_next_dek_of_a_rekey(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    fs_secret *n = NULL;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    assert_int_equal(fs_key_change_passphrase(d->key, KT_PASS, KT_LEN(KT_PASS), KT_PASS2,
                                              KT_LEN(KT_PASS2), fs_kdf_params_fast(), NULL),
                     0);
    assert_int_equal(kt_open(d->key, KT_PASS2, got, next, &has_next), 0);
    assert_memory_equal(dek, got, FS_DEK_BYTES);
    assert_true(has_next);
    assert_memory_equal(n->bytes, next, FS_DEK_BYTES);
    fs_secret_free(n);
}

static void test_change_passphrase_turns_a_raw_file_into_a_passphrase_file(void **state)
{
    kt_dir *d = *state;
    fs_keys keys;
    uint8_t got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next, needs = false;
    assert_int_equal(fs_key_create_raw(d->key, &keys, NULL), 0);
    assert_int_equal(fs_key_change_passphrase(d->key, NULL, 0, KT_PASS2, KT_LEN(KT_PASS2),
                                              fs_kdf_params_fast(), NULL),
                     0);
    assert_int_equal(fs_key_needs_passphrase(d->key, &needs, NULL), 0);
    assert_true(needs);
    assert_int_equal(kt_open(d->key, KT_PASS2, got, next, &has_next), 0);
    assert_memory_equal(keys.dek->bytes, got, FS_DEK_BYTES);
    fs_keys_clear(&keys);
}

static void test_begin_rekey_stores_a_new_next_dek(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    fs_secret *n = NULL;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    assert_non_null(n);
    assert_int_equal(n->len, FS_DEK_BYTES);
    assert_memory_not_equal(n->bytes, dek, FS_DEK_BYTES);
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(dek, got, FS_DEK_BYTES);
    assert_true(has_next);
    assert_memory_equal(n->bytes, next, FS_DEK_BYTES);
    fs_secret_free(n);
}

static void test_commit_rekey_makes_the_next_dek_the_dek(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    fs_secret *n = NULL;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    assert_int_equal(fs_key_commit_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), NULL), 0);
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(n->bytes, got, FS_DEK_BYTES);
    assert_false(has_next);
    fs_secret_free(n);
}

static void test_abort_rekey_drops_the_next_dek(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    fs_secret *n = NULL;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    assert_int_equal(fs_key_abort_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), NULL), 0);
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(dek, got, FS_DEK_BYTES);
    assert_false(has_next);
    fs_secret_free(n);
}

static void test_begin_rekey_refuses_to_replace_an_unfinished_one(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    fs_secret *n = NULL, *n2 = NULL;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n2, NULL), FS_ESTATE);
    assert_null(n2);
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
    assert_memory_equal(n->bytes, next, FS_DEK_BYTES);
    fs_secret_free(n);
}

static void test_commit_or_abort_without_a_rekey_fails_with_estate(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    fs_err err;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_commit_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &err), FS_ESTATE);
    assert_int_equal(fs_key_abort_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &err), FS_ESTATE);
}

static void test_rekey_steps_need_the_right_passphrase(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    fs_secret *n = NULL;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_begin_rekey(d->key, "x", 1, &n, NULL), FS_EAUTH);
    assert_null(n);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    assert_int_equal(fs_key_commit_rekey(d->key, "x", 1, NULL), FS_EAUTH);
    assert_int_equal(fs_key_abort_rekey(d->key, "x", 1, NULL), FS_EAUTH);
    fs_secret_free(n);
}

static void test_rekey_works_on_a_raw_file(void **state)
{
    kt_dir *d = *state;
    fs_keys keys;
    uint8_t got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    fs_secret *n = NULL;
    assert_int_equal(fs_key_create_raw(d->key, &keys, NULL), 0);
    assert_int_equal(fs_key_begin_rekey(d->key, NULL, 0, &n, NULL), 0);
    assert_int_equal(kt_open(d->key, NULL, got, next, &has_next), 0);
    assert_true(has_next);
    assert_memory_equal(n->bytes, next, FS_DEK_BYTES);
    assert_int_equal(fs_key_commit_rekey(d->key, NULL, 0, NULL), 0);
    assert_int_equal(kt_open(d->key, NULL, got, next, &has_next), 0);
    assert_memory_equal(n->bytes, got, FS_DEK_BYTES);
    assert_false(has_next);
    fs_keys_clear(&keys);
    fs_secret_free(n);
}

/* Every write leaves 0600 whatever the umask: 0 would make 0600 anyway, 0777
 * would leave an unreadable 0000 file without the fchmod. */
static void test_every_write_leaves_mode_0600_whatever_the_umask(void **state)
{
    kt_dir *d = *state;
    const mode_t masks[] = {0, 0022, 0777};
    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        mode_t old = umask(masks[i]);
        fs_secret *n = NULL;
        fs_keys keys;
        unlink(d->key);
        assert_int_equal(
            fs_key_create(d->key, KT_PASS, KT_LEN(KT_PASS), fs_kdf_params_fast(), &keys, NULL), 0);
        fs_keys_clear(&keys);
        assert_int_equal(kt_mode(d->key), 0600);
        assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
        assert_int_equal(kt_mode(d->key), 0600);
        assert_int_equal(fs_key_abort_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), NULL), 0);
        assert_int_equal(kt_mode(d->key), 0600);
        fs_secret_free(n);
        assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
        assert_int_equal(fs_key_commit_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), NULL), 0);
        assert_int_equal(kt_mode(d->key), 0600);
        assert_int_equal(fs_key_change_passphrase(d->key, KT_PASS, KT_LEN(KT_PASS), KT_PASS2,
                                                  KT_LEN(KT_PASS2), fs_kdf_params_fast(), NULL),
                         0);
        assert_int_equal(kt_mode(d->key), 0600);
        unlink(d->key);
        assert_int_equal(fs_key_create_raw(d->key, &keys, NULL), 0);
        assert_int_equal(kt_mode(d->key), 0600);
        fs_keys_clear(&keys);
        fs_secret_free(n);
        umask(old);
    }
}

static void test_a_file_readable_by_others_is_refused_with_a_chmod_hint(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    kt_create(d->key, dek);
    const mode_t modes[] = {0640, 0604, 0620, 0602, 0644, 0660, 0666, 0610};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        fs_keys keys;
        fs_err err;
        bool needs;
        fs_secret *n = NULL;
        assert_int_equal(chmod(d->key, modes[i]), 0);
        assert_int_equal(fs_key_open(d->key, KT_PASS, KT_LEN(KT_PASS), &keys, &err), FS_EDENIED);
        assert_null(keys.dek);
        assert_non_null(strstr(err.msg, "chmod 600"));
        assert_non_null(strstr(err.msg, d->key));
        assert_int_equal(fs_key_needs_passphrase(d->key, &needs, NULL), FS_EDENIED);
        assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL),
                         FS_EDENIED);
        assert_int_equal(kt_mode(d->key), (int)modes[i]); /* refused, not "fixed" */
    }
    assert_int_equal(chmod(d->key, 0400), 0); /* owner-only read is fine */
    uint8_t got[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next;
    assert_int_equal(kt_open(d->key, KT_PASS, got, next, &has_next), 0);
}

static void test_newer_format_version_fails_with_eversion(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
    bool has_next, needs;
    kt_create(d->key, dek);
    size_t len;
    uint8_t *buf = kt_read(d->key, &len);
    const uint16_t versions[] = {FS_KEY_VERSION + 1, 0x0100, 0xffff};
    for (size_t i = 0; i < 3; i++) {
        buf[FS_KEY_OFF_VERSION] = (uint8_t)versions[i];
        buf[FS_KEY_OFF_VERSION + 1] = (uint8_t)(versions[i] >> 8);
        kt_write(d->key, buf, len);
        assert_int_equal(kt_open(d->key, KT_PASS, dek, next, &has_next), FS_EVERSION);
        assert_int_equal(fs_key_needs_passphrase(d->key, &needs, NULL), FS_EVERSION);
    }
    /* a newer version may change everything after the version field */
    kt_write(d->key, buf, FS_KEY_OFF_VERSION + 2);
    assert_int_equal(kt_open(d->key, KT_PASS, dek, next, &has_next), FS_EVERSION);
    free(buf);
}

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* No 8-byte window of a DEK, next DEK, KEK or passphrase appears in the file. */
static void assert_no_secret_in(const uint8_t *file, size_t len, const uint8_t *secret, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++)
        assert_false(contains(file, len, secret + i, 8));
}

static void test_passphrase_file_holds_no_key_or_passphrase_bytes(void **state)
{
    kt_dir *d = *state;
    uint8_t dek[FS_DEK_BYTES];
    fs_secret *n = NULL, *kek = NULL;
    kt_create(d->key, dek);
    assert_int_equal(fs_key_begin_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    size_t len;
    uint8_t *file = kt_read(d->key, &len);
    fs_key_file kf;
    assert_int_equal(fs_key_parse(&kf, file, len, "test", NULL), 0);
    assert_int_equal(fs_key_derive(&kek, KT_PASS, KT_LEN(KT_PASS), kf.kdf, kf.salt, "test", NULL),
                     0);
    assert_no_secret_in(file, len, dek, FS_DEK_BYTES);
    assert_no_secret_in(file, len, n->bytes, FS_DEK_BYTES);
    assert_no_secret_in(file, len, kek->bytes, kek->len);
    assert_no_secret_in(file, len, (const uint8_t *)KT_PASS, KT_LEN(KT_PASS));
    /* the scan finds what is there: the raw mode file does hold its DEK */
    fs_keys keys;
    unlink(d->key);
    assert_int_equal(fs_key_create_raw(d->key, &keys, NULL), 0);
    free(file);
    file = kt_read(d->key, &len);
    assert_true(contains(file, len, keys.dek->bytes, FS_DEK_BYTES));
    fs_keys_clear(&keys);
    free(file);
    fs_secret_free(n);
    fs_secret_free(kek);
}

static void test_keys_clear_and_secret_free_accept_null(void **state)
{
    (void)state;
    fs_keys keys = {NULL, NULL};
    fs_keys_clear(&keys);
    fs_keys_clear(NULL);
    fs_secret_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, kt_setup, kt_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_then_open_returns_the_same_dek),
        T(test_two_files_get_different_deks),
        T(test_wrong_passphrase_fails_with_eauth),
        T(test_missing_passphrase_for_passphrase_file_fails_with_einval),
        T(test_create_refuses_an_existing_file_and_leaves_it_intact),
        T(test_create_refuses_an_empty_passphrase),
        T(test_create_refuses_out_of_range_kdf_parameters),
        T(test_open_of_a_missing_file_fails_with_enotfound),
        T(test_open_of_a_directory_is_refused),
        T(test_raw_mode_round_trips_without_passphrase),
        T(test_default_parameters_are_stored_and_honoured),
        T(test_open_uses_the_parameters_stored_in_the_file),
        T(test_change_passphrase_old_fails_new_works_dek_kept),
        T(test_change_passphrase_with_wrong_old_one_changes_nothing),
        T(test_change_passphrase_keeps_the_next_dek_of_a_rekey),
        T(test_change_passphrase_turns_a_raw_file_into_a_passphrase_file),
        T(test_begin_rekey_stores_a_new_next_dek),
        T(test_commit_rekey_makes_the_next_dek_the_dek),
        T(test_abort_rekey_drops_the_next_dek),
        T(test_begin_rekey_refuses_to_replace_an_unfinished_one),
        T(test_commit_or_abort_without_a_rekey_fails_with_estate),
        T(test_rekey_steps_need_the_right_passphrase),
        T(test_rekey_works_on_a_raw_file),
        T(test_every_write_leaves_mode_0600_whatever_the_umask),
        T(test_a_file_readable_by_others_is_refused_with_a_chmod_hint),
        T(test_newer_format_version_fails_with_eversion),
        T(test_passphrase_file_holds_no_key_or_passphrase_bytes),
        T(test_keys_clear_and_secret_free_accept_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
