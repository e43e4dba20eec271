/*
 * test_vfs_diff.c: differential test of the encrypting VFS. A seeded generator
 * of random SQL (tables and indexes, inserts of random text and blobs of varied
 * sizes up to overflow chains, updates, deletes, transactions that commit or
 * roll back, savepoints, checkpoints, cache-size changes that force spills,
 * journal-mode switches, VACUUM, close and reopen) runs on a plain database and
 * an encrypted one; every statement must give the same result code on both and
 * the contents must stay identical. FS_VFS_DIFF_SEEDS (default 4) and
 * FS_VFS_DIFF_OPS (default 250) run it longer; FS_VFS_DIFF_SEED replays one seed.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/vfs.h"
#include "vfs_test_util.h"

#define MAX_TABLES 4

struct gen {
    uint64_t rng;
    int ntables;
    int in_txn;
    int nsavepoints;
    char *sql;
    size_t cap;
};

static uint64_t next(struct gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int pick(struct gen *g, int n)
{
    return (int)(next(g) % (uint64_t)n);
}

static void append(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    size_t len = strlen(g->sql);
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(g->sql + len, g->cap - len, fmt, ap);
        va_end(ap);
        if ((size_t)n < g->cap - len)
            return;
        g->cap *= 2;
        g->sql = realloc(g->sql, g->cap);
        assert_non_null(g->sql);
    }
}

/* A blob or text literal of a size from tiny to several pages (overflow). */
static void append_value(struct gen *g)
{
    int sizes[] = {0, 1, 10, 100, 700, 3000, 9000, 30000};
    int n = sizes[pick(g, 8)] + pick(g, 50);
    if (pick(g, 3) == 0) {
        append(g, "'");
        for (int i = 0; i < n && i < 4000; i++)
            append(g, "%c", 'a' + pick(g, 26));
        append(g, "'");
        return;
    }
    append(g, "X'");
    for (int i = 0; i < n; i++)
        append(g, "%02x", (unsigned)(next(g) & 0xff));
    append(g, "'");
}

static void gen_statement(struct gen *g)
{
    g->sql[0] = '\0';
    int t = g->ntables > 0 ? pick(g, g->ntables) : 0;
    int op = g->ntables == 0 ? 0 : pick(g, 20);
    switch (op) {
    case 0:
        if (g->ntables < MAX_TABLES) {
            append(g,
                   "CREATE TABLE t%d(id INTEGER PRIMARY KEY, a, b, c INTEGER);"
                   "CREATE INDEX t%d_a ON t%d(a, c)",
                   g->ntables, g->ntables, g->ntables);
            g->ntables++;
            return;
        }
        /* fall through */
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
        append(g, "INSERT INTO t%d(a, b, c) VALUES (", t);
        append_value(g);
        append(g, ", ");
        append_value(g);
        append(g, ", %d)", pick(g, 1000));
        return;
    case 6:
    case 7:
        append(g, "UPDATE t%d SET b = ", t);
        append_value(g);
        append(g, ", c = c + 1 WHERE id %% %d = %d", 2 + pick(g, 5), pick(g, 2));
        return;
    case 8:
        append(g, "DELETE FROM t%d WHERE c %% %d = 0", t, 3 + pick(g, 7));
        return;
    case 9:
        if (!g->in_txn) {
            append(g, "BEGIN");
            g->in_txn = 1;
        } else {
            append(g, pick(g, 3) == 0 ? "ROLLBACK" : "COMMIT");
            g->in_txn = 0;
            g->nsavepoints = 0;
        }
        return;
    case 10:
        if (g->nsavepoints > 0 && pick(g, 2)) {
            append(g, pick(g, 2) ? "ROLLBACK TO sp%d" : "RELEASE sp%d", g->nsavepoints - 1);
            if (strncmp(g->sql, "RELEASE", 7) == 0)
                g->nsavepoints--;
        } else {
            append(g, "SAVEPOINT sp%d", g->nsavepoints++);
        }
        return;
    case 11:
        append(g, "PRAGMA cache_size=%d", pick(g, 2) ? 2 + pick(g, 10) : 2000);
        return;
    case 12:
        append(g, "PRAGMA wal_checkpoint(%s)", pick(g, 2) ? "PASSIVE" : "TRUNCATE");
        return;
    case 13:
        append(g, "PRAGMA journal_mode=%s", pick(g, 4) == 0 ? "DELETE" : "WAL");
        return;
    case 14:
        append(g, pick(g, 4) == 0 ? "VACUUM" : "SELECT 1");
        return;
    default:
        append(g,
               "INSERT INTO t%d(a, b, c) SELECT a, b, c + 1 FROM t%d WHERE id %% 7 = %d "
               "LIMIT 20",
               t, t, pick(g, 7));
        return;
    }
}

