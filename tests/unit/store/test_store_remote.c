/*
 * test_store_remote.c: applying pulled pages: a large page and its cursor commit
 * together, a failure in the middle of a page leaves neither, pages are
 * idempotent, removals drop records unless they hold unsynced changes, remote
 * deletes leave the projections, and remote clocks order later local writes.
 * A page commits with synchronous=NORMAL; local writes find FULL again after
 * every apply, failed or not. Under a deferring owner, pulled records are
 * listed at once and get their search rows from maintenance, in bounded steps,
 * as they stand by then.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT
#define REMOTE TU_REMOTE

typedef tu_store_fixture fixture;

static fs_state **make_page(size_t n, const char *prefix)
{
    fs_state **page = calloc(n, sizeof(*page));
    char id[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s%05zu", prefix, i);
        page[i] = tu_remote_account(id, id, (1000 + i) << 16);
    }
    return page;
}

static void free_page(fs_state **page, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fs_state_free(page[i]);
    free(page);
}

static int64_t records(fs_store *st)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM records", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static uint64_t cursor(fs_store *st)
{
    uint64_t c = 0;
    assert_int_equal(fs_store_meta_get_u64(st, FS_META_CURSOR, &c, NULL), 0);
    return c;
}

static void large_page_and_cursor_commit_together(void **state)
{
    fixture *f = *state;
    size_t n = 3000;
    fs_state **page = make_page(n, "acc");
    fs_apply_report r;
    assert_int_equal(fs_store_apply_remote(f->st, page, n, NULL, 0, 42, &r, NULL), 0);
    assert_int_equal(r.applied, n);
    assert_int_equal(r.changed, n);
    assert_int_equal(records(f->st), (int64_t)n);
    assert_int_equal(cursor(f->st), 42);
    assert_int_equal(tu_synchronous(f->st), 2);
    size_t pending = 99;
    assert_int_equal(fs_outbox_count(f->st, -1, &pending, NULL), 0);
    assert_int_equal(pending, 0); /* remote states are not local changes */
    fs_list_query q = {.kind = ACCOUNT, .tier = FIELDSYNC__ACCOUNT__TIER__TARGET, .limit = 1000};
    fs_list_page lp;
    assert_int_equal(fs_store_list(f->st, &q, &lp, NULL), 0);
    assert_int_equal(lp.n, 1000);
    assert_non_null(lp.next_cursor);
    fs_list_page_clear(&lp);
    fs_apply_report_clear(&r); /* the report owns the refs it lists */

    /* The same page again (a retried pull): nothing changes. */
    assert_int_equal(fs_store_apply_remote(f->st, page, n, NULL, 0, 43, &r, NULL), 0);
    assert_int_equal(r.applied, n);
    assert_int_equal(r.changed, 0);
    assert_int_equal(cursor(f->st), 43);
    fs_apply_report_clear(&r);
    free_page(page, n);
}

