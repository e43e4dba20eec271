/*
 * bench_store.c: the cost of encryption on the store's workloads. The same
 * workload runs on a plain database and an encrypted one (both through
 * fs_vfs_open: WAL, synchronous=FULL, temp_store=MEMORY, no mmap) in one run,
 * and the times and ratios are printed:
 *
 *   insert   100,000 account-like rows in batches of 1,000, then a TRUNCATE
 *            checkpoint (counted: every page crosses the cipher three times)
 *   scan     close, reopen (SQLite's cache cold, the OS cache warm), full scan
 *   cached   100,000 point reads by rowid, served from SQLite's page cache
 *   fts      1,000 FTS5 queries over 100,000 visit notes (default cache)
 *   commit   single-row commits with synchronous=FULL
 *   cipher   seal + open of 4 KiB pages alone: the floor under every figure
 *
 * Each figure is the best of 3 alternating runs (2 for the FTS load).
 * FS_BENCH_SCALE (default 1.0) scales row counts; FS_BENCH_DIR picks the
 * directory (default $TMPDIR or /tmp: use a real disk for the commit figure).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fieldsync/page.h"
#include "fieldsync/vfs.h"

struct bench {
    const char *dir;
    double scale;
    fs_secret *key;
};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* The machine is shared: besides wall time, each measurement keeps this
 * process's CPU time, which other processes disturb far less. */
static double wall0, cpu0, last_cpu;

static void timer_start(void)
{
    wall0 = now();
    cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static double timer_stop(void)
{
    last_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    return now() - wall0;
}

static uint64_t rng = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *const words[] = {
    "order",   "pricing", "renewal", "contract", "discount", "delivery", "meeting", "follow",
    "demo",    "budget",  "quote",   "shelf",    "display",  "promo",    "stock",   "invoice",
    "manager", "visit",   "sample",  "tasting",  "pallet",   "region",   "urgent",  "call",
    "email",   "lunch",   "trade",   "fair",     "catalog",  "return",   "credit",  "margin"};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* A word: a common one, or from a long tail of 5,000 ("w1234"), skewed so that
 * some tail words are frequent and most are rare, as in real notes. */
static int word(char *out, size_t cap)
{
    if (rnd() % 3 == 0)
        return snprintf(out, cap, "%s", words[rnd() % NWORDS]);
    return snprintf(out, cap, "w%d", (int)(rnd() % (rnd() % 5000 + 1)));
}

static void sentence(char *out, size_t cap, int nwords)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < nwords && n + 16 < cap; i++) {
        if (i)
            out[n++] = ' ';
        n += (size_t)word(out + n, cap - n);
    }
}

static int die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

static sqlite3 *open_db(const char *path, const fs_secret *key)
{
    sqlite3 *db = NULL;
    fs_err err;
    if (fs_vfs_open(&db, path, key, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &err) != 0) {
        fprintf(stderr, "bench_store: %s\n", fs_err_message(&err));
        exit(1);
    }
    return db;
}

static double bench_insert(sqlite3 *db, int rows)
{
    exec(db, "CREATE TABLE account(id INTEGER PRIMARY KEY, ext_id TEXT, name TEXT, tier INT, "
             "owner TEXT, city TEXT, updated INT, notes TEXT);"
             "CREATE INDEX account_tier ON account(tier, updated);"
             "CREATE INDEX account_owner ON account(owner)");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO account VALUES(?,?,?,?,?,?,?,?)", -1, &st, NULL))
        die(db, "prepare insert");
    char name[64], notes[400], ext[32], owner[16];
    timer_start();
    for (int i = 0; i < rows; i++) {
        if (i % 1000 == 0)
            exec(db, "BEGIN");
        snprintf(ext, sizeof(ext), "acc-%08d", i);
        snprintf(owner, sizeof(owner), "rep-%02d", (int)(rnd() % 40));
        sentence(name, sizeof(name), 3);
        sentence(notes, sizeof(notes), 10 + (int)(rnd() % 30));
        sqlite3_bind_int(st, 1, i + 1);
        sqlite3_bind_text(st, 2, ext, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, (int)(rnd() % 4));
        sqlite3_bind_text(st, 5, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, words[rnd() % NWORDS], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, 1700000000 + (sqlite3_int64)(rnd() % 10000000));
        sqlite3_bind_text(st, 8, notes, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            die(db, "insert");
        sqlite3_reset(st);
        if (i % 1000 == 999 || i == rows - 1)
            exec(db, "COMMIT");
    }
    sqlite3_finalize(st);
    exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    return timer_stop();
}

static double bench_scan(const char *path, const fs_secret *key, sqlite3_int64 *check)
{
    sqlite3 *db = open_db(path, key);
    sqlite3_stmt *st = NULL;
    timer_start();
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), sum(length(name) + length(notes) + tier) "
                           "FROM account",
                           -1, &st, NULL) ||
        sqlite3_step(st) != SQLITE_ROW)
        die(db, "scan");
    *check = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    double t = timer_stop();
    sqlite3_close(db);
    return t;
}