/* FNV-1a over the rows of sql. */
static uint64_t query_hash(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    uint64_t h = 1469598103934665603ull;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const uint8_t *p = sqlite3_column_blob(st, c);
            int n = sqlite3_column_bytes(st, c);
            for (int i = 0; i < n; i++)
                h = (h ^ p[i]) * 1099511628211ull;
            h = (h ^ 0xff) * 1099511628211ull;
        }
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    return h;
}

/* Every table's rows, and what its index holds (read through the index). */
static uint64_t db_digest(sqlite3 *db, int ntables)
{
    uint64_t h = 0;
    char name[16], sql[160];
    for (int t = 0; t < ntables; t++) {
        snprintf(name, sizeof(name), "t%d", t);
        snprintf(sql, sizeof(sql), "SELECT a, c, id FROM t%d INDEXED BY t%d_a ORDER BY a, c", t, t);
        h = h * 31 + vt_table_hash(db, name);
        h = h * 31 + query_hash(db, sql);
    }
    return h;
}

static void run_seed(uint64_t seed, int ops)
{
    char *dir = vt_tmpdir_new();
    char *plain_path = vt_path(dir, "plain.db"), *enc_path = vt_path(dir, "enc.db");
    fs_secret *key = vt_key((uint8_t)seed);
    sqlite3 *plain = vt_open(plain_path, NULL), *enc = vt_open(enc_path, key);
    struct gen g = {.rng = seed, .cap = 1 << 16};
    g.sql = malloc(g.cap);
    for (int i = 0; i < ops; i++) {
        if (pick(&g, 40) == 0 && !g.in_txn) { /* close and reopen both */
            sqlite3_close(plain);
            sqlite3_close(enc);
            plain = vt_open(plain_path, NULL);
            enc = vt_open(enc_path, key);
            continue;
        }
        gen_statement(&g);
        int rp = vt_try(plain, g.sql), re = vt_try(enc, g.sql);
        if (getenv("FS_VFS_DIFF_TRACE"))
            fprintf(stderr, "op %d: %d %d ac %d %d: %.80s\n", i, rp, re,
                    sqlite3_get_autocommit(plain), sqlite3_get_autocommit(enc), g.sql);
        if (rp != re)
            fail_msg("seed %llu op %d: plain %d, encrypted %d (%s) on: %.200s",
                     (unsigned long long)seed, i, rp, re, sqlite3_errmsg(enc), g.sql);
        /* a rolled-back transaction may have taken tables and savepoints with it */
        static const char count_tables[] = "SELECT count(*) FROM sqlite_schema WHERE type='table'";
        g.ntables = (int)vt_int(plain, count_tables);
        assert_int_equal(vt_int(enc, count_tables), g.ntables); /* same state on both */
        g.in_txn = !sqlite3_get_autocommit(plain);
        if (!g.in_txn)
            g.nsavepoints = 0;
        if (i % 10 == 9 && db_digest(plain, g.ntables) != db_digest(enc, g.ntables))
            fail_msg("seed %llu op %d: contents differ", (unsigned long long)seed, i);
    }
    assert_int_equal(db_digest(plain, g.ntables), db_digest(enc, g.ntables));
    char *ic = vt_integrity(enc);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(plain);
    sqlite3_close(enc);
    free(g.sql);
    fs_secret_free(key);
    free(plain_path);
    free(enc_path);
    vt_tmpdir_free(dir);
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}

static void random_sql_gives_identical_results_plain_and_encrypted(void **state)
{
    (void)state;
    int ops = env_int("FS_VFS_DIFF_OPS", 250);
    const char *one = getenv("FS_VFS_DIFF_SEED");
    if (one != NULL) {
        run_seed(strtoull(one, NULL, 10), ops);
        return;
    }
    int seeds = env_int("FS_VFS_DIFF_SEEDS", 4);
    for (int s = 1; s <= seeds; s++)
        run_seed((uint64_t)s, ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_sql_gives_identical_results_plain_and_encrypted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
