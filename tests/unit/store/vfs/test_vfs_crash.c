/*
 * test_vfs_crash.c: the encrypted store under process death and concurrency.
 *
 * - kill -9 of a writer child (WAL and rollback-journal rounds, tiny page cache
 *   so big transactions spill, frequent checkpoints): every transaction the
 *   child reported committed through a pipe is there after recovery, and
 *   integrity_check passes. FS_VFS_CRASH_ROUNDS sets the rounds (default 6).
 * - hot-journal rollback (journal_mode=DELETE) restores the exact old content.
 * - a reader in another process sees no error and only consistent states while
 *   a writer commits and checkpoints.
 * - with psow=0 SQLite splits WAL writes at sector boundaries: those writes fail
 *   (rule 3) and nothing reaches the WAL in the clear.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fieldsync/vfs.h"
#include "vfs_test_util.h"

struct ctx {
    char *dir;
    char *db;
    fs_secret *key;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->dir = vt_tmpdir_new();
    c->db = vt_path(c->dir, "t.db");
    c->key = vt_key(0x55);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    vt_tmpdir_free(c->dir);
    free(c->db);
    fs_secret_free(c->key);
    free(c);
    return 0;
}

static int child_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    fs_err err;
    fs_vfs_last_error(db, &err);
    fprintf(stderr, "child: %.60s: %s (%d) %s\n", sql, sqlite3_errmsg(db),
            sqlite3_extended_errcode(db), err.msg);
    return -1;
}

/* Writer child: transaction n inserts rows (n, i) for i < size(n) and a txn row
 * saying how many; after COMMIT returns it reports n on fd. Never returns. */
static void writer_child(const char *path, const fs_secret *key, int fd, int journal, long first)
{
    sqlite3 *db = NULL;
    if (fs_vfs_open(&db, path, key, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != 0)
        _exit(2);
    if (child_exec(db, journal ? "PRAGMA journal_mode=DELETE" : "PRAGMA wal_autocheckpoint=40") ||
        child_exec(db, "PRAGMA cache_size=8; CREATE TABLE IF NOT EXISTS r(txn, i, b);"
                       "CREATE TABLE IF NOT EXISTS txn(n INTEGER PRIMARY KEY, rows)"))
        _exit(3);
    char sql[256];
    for (long n = first;; n++) {
        int rows = n % 4 == 0 ? 150 : 1 + (int)(n % 7); /* every 4th spills the cache */
        if (child_exec(db, "BEGIN"))
            _exit(4);
        snprintf(sql, sizeof(sql),
                 "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM k WHERE i<%d) "
                 "INSERT INTO r SELECT %ld, i, randomblob(700) FROM k",
                 rows - 1, n);
        if (child_exec(db, sql))
            _exit(5);
        snprintf(sql, sizeof(sql), "INSERT INTO txn VALUES(%ld, %d)", n, rows);
        if (child_exec(db, sql) || child_exec(db, "COMMIT"))
            _exit(6);
        if (write(fd, &n, sizeof(n)) != sizeof(n))
            _exit(7);
    }
}

static long read_reports(int fd, long want, pid_t child)
{
    long n = 0, last = -1;
    while (n < want && read(fd, &last, sizeof(last)) == sizeof(last))
        n++;
    kill(child, SIGKILL);
    long more;
    while (read(fd, &more, sizeof(more)) == sizeof(more))
        last = more; /* committed before it died */
    return last;
}

/* Every transaction in the ranges [firsts[r], lasts[r]] of rounds 0..nrounds-1 is
 * present with all its rows. */
static void check_committed(const char *path, const fs_secret *key, const long *firsts,
                            const long *lasts, int nrounds)
{
    sqlite3 *db = vt_open(path, key);
    char sql[256];
    for (int r = 0; r < nrounds; r++)
        for (long n = firsts[r]; n <= lasts[r]; n++) {
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM txn WHERE n=%ld", n);
            if (vt_int(db, sql) != 1)
                fail_msg("committed transaction %ld lost", n);
            snprintf(sql, sizeof(sql),
                     "SELECT (SELECT rows FROM txn WHERE n=%ld) = "
                     "(SELECT count(*) FROM r WHERE txn=%ld)",
                     n, n);
            if (vt_int(db, sql) != 1)
                fail_msg("rows of committed transaction %ld lost", n);
        }
    assert_int_equal(vt_int(db, "SELECT count(*) FROM txn t WHERE rows != (SELECT count(*) "
                                "FROM r WHERE r.txn = t.n)"),
                     0);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
}

static void kill9_writer_loses_no_committed_transaction(void **state)
{
    struct ctx *c = *state;
    const char *env = getenv("FS_VFS_CRASH_ROUNDS");
    int rounds = env ? atoi(env) : 6;
    if (rounds < 1 || rounds > 1000)
        rounds = 6;
    long *firsts = calloc((size_t)rounds, sizeof(long)),
         *lasts = calloc((size_t)rounds, sizeof(long));
    long first = 1;
    for (int round = 0; round < rounds; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            writer_child(c->db, c->key, p[1], round % 2, first);
        }
        close(p[1]);
        long last = read_reports(p[0], 3 + (round * 7) % 17, pid);
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status)) /* it must die by our kill, not by an error */
            fail_msg("round %d: writer exited with %d", round, WEXITSTATUS(status));
        assert_true(last >= first);
        firsts[round] = first;
        lasts[round] = last;
        check_committed(c->db, c->key, firsts, lasts, round + 1);
        first = last + 100; /* the next round's numbers never meet lost ones */
    }
    free(firsts);
    free(lasts);
}

