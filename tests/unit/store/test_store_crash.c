/*
 * test_store_crash.c: kill -9 of a writer, round after round, on one store.
 *
 * Each round forks a child that opens the encrypted store as fieldsyncd does
 * (checkpoints deferred to maintenance, a small page cache) after the previous
 * round's kill, so opening recovers the WAL as a restarted daemon would. It
 * first checks that every change acknowledged before the kill is there with
 * its outbox entry (and, after a frame-header kill, that integrity_check
 * passes), says so, then commits local changes (puts, updates, deletes) and
 * pulled pages (one large transaction that spills the cache), reporting each
 * one only after fs_store_* returned. Now and then it runs the maintenance and
 * waits until the WAL is copied in (by the store's checkpointer thread, or by
 * itself), so the next write restarts the WAL over the previous generation's
 * frames; the parent's kills also land in the thread's checkpoints.
 *
 * The parent SIGKILLs it at a seeded random moment (from inside the open to a
 * few ms into a commit); every third round the child instead arms the crash
 * point store.vfs.wal_frame_header and dies right after a frame header went
 * out, before its image (docs/encryption.md, "Where the WAL ends after a
 * crash"). A child killed before it finished its check leaves it to the next.
 * At the end the parent checks every change acknowledged in any round.
 *
 * FS_STORE_CRASH_ROUNDS (default 500) and FS_STORE_CRASH_SEED tune a run;
 * a failure prints the seed and round (the kill moments also depend on timing,
 * so a seed replays the kinds of kills, not every one) and keeps the files.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fieldsync/crash.h"
#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT
#define PASS "crash test passphrase"
#define ACK_SIZE 80 /* fixed-size acks: one write() each, atomic on a pipe */
#define REMOTE 0xfeedull
#define CACHE_KIB 64    /* 16 pages: a pulled page spills in mid-transaction */
#define TORN_EVERY 3    /* every third round dies at the frame-header crash point */
#define ACKS_MAX 100000 /* a round that reaches it never hit its crash point */
#define CHECK_FAILED 10 /* a child's exit status: the check after the restart failed */
#define WHY_MAX 512
#define NOTE                                                                                       \
    "a longer note so that pages fill and split now and then: the visit went well, the "           \
    "buyer wants a second quote for the spring order and a call back on Tuesday ........"

static uint64_t rng;

static uint64_t rnd(void)
{
    return tu_rnd(&rng);
}

typedef struct ack {
    char op;     /* 'P' put (name = value), 'D' delete, 'R' pulled page, 'V' check passed */
    int seq;     /* the child's operation number in its round; 'R': records in the page */
    char id[32]; /* "r%d-%d" of two ints fits; 'R': the page's id prefix "p%d-%d-" */
    char name[32];
} ack;
_Static_assert(sizeof(ack) <= ACK_SIZE, "an ack must fit one fixed-size pipe write");

typedef struct expect {
    ack *acks; /* the last acknowledged change per id, in order */
    size_t n, cap;
} expect;

/* Acknowledged changes not yet checked after a restart: acks from index first,
 * made in rounds first_round and later. */
typedef struct unchecked {
    size_t first;
    int first_round;
} unchecked;

static void remember(expect *e, const ack *a)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->acks[i].id, a->id) == 0) {
            e->acks[i] = *a;
            return;
        }
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 256;
        e->acks = realloc(e->acks, e->cap * sizeof(*e->acks));
        assert_non_null(e->acks);
    }
    e->acks[e->n++] = *a;
}

/* ------------------------------------------------------------------------- */
/* Checks. They run in the children (no cmocka there): false with why filled. */

static bool fail_why(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail_why(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, WHY_MAX, fmt, ap);
    va_end(ap);
    return false;
}

/* Whether the record shows a change of its round later than a (seq > a->seq). */
static bool later_change(const ProtobufCMessage *m, const ack *a)
{
    int r = -1, seq = -1, ack_round = -1;
    if (m == NULL)
        return true; /* a delete (only deletes leave no visible value) */
    sscanf(a->id, "r%d-", &ack_round);
    const char *name = ((const Fieldsync__Account *)m)->name;
    return name != NULL && sscanf(name, "n%d-%d", &r, &seq) == 2 && r == ack_round && seq > a->seq;
}

