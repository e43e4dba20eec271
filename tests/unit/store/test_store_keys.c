/*
 * test_store_keys.c: the store on the encrypting VFS: nothing readable reaches
 * the disk (the same scan finds the markers of a plain store), wrong or missing
 * keys give clear errors (a wrong passphrase apart from a damaged database; an
 * empty database file is refused, never recreated), and passphrase change and
 * rekey survive a crash at every step: a child is SIGKILLed at each crash point (crash.h), and
 * after it the store opens with exactly one key and all its data.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fieldsync/crash.h"
#include "fieldsync/keyfile.h"
#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "fieldsync/vfs.h"
#include "store_int.h"
#include "store_test_util.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT
#define PASS "correct horse battery staple"
#define PASS2 "a brand new passphrase"
#define NRECORDS 40

typedef tu_files fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    tu_files_make(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_files_remove(f);
    free(f);
    return 0;
}

static int open_store(fixture *f, const char *pass, unsigned flags, fs_store **st, fs_err *err)
{
    return fs_store_open(st, f->db, f->key, pass, pass ? strlen(pass) : 0,
                         flags | FS_STORE_FAST_KDF, err);
}

static fs_store *must_open(fixture *f, const char *pass, unsigned flags)
{
    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    if (open_store(f, pass, flags, &st, &err) != 0)
        fail_msg("open: %s", fs_err_message(&err));
    return st;
}

/* Records whose names and notes carry markers no cipher output would contain. */
static void fill(fs_store *st)
{
    char id[32], name[64], notes[64];
    for (int i = 0; i < NRECORDS; i++) {
        snprintf(id, sizeof(id), "acc%03d", i);
        snprintf(name, sizeof(name), "MARKERNAME%03dQZX", i);
        snprintf(notes, sizeof(notes), "MARKERNOTE%03d wants a demo", i);
        tu_put_account(st, id, name, 1 + i % 5, "rep1", "MARKERCITY", notes);
    }
    tu_put_visit(st, "v1", "acc001", 1000, "MARKERVISIT objective", "MARKERSTEP", "2026-01-02",
                 false);
    assert_int_equal(fs_store_meta_set(st, FS_META_DEVICE_TOKEN, "MARKERTOKEN", 11, NULL), 0);
}

