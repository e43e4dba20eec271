/*
 * test_store_crash.c: kill -9 of a writer at random moments. Each round a child
 * opens the encrypted store and commits local changes (puts, updates, deletes),
 * reporting each one through a pipe only after fs_store_* returned success; the
 * parent SIGKILLs it at a seeded random moment. Afterwards every acknowledged
 * change must be there with its outbox entry, and integrity_check must pass.
 *
 * FS_STORE_CRASH_ROUNDS (default 200) and FS_STORE_CRASH_SEED tune a run;
 * a failure prints the seed and round to replay.
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

#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT
#define PASS "crash test passphrase"
#define ACK_SIZE 80 /* fixed-size acks: one write() each, atomic on a pipe */

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct ack {
    char op;     /* 'P' put (name = value), 'D' delete */
    int seq;     /* the child's operation number in its round */
    char id[32]; /* "r%d-%d" of two ints fits; ACK_SIZE holds the struct */
    char name[32];
} ack;
_Static_assert(sizeof(ack) <= ACK_SIZE, "an ack must fit one fixed-size pipe write");

typedef struct expect {
    ack *acks; /* the last acknowledged change per id, in order */
    size_t n, cap;
} expect;

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

/* The child: commit changes forever, acknowledging each after it returned. */
static void writer(const char *db, const char *key, int fd, int round, uint64_t seed)
{
    fs_store *st = NULL;
    if (fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_FAST_KDF, NULL) != 0)
        _exit(2);
    rng = seed;
    for (int i = 0;; i++) {
        ack a;
        memset(&a, 0, sizeof(a));
        a.seq = i;
        uint64_t r = rnd() % 10;
        /* Mostly new records; some updates and deletes of this round's earlier ones. */
        int target = (r < 7 || i == 0) ? i : (int)(rnd() % (uint64_t)i);
        snprintf(a.id, sizeof(a.id), "r%d-%d", round, target);
        if (r == 9 && target != i) {
            a.op = 'D';
            int rc = fs_store_delete(st, ACCOUNT, a.id, NULL);
            if (rc == FS_ENOTFOUND)
                continue; /* deleted already: nothing changed, nothing to acknowledge */
            if (rc != 0)
                _exit(3);
        } else {
            a.op = 'P';
            snprintf(a.name, sizeof(a.name), "n%d-%d", round, i);
            Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
            m.name = a.name;
            m.notes = "a longer note so that pages fill and split now and then .........";
            if (fs_store_put(st, ACCOUNT, a.id, &m.base, NULL, 0, NULL) != 0)
                _exit(4);
        }
        char buf[ACK_SIZE] = {0};
        memcpy(buf, &a, sizeof(a));
        if (write(fd, buf, ACK_SIZE) != ACK_SIZE)
            _exit(5);
    }
}

static size_t read_acks(int fd, expect *e, size_t max)
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
        remember(e, &a);
        got++;
    }
    return got;
}

/* Whether the record shows a change of this round later than a (seq > a->seq). */
static bool later_change(const ProtobufCMessage *m, const ack *a, int round)
{
    int r = -1, seq = -1;
    if (m == NULL)
        return true; /* a delete (only deletes leave no visible value) */
    const char *name = ((const Fieldsync__Account *)m)->name;
    return name != NULL && sscanf(name, "n%d-%d", &r, &seq) == 2 && r == round && seq > a->seq;
}

/*
 * The acknowledged change is there, or (at most once per round) superseded by the
 * change the child committed but was killed before acknowledging. Returns 1 when
 * superseded.
 */
static int check_change(fs_store *st, const ack *a, uint64_t seed, int round)
{
    ProtobufCMessage *m = NULL;
    fs_err err;
    fs_err_clear(&err);
    int rc = fs_store_get(st, ACCOUNT, a->id, NULL, &m, &err);
    if (rc != 0)
        fail_msg("seed %llu round %d: acknowledged %s lost: %s", (unsigned long long)seed, round,
                 a->id, fs_err_message(&err));
    int superseded = 0;
    int ack_round = -1;
    sscanf(a->id, "r%d-", &ack_round);
    bool exact = a->op == 'D' ? m == NULL
                              : m != NULL && strcmp(((Fieldsync__Account *)m)->name, a->name) == 0;
    if (!exact) {
        if (!later_change(m, a, ack_round))
            fail_msg("seed %llu round %d: %s lost its acknowledged %s %s", (unsigned long long)seed,
                     round, a->id, a->op == 'D' ? "delete" : "value", a->name);
        superseded = 1;
    }
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    bool has = false;
    assert_int_equal(fs_outbox_has(st, ACCOUNT, a->id, &has, NULL), 0);
    if (!has)
        fail_msg("seed %llu round %d: %s has no outbox entry", (unsigned long long)seed, round,
                 a->id);
    return superseded;
}