/* Every record of an acknowledged pulled page is there with its value. */
static bool check_pulled(fs_store *st, const ack *a, char *why)
{
    for (int k = 0; k < a->seq; k++) {
        char id[48];
        snprintf(id, sizeof(id), "%s%d", a->id, k);
        ProtobufCMessage *m = NULL;
        fs_err err;
        fs_err_clear(&err);
        bool ok = fs_store_get(st, ACCOUNT, id, NULL, &m, &err) == 0 && m != NULL &&
                  strcmp(((Fieldsync__Account *)m)->name, id) == 0;
        protobuf_c_message_free_unpacked(m, NULL);
        if (!ok)
            return fail_why(why, "pulled %s lost: %s", id, fs_err_message(&err));
    }
    return true;
}

/*
 * The acknowledged change is there, or superseded by a later change of its round
 * that the child committed but was killed before acknowledging (counted in
 * *superseded: at most one per round), and it has its outbox entry.
 */
static bool check_change(fs_store *st, const ack *a, int *superseded, char *why)
{
    if (a->op == 'R')
        return check_pulled(st, a, why);
    ProtobufCMessage *m = NULL;
    fs_err err;
    fs_err_clear(&err);
    if (fs_store_get(st, ACCOUNT, a->id, NULL, &m, &err) != 0)
        return fail_why(why, "acknowledged %s lost: %s", a->id, fs_err_message(&err));
    bool exact = a->op == 'D' ? m == NULL
                              : m != NULL && strcmp(((Fieldsync__Account *)m)->name, a->name) == 0;
    bool later = !exact && later_change(m, a);
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    if (!exact && !later)
        return fail_why(why, "%s lost its acknowledged %s %s", a->id,
                        a->op == 'D' ? "delete" : "value", a->name);
    *superseded += !exact;
    bool has = false;
    if (fs_outbox_has(st, ACCOUNT, a->id, &has, &err) != 0 || !has)
        return fail_why(why, "%s has no outbox entry %s", a->id, err.msg);
    return true;
}

/* The state inside an outbox entry's Change, or NULL. */
static fs_state *change_state(sqlite3_stmt *s, int col)
{
    Fieldsync__Change *ch = fieldsync__change__unpack(NULL, (size_t)sqlite3_column_bytes(s, col),
                                                      sqlite3_column_blob(s, col));
    fs_state *state = NULL;
    if (ch != NULL && fs_state_from_pb(&state, ch->state, NULL) != 0)
        state = NULL;
    if (ch != NULL)
        fieldsync__change__free_unpacked(ch, NULL);
    return state;
}

/*
 * Every local change queues the record's new state in the same transaction, a
 * record keeps one pending entry, and nothing is acknowledged here: so every
 * record (acknowledged or not, e.g. the one in progress at the kill) has exactly
 * one entry, holding the state committed with it. prefix limits the check to
 * one round.
 */
