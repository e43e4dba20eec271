/*
 * test_store_load.c: the initial load (store/load.c, store.md "Initial
 * load"): a pull into an empty store in bulk, with its indexes built at the
 * end and a marker that makes a crash safe.
 *
 * The book is the demo generator's, its states sorted by (kind, id) and cut
 * into pages as a snapshot gives them. What a load must end with is what the
 * same pages give a store that is not loading: the same records, projections,
 * search rows and indexes (compared as digests of their rows, rids aside).
 *
 * The crash test kills a writer child (SIGKILL) at seeded random moments
 * while it loads the book into an encrypted store as fieldsyncd does
 * (deferred maintenance, a small cache, batches of a few pages) and makes
 * local changes between pages; each restart goes on from the position its
 * last batch committed, until a child finishes. Then the store must equal the
 * uninterrupted one and hold every acknowledged local change with its outbox
 * entry. FS_STORE_LOAD_KILLS (default 40) and FS_STORE_LOAD_SEED tune it.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fieldsync/demo.h"
#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

#define PASS "load test passphrase"
#define REMOTE 0x10adull
#define PAGE 40
#define BATCH 120 /* three pages a batch */
#define CACHE_KIB 64

/* ------------------------------------------------------------------------- */
/* The book */

typedef struct book {
    fs_state **states;
    size_t n, cap;
} book;

static int collect(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *rec)
{
    book *b = ctx;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(rec->descriptor, 1);
    const char *id = *(char *const *)((const char *)rec + f->offset);
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->states = realloc(b->states, b->cap * sizeof(*b->states));
        assert_non_null(b->states);
    }
    fs_state **st = &b->states[b->n++];
    assert_int_equal(fs_state_new(st, kind, id, NULL), 0);
    assert_int_equal(
        fs_record_write_msg(*st, REMOTE, (uint64_t)(1000 + b->n) << 16, rec, NULL, 0, NULL), 0);
    return 0;
}

static int by_key(const void *a, const void *b)
{
    const fs_state *x = *(fs_state *const *)a, *y = *(fs_state *const *)b;
    return x->kind != y->kind ? (int)x->kind - (int)y->kind : strcmp(x->id, y->id);
}

/* About 40 accounts with what hangs off them, in snapshot order. */
static void book_make(book *b)
{
    memset(b, 0, sizeof(*b));
    fs_demo_opts o = fs_demo_opts_default();
    o.accounts = 40;
    o.note_bytes = 300;
    assert_int_equal(fs_demo_generate(&o, collect, b, NULL), 0);
    qsort(b->states, b->n, sizeof(*b->states), by_key);
}

static void book_free(book *b)
{
    for (size_t i = 0; i < b->n; i++)
        fs_state_free(b->states[i]);
    free(b->states);
}

static size_t pages_of(const book *b)
{
    return (b->n + PAGE - 1) / PAGE;
}

/* Applies page i: its position is "page:<i+1>" while pages follow; the last
 * one ends the snapshot at cursor 1000. */
static int apply_page(fs_store *st, const book *b, size_t i, fs_err *err)
{
    char pos[32];
    size_t first = i * PAGE, n = b->n - first < PAGE ? b->n - first : PAGE;
    bool last = i + 1 == pages_of(b);
    snprintf(pos, sizeof(pos), "page:%zu", i + 1);
    fs_pull_pos at = {last ? 1000 : 0, last ? NULL : (const uint8_t *)pos, strlen(pos)};
    return fs_store_apply_pulled(st, b->states + first, n, NULL, 0, &at, NULL, err);
}

/* The next page to apply after a restart, from the stored position. */
static size_t next_page(fs_store *st)
{
    uint8_t *pos = NULL;
    size_t len = 0, page = 0;
    if (fs_store_meta_get(st, FS_META_PULL_SNAPSHOT, &pos, &len, NULL) == 0)
        sscanf((const char *)pos, "page:%zu", &page);
    free(pos);
    return page;
}