static void failure_mid_page_applies_nothing_and_keeps_the_cursor(void **state)
{
    fixture *f = *state;
    assert_int_equal(fs_store_meta_set_u64(f->st, FS_META_CURSOR, 7, NULL), 0);
    /* Fault injection: the 1501st record's insert fails inside the transaction. */
    assert_int_equal(sqlite3_exec(f->st->db,
                                  "CREATE TEMP TRIGGER poison BEFORE INSERT ON main.records "
                                  "WHEN NEW.id = 'acc01500' BEGIN SELECT RAISE(ABORT, 'disk "
                                  "trouble'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    size_t n = 3000;
    fs_state **page = make_page(n, "acc");
    fs_apply_report r;
    fs_err err;
    assert_int_not_equal(fs_store_apply_remote(f->st, page, n, NULL, 0, 8, &r, &err), 0);
    assert_non_null(strstr(fs_err_message(&err), "disk trouble"));
    assert_int_equal(r.applied, 0);
    assert_int_equal(records(f->st), 0);
    assert_int_equal(cursor(f->st), 7);
    assert_int_equal(tu_synchronous(f->st), 2);
    fs_search_hit *hits = NULL;
    size_t nh = 0;
    assert_int_equal(fs_store_search(f->st, "acc00001", 0, 10, &hits, &nh, NULL), 0);
    assert_int_equal(nh, 0); /* no projection or FTS row leaked either */
    fs_search_hits_free(hits, nh);

    assert_int_equal(sqlite3_exec(f->st->db, "DROP TRIGGER poison", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(fs_store_apply_remote(f->st, page, n, NULL, 0, 8, &r, NULL), 0);
    assert_int_equal(records(f->st), (int64_t)n);
    assert_int_equal(cursor(f->st), 8);
    fs_apply_report_clear(&r);
    free_page(page, n);
}

/* A snapshot's position is stored with its page, kept by a page that fails,
 * and gone once a page ends the snapshot (protocol.md, "Snapshot"). */
static void snapshot_position_commits_with_its_page(void **state)
{
    fixture *f = *state;
    fs_state **page = make_page(2, "snap");
    uint8_t *pos = NULL;
    size_t len = 0;
    fs_pull_pos at = {0, (const uint8_t *)"pos-1", 5};
    assert_int_equal(fs_store_apply_pulled(f->st, page, 1, NULL, 0, &at, NULL, NULL), 0);
    assert_int_equal(fs_store_meta_get(f->st, FS_META_PULL_SNAPSHOT, &pos, &len, NULL), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(pos, "pos-1", 5);
    free(pos);
    assert_int_equal(sqlite3_exec(f->st->db,
                                  "CREATE TEMP TRIGGER poison BEFORE INSERT ON main.records "
                                  "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    at.snapshot = (const uint8_t *)"pos-2";
    assert_int_not_equal(fs_store_apply_pulled(f->st, page + 1, 1, NULL, 0, &at, NULL, NULL), 0);
    assert_int_equal(fs_store_meta_get(f->st, FS_META_PULL_SNAPSHOT, &pos, &len, NULL), 0);
    assert_memory_equal(pos, "pos-1", 5);
    free(pos);
    assert_int_equal(sqlite3_exec(f->st->db, "DROP TRIGGER poison", NULL, NULL, NULL), SQLITE_OK);
    at = (fs_pull_pos){.cursor = 12};
    assert_int_equal(fs_store_apply_pulled(f->st, page + 1, 1, NULL, 0, &at, NULL, NULL), 0);
    assert_int_equal(fs_store_meta_get(f->st, FS_META_PULL_SNAPSHOT, &pos, &len, NULL),
                     FS_ENOTFOUND);
    assert_int_equal(cursor(f->st), 12);
    assert_int_equal(records(f->st), 2);
    free_page(page, 2);
}

static void oversized_page_is_refused(void **state)
{
    fixture *f = *state;
    fs_err err;
    assert_int_equal(
        fs_store_apply_remote(f->st, NULL, FS_STORE_APPLY_MAX + 1, NULL, 0, 1, NULL, &err),
        FS_ETOOBIG);
    assert_non_null(strstr(fs_err_message(&err), "smaller pages"));
}

static void removal_drops_synced_records_and_keeps_unsynced_ones(void **state)
{
    fixture *f = *state;
    fs_state **page = make_page(3, "acc");
    assert_int_equal(fs_store_apply_remote(f->st, page, 3, NULL, 0, 1, NULL, NULL), 0);
    free_page(page, 3);
    /* acc00001 gets a local edit not yet pushed. */
    Fieldsync__Account edit = FIELDSYNC__ACCOUNT__INIT;
    edit.notes = "promised a demo";
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "acc00001", &edit.base, NULL, 0, NULL), 0);

    fs_ref rm[] = {{ACCOUNT, "acc00000"}, {ACCOUNT, "acc00001"}, {ACCOUNT, "never-seen"}};
    fs_apply_report r;
    assert_int_equal(fs_store_apply_remote(f->st, NULL, 0, rm, 3, 2, &r, NULL), 0);
    assert_int_equal(r.removed, 1);
    assert_int_equal(r.kept, 1);
    assert_string_equal(r.kept_refs[0].id, "acc00001");
    fs_apply_report_clear(&r);
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "acc00000", NULL, NULL, NULL), FS_ENOTFOUND);
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "acc00001", NULL, NULL, NULL), 0);
    fs_search_hit *hits = NULL;
    size_t nh = 0;
    assert_int_equal(fs_store_search(f->st, "acc00000", 0, 10, &hits, &nh, NULL), 0);
    assert_int_equal(nh, 0);
    fs_search_hits_free(hits, nh);
    fs_list_query q = {.kind = ACCOUNT};
    fs_list_page lp;
    assert_int_equal(fs_store_list(f->st, &q, &lp, NULL), 0);
    assert_int_equal(lp.n, 2);
    fs_list_page_clear(&lp);

    fs_ref bad = {ACCOUNT, NULL};
    assert_int_equal(fs_store_apply_remote(f->st, NULL, 0, &bad, 1, 3, &r, NULL), FS_ECORRUPT);
    assert_int_equal(cursor(f->st), 2);
}

/* A record that left the rep's territory leaves no copy in the store's files:
 * what is deleted is zeroed (secure_delete), on the pages that keep other
 * rows and on the pages freed (a long note's overflow pages). The markers
 * are upper case: the search index holds words in lower case, and keeps a
 * removed row's words until its segments merge (store.md, "Deleted
 * content"). */
static void removed_record_leaves_no_copy_in_the_files(void **state)
{
    fixture *f = *state;
    const char *city = "MARKERCITYOFAREMOVEDRECORD", *in_note = "MARKERNOTEOFAREMOVEDRECORD";
    size_t len = 15 * 4096; /* a state spilling over overflow pages */
    char *notes = malloc(len + 1);
    assert_non_null(notes);
    memset(notes, 'n', len);
    memcpy(notes + len - 40, in_note, strlen(in_note)); /* near its end: on one of them */
    notes[len] = '\0';
    fs_state *s = tu_remote_account("moved", "Moving Mills", 5ull << 16);
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    addr.city = (char *)city;
    a.address = &addr;
    a.notes = notes;
    assert_int_equal(fs_record_write_msg(s, REMOTE, 6ull << 16, &a.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_store_apply_remote(f->st, &s, 1, NULL, 0, 1, NULL, NULL), 0);
    fs_state_free(s);
    free(notes);
    fs_store_close(f->st); /* checkpointed into the database file */
    f->st = tu_open_plain(f->dir);
    assert_true(tu_dir_contains(f->dir, city));
    assert_true(tu_dir_contains(f->dir, in_note));
    fs_ref rm = {ACCOUNT, "moved"};
    fs_apply_report r;
    assert_int_equal(fs_store_apply_remote(f->st, NULL, 0, &rm, 1, 2, &r, NULL), 0);
    assert_int_equal(r.removed, 1);
    fs_apply_report_clear(&r);
    fs_store_close(f->st);
    f->st = tu_open_plain(f->dir);
    assert_false(tu_dir_contains(f->dir, city));
    assert_false(tu_dir_contains(f->dir, in_note));
}

static void remote_delete_leaves_lists_and_search(void **state)
{
    fixture *f = *state;
    fs_state *s = tu_remote_account("gone", "Vanishing Ventures", 5ull << 16);
    assert_int_equal(fs_store_apply_remote(f->st, &s, 1, NULL, 0, 1, NULL, NULL), 0);
    assert_int_equal(fs_record_delete(s, REMOTE, 6ull << 16, NULL), 0);
    assert_int_equal(fs_store_apply_remote(f->st, &s, 1, NULL, 0, 2, NULL, NULL), 0);
    fs_state_free(s);
    fs_search_hit *hits = NULL;
    size_t nh = 0;
    assert_int_equal(fs_store_search(f->st, "vanishing", 0, 10, &hits, &nh, NULL), 0);
    assert_int_equal(nh, 0);
    fs_search_hits_free(hits, nh);
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "gone", NULL, &m, NULL), 0);
    assert_null(m);
}