static double bench_cached(const char *path, const fs_secret *key, int rows, int reads)
{
    sqlite3 *db = open_db(path, key);
    exec(db, "PRAGMA cache_size=-262144");              /* 256 MiB: the whole table fits */
    exec(db, "SELECT sum(length(notes)) FROM account"); /* warm SQLite's cache */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name, notes FROM account WHERE id = ?", -1, &st, NULL))
        die(db, "prepare read");
    timer_start();
    for (int i = 0; i < reads; i++) {
        sqlite3_bind_int(st, 1, 1 + (int)(rnd() % (uint64_t)rows));
        if (sqlite3_step(st) != SQLITE_ROW)
            die(db, "read");
        sqlite3_reset(st);
    }
    double t = timer_stop();
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

static void bench_fts_load(sqlite3 *db, int notes, double *load)
{
    exec(db, "CREATE VIRTUAL TABLE visit_fts USING fts5(body)");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO visit_fts(body) VALUES(?)", -1, &st, NULL))
        die(db, "prepare fts insert");
    char body[600];
    timer_start();
    for (int i = 0; i < notes; i++) {
        if (i % 1000 == 0)
            exec(db, "BEGIN");
        sentence(body, sizeof(body), 20 + (int)(rnd() % 40));
        sqlite3_bind_text(st, 1, body, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            die(db, "fts insert");
        sqlite3_reset(st);
        if (i % 1000 == 999 || i == notes - 1)
            exec(db, "COMMIT");
    }
    sqlite3_finalize(st);
    exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    *load = timer_stop();
}

static double bench_fts_queries(sqlite3 *db, int queries)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM visit_fts WHERE visit_fts MATCH ?", -1, &st,
                           NULL))
        die(db, "prepare fts query");
    char q[96], w1[32], w2[32];
    timer_start();
    for (int i = 0; i < queries; i++) {
        word(w1, sizeof(w1));
        word(w2, sizeof(w2));
        snprintf(q, sizeof(q), "%s AND %s", w1, w2);
        sqlite3_bind_text(st, 1, q, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW)
            die(db, "fts query");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return timer_stop();
}

static double bench_commits(sqlite3 *db, int commits)
{
    exec(db, "CREATE TABLE outbox(seq INTEGER PRIMARY KEY, body BLOB)");
    timer_start();
    for (int i = 0; i < commits; i++)
        exec(db, "INSERT INTO outbox(body) VALUES(randomblob(300))");
    return timer_stop();
}

/* The cipher alone: seal + open of n 4 KiB pages. */
static double bench_cipher(const fs_secret *key, int n)
{
    static uint8_t plain[4096], sealed[4096];
    uint8_t id[FS_PAGE_DBID_BYTES] = {0};
    memset(plain, 'x', sizeof(plain) - FS_PAGE_RESERVE_BYTES);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (fs_page_seal(sealed, plain, sizeof(plain), 2, id, key) != 0 ||
            fs_page_open(sealed, sizeof(sealed), 2, id, key) != 0)
            die(NULL, "cipher");
    }
    return now() - t0;
}

/* Figures are the best of REPS alternating runs (plain, encrypted, plain, ...):
 * the machine is shared, and the minimum is the least disturbed run. */
#define REPS 3

struct result {
    double t[2];   /* plain, encrypted: best wall time */
    double cpu[2]; /* best CPU time */
};

static void best(struct result *r, int enc, double t)
{
    if (r->t[enc] == 0 || t < r->t[enc])
        r->t[enc] = t;
    if (r->cpu[enc] == 0 || last_cpu < r->cpu[enc])
        r->cpu[enc] = last_cpu;
}

static void db_path(char *out, size_t cap, const struct bench *b, int enc, const char *name)
{
    snprintf(out, cap, "%s/bench-%s-%s.db", b->dir, enc ? "enc" : "plain", name);
}

