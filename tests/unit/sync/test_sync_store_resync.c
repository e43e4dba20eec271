/*
 * test_sync_store_resync.c: the store's mark-and-sweep for a forced resync
 * (store/resync.c) and the changed/removed refs of fs_store_apply_remote.
 * A sweep removes exactly the records the full pull did not give, keeps
 * those with outbox entries, counts added/updated/conflicts; marks commit with
 * their page, so a resync interrupted by a close resumes and sweeps right;
 * removals in a resync page count as removed, a kept one once as kept local;
 * nothing is swept without an active resync; schema 3 is in place; changes
 * the server refused as read-only are undone (other refusals stay).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store_resync.h"
#include "store_test_util.h"

#define SERVER_REPLICA 0x5e5e5e5eull

static fs_state *server_account(const char *id, const char *name, uint64_t counter)
{
    fs_state *st = NULL;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = (char *)name;
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, NULL), 0);
    for (uint64_t c = 0; c < counter; c++)
        assert_int_equal(
            fs_record_write_msg(st, SERVER_REPLICA, (1000ull + c) << 16, &a.base, NULL, 0, NULL),
            0);
    return st;
}

static bool has(fs_store *st, const char *id)
{
    return fs_store_get(st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, NULL, NULL, NULL) == 0;
}

/* Applies a server-side copy of three accounts normally (cursor 3). */
static void seed_remote(fs_store *st)
{
    fs_state *s[3] = {server_account("r1", "One", 1), server_account("r2", "Two", 1),
                      server_account("r3", "Three", 1)};
    fs_apply_report rep;
    assert_int_equal(fs_store_apply_remote(st, s, 3, NULL, 0, 3, &rep, NULL), 0);
    assert_int_equal(rep.changed, 3);
    assert_non_null(rep.changed_refs);
    assert_string_equal(rep.changed_refs[2].id, "r3");
    fs_apply_report_clear(&rep);
    for (int i = 0; i < 3; i++)
        fs_state_free(s[i]);
}