/* Indexes everything waiting for search (as fieldsyncd's idle steps do). */
static void drain_search(fs_store *st)
{
    uint64_t left = 1;
    while (left > 0) {
        assert_int_equal(fs_store_maintain(st, NULL, NULL), 0);
        assert_int_equal(fs_store_search_backlog(st, &left, NULL), 0);
    }
}

/* ------------------------------------------------------------------------- */
/* What a store holds, as a digest of its rows (rids left out: they follow
 * the order records arrived in) */

static const char *const dump_sql[] = {
    "SELECT kind, id, state, alive, has_conflict, hlc FROM records WHERE id NOT LIKE 'local-%' "
    "ORDER BY kind, id",
    "SELECT id, name, tier, stage, owner, city FROM accounts WHERE id NOT LIKE 'local-%' "
    "ORDER BY id",
    "SELECT id, account_id, name FROM contacts ORDER BY id",
    "SELECT id, account_id, planned_at, next_step, next_step_date, next_step_done FROM visits "
    "ORDER BY id",
    "SELECT id, account_id, stage, stage_entered_date, amount FROM opportunities ORDER BY id",
    "SELECT id, account_id, date, amount FROM transactions ORDER BY id",
    "SELECT r.kind, r.id, s.name, s.body FROM search s JOIN records r ON r.rid = s.rowid "
    "WHERE r.id NOT LIKE 'local-%' ORDER BY r.kind, r.id",
    "SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name",
    "SELECT value FROM sync_meta WHERE key IN ('cursor', 'pull_snapshot', 'initial_load') "
    "ORDER BY key",
};

static void digest(fs_store *st, uint8_t out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    for (size_t q = 0; q < sizeof(dump_sql) / sizeof(dump_sql[0]); q++) {
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_prepare_v2(st->db, dump_sql[q], -1, &s, NULL), SQLITE_OK);
        size_t rows = 0;
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(s); c++) {
                const void *v = sqlite3_column_blob(s, c);
                int len = sqlite3_column_bytes(s, c);
                uint8_t type = (uint8_t)sqlite3_column_type(s, c);
                crypto_generichash_update(&h, &type, 1);
                crypto_generichash_update(&h, (const uint8_t *)&len, sizeof(len));
                if (len > 0)
                    crypto_generichash_update(&h, v, (size_t)len);
            }
            rows++;
        }
        crypto_generichash_update(&h, (const uint8_t *)&rows, sizeof(rows));
        sqlite3_finalize(s);
    }
    crypto_generichash_final(&h, out, 32);
}