static bool check_outbox_matches_states(fs_store *st, const char *prefix, char *why)
{
    sqlite3_stmt *s = NULL;
    bool ok = sqlite3_prepare_v2(st->db,
                                 "SELECT r.id, r.state, (SELECT count(*) FROM outbox o "
                                 "WHERE o.kind = r.kind AND o.id = r.id), (SELECT change "
                                 "FROM outbox o WHERE o.kind = r.kind AND o.id = r.id) "
                                 "FROM records r WHERE r.id LIKE ?",
                                 -1, &s, NULL) == SQLITE_OK;
    if (!ok)
        return fail_why(why, "reading records: %s", sqlite3_errmsg(st->db));
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    int step = SQLITE_DONE;
    while (ok && (step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        if (sqlite3_column_int64(s, 2) != 1) {
            ok = fail_why(why, "%s has %lld outbox entries, not one", id,
                          (long long)sqlite3_column_int64(s, 2));
            break;
        }
        fs_state *state = NULL, *queued = change_state(s, 3);
        if (queued == NULL || fs_state_decode(&state, sqlite3_column_blob(s, 1),
                                              (size_t)sqlite3_column_bytes(s, 1), NULL) != 0)
            ok = fail_why(why, "%s: undecodable state or outbox entry", id);
        else if (fs_vv_compare(&state->vv, &queued->vv) != FS_VV_EQUAL)
            ok = fail_why(why, "%s's outbox entry does not hold its committed state", id);
        fs_state_free(state);
        fs_state_free(queued);
    }
    if (ok && step != SQLITE_DONE)
        ok = fail_why(why, "reading records: %s", sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return ok;
}

static bool check_integrity(fs_store *st, char *why)
{
    sqlite3_stmt *s = NULL;
    bool ok = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
              sqlite3_step(s) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0;
    if (!ok)
        fail_why(why, "integrity_check: %s",
                 s != NULL && sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                                        : sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    /* the search index holds exactly its records' text (store.md, "Schema" 7) */
    if (ok && sqlite3_exec(st->db, "INSERT INTO search(search, rank) VALUES('integrity-check', 1)",
                           NULL, NULL, NULL) != SQLITE_OK)
        ok = fail_why(why, "search integrity-check: %s", sqlite3_errmsg(st->db));
    return ok;
}

/* The changes acknowledged in rounds u.first_round .. round-1, and with
 * integrity the whole database. */
static bool check_since(fs_store *st, const expect *e, unchecked u, int round, bool integrity,
                        char *why)
{
    int superseded = 0;
    for (size_t i = u.first; i < e->n; i++)
        if (!check_change(st, &e->acks[i], &superseded, why))
            return false;
    if (superseded > round - u.first_round)
        return fail_why(why,
                        "%d acknowledged changes superseded by unacknowledged ones in %d "
                        "rounds; only the one in progress at each kill can be",
                        superseded, round - u.first_round);
    for (int r = u.first_round; r < round; r++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "r%d-%%", r);
        if (!check_outbox_matches_states(st, prefix, why))
            return false;
    }
    return !integrity || check_integrity(st, why);
}

/* ------------------------------------------------------------------------- */
/* The writer child */

/* A pulled page of 10-40 new accounts "<prefix><k>" named after their ids,
 * applied in one transaction; 0 or -1. */
static int pull_page(fs_store *st, ack *a, int round, int i)
{
    size_t n = 10 + rnd() % 31;
    fs_state **states = calloc(n, sizeof(*states));
    if (states == NULL)
        return -1;
    snprintf(a->id, sizeof(a->id), "p%d-%d-", round, i);
    a->op = 'R';
    a->seq = (int)n;
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        char id[64]; /* the 31-byte prefix and any size_t */
        snprintf(id, sizeof(id), "%s%zu", a->id, k);
        Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
        m.name = id;
        m.notes = NOTE;
        rc = fs_state_new(&states[k], ACCOUNT, id, NULL);
        if (rc == 0)
            rc = fs_record_write_msg(states[k], REMOTE, (uint64_t)(1000 + i) << 16, &m.base, NULL,
                                     0, NULL);
    }
    if (rc == 0)
        rc = fs_store_apply_remote(st, states, n, NULL, 0, (uint64_t)i, NULL, NULL);
    for (size_t k = 0; k < n; k++)
        fs_state_free(states[k]);
    free(states);
    return rc;
}

/* A local put or delete of one of this round's records; 0, 1 (nothing to
 * acknowledge: deleted already) or -1. */
static int local_change(fs_store *st, ack *a, int round, int i)
{
    uint64_t r = rnd() % 10;
    /* Mostly new records; some updates and deletes of this round's earlier ones. */
    int target = (r < 7 || i == 0) ? i : (int)(rnd() % (uint64_t)i);
    snprintf(a->id, sizeof(a->id), "r%d-%d", round, target);
    if (r == 9 && target != i) {
        a->op = 'D';
        int rc = fs_store_delete(st, ACCOUNT, a->id, NULL);
        return rc == FS_ENOTFOUND ? 1 : rc == 0 ? 0 : -1;
    }
    a->op = 'P';
    snprintf(a->name, sizeof(a->name), "n%d-%d", round, i);
    Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
    m.name = a->name;
    m.notes = NOTE;
    return fs_store_put(st, ACCOUNT, a->id, &m.base, NULL, 0, NULL) == 0 ? 0 : -1;
}

static void send_ack(int fd, const ack *a)
{
    char buf[ACK_SIZE] = {0};
    memcpy(buf, a, sizeof(*a));
    if (write(fd, buf, ACK_SIZE) != ACK_SIZE)
        _exit(5);
}

/* The child: opens the store (recovering it), checks what was acknowledged
 * before, then commits changes forever, acknowledging each after it returned.
 * crash_at: the crash point to arm once the check passed, or NULL. */
/* Waits (10 s at most) until every WAL frame is in the database, as the
 * store's checkpointer thread leaves it once fieldsyncd is idle, so the next
 * write starts the WAL again over the previous generation's frames. A passive
 * checkpoint never waits: one that finds the thread's under way is retried. */
static bool wal_copied_in(fs_store *st)
{
    struct timespec pause = {0, 1000 * 1000};
    for (int i = 0; i < 10000; i++, nanosleep(&pause, NULL)) {
        int log = -1, done = -1;
        int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc == SQLITE_OK && log == done)
            return true;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            return false;
    }
    return false;
}

