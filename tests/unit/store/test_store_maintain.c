/*
 * test_store_maintain.c: deferred maintenance. Checkpoints: By default a commit that takes
 * the WAL past the connection's limit checkpoints (paying the database fsync
 * inside that write) and SQLite then restarts the WAL from its start, so the
 * file stays near the limit. A store whose owner defers checkpoints hands them
 * to a thread of its own (checkpoint.c), which copies the WAL into the
 * database with no commit waiting for it. FTS5: deferring turns its automerge off (merges
 * run in fs_store_maintain, a pulled book's search rows before any merge) and
 * undeferring restores it. Memory: maintenance
 * hands the page cache's memory back; the store reads on as before.
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
#include <time.h>

#include "store_int.h"
#include "store_test_util.h"

#define PAGE 4096
#define WAL_HEADER 32
#define FRAME_HEADER 24
#define MARGIN 200 /* frames: more than one put writes */
#define COPIED 200 /* pages a checkpoint of the thread must add to the database file */

static int autocheckpoint_limit(fs_store *st)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA wal_autocheckpoint", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int pages = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return pages;
}

/* Frames the WAL file has room for (it never shrinks while the store is open). */
static long wal_file_frames(const char *dir)
{
    char *wal = tu_path(dir, "store.db-wal");
    struct stat sb;
    long frames = stat(wal, &sb) == 0 ? (sb.st_size - WAL_HEADER) / (PAGE + FRAME_HEADER) : 0;
    free(wal);
    return frames;
}

static void put_account(fs_store *st, int i)
{
    char id[32], name[64];
    snprintf(id, sizeof(id), "acc-%05d", i);
    snprintf(name, sizeof(name), "Account number %d with a longer name", i);
    tu_put_account(st, id, name, 1 + i % 5, "rep", "Bramley", "notes notes notes");
}

/* Pages the database file holds. */
static long db_file_pages(const char *dir)
{
    char *db = tu_path(dir, "store.db");
    struct stat sb;
    long pages = stat(db, &sb) == 0 ? sb.st_size / PAGE : 0;
    free(db);
    return pages;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void deferred_checkpoints_run_on_their_own_thread(void **state)
{
    (void)state;
    /* deferred: commits leave the WAL to the checkpointer thread, which copies
     * it into the database once it grew by FS_STORE_CKPT_PAGES, with no call to
     * fs_store_maintain. SQLite's own autocheckpoint is off and the writes stay
     * below FS_STORE_CKPT_FORCE_PAGES, so no commit copies it itself (before,
     * the commit that passed FS_STORE_WAL_LIMIT_PAGES did, and this test
     * failed on the limit still being set) */
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    const int limit = autocheckpoint_limit(st);
    assert_true(limit > 0 && FS_STORE_CKPT_PAGES + MARGIN < FS_STORE_CKPT_FORCE_PAGES);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    assert_int_equal(autocheckpoint_limit(st), 0);
    const long before = db_file_pages(dir);
    /* notes longer than a page: every put adds pages the database must get */
    char notes[2 * PAGE];
    memset(notes, 'n', sizeof(notes) - 1);
    notes[sizeof(notes) - 1] = '\0';
    int puts = 0;
    while (wal_file_frames(dir) <= FS_STORE_CKPT_PAGES + MARGIN) {
        char id[32];
        assert_true(puts < 20000);
        snprintf(id, sizeof(id), "acc-%05d", puts++);
        tu_put_account(st, id, "Account with long notes", 1, "rep", "Bramley", notes);
    }
    const double deadline = now_s() + 10.0;
    /* the pages live in the WAL (the file held page 1) until a checkpoint */
    while (db_file_pages(dir) < before + COPIED && now_s() < deadline) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL); /* polling a condition, with a deadline */
    }
    assert_true(db_file_pages(dir) >= before + COPIED);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);

    /* default: writes keep the WAL file near the connection's limit */
    dir = tu_mkdtemp();
    st = tu_open_plain(dir);
    for (int i = 0; i < 4 * limit; i++)
        put_account(st, i);
    assert_true(wal_file_frames(dir) <= limit + MARGIN);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

/* A deferring owner's commits hand the WAL to the checkpointer: SQLite's own
 * autocheckpoint is off (its hook replaced) until the owner stops deferring. */
static void undeferring_restores_the_connection_limit(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    const int limit = autocheckpoint_limit(st);
    assert_true(limit > 0);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    assert_int_equal(autocheckpoint_limit(st), 0);
    assert_non_null(st->ckpt);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    assert_int_equal(fs_store_defer_maintenance(st, false, NULL), 0);
    assert_int_equal(autocheckpoint_limit(st), limit);
    assert_null(st->ckpt);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

/* FTS5's automerge setting as stored in the index's config table (absent: 4). */
static int fts_automerge(fs_store *st)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, "SELECT v FROM search_config WHERE k = 'automerge'",
                                        -1, &s, NULL),
                     SQLITE_OK);
    int level = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 4;
    sqlite3_finalize(s);
    return level;
}

static void deferred_fts_merges_leave_inserts_and_run_in_maintenance(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    assert_int_equal(fts_automerge(st), 4);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    assert_int_equal(fts_automerge(st), 0);
    for (int i = 0; i < 50; i++)
        put_account(st, i);
    assert_int_equal(fs_store_maintain(st, NULL, NULL), 0);
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(st, "number", 0, 100, &hits, &n, NULL), 0);
    assert_int_equal(n, 50); /* merging kept every row findable */
    fs_search_hits_free(hits, n);
    assert_int_equal(fs_store_defer_maintenance(st, false, NULL), 0);
    assert_int_equal(fts_automerge(st), 4);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