static int64_t count(fs_store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static int64_t projection_indexes(fs_store *st)
{
    return count(st, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL "
                     "AND tbl_name IN ('accounts', 'contacts', 'visits', 'opportunities', "
                     "'transactions')");
}

/* A plain store in dir, deferring as fieldsyncd does, loading (bulk) or not. */
static fs_store *open_to_pull(const char *dir, bool bulk)
{
    fs_store *st = tu_open_plain(dir);
    assert_int_equal(fs_store_defer_maintenance(st, true, NULL), 0);
    if (bulk) {
        fs_store_set_load_batch(st, BATCH);
        assert_int_equal(fs_store_load_begin(st, NULL), 0);
        assert_true(fs_store_loading(st));
    }
    return st;
}

/* Ends the pull (the load, if one goes on) and the search backlog, checks
 * that every visible account, contact and visit is findable, and closes st
 * with its digest in out. */
static void finish_to_digest(fs_store *st, uint8_t out[32])
{
    assert_int_equal(fs_store_load_finish(st, NULL), 0);
    drain_search(st);
    assert_int_equal(count(st, "SELECT count(*) FROM search_docsize"),
                     count(st, "SELECT count(*) FROM records WHERE kind IN (1, 2, 3) AND alive"));
    assert_true(count(st, "SELECT count(*) FROM search_docsize") > 100);
    digest(st, out);
    fs_store_close(st);
}

/* The book applied page by page to a plain store, loading or not: its digest. */
static void reference(const book *b, bool bulk, uint8_t out[32])
{
    char *dir = tu_mkdtemp();
    fs_store *st = open_to_pull(dir, bulk);
    for (size_t i = 0; i < pages_of(b); i++)
        assert_int_equal(apply_page(st, b, i, NULL), 0);
    finish_to_digest(st, out);
    tu_rmdir(dir);
    free(dir);
}

/* ------------------------------------------------------------------------- */
/* Unit tests */

static void test_a_load_ends_as_page_by_page_applies_do(void **state)
{
    (void)state;
    book b;
    book_make(&b);
    assert_true(pages_of(&b) > 10);
    uint8_t bulk[32], plain[32];
    reference(&b, true, bulk);
    reference(&b, false, plain);
    assert_memory_equal(bulk, plain, 32);
    book_free(&b);
}

/* A loading store inserts a pulled record without looking it up first; one
 * it already holds (the change feed after the snapshot, a page applied
 * again) must still be joined with it, as a store that is not loading does. */
static void test_a_load_joins_a_record_it_already_holds(void **state)
{
    (void)state;
    book b;
    book_make(&b);
    uint8_t digests[2][32];
    for (int bulk = 0; bulk < 2; bulk++) {
        char *dir = tu_mkdtemp();
        fs_store *st = open_to_pull(dir, bulk);
        assert_int_equal(apply_page(st, &b, 0, NULL), 0);
        /* the first page's first record deleted by a replica that never saw
         * it (concurrent: the join keeps both writes, a replacement one), and
         * its second record as it was */
        fs_state *again[2] = {NULL, NULL};
        assert_int_equal(fs_state_new(&again[0], b.states[0]->kind, b.states[0]->id, NULL), 0);
        assert_int_equal(fs_state_copy(&again[1], b.states[1], NULL), 0);
        assert_int_equal(fs_record_delete(again[0], 0x5eedull, (uint64_t)5000 << 16, NULL), 0);
        fs_pull_pos at = {0, (const uint8_t *)"page:1", 6};
        fs_apply_report r = {0};
        assert_int_equal(fs_store_apply_pulled(st, again, 2, NULL, 0, &at, &r, NULL), 0);
        assert_int_equal(r.applied, 2);
        assert_int_equal(r.changed, 1);
        fs_state *held = NULL;
        int64_t rid = 0;
        assert_int_equal(fs_store_load(st, again[0]->kind, again[0]->id, &rid, &held, NULL), 0);
        assert_non_null(held);
        assert_int_equal(held->nevents, 2); /* the book's write and the concurrent delete */
        assert_true(fs_record_alive(held));
        assert_int_equal(count(st, "SELECT count(*) FROM records"), PAGE);
        fs_state_free(held);
        fs_apply_report_clear(&r);
        fs_state_free(again[0]);
        fs_state_free(again[1]);
        for (size_t i = 1; i < pages_of(&b); i++)
            assert_int_equal(apply_page(st, &b, i, NULL), 0);
        finish_to_digest(st, digests[bulk]);
        tu_rmdir(dir);
        free(dir);
    }
    assert_memory_equal(digests[0], digests[1], 32);
    book_free(&b);
}

static void test_a_load_leaves_the_indexes_out_until_it_ends(void **state)
{
    tu_store_fixture *f = *state;
    book b;
    book_make(&b);
    int64_t before = projection_indexes(f->st);
    assert_true(before >= 10);
    assert_int_equal(fs_store_load_begin(f->st, NULL), 0);
    assert_true(fs_store_loading(f->st));
    assert_int_equal(projection_indexes(f->st), 0);
    assert_int_equal(count(f->st, "SELECT count(*) FROM sync_meta WHERE key = 'initial_load'"), 1);
    for (size_t i = 0; i + 1 < pages_of(&b); i++)
        assert_int_equal(apply_page(f->st, &b, i, NULL), 0);
    /* listed meanwhile, without the indexes */
    fs_list_query q = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT, .limit = 1000};
    fs_list_page lp;
    assert_int_equal(fs_store_list(f->st, &q, &lp, NULL), 0);
    assert_int_equal(lp.n, 40);
    fs_list_page_clear(&lp);
    assert_int_equal(apply_page(f->st, &b, pages_of(&b) - 1, NULL), 0);
    assert_int_equal(fs_store_load_finish(f->st, NULL), 0);
    assert_false(fs_store_loading(f->st));
    assert_int_equal(projection_indexes(f->st), before);
    assert_int_equal(count(f->st, "SELECT count(*) FROM sync_meta WHERE key = 'initial_load'"), 0);
    book_free(&b);
}

