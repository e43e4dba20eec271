/*
 * test_server_cursor.c: pull cursors under concurrent writers, for both
 * backends (`test_server_cursor sqlite`, and `postgresql` inside
 * tests/pg/pgcluster.py run). Writer threads, each on its own connection,
 * commit or roll back transactions of new records while puller threads page
 * through the changes with their cursors, as devices do. The oracle: every
 * puller ends with exactly the committed records, each seen in ascending
 * change-number order and above its cursor; a change that commits after a
 * later-numbered one must not be passed by a cursor (storage.h, "change
 * sequence"; docs/server.md, "Change numbers on PostgreSQL"). One puller
 * begins with a snapshot (snapshot.h), whose pages come in key order, and
 * goes on with the change feed after it: it too must end with exactly the
 * committed records.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "snapshot.h"
#include "srv_test_util.h"

#define WRITERS 4
#define TXNS 60
#define PER_TXN 3
#define PULLERS 3
#define PAGE 7

typedef struct world {
    char db[300];
    srv_user rep;
    atomic_int writers_left;
    atomic_int commits; /* transactions committed so far */
    bool committed[WRITERS][TXNS];
} world;

typedef struct writer_arg {
    world *w;
    int n;
    int failures;
} writer_arg;

typedef struct puller_arg {
    world *w;
    bool snapshot;      /* begins with a snapshot */
    int snapshot_pages; /* pages pulled in key order */
    unsigned char seen[WRITERS][TXNS][PER_TXN];
    int pulls;
    char failure[200]; /* the first broken rule, "" when none */
} puller_arg;

static srv_storage *connect_to(const world *w)
{
    srv_storage *s = NULL;
    fs_err err = {0};
    if (srv_storage_open(&s, w->db, false, &err) != 0)
        fprintf(stderr, "connect: %s\n", err.msg);
    return s;
}

/* Keeps a transaction open for up to 300 us, so transactions overlap and
 * commit in another order than they drew their numbers. Not a wait for a
 * condition: any interleaving must pass. */
static void linger(unsigned *seed)
{
    struct timespec ts = {0, (long)(rand_r(seed) % 300) * 1000};
    nanosleep(&ts, NULL);
}

static int write_txn(srv_storage *s, world *w, int n, int t, unsigned *seed)
{
    char id[32];
    uint8_t blob[16] = {(uint8_t)n, (uint8_t)t};
    int rc = s->ops->begin(s, true, NULL);
    for (int k = 0; rc == 0 && k < PER_TXN; k++) {
        /* later transactions sort first: a snapshot's key-order pages have
         * passed their ids already, so they must come in the feed after it */
        snprintf(id, sizeof(id), "%03d-w%d-t%d-k%d", TXNS - t, n, t, k);
        srv_record r = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                        .id = id,
                        .account_id = id,
                        .owner = w->rep.id,
                        .alive = true,
                        .state = blob,
                        .state_len = sizeof(blob)};
        rc = s->ops->next_seq(s, &r.seq, NULL);
        if (rc == 0)
            rc = s->ops->record_put(s, &r, NULL);
        linger(seed);
    }
    if (rc == 0 && rand_r(seed) % 8 == 0) { /* some never commit */
        s->ops->rollback(s);
        return 0;
    }
    if (rc == 0)
        rc = s->ops->commit(s, NULL);
    if (rc != 0)
        s->ops->rollback(s);
    else
        w->committed[n][t] = true;
    if (rc == 0)
        atomic_fetch_add(&w->commits, 1);
    return rc;
}

static void *writer(void *p)
{
    writer_arg *a = p;
    unsigned seed = 1000u + (unsigned)a->n;
    srv_storage *s = connect_to(a->w);
    for (int t = 0; s != NULL && t < TXNS; t++)
        if (write_txn(s, a->w, a->n, t, &seed) != 0)
            a->failures++;
    if (s == NULL)
        a->failures++;
    srv_storage_close(s);
    atomic_fetch_sub(&a->w->writers_left, 1);
    return NULL;
}

/* Applies one page as a device would; false (with a->failure) on a broken rule.
 * A snapshot's pages are in key order, not in change order. */
static bool apply(puller_arg *a, const srv_pull_page *page, uint64_t cursor, bool snapshot)
{
    uint64_t prev = cursor;
    for (size_t i = 0; i < page->n; i++) {
        int n, t, k;
        const srv_pull_item *it = &page->items[i];
        if ((!snapshot && it->seq <= prev) || sscanf(it->id, "%*d-w%d-t%d-k%d", &n, &t, &k) != 3) {
            snprintf(a->failure, sizeof(a->failure), "%s at %llu after %llu", it->id,
                     (unsigned long long)it->seq, (unsigned long long)prev);
            return false;
        }
        prev = snapshot ? cursor : it->seq;
        a->seen[n][t][k]++;
    }
    if (page->next_cursor < prev) {
        snprintf(a->failure, sizeof(a->failure), "next_cursor %llu below the page's last %llu",
                 (unsigned long long)page->next_cursor, (unsigned long long)prev);
        return false;
    }
    return true;
}