static void writer(const char *db, const char *key, int fd, int round, const expect *e, unchecked u,
                   const char *crash_at)
{
    fs_store *st = NULL;
    fs_err err = {0};
    char why[WHY_MAX];
    if (fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_FAST_KDF, &err) != 0) {
        fprintf(stderr, "round %d: reopening after the kill failed: %s\n", round, err.msg);
        _exit(CHECK_FAILED);
    }
    /* integrity_check reads every page: after the frame-header kills only */
    if (!check_since(st, e, u, round, round % TORN_EVERY == 0, why)) {
        fprintf(stderr, "round %d: after the restart: %s\n", round, why);
        _exit(CHECK_FAILED);
    }
    send_ack(fd, &(ack){.op = 'V'});
    if (fs_store_defer_maintenance(st, true, NULL) != 0 ||
        fs_store_set_cache_kib(st, CACHE_KIB, NULL) != 0)
        _exit(3);
    if (crash_at != NULL)
        setenv(FS_CRASH_ENV, crash_at, 1);
    for (int i = 0;; i++) {
        ack a = {.seq = i};
        uint64_t r = rnd() % 25;
        int rc;
        if (r == 0) /* as fieldsyncd when writes pause; nothing to acknowledge */
            rc = fs_store_maintain(st, NULL, NULL) == 0 && wal_copied_in(st) ? 1 : -1;
        else if (r == 1)
            rc = pull_page(st, &a, round, i);
        else
            rc = local_change(st, &a, round, i);
        if (rc < 0)
            _exit(4);
        if (rc == 0)
            send_ack(fd, &a);
    }
}

/* ------------------------------------------------------------------------- */
/* The parent */