static void test_a_store_with_records_loads_page_by_page(void **state)
{
    tu_store_fixture *f = *state;
    tu_put_account(f->st, "mine", "Made before enrolling", 0, NULL, NULL, NULL);
    int64_t before = projection_indexes(f->st);
    assert_int_equal(fs_store_load_begin(f->st, NULL), 0);
    assert_false(fs_store_loading(f->st));
    assert_int_equal(projection_indexes(f->st), before);
}

/* A local change between pages commits the batch before its own transaction,
 * which flushes the WAL as every local change does: another connection sees
 * both at once. */
static void test_a_local_change_commits_the_open_batch_first(void **state)
{
    tu_store_fixture *f = *state;
    book b;
    book_make(&b);
    fs_store_set_load_batch(f->st, 100000);
    assert_int_equal(fs_store_load_begin(f->st, NULL), 0);
    assert_int_equal(apply_page(f->st, &b, 0, NULL), 0);
    char *path = tu_path(f->dir, "store.db");
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open_v2(path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(other, "SELECT count(*) FROM records", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), 0); /* the batch is open */
    sqlite3_reset(s);
    tu_put_account(f->st, "local-1", "Typed during the pull", 0, NULL, NULL, NULL);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), PAGE + 1);
    sqlite3_finalize(s);
    sqlite3_close(other);
    free(path);
    assert_true(fs_store_loading(f->st)); /* the load goes on */
    book_free(&b);
}