static size_t hits_for(fs_store *st, const char *query)
{
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(st, query, 0, 10, &hits, &n, NULL), 0);
    fs_search_hits_free(hits, n);
    return n;
}

static uint64_t backlog(fs_store *st)
{
    uint64_t n = 99;
    assert_int_equal(fs_store_search_backlog(st, &n, NULL), 0);
    return n;
}

static void apply_one(fs_store *st, fs_state *s, uint64_t cursor)
{
    assert_int_equal(fs_store_apply_remote(st, &s, 1, NULL, 0, cursor, NULL, NULL), 0);
}

static void store_without_deferral_indexes_pulled_records_at_once(void **state)
{
    fixture *f = *state;
    fs_state *s = tu_remote_account("a", "Quince Quarry", 5ull << 16);
    apply_one(f->st, s, 1);
    fs_state_free(s);
    assert_int_equal(hits_for(f->st, "quince"), 1);
    assert_int_equal(backlog(f->st), 0);
}

static void deferring_owner_gets_search_rows_from_maintenance(void **state)
{
    fixture *f = *state;
    assert_int_equal(fs_store_defer_maintenance(f->st, true, NULL), 0);
    size_t n = 3;
    fs_state **page = make_page(n, "pulled");
    assert_int_equal(fs_store_apply_remote(f->st, page, n, NULL, 0, 1, NULL, NULL), 0);
    free_page(page, n);
    fs_list_query q = {.kind = ACCOUNT, .limit = 10};
    fs_list_page lp;
    assert_int_equal(fs_store_list(f->st, &q, &lp, NULL), 0);
    assert_int_equal(lp.n, n); /* listed at once */
    fs_list_page_clear(&lp);
    assert_int_equal(hits_for(f->st, "pulled00001"), 0);
    assert_int_equal(backlog(f->st), n);
    /* a local write is indexed at once, deferral or not */
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Local Larch";
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "local", &a.base, NULL, 0, NULL), 0);
    assert_int_equal(hits_for(f->st, "larch"), 1);
    assert_int_equal(backlog(f->st), n);

    assert_int_equal(fs_store_maintain(f->st, NULL, NULL), 0);
    assert_int_equal(backlog(f->st), 0);
    assert_int_equal(hits_for(f->st, "pulled00000"), 1);
    assert_int_equal(hits_for(f->st, "pulled00002"), 1);
}