/* The state inside an outbox entry's Change. */
static fs_state *change_state(sqlite3_stmt *s, int col)
{
    Fieldsync__Change *ch = fieldsync__change__unpack(NULL, (size_t)sqlite3_column_bytes(s, col),
                                                      sqlite3_column_blob(s, col));
    fs_state *state = NULL;
    assert_non_null(ch);
    assert_int_equal(fs_state_from_pb(&state, ch->state, NULL), 0);
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
static void check_outbox_matches_states(fs_store *st, const char *prefix, uint64_t seed)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db,
                                        "SELECT r.id, r.state, (SELECT count(*) FROM outbox o "
                                        "WHERE o.kind = r.kind AND o.id = r.id), (SELECT change "
                                        "FROM outbox o WHERE o.kind = r.kind AND o.id = r.id) "
                                        "FROM records r WHERE r.id LIKE ?",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        if (sqlite3_column_int64(s, 2) != 1)
            fail_msg("seed %llu: %s has %lld outbox entries, not one", (unsigned long long)seed, id,
                     (long long)sqlite3_column_int64(s, 2));
        fs_state *state = NULL, *queued = change_state(s, 3);
        assert_int_equal(fs_state_decode(&state, sqlite3_column_blob(s, 1),
                                         (size_t)sqlite3_column_bytes(s, 1), NULL),
                         0);
        if (fs_vv_compare(&state->vv, &queued->vv) != FS_VV_EQUAL)
            fail_msg("seed %llu: %s's outbox entry does not hold its committed state",
                     (unsigned long long)seed, id);
        fs_state_free(state);
        fs_state_free(queued);
    }
    sqlite3_finalize(s);
}

static void check_integrity(fs_store *st)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
}

static void one_round(const char *db, const char *key, int round, expect *e)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    uint64_t child_seed = rnd();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        writer(db, key, fds[1], round, child_seed);
    }
    close(fds[1]);
    /* The kill moment: after 0-24 acknowledgements, plus 0-3 ms into the next. */
    read_acks(fds[0], e, rnd() % 25);
    struct timespec ts = {0, (long)(rnd() % 3000) * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    read_acks(fds[0], e, SIZE_MAX); /* acks written before the kill count too */
    close(fds[0]);
    if (!WIFSIGNALED(status))
        fail_msg("round %d: writer exited with %d before the kill", round, WEXITSTATUS(status));
}

static void every_acknowledged_change_survives_kill_9(void **state)
{
    (void)state;
    long rounds = tu_env_long("FS_STORE_CRASH_ROUNDS", 200);
    uint64_t seed = (uint64_t)tu_env_long("FS_STORE_CRASH_SEED", (long)time(NULL));
    printf("crash test: seed %llu, %ld rounds\n", (unsigned long long)seed, rounds);
    rng = seed;
    char *dir = tu_mkdtemp();
    char *db = tu_path(dir, "store.db");
    char *key = tu_path(dir, "store.key");
    fs_store *st = NULL;
    assert_int_equal(
        fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_CREATE | FS_STORE_FAST_KDF, NULL),
        0);
    fs_store_close(st);
    expect e = {0};
    for (int round = 0; round < rounds; round++) {
        size_t before = e.n;
        one_round(db, key, round, &e);
        fs_err err;
        fs_err_clear(&err);
        if (fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_FAST_KDF, &err) != 0)
            fail_msg("seed %llu round %d: reopen failed: %s", (unsigned long long)seed, round,
                     fs_err_message(&err));
        int superseded = 0;
        for (size_t i = before; i < e.n; i++)
            superseded += check_change(st, &e.acks[i], seed, round);
        if (superseded > 1)
            fail_msg("seed %llu round %d: %d acknowledged changes superseded by unacknowledged "
                     "ones; at most the one in progress can be",
                     (unsigned long long)seed, round, superseded);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "r%d-%%", round);
        check_outbox_matches_states(st, prefix, seed);
        check_integrity(st);
        fs_store_close(st);
    }
    /* Finally every change acknowledged in any round, after all the crashes since. */
    assert_int_equal(fs_store_open(&st, db, key, PASS, strlen(PASS), FS_STORE_FAST_KDF, NULL), 0);
    size_t superseded = 0;
    for (size_t i = 0; i < e.n; i++)
        superseded += (size_t)check_change(st, &e.acks[i], seed, -1);
    assert_true(superseded <= (size_t)rounds);
    check_outbox_matches_states(st, "%", seed);
    check_integrity(st);
    printf("crash test: %zu records acknowledged and found\n", e.n);
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