static void test_a_failed_page_leaves_the_batch_before_it(void **state)
{
    tu_store_fixture *f = *state;
    book b;
    book_make(&b);
    fs_store_set_load_batch(f->st, 100000);
    assert_int_equal(fs_store_load_begin(f->st, NULL), 0);
    assert_int_equal(apply_page(f->st, &b, 0, NULL), 0);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "CREATE TEMP TRIGGER poison BEFORE INSERT ON main.records WHEN NEW.id = '%s' "
             "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
             b.states[PAGE + 3]->id);
    assert_int_equal(sqlite3_exec(f->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(apply_page(f->st, &b, 1, NULL), 0);
    assert_int_equal(fs_store_load_flush(f->st, NULL), 0);
    assert_int_equal(count(f->st, "SELECT count(*) FROM records"), PAGE);
    assert_int_equal(next_page(f->st), 1);
    assert_int_equal(sqlite3_exec(f->st->db, "DROP TRIGGER poison", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(apply_page(f->st, &b, 1, NULL), 0);
    assert_int_equal(count(f->st, "SELECT count(*) FROM records"), 2 * PAGE);
    book_free(&b);
}

/* The marker outlives the connection: a reopened store goes on loading; one
 * that is about to migrate builds the indexes first. */
static void test_reopening_goes_on_loading_and_an_upgrade_builds_the_indexes(void **state)
{
    tu_store_fixture *f = *state;
    book b;
    book_make(&b);
    int64_t before = projection_indexes(f->st);
    assert_int_equal(fs_store_load_begin(f->st, NULL), 0);
    assert_int_equal(apply_page(f->st, &b, 0, NULL), 0);
    fs_store_close(f->st);
    f->st = tu_open_plain(f->dir);
    assert_true(fs_store_loading(f->st));
    assert_int_equal(count(f->st, "SELECT count(*) FROM records"), PAGE); /* close kept it */
    assert_int_equal(projection_indexes(f->st), 0);
    /* what fs_store_migrate does before a migration runs */
    assert_int_equal(fs_store_load_resume(f->st, true, NULL), 0);
    assert_false(fs_store_loading(f->st));
    assert_int_equal(projection_indexes(f->st), before);
    assert_int_equal(count(f->st, "SELECT count(*) FROM sync_meta WHERE key = 'initial_load'"), 0);
    book_free(&b);
}

/* ------------------------------------------------------------------------- */
/* The crash test */

#define ACK_SIZE 64
#define CHECK_FAILED 10

static uint64_t rng;

static uint64_t rnd(void)
{
    return tu_rnd(&rng);
}

/* 'P' a local put returned (id), 'R' a page was applied, 'D' the load is done */
typedef struct ack {
    char op;
    char id[40];
} ack;

static void send_ack(int fd, char op, const char *id)
{
    char buf[ACK_SIZE] = {0};
    ack a = {.op = op};
    snprintf(a.id, sizeof(a.id), "%s", id != NULL ? id : "");
    memcpy(buf, &a, sizeof(a));
    if (write(fd, buf, ACK_SIZE) != ACK_SIZE)
        _exit(5);
}

/* The child: opens the store as fieldsyncd does and goes on with the load as
 * the sync engine would, from the stored position; now and then a local
 * change between pages. Exits 0 once the load is done. */
static void loader(const char *db, const char *key, const book *b, int fd, int round)
{
    fs_store *st = NULL;
    fs_err err = {0};
    uint64_t cursor = 0;
    if (fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_CREATE | FS_STORE_FAST_KDF,
                      &err) != 0) {
        fprintf(stderr, "round %d: opening after the kill failed: %s\n", round, err.msg);
        _exit(CHECK_FAILED);
    }
    fs_store_set_load_batch(st, BATCH);
    if (fs_store_defer_maintenance(st, true, NULL) != 0 ||
        fs_store_set_cache_kib(st, CACHE_KIB, NULL) != 0 ||
        fs_store_meta_get_u64(st, FS_META_CURSOR, &cursor, NULL) != 0)
        _exit(3);
    /* a pull from 0 begins a load (a no-op while one goes on) */
    if (cursor == 0 && fs_store_load_begin(st, &err) != 0)
        _exit(3);
    for (size_t i = cursor == 0 ? next_page(st) : pages_of(b); i < pages_of(b); i++) {
        if (rnd() % 4 == 0) {
            char id[40];
            snprintf(id, sizeof(id), "local-%d-%zu", round, i);
            Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
            m.name = id;
            if (fs_store_put(st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, &m.base, NULL, 0, NULL) != 0)
                _exit(4);
            send_ack(fd, 'P', id);
        }
        if (apply_page(st, b, i, &err) != 0) {
            fprintf(stderr, "round %d: page %zu: %s\n", round, i, err.msg);
            _exit(4);
        }
        send_ack(fd, 'R', NULL);
    }
    if (fs_store_load_finish(st, &err) != 0)
        _exit(4);
    for (uint64_t left = 1; left > 0;)
        if (fs_store_maintain(st, NULL, NULL) != 0 || fs_store_search_backlog(st, &left, NULL) != 0)
            _exit(4);
    fs_store_close(st);
    send_ack(fd, 'D', NULL);
    _exit(0);
}

typedef struct acked {
    char ids[256][40];
    size_t n;
} acked;

/* One round: a loader child, killed after `kill_after` acks (and a random
 * fraction of a millisecond) unless it finishes first. True when it finished. */
static bool load_round(const char *db, const char *key, const book *b, int round, size_t kill_after,
                       acked *locals)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        rng ^= (uint64_t)round << 32;
        loader(db, key, b, fds[1], round);
    }
    close(fds[1]);
    size_t got = 0;
    bool done = false;
    char buf[ACK_SIZE];
    while (!done) {
        if (got == kill_after) {
            struct timespec ts = {0, (long)(rnd() % 1000) * 1000};
            nanosleep(&ts, NULL); /* where in the next page the kill lands */
            kill(pid, SIGKILL);
            break;
        }
        ssize_t r = read(fds[0], buf, ACK_SIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ack a;
        memcpy(&a, buf, sizeof(a));
        done = a.op == 'D';
        if (a.op == 'P' && locals->n < sizeof(locals->ids) / sizeof(locals->ids[0]))
            memcpy(locals->ids[locals->n++], a.id, sizeof(a.id));
        got++;
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(fds[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fail_msg("round %d: the loader failed (exit %d)", round, WEXITSTATUS(status));
    return done;
}

/* After the last round: the book as an uninterrupted load leaves it, every
 * acknowledged local change with its outbox entry, and a sound database. */
static void check_loaded(const char *db, const char *key, const uint8_t want[32],
                         const acked *locals)
{
    fs_store *st = NULL;
    fs_err err = {0};
    if (fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_FAST_KDF, &err) != 0)
        fail_msg("open: %s", err.msg);
    uint8_t got[32];
    digest(st, got);
    assert_memory_equal(got, want, 32);
    assert_false(fs_store_loading(st));
    for (size_t i = 0; i < locals->n; i++) {
        bool has = false;
        fs_state *s = NULL;
        assert_int_equal(
            fs_store_get(st, FIELDSYNC__RECORD_KIND__ACCOUNT, locals->ids[i], &s, NULL, NULL), 0);
        fs_state_free(s);
        assert_int_equal(
            fs_outbox_has(st, FIELDSYNC__RECORD_KIND__ACCOUNT, locals->ids[i], &has, NULL), 0);
        assert_true(has);
    }
    assert_int_equal(count(st, "SELECT count(*) FROM pragma_integrity_check WHERE "
                               "integrity_check <> 'ok'"),
                     0);
    /* the search index holds exactly the indexed records' text */
    assert_int_equal(
        fs_store_exec(st, "INSERT INTO search(search, rank) VALUES('integrity-check', 1)", NULL),
        0);
    fs_store_close(st);
}

static void test_a_load_killed_anywhere_goes_on_and_ends_as_an_uninterrupted_one(void **state)
{
    (void)state;
    long kills = tu_env_long("FS_STORE_LOAD_KILLS", 40);
    rng = (uint64_t)tu_env_long("FS_STORE_LOAD_SEED", (long)time(NULL));
    uint64_t seed = rng;
    book b;
    book_make(&b);
    uint8_t want[32];
    reference(&b, true, want);
    long killed = 0;
    for (int load = 0; killed < kills; load++) {
        char *dir = tu_mkdtemp(), *db = tu_path(dir, "store.db"), *key = tu_path(dir, "store.key");
        acked locals = {0};
        bool done = false;
        for (int round = 0; !done; round++) {
            /* a kill point past the end lets the child finish */
            size_t kill_after = (size_t)(rnd() % (pages_of(&b) + 6));
            done = load_round(db, key, &b, load * 1000 + round, kill_after, &locals);
            killed += !done;
            if (round > 200)
                fail_msg("seed %llu: load %d never finished", (unsigned long long)seed, load);
        }
        check_loaded(db, key, want, &locals);
        tu_rmdir(dir);
        free(dir);
        free(db);
        free(key);
    }
    book_free(&b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tu_store_setup, tu_store_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_load_ends_as_page_by_page_applies_do),
        cmocka_unit_test(test_a_load_joins_a_record_it_already_holds),
        T(test_a_load_leaves_the_indexes_out_until_it_ends),
        T(test_a_store_with_records_loads_page_by_page),
        T(test_a_local_change_commits_the_open_batch_first),
        T(test_a_failed_page_leaves_the_batch_before_it),
        T(test_reopening_goes_on_loading_and_an_upgrade_builds_the_indexes),
        cmocka_unit_test(test_a_load_killed_anywhere_goes_on_and_ends_as_an_uninterrupted_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