static void assert_all_data_plus(fs_store *st, size_t extra)
{
    char id[32], name[64];
    for (int i = 0; i < NRECORDS; i++) {
        ProtobufCMessage *m = NULL;
        snprintf(id, sizeof(id), "acc%03d", i);
        snprintf(name, sizeof(name), "MARKERNAME%03dQZX", i);
        fs_err err;
        if (fs_store_get(st, ACCOUNT, id, NULL, &m, &err) != 0)
            fail_msg("get %s: %s", id, fs_err_message(&err));
        assert_string_equal(((Fieldsync__Account *)m)->name, name);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    size_t n = 0;
    assert_int_equal(fs_outbox_count(st, -1, &n, NULL), 0);
    assert_int_equal(n, NRECORDS + 1 + extra);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
}

static void assert_all_data(fs_store *st)
{
    assert_all_data_plus(st, 0);
}

static const char *const markers[] = {"MARKERNAME",  "MARKERNOTE", "MARKERCITY",
                                      "MARKERVISIT", "MARKERSTEP", "MARKERTOKEN"};
#define NMARKERS (sizeof(markers) / sizeof(markers[0]))

static size_t markers_on_disk(const char *dir)
{
    size_t found = 0;
    for (size_t i = 0; i < NMARKERS; i++)
        found += tu_dir_contains(dir, markers[i]);
    return found;
}

static void encrypted_store_leaves_no_plaintext_on_disk(void **state)
{
    fixture *f = *state;
    fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
    fill(st);
    assert_int_equal(markers_on_disk(f->dir), 0); /* in the WAL, not checkpointed */
    assert_int_equal(sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(markers_on_disk(f->dir), 0); /* checkpointed into the db file */
    fs_store_close(st);
    assert_int_equal(markers_on_disk(f->dir), 0);
    assert_false(tu_dir_contains(f->dir, PASS));
    st = must_open(f, PASS, 0);
    assert_all_data(st);
    fs_store_close(st);
}

static void plain_store_shows_the_markers_the_scan_looks_for(void **state)
{
    fixture *f = *state;
    fs_store *st = tu_open_plain(f->dir);
    fill(st);
    assert_int_equal(markers_on_disk(f->dir), NMARKERS); /* in the WAL */
    fs_store_close(st);
    assert_int_equal(markers_on_disk(f->dir), NMARKERS); /* in the db file */
}

static void wrong_or_missing_key_is_a_clear_error(void **state)
{
    fixture *f = *state;
    fs_store_close(must_open(f, PASS, FS_STORE_CREATE));
    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    assert_int_equal(open_store(f, "not it", 0, &st, &err), FS_EAUTH);
    assert_null(st);
    assert_true(strlen(fs_err_message(&err)) > 0);
    assert_int_not_equal(open_store(f, NULL, 0, &st, &err), 0);
    assert_null(st);

    /* The key file of another store does not open this one. */
    char *other = tu_path(f->dir, "other.key");
    fs_keys k = {0};
    assert_int_equal(fs_key_create(other, PASS, strlen(PASS), fs_kdf_params_fast(), &k, NULL), 0);
    fs_keys_clear(&k);
    assert_int_equal(fs_store_open(&st, f->db, other, PASS, strlen(PASS), 0, &err), FS_ECORRUPT);
    assert_non_null(strstr(fs_err_message(&err), "is intact"));
    assert_non_null(strstr(fs_err_message(&err), "wrong key or damaged"));

    assert_int_equal(unlink(f->key), 0);
    assert_int_equal(open_store(f, PASS, FS_STORE_CREATE, &st, &err), FS_ENOTFOUND);
    assert_non_null(strstr(fs_err_message(&err), "key file"));
    assert_int_not_equal(access(f->key, F_OK), 0); /* no new key made for an old db */
    free(other);
}

/* A damaged database is not a wrong passphrase: the key file opened, and
 * retrying the passphrase would not help. */
static void damaged_database_is_not_a_wrong_passphrase(void **state)
{
    fixture *f = *state;
    fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
    fill(st);
    fs_store_close(st);
    FILE *db = fopen(f->db, "r+b");
    assert_non_null(db);
    assert_int_equal(fseek(db, 200, SEEK_SET), 0); /* inside page 1's ciphertext */
    int c = fgetc(db);
    assert_int_equal(fseek(db, 200, SEEK_SET), 0);
    fputc(c ^ 0x10, db);
    assert_int_equal(fclose(db), 0);
    fs_err err;
    fs_err_clear(&err);
    assert_int_equal(open_store(f, PASS, 0, &st, &err), FS_ECORRUPT);
    assert_null(st);
    char want[4200];
    snprintf(want, sizeof(want), "page 1 of %s failed authentication", f->db);
    if (strstr(err.msg, want) == NULL || strstr(err.msg, "is intact") == NULL)
        fail_msg("unexpected message: %s", err.msg);
    assert_int_equal(open_store(f, "not it", 0, &st, &err), FS_EAUTH);
    assert_non_null(strstr(err.msg, "wrong passphrase"));
}

/* A database file cut to 0 bytes (or a few) is refused, never recreated as a new
 * empty store with a new replica id. */
static void empty_database_is_refused_not_recreated(void **state)
{
    fixture *f = *state;
    fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
    fill(st);
    fs_store_close(st);
    long sizes[] = {0, 10};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(truncate(f->db, sizes[i]), 0);
        for (unsigned flags = 0; flags <= FS_STORE_CREATE; flags += FS_STORE_CREATE) {
            fs_err err;
            fs_err_clear(&err);
            assert_int_equal(open_store(f, PASS, flags, &st, &err), FS_ECORRUPT);
            assert_null(st);
            assert_non_null(strstr(err.msg, "is empty"));
            assert_non_null(strstr(err.msg, f->db));
            struct stat sb;
            assert_int_equal(stat(f->db, &sb), 0);
            assert_int_equal(sb.st_size, sizes[i]); /* nothing written into it */
        }
    }
    /* the same for a plain store */
    char *dir = tu_mkdtemp(), *path = tu_path(dir, "store.db");
    fs_store *plain = tu_open_plain(dir);
    fs_store_close(plain);
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(fs_store_open(&plain, path, NULL, NULL, 0, 0, NULL), FS_ECORRUPT);
    tu_rmdir(dir);
    free(dir);
    free(path);
}

static void raw_key_file_opens_without_passphrase(void **state)
{
    fixture *f = *state;
    fs_store *st = must_open(f, NULL, FS_STORE_CREATE);
    fill(st);
    fs_store_close(st);
    bool needs = true;
    assert_int_equal(fs_key_needs_passphrase(f->key, &needs, NULL), 0);
    assert_false(needs);
    st = must_open(f, NULL, 0);
    assert_all_data(st);
    fs_store_close(st);
    assert_int_equal(markers_on_disk(f->dir), 0);
}

/* The DEK(s) the key file holds now, opened with pass. */
static fs_secret *current_dek(fixture *f, const char *pass, bool *has_next)
{
    fs_keys k = {0};
    fs_err err;
    fs_err_clear(&err);
    if (fs_key_open(f->key, pass, pass ? strlen(pass) : 0, &k, &err) != 0)
        return NULL;
    *has_next = k.next != NULL;
    fs_secret *dek = k.dek;
    k.dek = NULL;
    fs_keys_clear(&k);
    return dek;
}

static bool dek_opens_db(fixture *f, const fs_secret *dek)
{
    sqlite3 *db = NULL;
    int rc = fs_vfs_open(&db, f->db, dek, SQLITE_OPEN_READWRITE, NULL);
    sqlite3_close(db);
    return rc == 0;
}

static void rekey_rotates_the_key_and_keeps_the_data(void **state)
{
    fixture *f = *state;
    fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
    fill(st);
    bool next = true;
    fs_secret *old = current_dek(f, PASS, &next);
    assert_non_null(old);
    fs_err err;
    fs_err_clear(&err);
    if (fs_store_rekey(st, PASS, strlen(PASS), &err) != 0)
        fail_msg("rekey: %s", fs_err_message(&err));
    assert_all_data(st);
    tu_put_account(st, "after", "written after rekey", 1, NULL, NULL, NULL);
    fs_store_close(st);

    fs_secret *now = current_dek(f, PASS, &next);
    assert_non_null(now);
    assert_false(next);
    assert_true(now->len != old->len || memcmp(now->bytes, old->bytes, now->len) != 0);
    assert_false(dek_opens_db(f, old));
    assert_true(dek_opens_db(f, now));
    char *tmp = tu_path(f->dir, "store.db.rekey");
    assert_int_not_equal(access(tmp, F_OK), 0);
    free(tmp);
    assert_int_equal(markers_on_disk(f->dir), 0);
    st = must_open(f, PASS, 0);
    assert_all_data_plus(st, 1);
    assert_int_equal(fs_store_get(st, ACCOUNT, "after", NULL, NULL, NULL), 0);
    fs_store_close(st);
    fs_secret_free(old);
    fs_secret_free(now);

    char *plain = tu_mkdtemp();
    st = tu_open_plain(plain); /* a plain store has nothing to rotate */
    assert_int_equal(fs_store_rekey(st, NULL, 0, &err), FS_ESTATE);
    fs_store_close(st);
    tu_rmdir(plain);
    free(plain);
}

static void change_passphrase_swaps_which_one_works(void **state)
{
    fixture *f = *state;
    fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
    fill(st);
    assert_int_equal(fs_store_change_passphrase(st, "wrong", 5, PASS2, strlen(PASS2), NULL),
                     FS_EAUTH);
    assert_int_equal(fs_store_change_passphrase(st, PASS, strlen(PASS), PASS2, strlen(PASS2), NULL),
                     0);
    fs_store_close(st);
    fs_store *bad = NULL;
    assert_int_equal(open_store(f, PASS, 0, &bad, NULL), FS_EAUTH);
    st = must_open(f, PASS2, 0);
    assert_all_data(st);
    fs_store_close(st);
}

/* ------------------------------------------------------------------------- */
/* Crash injection */

typedef enum { OP_REKEY, OP_PASSPHRASE, OP_OPEN } crash_op;

/* Runs op in a child armed to die at point; true if the child was SIGKILLed. */
static bool run_until_crash(fixture *f, crash_op op, const char *point)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv(FS_CRASH_ENV, point, 1);
        fs_store *st = NULL;
        if (open_store(f, PASS, 0, &st, NULL) != 0)
            _exit(2);
        int rc = 0;
        if (op == OP_REKEY)
            rc = fs_store_rekey(st, PASS, strlen(PASS), NULL);
        else if (op == OP_PASSPHRASE)
            rc = fs_store_change_passphrase(st, PASS, strlen(PASS), PASS2, strlen(PASS2), NULL);
        fs_store_close(st);
        _exit(rc == 0 ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* After a crash: exactly one key (and one passphrase) opens the store, with all data. */
static void assert_recovers(fixture *f, const char *point)
{
    fs_store *a = NULL, *b = NULL;
    fs_err ea, eb;
    fs_err_clear(&ea);
    fs_err_clear(&eb);
    int ra = open_store(f, PASS, 0, &a, &ea);
    fs_store_close(a);
    int rb = open_store(f, PASS2, 0, &b, &eb);
    fs_store_close(b);
    if ((ra == 0) == (rb == 0))
        fail_msg("after a crash at %s: old passphrase %d (%s), new %d (%s)", point, ra,
                 fs_err_message(&ea), rb, fs_err_message(&eb));
    const char *pass = ra == 0 ? PASS : PASS2;
    bool next = true;
    fs_secret *dek = current_dek(f, pass, &next);
    assert_non_null(dek);
    assert_false(next); /* open resolved any half-done rekey */
    assert_true(dek_opens_db(f, dek));
    fs_secret_free(dek);
    fs_store *st = must_open(f, pass, 0);
    assert_all_data(st);
    fs_store_close(st);
    char *tmp = tu_path(f->dir, "store.db.rekey");
    assert_int_not_equal(access(tmp, F_OK), 0);
    free(tmp);
    assert_int_equal(markers_on_disk(f->dir), 0);
}

static const char *const rekey_points[] = {
    "key.begin_rekey.tmp_partial", "key.begin_rekey.tmp_synced", "key.begin_rekey.renamed",
    "key.begin_rekey.dir_synced",  "store.rekey.begun",          "store.rekey.checkpointed",
    "store.rekey.copied",          "store.rekey.closed",         "store.rekey.wal_removed",
    "store.rekey.renamed",         "store.rekey.dir_synced",     "key.commit_rekey.tmp_partial",
    "key.commit_rekey.tmp_synced", "key.commit_rekey.renamed",   "key.commit_rekey.dir_synced",
    "store.rekey.committed",
};

static void rekey_survives_a_crash_at_every_step(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof(rekey_points) / sizeof(rekey_points[0]); i++) {
        tu_rmdir(f->dir);
        assert_int_equal(mkdir(f->dir, 0700), 0);
        fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
        fill(st);
        fs_store_close(st);
        if (!run_until_crash(f, OP_REKEY, rekey_points[i]))
            fail_msg("crash point %s was never reached", rekey_points[i]);
        assert_recovers(f, rekey_points[i]);
    }
}

/* A crash while open resolves an interrupted rekey is itself resolved next time. */
static void crash_while_resolving_a_rekey_is_resolved_later(void **state)
{
    fixture *f = *state;
    const char *second[] = {"store.rekey.resolving", "key.commit_rekey.tmp_synced",
                            "key.commit_rekey.renamed"};
    const char *first[] = {"store.rekey.renamed", "store.rekey.copied"};
    const char *abort_points[] = {"key.abort_rekey.tmp_synced", "key.abort_rekey.renamed"};
    for (size_t j = 0; j < 2; j++) {
        size_t n = j == 0 ? 3 : 2;
        for (size_t i = 0; i < n; i++) {
            const char *point = j == 0 ? second[i] : abort_points[i];
            tu_rmdir(f->dir);
            assert_int_equal(mkdir(f->dir, 0700), 0);
            fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
            fill(st);
            fs_store_close(st);
            assert_true(run_until_crash(f, OP_REKEY, first[j]));
            if (!run_until_crash(f, OP_OPEN, point))
                fail_msg("resolving after %s never reached %s", first[j], point);
            assert_recovers(f, point);
        }
    }
}

static void passphrase_change_survives_a_crash_at_every_step(void **state)
{
    fixture *f = *state;
    const char *points[] = {"key.change_passphrase.tmp_partial", "key.change_passphrase.tmp_synced",
                            "key.change_passphrase.renamed", "key.change_passphrase.dir_synced"};
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
        tu_rmdir(f->dir);
        assert_int_equal(mkdir(f->dir, 0700), 0);
        fs_store *st = must_open(f, PASS, FS_STORE_CREATE);
        fill(st);
        fs_store_close(st);
        if (!run_until_crash(f, OP_PASSPHRASE, points[i]))
            fail_msg("crash point %s was never reached", points[i]);
        assert_recovers(f, points[i]);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(encrypted_store_leaves_no_plaintext_on_disk),
        T(plain_store_shows_the_markers_the_scan_looks_for),
        T(wrong_or_missing_key_is_a_clear_error),
        T(damaged_database_is_not_a_wrong_passphrase),
        T(empty_database_is_refused_not_recreated),
        T(raw_key_file_opens_without_passphrase),
        T(rekey_rotates_the_key_and_keeps_the_data),
        T(change_passphrase_swaps_which_one_works),
        T(rekey_survives_a_crash_at_every_step),
        T(crash_while_resolving_a_rekey_is_resolved_later),
        T(passphrase_change_survives_a_crash_at_every_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
