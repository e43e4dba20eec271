/*
 * test_store_full.c: an encrypted store whose files cannot grow (a full disk).
 *
 * The process's RLIMIT_FSIZE stops every file of the store, the checkpointer
 * thread's writes included, a little past the size it has: writes beyond it
 * fail (EFBIG, SIGXFSZ ignored), the way a full disk stops them. Local puts
 * and pulled pages then fail with an error, each whole (the maintenance run
 * in between may fail too); what was acknowledged before stays readable
 * meanwhile; once the limit is lifted
 * the same open store takes writes again; and after a reopen every
 * acknowledged change is there with its outbox entry, the failed ones are not
 * half there, and fs_store_check finds every page sound.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_test_util.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT
#define PASS "disk full test passphrase"
#define REMOTE 0xfeedull
#define ROOM (1024 * 1024) /* what the files may still grow by */
#define TRIES 5000         /* puts before the limit must have stopped one */

typedef struct fx {
    tu_files files;
    fs_store *st;
    struct rlimit was;
    char note[2048];
} fx;

static void open_store(fx *f, unsigned flags)
{
    fs_err err;
    if (fs_store_open(&f->st, f->files.db, f->files.key, PASS, strlen(PASS),
                      flags | FS_STORE_FAST_KDF, &err) != 0)
        fail_msg("opening %s: %s", f->files.db, err.msg);
    /* as fieldsyncd: checkpoints on the store's thread; a small cache spills */
    assert_int_equal(fs_store_defer_maintenance(f->st, true, NULL), 0);
    assert_int_equal(fs_store_set_cache_kib(f->st, 64, NULL), 0);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    tu_files_make(&f->files);
    for (size_t i = 0; i + 1 < sizeof(f->note); i++)
        f->note[i] = (char)('a' + (i * 7919) % 26);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &f->was), 0);
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails instead of killing */
    open_store(f, FS_STORE_CREATE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    setrlimit(RLIMIT_FSIZE, &f->was);
    fs_store_close(f->st);
    tu_files_remove(&f->files);
    free(f);
    return 0;
}

static off_t file_size(const fx *f, const char *suffix)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof(path), "%s%s", f->files.db, suffix);
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Lets no file of the store grow more than ROOM past the largest one now. */
static void fill_disk(fx *f)
{
    off_t db = file_size(f, ""), wal = file_size(f, "-wal");
    struct rlimit full = {(rlim_t)(db > wal ? db : wal) + ROOM, f->was.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &full), 0);
}

static void free_disk(fx *f)
{
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &f->was), 0);
}

static int put(fx *f, const char *prefix, int i, fs_err *err)
{
    char id[32];
    snprintf(id, sizeof(id), "%s%05d", prefix, i);
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = id;
    a.notes = f->note;
    return fs_store_put(f->st, ACCOUNT, id, &a.base, NULL, 0, err);
}

static bool has(fx *f, const char *prefix, int i)
{
    char id[32];
    fs_state *s = NULL;
    snprintf(id, sizeof(id), "%s%05d", prefix, i);
    int rc = fs_store_get(f->st, ACCOUNT, id, &s, NULL, NULL);
    fs_state_free(s);
    assert_true(rc == 0 || rc == FS_ENOTFOUND);
    return rc == 0;
}

static size_t pending(fx *f)
{
    size_t n = 0;
    assert_int_equal(fs_outbox_count(f->st, FS_OUTBOX_PENDING, &n, NULL), 0);
    return n;
}

static void assert_sound(fx *f)
{
    fs_check_report r;
    assert_int_equal(fs_store_check(f->st, &r, NULL), 0);
    for (size_t i = 0; i < r.nkept; i++)
        print_error("check: %s\n", r.problems[i]);
    assert_int_equal(r.nproblems, 0);
    fs_check_report_clear(&r);
}

static void reopen(fx *f)
{
    fs_store_close(f->st);
    f->st = NULL;
    open_store(f, 0);
}

/* Puts until one fails (maintenance now and then, as the daemon's idle
 * timer); returns how many were acknowledged. */