static void hot_journal_rollback_restores_exact_content(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    vt_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB);"
                "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM k WHERE i<400) "
                "INSERT INTO t SELECT i, 'v' || i, randomblob(600) FROM k");
    vt_exec(db, "PRAGMA journal_mode=DELETE");
    uint64_t before = vt_table_hash(db, "t");
    sqlite3_close(db);
    char *snapshot = vt_path(c->dir, "before.db");
    vt_copy_file(c->db, snapshot);

    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        sqlite3 *w = NULL;
        if (fs_vfs_open(&w, c->db, c->key, SQLITE_OPEN_READWRITE, NULL) != 0 ||
            child_exec(w, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=4; BEGIN;"
                          "UPDATE t SET v = 'changed', b = randomblob(900);"
                          "DELETE FROM t WHERE id % 5 = 0"))
            _exit(2);
        char x = 1;
        if (write(ready[1], &x, 1) != 1)
            _exit(3);
        (void)read(hold[0], &x, 1); /* wait to be killed mid-transaction */
        _exit(4);
    }
    close(ready[1]);
    close(hold[0]);
    char x;
    assert_int_equal(read(ready[0], &x, 1), 1);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    close(ready[0]);
    close(hold[1]);

    char *jrnl = vt_path(c->dir, "t.db-journal");
    assert_true(vt_file_size(jrnl) > 0); /* a hot journal was left behind */
    /* and the database file itself was changed by the spill */
    uint8_t a[4096], b[4096];
    int differs = 0;
    for (long long off = 4096; off + 4096 <= vt_file_size(snapshot) && !differs; off += 4096) {
        vt_read_at(snapshot, off, a, sizeof(a));
        vt_read_at(c->db, off, b, sizeof(b));
        differs = memcmp(a, b, sizeof(a)) != 0;
    }
    assert_true(differs);

    db = vt_open(c->db, c->key);
    assert_int_equal(vt_table_hash(db, "t"), before);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
    free(jrnl);
    free(snapshot);
}

/* Reader child: reads until stop has data or EOF; every state it sees must be a
 * committed prefix (ids 1..n, sum n(n+1)/2). Exits 0 only if all reads worked
 * and it made progress. */
