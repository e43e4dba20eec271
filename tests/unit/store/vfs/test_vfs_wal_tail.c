/*
 * test_vfs_wal_tail.c: where the WAL ends after a crash (docs/encryption.md,
 * "Where the WAL ends after a crash").
 *
 * SQLite writes a frame as its 24-byte header, then its page image. A process
 * killed between the two (or in the middle of the image) leaves a frame whose
 * header is new and whose image is what the file held before: after a WAL
 * restart, the image of the previous generation's frame at that place. Such a
 * frame follows the last commit, and recovery must end the log there, as SQLite
 * does for a plain database, instead of failing the open for ever. A frame that
 * fails authentication and whose checksum chain the frames after it continue up
 * to a commit frame is inside the committed log: opening fails, naming the page.
 *
 * The cases are built byte for byte from two snapshots of one WAL taken by a
 * live writer: B after transaction T1 (which restarted the WAL over an earlier
 * generation), C after T2 (the frames after T1). A crash during T2 leaves B with
 * some of C written over it.
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

#define PSZ 4096
#define WAL_HDR 32
#define FRAME_HDR 24
#define FRAME (PSZ + FRAME_HDR)

struct ctx {
    char *dir;
    char *db;  /* the live database */
    char *b;   /* WAL after T1 */
    char *c;   /* WAL after T2 */
    char *cpy; /* copy.db: the database file as both snapshots had it */
    char *cpy_wal;
    fs_secret *key;
    long long t1_last; /* last frame of T1 (its commit) */
    long long t2_last; /* last frame of T2 (its commit) */
    long long gen1;    /* frames of the earlier generation */
};

static long long frame_off(long long i) /* frames count from 1, as in SQLite */
{
    return WAL_HDR + (i - 1) * FRAME;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t frame_pgno(const char *wal, long long i)
{
    uint8_t h[FRAME_HDR];
    vt_read_at(wal, frame_off(i), h, sizeof(h));
    return get32(h);
}

static void fill(sqlite3 *db, int from, int rows)
{
    char sql[160];
    vt_exec(db, "BEGIN");
    for (int i = from; i < from + rows; i++) {
        snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%d, 'row-%d', randomblob(%d))", i, i,
                 300 + (i * 53) % 900);
        vt_exec(db, sql);
    }
    vt_exec(db, "COMMIT");
}

/* The first frame at which a and b differ (headers included), from 1. */
static long long first_difference(const char *a, const char *b)
{
    uint8_t x[FRAME], y[FRAME];
    for (long long i = 1;; i++) {
        vt_read_at(a, frame_off(i), x, sizeof(x));
        vt_read_at(b, frame_off(i), y, sizeof(y));
        if (memcmp(x, y, sizeof(x)) != 0)
            return i;
    }
}

/* The first commit frame at or after frame i (commit size field non-zero). */
static long long next_commit(const char *wal, long long i)
{
    uint8_t h[FRAME_HDR];
    for (;; i++) {
        vt_read_at(wal, frame_off(i), h, sizeof(h));
        if (get32(h + 4) != 0)
            return i;
    }
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->dir = vt_tmpdir_new();
    c->db = vt_path(c->dir, "t.db");
    c->b = vt_path(c->dir, "b.wal");
    c->c = vt_path(c->dir, "c.wal");
    c->cpy = vt_path(c->dir, "copy.db");
    c->cpy_wal = vt_path(c->dir, "copy.db-wal");
    c->key = vt_key(0x71);
    char *wal = vt_path(c->dir, "t.db-wal");
    sqlite3 *w = vt_open(c->db, c->key);
    vt_exec(w, "PRAGMA wal_autocheckpoint=0;"
               "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, b BLOB)");
    fill(w, 1, 150); /* generation 1: many frames */
    c->gen1 = (vt_file_size(wal) - WAL_HDR) / FRAME;
    vt_exec(w, "PRAGMA wal_checkpoint(PASSIVE)"); /* all copied: the next write restarts */
    vt_exec(w, "UPDATE t SET name = 't1' WHERE id = 5");
    vt_copy_file(wal, c->b);
    fill(w, 3000, 12);
    vt_copy_file(wal, c->c);
    vt_copy_file(c->db, c->cpy); /* unchanged since the checkpoint */
    sqlite3_close(w);
    free(wal);
    c->t1_last = first_difference(c->b, c->c) - 1;
    c->t2_last = next_commit(c->c, c->t1_last + 1);
    assert_true(c->t1_last >= 1);
    assert_int_equal(next_commit(c->b, 1), c->t1_last);
    assert_true(c->t2_last > c->t1_last + 2);
    assert_true(c->gen1 > c->t2_last + 2); /* every frame of T2 lies over an older one */
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    vt_tmpdir_free(c->dir);
    free(c->db);
    free(c->b);
    free(c->c);
    free(c->cpy);
    free(c->cpy_wal);
    fs_secret_free(c->key);
    free(c);
    return 0;
}