/* Reads up to max acknowledgements; a 'V' (the child's check passed) sets *checked. */
static size_t read_acks(int fd, expect *e, size_t max, bool *checked)
{
    size_t got = 0;
    char buf[ACK_SIZE];
    while (got < max) {
        ssize_t r = read(fd, buf, ACK_SIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        assert_int_equal(r, ACK_SIZE);
        ack a;
        memcpy(&a, buf, sizeof(a));
        if (a.op == 'V') {
            *checked = true;
            continue;
        }
        remember(e, &a);
        got++;
    }
    return got;
}

/* One round: a writer child on db, killed by us at a random moment, or (torn)
 * by its crash point right after the nth WAL frame header it writes. Moves *u
 * past what the child checked; true if it did its check. */
static bool one_round(const char *db, const char *key, int round, bool torn, expect *e,
                      unchecked *u, uint64_t seed)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char spec[64];
    snprintf(spec, sizeof(spec), "store.vfs.wal_frame_header@%llu",
             (unsigned long long)(1 + rnd() % 120));
    size_t before = e->n;
    uint64_t child_rng = rnd();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        rng = child_rng;
        writer(db, key, fds[1], round, e, *u, torn ? spec : NULL);
    }
    close(fds[1]);
    bool checked = false;
    if (torn) {
        if (read_acks(fds[0], e, ACKS_MAX, &checked) == ACKS_MAX)
            fail_msg("round %d: the writer never reached %s", round, spec);
    } else { /* after 0-15 acknowledgements, plus 0-3 ms into the next */
        read_acks(fds[0], e, rnd() % 16, &checked);
        struct timespec ts = {0, (long)(rnd() % 3000) * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    read_acks(fds[0], e, SIZE_MAX, &checked); /* acks written before the kill count too */
    close(fds[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == CHECK_FAILED)
        fail_msg("seed %llu round %d: the store failed its check after the restart (see above)",
                 (unsigned long long)seed, round);
    if (!WIFSIGNALED(status))
        fail_msg("round %d: writer exited with %d before the kill", round, WEXITSTATUS(status));
    if (checked)
        *u = (unchecked){before, round};
    return checked;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A SIGKILL never loses what the kernel holds: the test proves nothing by
 * syncing to a disk and runs on tmpfs when there is one (on a disk, the fsync
 * of every commit made it about twice as slow). */
static char *scratch_dir(void)
{
    char tmpl[] = "/dev/shm/fs-crash-XXXXXX";
    if (access("/dev/shm", W_OK) != 0 || mkdtemp(tmpl) == NULL)
        return tu_mkdtemp();
    char *dir = strdup(tmpl);
    assert_non_null(dir);
    return dir;
}

static void every_acknowledged_change_survives_kill_9(void **state)
{
    (void)state;
    long rounds = tu_env_long("FS_STORE_CRASH_ROUNDS", 500);
    uint64_t seed = (uint64_t)tu_env_long("FS_STORE_CRASH_SEED", (long)time(NULL));
    rng = seed;
    char *dir = scratch_dir(); /* kept after a failure, for a look at the WAL */
    printf("crash test: seed %llu, %ld rounds in %s\n", (unsigned long long)seed, rounds, dir);
    char *db = tu_path(dir, "store.db");
    char *key = tu_path(dir, "store.key");
    fs_store *st = NULL;
    assert_int_equal(
        fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_CREATE | FS_STORE_FAST_KDF, NULL),
        0);
    fs_store_close(st);
    expect e = {0};
    unchecked u = {0, 0};
    int restarts_checked = 0;
    double t0 = now_s();
    for (int round = 0; round < rounds; round++)
        restarts_checked +=
            one_round(db, key, round, round % TORN_EVERY == TORN_EVERY - 1, &e, &u, seed);
    double elapsed = now_s() - t0;
    /* Finally every change acknowledged in any round, after all the crashes since. */
    fs_err err;
    fs_err_clear(&err);
    if (fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_FAST_KDF, &err) != 0)
        fail_msg("seed %llu: reopening after the last kill failed: %s", (unsigned long long)seed,
                 err.msg);
    char why[WHY_MAX];
    if (!check_since(st, &e, (unchecked){0, 0}, (int)rounds, true, why))
        fail_msg("seed %llu: after the last kill: %s", (unsigned long long)seed, why);
    printf("crash test: %.1f s; %zu changes acknowledged and found; %d restarts checked by the "
           "next writer\n",
           elapsed, e.n, restarts_checked);
    assert_true(e.n > (size_t)rounds); /* the kills did not all land before any commit */
    fs_store_close(st);
    free(e.acks);
    tu_rmdir(dir);
    free(dir);
    free(db);
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_acknowledged_change_survives_kill_9),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
