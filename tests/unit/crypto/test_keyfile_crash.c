/*
 * test_keyfile_crash.c: crash safety of every key file write. For each write
 * (create, change passphrase, begin/commit/abort rekey) and each of its crash
 * points, a child process runs the write with FIELDSYNC_CRASH_AT set and is
 * SIGKILLed there; the parent then checks that the file is exactly the old state
 * (crash before the rename) or exactly the new one (after it): one passphrase
 * works, the keys are the expected ones, the mode is 0600, and the next write
 * succeeds despite the stale temp file. Also tests the crash hook itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fieldsync/crash.h"
#include "fieldsync/keyfile.h"
#include "keytest.h"

/* The crash points of one atomic write, in order; the rename is after [1]. */
static const char *const steps[] = {"tmp_partial", "tmp_synced", "renamed", "dir_synced"};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))
#define RENAMED_FROM 2 /* steps[i] with i >= this happen after the rename */

static void point_name(char *out, size_t n, const char *op, size_t step)
{
    snprintf(out, n, "key.%s.%s", op, steps[step]);
}

static void assert_killed(int status, const char *point)
{
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("child was not killed at crash point %s (status 0x%x): point never reached", point,
                 status);
}

static int op_change(void *path)
{
    return fs_key_change_passphrase(path, KT_PASS, KT_LEN(KT_PASS), KT_PASS2, KT_LEN(KT_PASS2),
                                    fs_kdf_params_fast(), NULL);
}

static int op_begin(void *path)
{
    fs_secret *n = NULL;
    int rc = fs_key_begin_rekey(path, KT_PASS, KT_LEN(KT_PASS), &n, NULL);
    fs_secret_free(n);
    return rc;
}

static int op_commit(void *path)
{
    return fs_key_commit_rekey(path, KT_PASS, KT_LEN(KT_PASS), NULL);
}

static int op_abort(void *path)
{
    return fs_key_abort_rekey(path, KT_PASS, KT_LEN(KT_PASS), NULL);
}

static int op_create(void *path)
{
    fs_keys keys;
    int rc = fs_key_create(path, KT_PASS, KT_LEN(KT_PASS), fs_kdf_params_fast(), &keys, NULL);
    fs_keys_clear(&keys);
    return rc;
}

typedef struct key_state {
    int rc;
    uint8_t dek[FS_DEK_BYTES];
    uint8_t next[FS_DEK_BYTES];
    bool has_next;
} key_state;

static key_state state_of(const char *path, const char *pass)
{
    key_state s;
    memset(&s, 0, sizeof(s));
    s.rc = kt_open(path, pass, s.dek, s.next, &s.has_next);
    return s;
}

static void assert_state(const key_state *got, const uint8_t *dek, const uint8_t *next)
{
    assert_int_equal(got->rc, 0);
    assert_memory_equal(got->dek, dek, FS_DEK_BYTES);
    assert_int_equal(got->has_next, next != NULL);
    if (next != NULL)
        assert_memory_equal(got->next, next, FS_DEK_BYTES);
}

/* After any crash the next write must work: the stale temp is no obstacle. */
static void assert_writable_after_crash(const char *path, const char *pass)
{
    fs_secret *n = NULL;
    assert_int_equal(kt_mode(path), 0600);
    assert_int_equal(fs_key_begin_rekey(path, pass, strlen(pass), &n, NULL), 0);
    assert_int_equal(fs_key_abort_rekey(path, pass, strlen(pass), NULL), 0);
    assert_int_equal(kt_mode(path), 0600);
    fs_secret_free(n);
}

static void test_crash_during_change_passphrase_leaves_exactly_one_passphrase(void **state)
{
    kt_dir *d = *state;
    for (size_t i = 0; i < NSTEPS; i++) {
        char point[64];
        uint8_t dek[FS_DEK_BYTES];
        unlink(d->key);
        kt_create(d->key, dek);
        point_name(point, sizeof(point), "change_passphrase", i);
        assert_killed(kt_run_with_crash(point, op_change, d->key), point);
        key_state old = state_of(d->key, KT_PASS), neu = state_of(d->key, KT_PASS2);
        bool after = i >= RENAMED_FROM;
        assert_state(after ? &neu : &old, dek, NULL);
        assert_int_equal((after ? &old : &neu)->rc, FS_EAUTH);
        assert_writable_after_crash(d->key, after ? KT_PASS2 : KT_PASS);
    }
}

/* Sets up a file mid-rekey; dek and next receive its keys. */
static void setup_rekeying(const char *path, uint8_t *dek, uint8_t *next)
{
    fs_secret *n = NULL;
    unlink(path);
    kt_create(path, dek);
    assert_int_equal(fs_key_begin_rekey(path, KT_PASS, KT_LEN(KT_PASS), &n, NULL), 0);
    memcpy(next, n->bytes, FS_DEK_BYTES);
    fs_secret_free(n);
}