/* One page in a read transaction: a snapshot's while pos is set (pos->data
 * is then replaced by the next position, NULL once the snapshot is done),
 * else the feed's after cursor. */
static int pull_page(srv_storage *s, const srv_user *rep, uint64_t cursor, ProtobufCBinaryData *pos,
                     srv_pull_page *page, fs_err *err)
{
    srv_pull_query q = {.cursor = cursor, .limit = PAGE, .max_bytes = 1 << 20};
    uint64_t last = 0;
    int rc = s->ops->begin(s, false, err);
    if (rc == 0 && pos != NULL)
        rc = s->ops->last_seq(s, &last, err);
    if (rc == 0 && pos != NULL)
        rc = srv_snapshot_page(s, rep, &q, last, pos->data, pos->len, page, err);
    else if (rc == 0)
        rc = s->ops->pull(s, rep, &q, page, err);
    if (rc == 0)
        rc = s->ops->commit(s, err);
    if (rc == 0 && pos != NULL) {
        free(pos->data);
        pos->data = page->snapshot;
        pos->len = page->snapshot_len;
        page->snapshot = NULL;
    }
    return rc;
}

static void *puller(void *p)
{
    puller_arg *a = p;
    srv_storage *s = connect_to(a->w);
    uint64_t cursor = 0;
    bool last_round = false, in_snapshot = a->snapshot;
    ProtobufCBinaryData pos = {0, NULL};
    /* the snapshot begins while the writers are busy: a quarter committed */
    for (time_t deadline = time(NULL) + 30;
         a->snapshot && atomic_load(&a->w->commits) < WRITERS * TXNS / 4 && time(NULL) < deadline;)
        sched_yield();
    while (s != NULL && a->failure[0] == '\0') {
        /* read before the pull: a page that ends the stream after every writer
         * finished must hold everything */
        bool done = atomic_load(&a->w->writers_left) == 0;
        srv_pull_page page = {0};
        fs_err err = {0};
        int rc = pull_page(s, &a->w->rep, cursor, in_snapshot ? &pos : NULL, &page, &err);
        if (rc != 0) {
            s->ops->rollback(s);
            snprintf(a->failure, sizeof(a->failure), "pull: %.150s", err.msg);
            break;
        }
        a->pulls++;
        a->snapshot_pages += in_snapshot;
        if (apply(a, &page, cursor, in_snapshot))
            cursor = page.next_cursor;
        in_snapshot = in_snapshot && pos.data != NULL;
        last_round = done && !page.more && !in_snapshot;
        srv_pull_page_clear(&page);
        if (last_round)
            break;
    }
    if (s == NULL)
        snprintf(a->failure, sizeof(a->failure), "no connection");
    free(pos.data);
    srv_storage_close(s);
    return NULL;
}

static void test_concurrent_writers_and_pullers_never_skip_a_change(void **state)
{
    (void)state;
    char dir[256];
    static world w;
    static puller_arg pulls[PULLERS];
    writer_arg writes[WRITERS];
    pthread_t wt[WRITERS], pt[PULLERS];
    memset(&w, 0, sizeof(w));
    srv_storage *s = tu_storage_new(dir);
    tu_db(dir, w.db);
    tu_user(s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(s->ops->user_get(s, "anna", &w.rep, NULL), 0);
    atomic_store(&w.writers_left, WRITERS);
    for (int i = 0; i < PULLERS; i++) {
        memset(&pulls[i], 0, sizeof(pulls[i]));
        pulls[i].w = &w;
        pulls[i].snapshot = i == 0;
        pthread_create(&pt[i], NULL, puller, &pulls[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        writes[i] = (writer_arg){.w = &w, .n = i};
        pthread_create(&wt[i], NULL, writer, &writes[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        assert_int_equal(writes[i].failures, 0);
    }
    size_t committed = 0;
    for (int i = 0; i < PULLERS; i++) {
        pthread_join(pt[i], NULL);
        if (pulls[i].failure[0] != '\0')
            fail_msg("puller %d: %s", i, pulls[i].failure);
        for (int n = 0; n < WRITERS; n++)
            for (int t = 0; t < TXNS; t++)
                for (int k = 0; k < PER_TXN; k++) {
                    if (w.committed[n][t] && pulls[i].seen[n][t][k] == 0)
                        fail_msg("puller %d never saw w%d-t%d-k%d, committed", i, n, t, k);
                    if (!w.committed[n][t] && pulls[i].seen[n][t][k] != 0)
                        fail_msg("puller %d saw w%d-t%d-k%d, rolled back", i, n, t, k);
                    committed += i == 0 && w.committed[n][t];
                }
    }
    /* the run had something to check */
    assert_true(committed > WRITERS * TXNS * PER_TXN / 2);
    assert_true(pulls[0].pulls > 2);
    assert_true(pulls[0].snapshot_pages > 2); /* its snapshot ran beside the writers */
    tu_storage_free(s, dir);
}

int main(int argc, char **argv)
{
    tu_use_backend(argc > 1 ? argv[1] : "sqlite");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_writers_and_pullers_never_skip_a_change),
    };
    return cmocka_run_group_tests_name(tu_is_pg() ? "cursor on postgresql" : "cursor on sqlite",
                                       tests, NULL, NULL);
}