static int put_until_full(fx *f, const char *prefix, fs_err *err)
{
    for (int i = 0; i < TRIES; i++) {
        if (put(f, prefix, i, err) != 0)
            return i;
        if (i % 50 == 49)
            fs_store_maintain(f->st, NULL, NULL); /* may fail too: the checkpoint writes */
    }
    fail_msg("%d puts fitted in %d bytes of room", TRIES, ROOM);
    return -1;
}

static void test_local_writes_fail_whole_and_resume_when_room_returns(void **state)
{
    fx *f = *state;
    fs_err err;
    for (int i = 0; i < 100; i++)
        assert_int_equal(put(f, "before", i, NULL), 0);
    assert_int_equal(fs_store_maintain(f->st, NULL, NULL), 0);

    fill_disk(f);
    int acked = put_until_full(f, "full", &err);
    assert_true(acked > 0);
    assert_int_equal(err.code, FS_EIO);
    assert_non_null(strstr(err.msg, f->files.db)); /* names the store's file */
    /* still full: writes keep failing, reads keep working */
    for (int i = 0; i < 5; i++)
        assert_int_not_equal(put(f, "still", i, NULL), 0);
    for (int i = 0; i < 100; i++)
        assert_true(has(f, "before", i));
    for (int i = 0; i < acked; i++)
        assert_true(has(f, "full", i));

    free_disk(f); /* the same open store writes again */
    for (int i = 0; i < 50; i++)
        assert_int_equal(put(f, "after", i, NULL), 0);
    assert_int_equal(fs_store_maintain(f->st, NULL, NULL), 0);

    reopen(f);
    for (int i = 0; i < 100; i++)
        assert_true(has(f, "before", i));
    for (int i = 0; i < acked; i++)
        assert_true(has(f, "full", i));
    assert_false(has(f, "full", acked)); /* the put that failed is not there */
    for (int i = 0; i < 5; i++)
        assert_false(has(f, "still", i));
    for (int i = 0; i < 50; i++)
        assert_true(has(f, "after", i));
    /* one outbox entry per acknowledged record, none for the failed puts */
    assert_int_equal(pending(f), (size_t)(100 + acked + 50));
    assert_sound(f);
}

/* A page of n pulled accounts named prefix0 .. prefixN-1. */
static int apply_page(fx *f, const char *prefix, int n, uint64_t cursor, fs_err *err)
{
    fs_state **states = calloc((size_t)n, sizeof(*states));
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        char id[32];
        snprintf(id, sizeof(id), "%s%05d", prefix, k);
        Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
        m.name = id;
        m.notes = f->note;
        rc = fs_state_new(&states[k], ACCOUNT, id, NULL);
        if (rc == 0)
            rc = fs_record_write_msg(states[k], REMOTE, cursor << 16, &m.base, NULL, 0, NULL);
    }
    assert_int_equal(rc, 0);
    rc = fs_store_apply_remote(f->st, states, (size_t)n, NULL, 0, cursor, NULL, err);
    for (int k = 0; k < n; k++)
        fs_state_free(states[k]);
    free(states);
    return rc;
}

static uint64_t cursor(fx *f)
{
    uint64_t c = 0;
    assert_int_equal(fs_store_meta_get_u64(f->st, FS_META_CURSOR, &c, NULL), 0);
    return c;
}

static void test_a_pulled_page_fails_whole_and_applies_later(void **state)
{
    fx *f = *state;
    fs_err err;
    assert_int_equal(apply_page(f, "one", 50, 1, NULL), 0);
    fill_disk(f);
    /* a page bigger than the room: it cannot commit */
    assert_int_not_equal(apply_page(f, "two", 400, 2, &err), 0);
    assert_int_equal(err.code, FS_EIO);
    assert_int_equal(cursor(f), 1); /* the cursor stays before the page */
    assert_false(has(f, "two", 0));
    assert_false(has(f, "two", 399));
    assert_true(has(f, "one", 49));
    free_disk(f);
    assert_int_equal(apply_page(f, "two", 400, 2, NULL), 0); /* the next run */
    reopen(f);
    assert_int_equal(cursor(f), 2);
    for (int k = 0; k < 400; k++)
        assert_true(has(f, "two", k));
    assert_int_equal(pending(f), 0); /* pulled records are the server's: nothing to push */
    assert_sound(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_local_writes_fail_whole_and_resume_when_room_returns,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_pulled_page_fails_whole_and_applies_later, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