/* Copies n bytes at off from one file to the same place in another. */
static void splice(const char *from, const char *to, long long off, size_t n)
{
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    vt_read_at(from, off, buf, n);
    vt_write_at(to, off, buf, n);
    free(buf);
}

/* The copy holds T1 and not T2, passes integrity_check, and takes new writes. */
static void expect_t1_only(struct ctx *c)
{
    sqlite3 *db = vt_open(c->cpy, c->key);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE id < 3000"), 150);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE id = 5 AND name = 't1'"), 1);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE id >= 3000"), 0);
    char *ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    fill(db, 5000, 30); /* written over the torn frame and what follows it */
    sqlite3_close(db);
    db = vt_open(c->cpy, c->key);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t"), 180);
    ic = vt_integrity(db);
    assert_string_equal(ic, "ok");
    free(ic);
    sqlite3_close(db);
}

/* Opening the copy fails with FS_EAUTH naming page pgno of copy.db-wal. */
static void expect_open_fails(struct ctx *c, uint32_t pgno)
{
    sqlite3 *db = NULL;
    fs_err err = {0};
    int rc = fs_vfs_open(&db, c->cpy, c->key, SQLITE_OPEN_READWRITE, &err);
    if (rc != FS_EAUTH)
        fail_msg("open gave %d: %s", rc, err.msg);
    assert_null(db);
    char want[64];
    snprintf(want, sizeof(want), "page %u of ", pgno);
    if (strstr(err.msg, want) == NULL || strstr(err.msg, "copy.db-wal") == NULL)
        fail_msg("message \"%s\" does not name %scopy.db-wal", err.msg, want);
}

/* Killed after the first frame header of T2 went out, before its image. */
static void frame_header_without_its_image_ends_the_log(void **state)
{
    struct ctx *c = *state;
    long long f = c->t1_last + 1;
    assert_int_not_equal(frame_pgno(c->b, f), frame_pgno(c->c, f)); /* the old image fails */
    vt_copy_file(c->b, c->cpy_wal);
    splice(c->c, c->cpy_wal, frame_off(f), FRAME_HDR);
    expect_t1_only(c);
}

/* Killed in the middle of the image write. */
static void half_written_image_ends_the_log(void **state)
{
    struct ctx *c = *state;
    long long f = c->t1_last + 2;
    vt_copy_file(c->b, c->cpy_wal);
    splice(c->c, c->cpy_wal, frame_off(c->t1_last + 1), FRAME);
    splice(c->c, c->cpy_wal, frame_off(f), FRAME_HDR + PSZ / 2);
    expect_t1_only(c);
}

/* Killed after T2's commit frame header, before its image: T2 never committed. */
static void commit_frame_without_its_image_ends_the_log(void **state)
{
    struct ctx *c = *state;
    vt_copy_file(c->c, c->cpy_wal);
    splice(c->b, c->cpy_wal, frame_off(c->t2_last) + FRAME_HDR, PSZ);
    expect_t1_only(c);
}

/* T2 cut short at its commit frame, then T3 (shorter) written over T2's first
 * frames and cut short at its own commit frame: T2's later frames, its torn
 * commit frame among them, are still in the file with this generation's salts.
 * They do not continue T3's checksum chain, so that commit frame is no commit
 * of the log and the log ends at T1 (it failed every open before). */
static void stale_commit_frame_of_a_torn_transaction_is_not_a_commit(void **state)
{
    struct ctx *c = *state;
    char *x = vt_path(c->dir, "x.wal"), *d = vt_path(c->dir, "d.wal"),
         *db_before = vt_path(c->dir, "before.db");
    vt_copy_file(c->c, c->cpy_wal);
    splice(c->b, c->cpy_wal, frame_off(c->t2_last) + FRAME_HDR, PSZ);
    vt_copy_file(c->cpy_wal, x);
    vt_copy_file(c->cpy, db_before);
    sqlite3 *w = vt_open(c->cpy, c->key); /* recovery ends at T1 */
    vt_exec(w, "PRAGMA wal_autocheckpoint=0; UPDATE t SET name = 't3' WHERE id = 5");
    vt_copy_file(c->cpy_wal, d);
    sqlite3_close(w);
    long long t3_last = next_commit(d, c->t1_last + 1);
    assert_true(t3_last < c->t2_last - 1);
    assert_int_not_equal(frame_pgno(d, t3_last), frame_pgno(x, t3_last)); /* T2's image fails */
    vt_copy_file(db_before, c->cpy);
    vt_copy_file(d, c->cpy_wal);
    splice(x, c->cpy_wal, frame_off(t3_last) + FRAME_HDR, PSZ);
    expect_t1_only(c);
    free(x);
    free(d);
    free(db_before);
}