static void test_crash_during_begin_rekey_leaves_old_or_new_state(void **state)
{
    kt_dir *d = *state;
    for (size_t i = 0; i < NSTEPS; i++) {
        char point[64];
        uint8_t dek[FS_DEK_BYTES];
        unlink(d->key);
        kt_create(d->key, dek);
        point_name(point, sizeof(point), "begin_rekey", i);
        assert_killed(kt_run_with_crash(point, op_begin, d->key), point);
        key_state s = state_of(d->key, KT_PASS);
        assert_int_equal(s.rc, 0);
        assert_memory_equal(s.dek, dek, FS_DEK_BYTES); /* the database key never moves */
        assert_int_equal(s.has_next, i >= RENAMED_FROM);
        if (s.has_next) /* the store resolves it: here by aborting */
            assert_int_equal(fs_key_abort_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), NULL), 0);
        assert_writable_after_crash(d->key, KT_PASS);
    }
}

static void test_crash_during_commit_rekey_leaves_both_keys_or_the_new_one(void **state)
{
    kt_dir *d = *state;
    for (size_t i = 0; i < NSTEPS; i++) {
        char point[64];
        uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
        setup_rekeying(d->key, dek, next);
        point_name(point, sizeof(point), "commit_rekey", i);
        assert_killed(kt_run_with_crash(point, op_commit, d->key), point);
        key_state s = state_of(d->key, KT_PASS);
        if (i >= RENAMED_FROM)
            assert_state(&s, next, NULL);
        else
            assert_state(&s, dek, next); /* retrying the commit finishes it */
        if (i < RENAMED_FROM)
            assert_int_equal(fs_key_commit_rekey(d->key, KT_PASS, KT_LEN(KT_PASS), NULL), 0);
        s = state_of(d->key, KT_PASS);
        assert_state(&s, next, NULL);
        assert_writable_after_crash(d->key, KT_PASS);
    }
}

static void test_crash_during_abort_rekey_leaves_both_keys_or_the_old_one(void **state)
{
    kt_dir *d = *state;
    for (size_t i = 0; i < NSTEPS; i++) {
        char point[64];
        uint8_t dek[FS_DEK_BYTES], next[FS_DEK_BYTES];
        setup_rekeying(d->key, dek, next);
        point_name(point, sizeof(point), "abort_rekey", i);
        assert_killed(kt_run_with_crash(point, op_abort, d->key), point);
        key_state s = state_of(d->key, KT_PASS);
        if (i >= RENAMED_FROM)
            assert_state(&s, dek, NULL);
        else
            assert_state(&s, dek, next);
        assert_int_equal(kt_mode(d->key), 0600);
    }
}

static void test_crash_during_create_leaves_no_file_or_a_complete_one(void **state)
{
    kt_dir *d = *state;
    for (size_t i = 0; i < NSTEPS; i++) {
        char point[64];
        unlink(d->key);
        point_name(point, sizeof(point), "create", i);
        assert_killed(kt_run_with_crash(point, op_create, d->key), point);
        key_state s = state_of(d->key, KT_PASS);
        if (i >= RENAMED_FROM) {
            assert_int_equal(s.rc, 0);
            assert_false(s.has_next);
            assert_int_equal(state_of(d->key, KT_PASS2).rc, FS_EAUTH);
            assert_writable_after_crash(d->key, KT_PASS);
        } else {
            assert_int_equal(s.rc, FS_ENOTFOUND); /* no half-written key file */
            assert_int_equal(op_create(d->key), 0);
            assert_int_equal(state_of(d->key, KT_PASS).rc, 0);
        }
    }
}

static int hit_twice(void *name)
{
    fs_crash_point(name);
    fs_crash_point("some.other.point");
    fs_crash_point(name);
    return 0;
}

static char test_point[] = "test.point";

static int child_exit_status(const char *spec)
{
    int status = kt_run_with_crash(spec, hit_twice, test_point);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static void test_crash_point_kills_only_at_the_named_point_and_count(void **state)
{
    (void)state;
    assert_int_equal(child_exit_status("test.point"), -SIGKILL);
    assert_int_equal(child_exit_status("test.point@2"), -SIGKILL);
    assert_int_equal(child_exit_status("test.point@3"), 0);  /* reached twice only */
    assert_int_equal(child_exit_status("test.poin"), 0);     /* no prefix match */
    assert_int_equal(child_exit_status("test.point.x"), 0);  /* no extension match */
    assert_int_equal(child_exit_status("test.point@0"), 0);  /* malformed count */
    assert_int_equal(child_exit_status("test.point@2x"), 0); /* malformed count */
    assert_int_equal(child_exit_status("test.point@"), 0);   /* malformed count */
    assert_int_equal(child_exit_status(""), 0);
}

static void test_crash_point_does_nothing_when_unarmed(void **state)
{
    (void)state;
    unsetenv(FS_CRASH_ENV);
    fs_crash_point("test.point");
    fs_crash_point(NULL);
    setenv(FS_CRASH_ENV, "another.point", 1);
    fs_crash_point("test.point");
    unsetenv(FS_CRASH_ENV);
}

#define T(name) cmocka_unit_test_setup_teardown(name, kt_setup, kt_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_crash_during_change_passphrase_leaves_exactly_one_passphrase),
        T(test_crash_during_begin_rekey_leaves_old_or_new_state),
        T(test_crash_during_commit_rekey_leaves_both_keys_or_the_new_one),
        T(test_crash_during_abort_rekey_leaves_both_keys_or_the_old_one),
        T(test_crash_during_create_leaves_no_file_or_a_complete_one),
        T(test_crash_point_kills_only_at_the_named_point_and_count),
        T(test_crash_point_does_nothing_when_unarmed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