static void reader_child(const char *path, const fs_secret *key, int stop)
{
    sqlite3 *db = NULL;
    if (fs_vfs_open(&db, path, key, SQLITE_OPEN_READWRITE, NULL) != 0)
        _exit(2);
    sqlite3_busy_timeout(db, 10000);
    long reads = 0, last_n = 0;
    struct pollfd pfd = {.fd = stop, .events = POLLIN};
    while (poll(&pfd, 1, 0) == 0) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db,
                               "SELECT count(*), coalesce(sum(id),0), "
                               "coalesce(sum(length(b)),0) FROM t",
                               -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW)
            _exit(3);
        long n = sqlite3_column_int64(st, 0), sum = sqlite3_column_int64(st, 1);
        long bytes = sqlite3_column_int64(st, 2);
        sqlite3_finalize(st);
        if (sum != n * (n + 1) / 2 || bytes != n * 500 || n < last_n)
            _exit(4);
        last_n = n;
        reads++;
    }
    sqlite3_close(db);
    _exit(reads > 0 ? 0 : 5);
}

static void concurrent_reader_sees_no_errors(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    vt_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB); PRAGMA wal_autocheckpoint=0");
    int stop[2];
    assert_int_equal(pipe(stop), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(stop[1]);
        reader_child(c->db, c->key, stop[0]);
    }
    close(stop[0]);
    sqlite3_busy_timeout(db, 10000);
    char sql[200];
    long id = 1;
    for (int t = 0; t < 300; t++) {
        int rows = t % 10 == 0 ? 60 : 3;
        vt_exec(db, "BEGIN");
        for (int i = 0; i < rows; i++, id++) {
            snprintf(sql, sizeof(sql), "INSERT INTO t VALUES(%ld, randomblob(500))", id);
            vt_exec(db, sql);
        }
        vt_exec(db, "COMMIT");
        if (t % 25 == 24)
            vt_exec(db, t % 50 == 49 ? "PRAGMA wal_checkpoint(RESTART)"
                                     : "PRAGMA wal_checkpoint(PASSIVE)");
    }
    close(stop[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    sqlite3_close(db);
}

static void split_wal_writes_without_psow_fail_and_leak_nothing(void **state)
{
    struct ctx *c = *state;
    sqlite3 *db = vt_open(c->db, c->key);
    vt_exec(db, "CREATE TABLE t(v TEXT); INSERT INTO t VALUES('before')");
    sqlite3_close(db);

    char *uri = NULL, *uri2 = NULL;
    assert_int_equal(fs_vfs_uri_new(&uri, c->db, c->key, NULL), 0);
    uri2 = sqlite3_mprintf("%s&psow=0", uri);
    assert_int_equal(sqlite3_open_v2(uri2, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL),
                     SQLITE_OK);
    fs_vfs_uri_free(uri);
    sqlite3_free(uri2);
    vt_exec(db, "PRAGMA temp_store=MEMORY; PRAGMA synchronous=FULL; PRAGMA journal_mode=WAL");
    int failed = 0;
    for (int i = 0; i < 20; i++)
        failed += vt_try(db, "INSERT INTO t VALUES('psow-marker-P0')") != SQLITE_OK;
    assert_true(failed > 0);
    fs_err err;
    fs_vfs_last_error(db, &err);
    assert_non_null(strstr(err.msg, "refused a write"));
    char *wal = vt_path(c->dir, "t.db-wal");
    assert_false(vt_file_contains(wal, "psow-marker-P0", 14));
    sqlite3_close(db);
    assert_false(vt_file_contains(c->db, "psow-marker-P0", 14));
    db = vt_open(c->db, c->key);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE v='before'"), 1);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
    free(wal);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(kill9_writer_loses_no_committed_transaction),
        T(hot_journal_rollback_restores_exact_content),
        T(concurrent_reader_sees_no_errors),
        T(split_wal_writes_without_psow_fail_and_leak_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