static void remove_db(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static void run(struct bench *b, struct result *r, sqlite3_int64 *pages)
{
    char path[4096], fts[4096], commit[4096];
    int rows = (int)(100000 * b->scale);
    for (int rep = 0; rep < 2 * REPS; rep++) {
        int enc = rep % 2;
        const fs_secret *key = enc ? b->key : NULL;
        db_path(path, sizeof(path), b, enc, "accounts");
        remove_db(path);
        rng = 42; /* the same data for both */
        sqlite3 *db = open_db(path, key);
        best(&r[0], enc, bench_insert(db, rows));
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL);
        sqlite3_step(st);
        pages[enc] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    sqlite3_int64 check[2];
    for (int rep = 0; rep < 2 * (REPS + 1); rep++) {
        int enc = rep % 2;
        db_path(path, sizeof(path), b, enc, "accounts");
        double t = bench_scan(path, enc ? b->key : NULL, &check[enc]);
        if (rep >= 2) /* the first pair warms the OS cache */
            best(&r[1], enc, t);
    }
    if (check[0] != check[1])
        die(NULL, "plain and encrypted scans differ");
    for (int rep = 0; rep < 2 * REPS; rep++) {
        int enc = rep % 2;
        db_path(path, sizeof(path), b, enc, "accounts");
        best(&r[2], enc, bench_cached(path, enc ? b->key : NULL, rows, rows));
    }
    for (int enc = 0; enc < 2; enc++) {
        db_path(fts, sizeof(fts), b, enc, "notes");
        remove_db(fts);
        rng = 43;
        sqlite3 *db = open_db(fts, enc ? b->key : NULL);
        double load;
        bench_fts_load(db, rows, &load);
        best(&r[3], enc, load);
        sqlite3_close(db);
    }
    for (int rep = 0; rep < 2 * REPS; rep++) {
        int enc = rep % 2;
        db_path(fts, sizeof(fts), b, enc, "notes");
        sqlite3 *db = open_db(fts, enc ? b->key : NULL);
        rng = 44 + (uint64_t)rep / 2;
        best(&r[4], enc, bench_fts_queries(db, 1000));
        sqlite3_close(db);
    }
    for (int rep = 0; rep < 2 * REPS; rep++) {
        int enc = rep % 2;
        db_path(commit, sizeof(commit), b, enc, "outbox");
        remove_db(commit);
        sqlite3 *db = open_db(commit, enc ? b->key : NULL);
        best(&r[5], enc, bench_commits(db, 300));
        sqlite3_close(db);
        remove_db(commit);
    }
    for (int enc = 0; enc < 2; enc++) {
        db_path(path, sizeof(path), b, enc, "accounts");
        remove_db(path);
        db_path(fts, sizeof(fts), b, enc, "notes");
        remove_db(fts);
    }
}

int main(void)
{
    struct bench b = {0};
    const char *scale = getenv("FS_BENCH_SCALE");
    b.scale = scale ? atof(scale) : 1.0;
    if (b.scale <= 0)
        b.scale = 1.0;
    b.dir = getenv("FS_BENCH_DIR");
    if (b.dir == NULL)
        b.dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (fs_secret_random(&b.key, FS_PAGE_KEY_BYTES, NULL) != 0)
        return 1;
    struct result r[6] = {0};
    sqlite3_int64 pages[2];
    run(&b, r, pages);
    static const char *const names[] = {"insert 100k rows, batches of 1000, + checkpoint",
                                        "full scan, SQLite cache cold",
                                        "100k point reads from SQLite's cache",
                                        "fts load 100k notes (+ checkpoint)",
                                        "1000 FTS5 queries over 100k notes",
                                        "single-row commits, sync=FULL"};
    static const char *const targets[] = {"<= 1.3", "<= 1.8", "<= 1.1", "", "", ""};
    printf("bench_store (scale %.2f, %s)\n", b.scale, b.dir);
    printf("%-48s %8s %8s %6s %8s %8s %6s  %s\n", "workload", "plain s", "encr. s", "ratio",
           "cpu pl.", "cpu enc", "ratio", "target");
    for (int i = 0; i < 6; i++)
        printf("%-48s %8.3f %8.3f %6.2f %8.3f %8.3f %6.2f  %s\n", names[i], r[i].t[0], r[i].t[1],
               r[i].t[1] / r[i].t[0], r[i].cpu[0], r[i].cpu[1], r[i].cpu[1] / r[i].cpu[0],
               targets[i]);
    int n = 20000;
    double c = bench_cipher(b.key, n);
    printf("cipher alone: seal+open of one 4 KiB page %.2f us (%.0f MB/s each way); "
           "database %lld pages plain, %lld encrypted\n",
           c / n * 1e6, 2.0 * n * 4096 / c / 1e6, (long long)pages[0], (long long)pages[1]);
    fs_secret_free(b.key);
    return 0;
}