/* Each transaction leaves FTS5 a segment; with automerge off they wait for
 * maintenance, which must say there is more while a merge step does work, or
 * the owner stops and the next writes pay for the merges. */
static void maintenance_goes_on_while_merging_does_work(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    for (int i = 0; i < 40; i++)
        put_account(st, i); /* 40 transactions: 40 segments */
    bool more = false;
    assert_int_equal(fs_store_maintain(st, &more, NULL), 0);
    assert_true(more); /* nothing queued: only the merge has more */
    int steps = 1;
    while (more && steps < 100) {
        assert_int_equal(fs_store_maintain(st, &more, NULL), 0);
        steps++;
    }
    assert_false(more); /* and it ends */
    assert_int_equal(fs_store_maintain(st, &more, NULL), 0);
    assert_false(more);
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(st, "number", 0, 100, &hits, &n, NULL), 0);
    assert_int_equal(n, 40);
    fs_search_hits_free(hits, n);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

/* FTS5's crisismerge setting as stored in the index's config table (absent: 16). */
static int fts_crisismerge(fs_store *st)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db,
                                        "SELECT v FROM search_config WHERE k = 'crisismerge'", -1,
                                        &s, NULL),
                     SQLITE_OK);
    int level = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 16;
    sqlite3_finalize(s);
    return level;
}

/* Pulls n accounts written by another replica, in pages of 1,000. */
static void pull_accounts(fs_store *st, size_t n)
{
    fs_state *page[1000];
    for (size_t first = 0; first < n; first += 1000) {
        size_t k = n - first < 1000 ? n - first : 1000;
        for (size_t i = 0; i < k; i++) {
            char id[32], name[64];
            snprintf(id, sizeof(id), "pulled-%06zu", first + i);
            snprintf(name, sizeof(name), "Pulled account %zu", first + i);
            Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
            a.name = name;
            assert_int_equal(fs_state_new(&page[i], FIELDSYNC__RECORD_KIND__ACCOUNT, id, NULL), 0);
            assert_int_equal(fs_record_write_msg(page[i], 0xfee1, (uint64_t)(1 + first + i) << 16,
                                                 &a.base, NULL, 0, NULL),
                             0);
        }
        fs_pull_pos at = {first + k, NULL, 0};
        assert_int_equal(fs_store_apply_pulled(st, page, k, NULL, 0, &at, NULL, NULL), 0);
        for (size_t i = 0; i < k; i++)
            fs_state_free(page[i]);
    }
}

/* A pulled book's search rows are indexed in steps, each leaving segments;
 * merging them as they come redid the work at every level. While records wait
 * and until the merges that follow are done, the crisis merge waits for more
 * segments; then it guards the next writes again, also after a crash left it
 * raised. */
static void search_backlog_is_indexed_first_and_merged_after(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    pull_accounts(st, FS_STORE_SEARCH_STEP + 1000);
    assert_int_equal(fts_crisismerge(st), 16);
    bool more = false;
    assert_int_equal(fs_store_maintain(st, &more, NULL), 0);
    uint64_t left = 0;
    assert_int_equal(fs_store_search_backlog(st, &left, NULL), 0);
    assert_int_equal(left, 1000);
    assert_true(more);
    assert_true(fts_crisismerge(st) > 16);
    int steps = 1;
    while (more && steps < 200) {
        assert_int_equal(fs_store_maintain(st, &more, NULL), 0);
        steps++;
    }
    assert_false(more);
    assert_int_equal(fts_crisismerge(st), 16);
    assert_int_equal(fs_store_search_backlog(st, &left, NULL), 0);
    assert_int_equal(left, 0);
    const char *words[] = {"0", "4999", "5999"}; /* each step's records are found */
    for (size_t i = 0; i < 3; i++) {
        fs_search_hit *hits = NULL;
        size_t n = 0;
        assert_int_equal(fs_store_search(st, words[i], 0, 10, &hits, &n, NULL), 0);
        assert_int_equal(n, 1);
        fs_search_hits_free(hits, n);
    }
    /* as a crash in the middle leaves it */
    assert_int_equal(
        fs_store_exec(st, "INSERT INTO search(search, rank) VALUES('crisismerge', 64)", NULL), 0);
    fs_store_close(st);
    st = tu_open_plain(dir);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    assert_int_equal(fts_crisismerge(st), 16);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static int cache_used_bytes(fs_store *st)
{
    int used = 0, high = 0;
    assert_int_equal(sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_USED, &used, &high, 0),
                     SQLITE_OK);
    return used;
}

static void maintenance_hands_the_page_cache_memory_back(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    assert_int_equal(fs_store_set_cache_kib(st, 8192, NULL), 0);
    for (int i = 0; i < 2000; i++)
        put_account(st, i);
    int busy = cache_used_bytes(st);
    assert_true(busy > 1 << 20); /* the puts filled more than a MiB of cache */
    assert_int_equal(fs_store_maintain(st, NULL, NULL), 0);
    int idle = cache_used_bytes(st);
    assert_true(idle < busy / 4);
    fs_list_query q = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT, .limit = 10};
    fs_list_page page;
    assert_int_equal(fs_store_list(st, &q, &page, NULL), 0);
    assert_int_equal(page.n, 10);
    fs_list_page_clear(&page);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deferred_checkpoints_run_on_their_own_thread),
        cmocka_unit_test(undeferring_restores_the_connection_limit),
        cmocka_unit_test(deferred_fts_merges_leave_inserts_and_run_in_maintenance),
        cmocka_unit_test(maintenance_goes_on_while_merging_does_work),
        cmocka_unit_test(search_backlog_is_indexed_first_and_merged_after),
        cmocka_unit_test(maintenance_hands_the_page_cache_memory_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