/* The FTS rows of a rowid (a record's search rows must be one or none). */
static int64_t search_rows(fs_store *st, const char *id)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db,
                                        "SELECT count(*) FROM search WHERE rowid = "
                                        "(SELECT rid FROM records WHERE id = ?)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static void queued_records_are_indexed_as_they_stand(void **state)
{
    fixture *f = *state;
    assert_int_equal(fs_store_defer_maintenance(f->st, true, NULL), 0);
    fs_state *page[] = {tu_remote_account("edited", "Rowan Rope", 5ull << 16),
                        tu_remote_account("deleted", "Sorrel Salt", 5ull << 16),
                        tu_remote_account("removed", "Tansy Timber", 5ull << 16)};
    assert_int_equal(fs_store_apply_remote(f->st, page, 3, NULL, 0, 1, NULL, NULL), 0);
    /* before maintenance: edited here, deleted remotely, removed from the territory */
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Umber Unlimited";
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "edited", &a.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_record_delete(page[1], REMOTE, 6ull << 16, NULL), 0);
    apply_one(f->st, page[1], 2);
    fs_ref gone = {ACCOUNT, "removed"};
    assert_int_equal(fs_store_apply_remote(f->st, NULL, 0, &gone, 1, 3, NULL, NULL), 0);
    for (size_t i = 0; i < 3; i++)
        fs_state_free(page[i]);

    assert_int_equal(fs_store_maintain(f->st, NULL, NULL), 0);
    assert_int_equal(backlog(f->st), 0);
    assert_int_equal(hits_for(f->st, "umber"), 1);
    assert_int_equal(search_rows(f->st, "edited"), 1);
    assert_int_equal(hits_for(f->st, "rowan"), 0);
    assert_int_equal(hits_for(f->st, "sorrel"), 0);
    assert_int_equal(hits_for(f->st, "tansy"), 0);
}

static void maintenance_indexes_a_bounded_step(void **state)
{
    fixture *f = *state;
    assert_int_equal(fs_store_defer_maintenance(f->st, true, NULL), 0);
    size_t n = FS_STORE_SEARCH_STEP + 10;
    fs_state **page = make_page(n, "acc");
    assert_int_equal(fs_store_apply_remote(f->st, page, n, NULL, 0, 1, NULL, NULL), 0);
    free_page(page, n);
    assert_int_equal(backlog(f->st), n);
    assert_int_equal(fs_store_maintain(f->st, NULL, NULL), 0);
    assert_int_equal(backlog(f->st), 10);
    assert_int_equal(fs_store_maintain(f->st, NULL, NULL), 0);
    assert_int_equal(backlog(f->st), 0);
}

static void local_write_after_remote_orders_after_it(void **state)
{
    fixture *f = *state;
    uint64_t now = 1000;
    fs_store_set_clock(f->st, tu_clock, &now); /* our wall clock lags the remote's */
    uint64_t future = (uint64_t)5000000 << 16;
    fs_state *s = tu_remote_account("a", "Remote", future);
    assert_int_equal(fs_store_apply_remote(f->st, &s, 1, NULL, 0, 1, NULL, NULL), 0);
    fs_state_free(s);
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Local";
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "a", &a.base, NULL, 0, NULL), 0);
    fs_state *got = NULL;
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "a", &got, &m, NULL), 0);
    assert_true(fs_record_hlc(got) > future);
    assert_string_equal(((Fieldsync__Account *)m)->name, "Local"); /* the later write wins */
    protobuf_c_message_free_unpacked(m, NULL);
    fs_state_free(got);
    fs_store_close(f->st); /* and the clock survives a restart */
    f->st = tu_open_plain(f->dir);
    fs_store_set_clock(f->st, tu_clock, &now);
    a.name = "Local again";
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "b", &a.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "b", &got, NULL, NULL), 0);
    assert_true(fs_record_hlc(got) > future);
    fs_state_free(got);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tu_store_setup, tu_store_teardown)
    const struct CMUnitTest tests[] = {
        T(large_page_and_cursor_commit_together),
        T(failure_mid_page_applies_nothing_and_keeps_the_cursor),
        T(snapshot_position_commits_with_its_page),
        T(oversized_page_is_refused),
        T(removal_drops_synced_records_and_keeps_unsynced_ones),
        T(removed_record_leaves_no_copy_in_the_files),
        T(remote_delete_leaves_lists_and_search),
        T(local_write_after_remote_orders_after_it),
        T(store_without_deferral_indexes_pulled_records_at_once),
        T(deferring_owner_gets_search_rows_from_maintenance),
        T(queued_records_are_indexed_as_they_stand),
        T(maintenance_indexes_a_bounded_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