static void test_sweep_removes_what_the_server_no_longer_gives(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    seed_remote(st);
    /* a local, unsynced account must survive the sweep */
    tu_put_account(st, "local", "Mine", 1, "ann", "Graz", NULL);
    assert_int_equal(fs_store_resync_begin(st, NULL), 0);
    uint64_t cursor = 99;
    assert_int_equal(fs_store_meta_get_u64(st, FS_META_CURSOR, &cursor, NULL), 0);
    assert_int_equal(cursor, 0);
    /* the full pull gives r1 unchanged, r2 updated, and a new r4; not r3 */
    fs_state *s[3] = {server_account("r1", "One", 1), server_account("r2", "Two!", 2),
                      server_account("r4", "Four", 1)};
    fs_store_resync_report acc = {0};
    fs_apply_report rep;
    assert_int_equal(fs_store_resync_apply(st, s, 3, NULL, 0, 7, &acc, &rep, NULL), 0);
    assert_int_equal(rep.applied, 3);
    assert_int_equal(acc.added, 1);
    assert_int_equal(acc.updated, 1);
    fs_apply_report_clear(&rep);
    fs_ref *removed = NULL;
    size_t nremoved = 0;
    assert_int_equal(fs_store_resync_finish(st, &acc, &removed, &nremoved, NULL), 0);
    assert_int_equal(acc.removed, 1);
    assert_int_equal(nremoved, 1);
    assert_string_equal(removed[0].id, "r3");
    assert_int_equal(acc.kept_local, 1);
    fs_refs_free(removed, nremoved);
    assert_true(has(st, "r1") && has(st, "r2") && has(st, "r4") && has(st, "local"));
    assert_false(has(st, "r3"));
    bool active = true;
    assert_int_equal(fs_store_resync_active(st, &active, NULL), 0);
    assert_false(active);
    for (int i = 0; i < 3; i++)
        fs_state_free(s[i]);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void test_interrupted_resync_resumes_with_its_marks(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    seed_remote(st);
    assert_int_equal(fs_store_resync_begin(st, NULL), 0);
    fs_state *a = server_account("r1", "One", 1), *b = server_account("r2", "Two", 1);
    assert_int_equal(fs_store_resync_apply(st, &a, 1, NULL, 0, 1, NULL, NULL, NULL), 0);
    fs_store_close(st); /* the daemon stops mid-resync */
    st = tu_open_plain(dir);
    bool active = false;
    assert_int_equal(fs_store_resync_active(st, &active, NULL), 0);
    assert_true(active);
    uint64_t cursor = 0;
    assert_int_equal(fs_store_meta_get_u64(st, FS_META_CURSOR, &cursor, NULL), 0);
    assert_int_equal(cursor, 1);
    assert_int_equal(fs_store_resync_apply(st, &b, 1, NULL, 0, 2, NULL, NULL, NULL), 0);
    fs_store_resync_report acc = {0};
    assert_int_equal(fs_store_resync_finish(st, &acc, NULL, NULL, NULL), 0);
    assert_int_equal(acc.removed, 1); /* r3 only: r1's mark survived the restart */
    assert_true(has(st, "r1") && has(st, "r2"));
    assert_false(has(st, "r3"));
    fs_state_free(a);
    fs_state_free(b);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void test_a_second_resync_uses_a_new_epoch(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    seed_remote(st);
    fs_state *all[3] = {server_account("r1", "One", 1), server_account("r2", "Two", 1),
                        server_account("r3", "Three", 1)};
    assert_int_equal(fs_store_resync_begin(st, NULL), 0);
    assert_int_equal(fs_store_resync_apply(st, all, 3, NULL, 0, 3, NULL, NULL, NULL), 0);
    assert_int_equal(fs_store_resync_finish(st, NULL, NULL, NULL, NULL), 0);
    assert_true(has(st, "r3"));
    /* old marks must not count: the second pull gives nothing */
    assert_int_equal(fs_store_resync_begin(st, NULL), 0);
    assert_int_equal(fs_store_resync_apply(st, NULL, 0, NULL, 0, 3, NULL, NULL, NULL), 0);
    fs_store_resync_report acc = {0};
    assert_int_equal(fs_store_resync_finish(st, &acc, NULL, NULL, NULL), 0);
    assert_int_equal(acc.removed, 3);
    for (int i = 0; i < 3; i++)
        fs_state_free(all[i]);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void test_nothing_is_applied_or_swept_without_an_active_resync(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    seed_remote(st);
    fs_state *a = server_account("r9", "Nine", 1);
    fs_err err;
    assert_int_equal(fs_store_resync_apply(st, &a, 1, NULL, 0, 9, NULL, NULL, &err), FS_ESTATE);
    assert_false(has(st, "r9"));
    assert_int_equal(fs_store_resync_finish(st, NULL, NULL, NULL, &err), FS_ESTATE);
    assert_true(has(st, "r1") && has(st, "r2") && has(st, "r3"));
    fs_state_free(a);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void test_removals_in_a_resync_page_count_as_removed(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    seed_remote(st);
    tu_put_account(st, "r3", "Edited here", 0, NULL, NULL, NULL); /* unsynced */
    assert_int_equal(fs_store_resync_begin(st, NULL), 0);
    /* r2 and r3 left the territory; r9 was never here */
    fs_state *r1 = server_account("r1", "One", 1);
    fs_ref gone[3] = {{FIELDSYNC__RECORD_KIND__ACCOUNT, "r2"},
                      {FIELDSYNC__RECORD_KIND__ACCOUNT, "r3"},
                      {FIELDSYNC__RECORD_KIND__ACCOUNT, "r9"}};
    fs_store_resync_report acc = {0};
    assert_int_equal(fs_store_resync_apply(st, &r1, 1, gone, 3, 5, &acc, NULL, NULL), 0);
    assert_int_equal(acc.removed, 1);
    assert_int_equal(fs_store_resync_finish(st, &acc, NULL, NULL, NULL), 0);
    assert_int_equal(acc.removed, 1);    /* nothing left to sweep */
    assert_int_equal(acc.kept_local, 1); /* r3, counted once */
    assert_true(has(st, "r1") && has(st, "r3"));
    assert_false(has(st, "r2"));
    fs_state_free(r1);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void test_conflicts_are_counted(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    seed_remote(st);
    size_t n = 99;
    assert_int_equal(fs_store_conflict_count(st, &n, NULL), 0);
    assert_int_equal(n, 0);
    /* a local edit of r1 concurrent with a server edit of it: the name conflicts */
    tu_put_account(st, "r1", "Local name", 0, NULL, NULL, NULL);
    fs_state *srv = server_account("r1", "Server name", 2);
    assert_int_equal(fs_store_apply_remote(st, &srv, 1, NULL, 0, 4, NULL, NULL), 0);
    assert_int_equal(fs_store_conflict_count(st, &n, NULL), 0);
    assert_int_equal(n, 1);
    fs_state_free(srv);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static const char *name_of(fs_store *st, const char *id)
{
    static char buf[64];
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_store_get(st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, NULL, &m, NULL), 0);
    snprintf(buf, sizeof(buf), "%s", ((Fieldsync__Account *)m)->name);
    protobuf_c_message_free_unpacked(m, NULL);
    return buf;
}

static void test_changes_refused_read_only_are_undone_by_the_resync(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    seed_remote(st);
    tu_put_account(st, "r1", "Manager edit", 0, NULL, NULL, NULL); /* refused: read only */
    tu_put_account(st, "mine", "New here", 0, NULL, NULL, NULL);   /* refused: read only */
    tu_put_account(st, "r2", "Moved away", 0, NULL, NULL, NULL);   /* refused: territory */
    fs_outbox_batch batch;
    assert_int_equal(fs_outbox_take(st, 10, &batch, NULL), 0);
    assert_int_equal(batch.n, 3);
    fs_outbox_result res[3];
    for (size_t i = 0; i < 3; i++)
        res[i] = (fs_outbox_result){.reason = strcmp(batch.items[i].state->id, "r2") == 0
                                                  ? FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY
                                                  : FIELDSYNC__REFUSAL__REASON__READ_ONLY};
    assert_int_equal(fs_outbox_complete(st, &batch, res, 3, NULL), 0);
    fs_outbox_batch_clear(&batch);
    tu_put_account(st, "r3", "Pending edit", 0, NULL, NULL, NULL); /* a pending change */

    assert_int_equal(fs_store_resync_begin(st, NULL), 0);
    fs_state *s[3] = {server_account("r1", "One", 1), server_account("r2", "Two", 1),
                      server_account("r3", "Three", 1)};
    fs_store_resync_report acc = {0};
    assert_int_equal(fs_store_resync_apply(st, s, 3, NULL, 0, 7, &acc, NULL, NULL), 0);
    assert_int_equal(fs_store_resync_finish(st, &acc, NULL, NULL, NULL), 0);
    /* r1 is the server's again; "mine", refused and not given, is gone */
    assert_string_equal(name_of(st, "r1"), "One");
    assert_false(has(st, "mine"));
    assert_int_equal(acc.restored, 2);
    assert_int_equal(acc.removed, 1);
    /* a refusal of another reason and a pending change stay, as before */
    assert_string_equal(name_of(st, "r2"), "Moved away");
    assert_string_equal(name_of(st, "r3"), "Pending edit");
    size_t refused = 0, pending = 0;
    assert_int_equal(fs_outbox_count(st, FS_OUTBOX_REFUSED, &refused, NULL), 0);
    assert_int_equal(fs_outbox_count(st, FS_OUTBOX_PENDING, &pending, NULL), 0);
    assert_int_equal(refused, 1);
    assert_int_equal(pending, 1);
    for (int i = 0; i < 3; i++)
        fs_state_free(s[i]);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_removes_what_the_server_no_longer_gives),
        cmocka_unit_test(test_interrupted_resync_resumes_with_its_marks),
        cmocka_unit_test(test_a_second_resync_uses_a_new_epoch),
        cmocka_unit_test(test_nothing_is_applied_or_swept_without_an_active_resync),
        cmocka_unit_test(test_removals_in_a_resync_page_count_as_removed),
        cmocka_unit_test(test_conflicts_are_counted),
        cmocka_unit_test(test_changes_refused_read_only_are_undone_by_the_resync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