/* The same old image, but T2's commit frame follows it: the frame is part of a
 * committed transaction, and dropping T2 would lose committed data. */
static void bad_frame_before_a_commit_fails_naming_the_page(void **state)
{
    struct ctx *c = *state;
    long long f = c->t1_last + 1;
    vt_copy_file(c->c, c->cpy_wal);
    splice(c->b, c->cpy_wal, frame_off(f) + FRAME_HDR, PSZ);
    expect_open_fails(c, frame_pgno(c->c, f));
}

/* A bit flipped in T1's first frame, with T1's and T2's commits after it. */
static void flipped_bit_in_a_committed_frame_fails_naming_the_page(void **state)
{
    struct ctx *c = *state;
    vt_copy_file(c->c, c->cpy_wal);
    vt_flip_bit(c->cpy_wal, frame_off(1) + FRAME_HDR + 700, 1);
    expect_open_fails(c, frame_pgno(c->c, 1));
}

/* The limit: damage to the image of the log's last commit frame looks exactly
 * like a commit cut short, and the log ends before that transaction, as SQLite's
 * checksums make it end on a plain database. */
static void damaged_last_commit_frame_reads_as_a_torn_write(void **state)
{
    struct ctx *c = *state;
    vt_copy_file(c->b, c->cpy_wal);
    vt_flip_bit(c->cpy_wal, frame_off(c->t1_last) + FRAME_HDR + 10, 0);
    sqlite3 *db = vt_open(c->cpy, c->key);
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE id = 5 AND name = 'row-5'"), 1);
    sqlite3_close(db);
}

/* Once recovery accepted a frame as committed, reading it is never forgiven:
 * a second connection reads the frame (image only) and gets an error naming it. */
static void damaged_frame_read_after_recovery_names_the_page(void **state)
{
    struct ctx *c = *state;
    vt_copy_file(c->c, c->cpy_wal);
    sqlite3 *w = vt_open(c->cpy, c->key); /* recovery: both commits accepted */
    assert_int_equal(vt_int(w, "SELECT count(*) FROM t WHERE id >= 3000"), 12);
    long long f = c->t2_last; /* T2's last frame: a page no later frame replaces */
    vt_flip_bit(c->cpy_wal, frame_off(f) + FRAME_HDR + 100, 6);
    sqlite3 *r = vt_open(c->cpy, c->key);
    assert_int_equal(vt_try(r, "SELECT sum(length(b)) FROM t"), SQLITE_IOERR_AUTH);
    fs_err err;
    assert_int_equal(fs_vfs_last_error(r, &err), FS_EAUTH);
    char want[64];
    snprintf(want, sizeof(want), "page %u of ", frame_pgno(c->c, f));
    if (strstr(err.msg, want) == NULL || strstr(err.msg, "copy.db-wal") == NULL)
        fail_msg("message \"%s\" does not name %scopy.db-wal", err.msg, want);
    sqlite3_close(r);
    sqlite3_close(w);
}

/* At commit, SQLite rereads the frames a transaction rewrote in place to
 * recompute their checksums (whole frames, as recovery reads them). A frame
 * damaged there is an error, never a frame to skip: the commit fails. */
static void damaged_frame_reread_at_commit_fails_the_commit(void **state)
{
    struct ctx *c = *state;
    char *wal = vt_path(c->dir, "t.db-wal");
    sqlite3 *w = vt_open(c->db, c->key);
    vt_exec(w, "PRAGMA wal_autocheckpoint=0; PRAGMA wal_checkpoint(TRUNCATE);"
               "PRAGMA cache_size=6; BEGIN; UPDATE t SET b = randomblob(1200);"
               "UPDATE t SET name = name || '+'"); /* spilled, then rewritten in place */
    long long frames = (vt_file_size(wal) - WAL_HDR) / FRAME;
    assert_true(frames > 20);
    for (long long i = 1; i <= frames; i++)
        vt_flip_bit(wal, frame_off(i) + FRAME_HDR + 2000, 3);
    assert_int_equal(vt_try(w, "COMMIT"), SQLITE_IOERR_AUTH);
    vt_try(w, "ROLLBACK");
    sqlite3_close(w);
    free(wal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(frame_header_without_its_image_ends_the_log),
        T(half_written_image_ends_the_log),
        T(commit_frame_without_its_image_ends_the_log),
        T(stale_commit_frame_of_a_torn_transaction_is_not_a_commit),
        T(bad_frame_before_a_commit_fails_naming_the_page),
        T(flipped_bit_in_a_committed_frame_fails_naming_the_page),
        T(damaged_last_commit_frame_reads_as_a_torn_write),
        T(damaged_frame_read_after_recovery_names_the_page),
        T(damaged_frame_reread_at_commit_fails_the_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
