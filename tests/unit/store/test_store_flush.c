/*
 * test_store_flush.c: which commits flush the disk (store.md, "Opening"):
 * a local change does, with everything before it; what the server holds and
 * gives again does not: a pulled page, the outbox's bookkeeping of a push
 * (taking a batch, completing it) and the end of a sync run.
 *
 * The flushes are counted where SQLite asks for them: this program's
 * fdatasync and fsync stand in front of the C library's, so libsqlite3's
 * calls come here first.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h> /* the prototypes of fdatasync and fsync */

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

typedef tu_store_fixture fixture;

static unsigned flushes;

static int call_next(const char *name, int fd)
{
    int (*next)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
    return next != NULL ? next(fd) : -1;
}

int fdatasync(int fd)
{
    flushes++;
    return call_next("fdatasync", fd);
}

int fsync(int fd)
{
    flushes++;
    return call_next("fsync", fd);
}

static void local_change_flushes(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "warm-up", "Warm Up", 0, NULL, NULL, NULL); /* the WAL exists */
    unsigned before = flushes;
    tu_put_account(f->st, "a", "Alder Alloys", 0, NULL, NULL, NULL);
    assert_true(flushes > before);
}

static void pulled_page_does_not_flush(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "warm-up", "Warm Up", 0, NULL, NULL, NULL);
    fs_state *page[] = {tu_remote_account("p1", "Pine Pulp", 5ull << 16),
                        tu_remote_account("p2", "Poplar Paper", 6ull << 16)};
    unsigned before = flushes;
    assert_int_equal(fs_store_apply_remote(f->st, page, 2, NULL, 0, 9, NULL, NULL), 0);
    assert_int_equal(flushes, before);
    assert_int_equal(tu_synchronous(f->st), 2); /* local writes flush again */
    for (size_t i = 0; i < 2; i++)
        fs_state_free(page[i]);
}

static void push_bookkeeping_does_not_flush(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a", "Alder Alloys", 0, NULL, NULL, NULL);
    unsigned before = flushes;
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 1);
    fs_outbox_result res = {.joined = b.items[0].state, .unchanged = true};
    assert_int_equal(fs_outbox_complete(f->st, &b, &res, 1, NULL), 0);
    fs_outbox_batch_clear(&b);
    assert_int_equal(flushes, before);
    size_t left = 99;
    assert_int_equal(fs_outbox_count(f->st, -1, &left, NULL), 0);
    assert_int_equal(left, 0);
    assert_int_equal(tu_synchronous(f->st), 2);
}

static void end_of_a_sync_run_does_not_flush(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "warm-up", "Warm Up", 0, NULL, NULL, NULL);
    unsigned before = flushes;
    assert_int_equal(fs_store_set_last_sync(f->st, 1767225600, NULL), 0);
    assert_int_equal(flushes, before);
    uint64_t at = 0;
    assert_int_equal(fs_store_meta_get_u64(f->st, FS_META_LAST_SYNC, &at, NULL), 0);
    assert_int_equal(at, 1767225600);
    assert_int_equal(tu_synchronous(f->st), 2);
    /* it is on disk after the next local change, which flushes the WAL */
    tu_put_account(f->st, "a", "Alder Alloys", 0, NULL, NULL, NULL);
    assert_true(flushes > before);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tu_store_setup, tu_store_teardown)
    const struct CMUnitTest tests[] = {
        T(local_change_flushes),
        T(pulled_page_does_not_flush),
        T(push_bookkeeping_does_not_flush),
        T(end_of_a_sync_run_does_not_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
