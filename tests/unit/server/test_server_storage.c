/*
 * test_server_storage.c: the storage contract (storage.h), the same tests for
 * both backends: `test_server_storage sqlite` and, inside a throwaway
 * cluster, `pgcluster.py run -- test_server_storage postgresql`. Users,
 * teams, codes, change numbers across reopen, rollback, records, pull pages,
 * reassignment, gc, the pool under threads, and concurrent writers and
 * pullers checked against an oracle. What only one backend has is in
 * test_server_storage_sqlite.c and test_server_storage_pg.c.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin.h"
#include "srv_test_util.h"

typedef tu_db_fixture fx;

static void test_users_are_unique_and_managers_must_exist(void **state)
{
    fx *f = *state;
    fs_err err = {0};
    assert_int_equal(srv_admin_user_add(f->s, "mgr", SRV_ROLE_MANAGER, NULL, NULL), 0);
    assert_int_equal(srv_admin_user_add(f->s, "anna", SRV_ROLE_REP, "mgr", NULL), 0);
    assert_int_equal(srv_admin_user_add(f->s, "anna", SRV_ROLE_REP, NULL, &err), FS_EEXIST);
    assert_int_equal(srv_admin_user_add(f->s, "bob", SRV_ROLE_REP, "nobody", NULL), FS_ENOTFOUND);
    assert_int_equal(srv_admin_user_add(f->s, "bob", SRV_ROLE_REP, "anna", NULL), FS_EINVAL);
    assert_int_equal(srv_admin_user_add(f->s, "bad name", SRV_ROLE_REP, NULL, NULL), FS_EINVAL);
    assert_int_equal(srv_admin_user_add(f->s, "", SRV_ROLE_REP, NULL, NULL), FS_EINVAL);
    srv_user *u;
    size_t n;
    assert_int_equal(f->s->ops->user_list(f->s, &u, &n, NULL), 0);
    assert_int_equal(n, 2); /* failed adds left nothing behind */
    assert_string_equal(u[0].name, "anna");
    assert_int_equal(u[0].manager_id, u[1].id);
    free(u);
}

static void test_code_is_used_at_most_once(void **state)
{
    fx *f = *state;
    uint8_t h[SRV_HASH_LEN] = {7};
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->code_add(f->s, h, 1, 100, NULL), 0);
    assert_int_equal(f->s->ops->code_use(f->s, h, 50, NULL), 0);
    assert_int_equal(f->s->ops->code_use(f->s, h, 60, NULL), FS_EEXIST);
    srv_code c;
    assert_int_equal(f->s->ops->code_get(f->s, h, &c, NULL), 0);
    assert_int_equal(c.used_at, 50);
    h[0] = 8;
    assert_int_equal(f->s->ops->code_get(f->s, h, &c, NULL), FS_ENOTFOUND);
}

/* One record written in its own transaction; its change number. */
static uint64_t put(srv_storage *s, const char *id, const char *account, int64_t owner, bool alive)
{
    uint8_t blob = alive;
    srv_record r = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                    .id = (char *)id,
                    .account_id = (char *)account,
                    .owner = owner,
                    .alive = alive,
                    .state = &blob,
                    .state_len = 1};
    assert_int_equal(s->ops->begin(s, true, NULL), 0);
    assert_int_equal(s->ops->next_seq(s, &r.seq, NULL), 0);
    assert_int_equal(s->ops->record_put(s, &r, NULL), 0);
    assert_int_equal(s->ops->commit(s, NULL), 0);
    return r.seq;
}

static int64_t user_id(srv_storage *s, const char *name)
{
    srv_user u;
    assert_int_equal(s->ops->user_get(s, name, &u, NULL), 0);
    return u.id;
}

/* A pull in its own read transaction, as the handler runs it. */
static void pull(srv_storage *s, const char *user, uint64_t cursor, size_t limit,
                 srv_pull_page *page)
{
    srv_user u;
    srv_pull_query q = {.cursor = cursor, .limit = limit, .max_bytes = 1 << 20};
    assert_int_equal(s->ops->user_get(s, user, &u, NULL), 0);
    assert_int_equal(s->ops->begin(s, false, NULL), 0);
    assert_int_equal(s->ops->pull(s, &u, &q, page, NULL), 0);
    assert_int_equal(s->ops->commit(s, NULL), 0);
}

static void test_sequence_survives_reopen_and_rollback_undoes(void **state)
{
    fx *f = *state;
    uint64_t a, b, c, d;
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->begin(f->s, true, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &a, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &b, NULL), 0);
    assert_int_equal(f->s->ops->commit(f->s, NULL), 0);
    assert_true(b > a);
    assert_int_equal(f->s->ops->begin(f->s, true, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &c, NULL), 0);
    assert_int_equal(f->s->ops->territory_set(f->s, "acc-x", user_id(f->s, "anna"), NULL), 0);
    f->s->ops->rollback(f->s);
    srv_storage_close(f->s);
    assert_int_equal(srv_storage_open(&f->s, f->db, false, NULL), 0);
    assert_int_equal(f->s->ops->last_seq(f->s, &c, NULL), 0);
    assert_true(c >= b); /* a pull's cursor after the commit covers both */
    assert_int_equal(f->s->ops->begin(f->s, true, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &d, NULL), 0);
    assert_int_equal(f->s->ops->commit(f->s, NULL), 0);
    assert_true(d > c);
    int64_t owner;
    assert_int_equal(f->s->ops->territory_get(f->s, "acc-x", &owner, NULL), FS_ENOTFOUND);
}

/* The stored record (kind, id) is r: its seq, alive, account and state. */
static void assert_stored(srv_storage *s, const srv_record *r)
{
    srv_record g;
    assert_int_equal(s->ops->record_get(s, r->kind, r->id, &g, NULL), 0);
    assert_int_equal(g.seq, r->seq);
    assert_int_equal(g.alive, r->alive);
    assert_string_equal(g.account_id, r->account_id);
    assert_int_equal(g.state_len, r->state_len);
    assert_memory_equal(g.state, r->state, r->state_len);
    srv_record_clear(&g);
}

static void test_record_put_get_round_trip(void **state)
{
    fx *f = *state;
    uint8_t blob[] = {1, 2, 3, 0, 5};
    srv_record r = {.kind = FIELDSYNC__RECORD_KIND__VISIT,
                    .id = "v-1",
                    .account_id = "acc-1",
                    .seq = 9,
                    .alive = true,
                    .state = blob,
                    .state_len = sizeof(blob)};
    assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    assert_stored(f->s, &r);
    srv_record g;
    /* same id, other kind: a different record */
    assert_int_equal(f->s->ops->record_get(f->s, FIELDSYNC__RECORD_KIND__CONTACT, "v-1", &g, NULL),
                     FS_ENOTFOUND);
}

/* A record written again keeps only its new version, in its account and with
 * its owner as written: the same (SQLite updates in place) or another. */
static void test_record_put_again_in_place_or_moved(void **state)
{
    fx *f = *state;
    srv_user anna, bob;
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    tu_user(f->s, "bob", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &anna, NULL), 0);
    assert_int_equal(f->s->ops->user_get(f->s, "bob", &bob, NULL), 0);
    uint8_t v1[] = {1}, v2[] = {2, 2}, v3[] = {3, 3, 3};
    srv_record r = {.kind = FIELDSYNC__RECORD_KIND__CONTACT,
                    .id = "c-1",
                    .account_id = "acc-1",
                    .owner = anna.id,
                    .writer = 0,
                    .seq = 1,
                    .alive = true,
                    .state = v1,
                    .state_len = sizeof(v1)};
    assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    /* a new version in place (the caller read it: it is stored) */
    r.stored = true;
    r.seq = 2;
    r.alive = false;
    r.state = v2;
    r.state_len = sizeof(v2);
    assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    assert_stored(f->s, &r);
    /* another owner, same account: bob's pull has it, anna's has nothing */
    r.owner = bob.id;
    r.seq = 3;
    r.alive = true;
    r.state = v3;
    r.state_len = sizeof(v3);
    assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    uint64_t n = 9;
    assert_int_equal(f->s->ops->pull_count(f->s, &bob, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(f->s->ops->pull_count(f->s, &anna, &n, NULL), 0);
    assert_int_equal(n, 0);
    /* another account, same owner */
    r.account_id = "acc-2";
    r.seq = 4;
    assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    assert_stored(f->s, &r);
}

/* A manager's pages merge the team's records in seq order, page by page, and
 * leave out everybody else's. */
static void test_manager_pages_merge_the_team_in_seq_order(void **state)
{
    fx *f = *state;
    srv_user mgr, rep[3];
    const char *names[3] = {"anna", "carl", "bob"};
    tu_user(f->s, "mgr", SRV_ROLE_MANAGER, NULL);
    for (int i = 0; i < 3; i++)
        tu_user(f->s, names[i], SRV_ROLE_REP, i < 2 ? "mgr" : NULL);
    assert_int_equal(f->s->ops->user_get(f->s, "mgr", &mgr, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->s->ops->user_get(f->s, names[i], &rep[i], NULL), 0);
    uint8_t blob = 0;
    char id[16];
    for (uint64_t seq = 1; seq <= 9; seq++) { /* owners anna, carl, bob, anna, ... */
        snprintf(id, sizeof(id), "r%llu", (unsigned long long)seq);
        srv_record r = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                        .id = id,
                        .account_id = id,
                        .owner = rep[(seq - 1) % 3].id,
                        .seq = seq,
                        .alive = true,
                        .state = &blob,
                        .state_len = 1};
        assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    }
    const char *want[] = {"r1", "r2", "r4", "r5", "r7", "r8"};
    uint64_t cursor = 0;
    size_t got = 0;
    for (int pages = 0; pages < 3; pages++) {
        srv_pull_page page;
        srv_pull_query q = {.cursor = cursor, .limit = 2, .max_bytes = 1 << 20};
        assert_int_equal(f->s->ops->pull(f->s, &mgr, &q, &page, NULL), 0);
        assert_int_equal(page.n, 2);
        for (size_t i = 0; i < page.n; i++)
            assert_string_equal(page.items[i].id, want[got++]);
        assert_int_equal(page.more, pages < 2);
        cursor = page.next_cursor;
        srv_pull_page_clear(&page);
    }
    assert_int_equal(got, 6);
    /* what a pull from 0 gives, counted up front: the team's, a rep's own */
    uint64_t n = 0;
    assert_int_equal(f->s->ops->pull_count(f->s, &mgr, &n, NULL), 0);
    assert_int_equal(n, 6);
    assert_int_equal(f->s->ops->pull_count(f->s, &rep[2], &n, NULL), 0);
    assert_int_equal(n, 3);
}

static void test_team_change_makes_both_managers_pull_again(void **state)
{
    fx *f = *state;
    srv_storage *s = f->s;
    uint64_t floor, last;
    srv_user u;
    tu_user(s, "mgr1", SRV_ROLE_MANAGER, NULL);
    tu_user(s, "mgr2", SRV_ROLE_MANAGER, NULL);
    tu_user(s, "anna", SRV_ROLE_REP, "mgr1");
    put(s, "acc-1", "acc-1", user_id(s, "anna"), true);
    assert_int_equal(s->ops->last_seq(s, &last, NULL), 0); /* what a device may have pulled */
    assert_int_equal(srv_admin_team_set(s, "anna", "mgr2", NULL), 0);
    assert_int_equal(s->ops->user_get(s, "anna", &u, NULL), 0);
    assert_int_equal(u.manager_id, user_id(s, "mgr2"));
    for (int i = 0; i < 2; i++) { /* both managers' devices must start over */
        assert_int_equal(s->ops->user_get(s, i ? "mgr2" : "mgr1", &u, NULL), 0);
        assert_int_equal(s->ops->floor_get(s, &u, &floor, NULL), 0);
        assert_true(floor > last);
    }
    assert_int_equal(s->ops->user_get(s, "anna", &u, NULL), 0);
    assert_int_equal(s->ops->floor_get(s, &u, &floor, NULL), 0);
    assert_int_equal(floor, 0); /* the rep's own devices carry on */
    srv_pull_page page;
    pull(s, "mgr2", 0, 10, &page);
    assert_int_equal(page.n, 1);
    assert_string_equal(page.items[0].id, "acc-1");
    assert_true(page.next_cursor >= floor); /* a resync ends at or above the floor */
    srv_pull_page_clear(&page);
    pull(s, "mgr1", 0, 10, &page);
    assert_int_equal(page.n, 0);
    srv_pull_page_clear(&page);
    /* out of any team, and the errors */
    assert_int_equal(srv_admin_team_set(s, "anna", NULL, NULL), 0);
    assert_int_equal(s->ops->user_get(s, "anna", &u, NULL), 0);
    assert_int_equal(u.manager_id, 0);
    assert_int_equal(srv_admin_team_set(s, "nobody", "mgr1", NULL), FS_ENOTFOUND);
    assert_int_equal(srv_admin_team_set(s, "anna", "nobody", NULL), FS_ENOTFOUND);
    assert_int_equal(srv_admin_team_set(s, "mgr1", "mgr2", NULL), FS_EINVAL);
    tu_user(s, "bob", SRV_ROLE_REP, NULL);
    assert_int_equal(srv_admin_team_set(s, "anna", "bob", NULL), FS_EINVAL);
    assert_int_equal(s->ops->user_get(s, "anna", &u, NULL), 0);
    assert_int_equal(u.manager_id, 0); /* the refused changes left nothing */
}

/* The backend's reassign in its own transaction (srv_admin_reassign also
 * writes the owner into the account's state, which these fake states lack). */
static int reassign(srv_storage *s, const char *account, const char *rep, size_t *moved)
{
    int rc;
    assert_int_equal(s->ops->begin(s, true, NULL), 0);
    if ((rc = s->ops->reassign(s, account, user_id(s, rep), moved, NULL)) == 0)
        assert_int_equal(s->ops->commit(s, NULL), 0);
    else
        s->ops->rollback(s);
    return rc;
}

static void test_reassign_renumbers_and_leaves_removals(void **state)
{
    fx *f = *state;
    srv_storage *s = f->s;
    size_t moved;
    tu_user(s, "anna", SRV_ROLE_REP, NULL);
    tu_user(s, "bob", SRV_ROLE_REP, NULL);
    int64_t anna = user_id(s, "anna");
    assert_int_equal(s->ops->territory_set(s, "acc-1", anna, NULL), 0);
    put(s, "acc-1", "acc-1", anna, true);
    put(s, "c-1", "acc-1", anna, true);
    put(s, "acc-2", "acc-2", anna, true);
    uint64_t before;
    assert_int_equal(s->ops->last_seq(s, &before, NULL), 0);
    assert_int_equal(reassign(s, "acc-1", "bob", &moved), 0);
    assert_int_equal(moved, 2);
    srv_pull_page page;
    pull(s, "bob", before, 10, &page); /* bob gets both, renumbered above his cursor */
    assert_int_equal(page.n, 2);
    assert_string_equal(page.items[0].id, "acc-1");
    assert_string_equal(page.items[1].id, "c-1");
    assert_non_null(page.items[0].state);
    assert_true(page.items[0].seq > before && page.items[1].seq > page.items[0].seq);
    srv_pull_page_clear(&page);
    pull(s, "anna", before, 10, &page); /* anna gets removals, in the same order */
    assert_int_equal(page.n, 2);
    assert_null(page.items[0].state);
    assert_string_equal(page.items[0].id, "acc-1");
    assert_string_equal(page.items[1].id, "c-1");
    srv_pull_page_clear(&page);
    assert_int_equal(reassign(s, "acc-9", "bob", &moved), FS_ENOTFOUND);
}

static void test_gc_collects_tombstones_every_reader_passed(void **state)
{
    fx *f = *state;
    srv_storage *s = f->s;
    srv_gc_report r;
    srv_record rec;
    tu_user(s, "anna", SRV_ROLE_REP, NULL);
    int64_t anna = user_id(s, "anna");
    put(s, "dead-1", "dead-1", anna, false);
    uint64_t cursor;
    assert_int_equal(s->ops->last_seq(s, &cursor, NULL), 0);
    put(s, "dead-2", "dead-2", anna, false);
    put(s, "alive", "alive", anna, true);
    srv_device d = {.user_id = anna, .replica = 42, .created_at = 1000};
    uint8_t hash[SRV_HASH_LEN] = {1};
    int64_t dev;
    assert_int_equal(s->ops->device_add(s, &d, hash, &dev, NULL), 0);
    assert_int_equal(s->ops->device_seen(s, dev, 2000, true, cursor, NULL), 0);
    assert_int_equal(srv_admin_gc(s, 2000, 100, &r, NULL), 0);
    assert_int_equal(r.tombstones, 1); /* the device has not pulled past dead-2 */
    assert_int_equal(r.reps, 1);
    assert_int_equal(s->ops->record_get(s, FIELDSYNC__RECORD_KIND__ACCOUNT, "dead-1", &rec, NULL),
                     FS_ENOTFOUND);
    assert_int_equal(s->ops->record_get(s, FIELDSYNC__RECORD_KIND__ACCOUNT, "dead-2", &rec, NULL),
                     0);
    srv_record_clear(&rec);
    srv_user u;
    uint64_t floor;
    assert_int_equal(s->ops->user_get(s, "anna", &u, NULL), 0);
    assert_int_equal(s->ops->floor_get(s, &u, &floor, NULL), 0);
    assert_int_equal(floor, cursor);
    /* silent past the horizon: no longer a reader, everything goes */
    assert_int_equal(srv_admin_gc(s, 9000, 100, &r, NULL), 0);
    assert_int_equal(r.tombstones, 1);
    assert_int_equal(s->ops->record_get(s, FIELDSYNC__RECORD_KIND__ACCOUNT, "alive", &rec, NULL),
                     0);
    srv_record_clear(&rec);
}

#define POOL_THREADS 4
#define POOL_ITERATIONS 25

typedef struct pool_arg {
    srv_pool *pool;
    uint64_t seqs[POOL_ITERATIONS];
    int failures;
} pool_arg;

static void *pool_worker(void *p)
{
    pool_arg *a = p;
    for (int i = 0; i < POOL_ITERATIONS; i++) {
        srv_storage *s = srv_pool_acquire(a->pool);
        if (s->ops->begin(s, true, NULL) != 0 || s->ops->next_seq(s, &a->seqs[i], NULL) != 0 ||
            s->ops->commit(s, NULL) != 0) {
            s->ops->rollback(s);
            a->failures++;
        }
        srv_pool_release(a->pool, s);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_pool_serves_threads_with_distinct_increasing_numbers(void **state)
{
    fx *f = *state;
    srv_pool *pool;
    assert_int_equal(srv_pool_new(&pool, f->db, 2, NULL), 0);
    pthread_t th[POOL_THREADS];
    pool_arg args[POOL_THREADS];
    uint64_t all[POOL_THREADS * POOL_ITERATIONS], last;
    for (int i = 0; i < POOL_THREADS; i++) {
        args[i] = (pool_arg){.pool = pool};
        pthread_create(&th[i], NULL, pool_worker, &args[i]);
    }
    for (int i = 0; i < POOL_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
        for (int k = 0; k < POOL_ITERATIONS; k++) {
            if (k > 0)
                assert_true(args[i].seqs[k] > args[i].seqs[k - 1]);
            all[i * POOL_ITERATIONS + k] = args[i].seqs[k];
        }
    }
    qsort(all, POOL_THREADS * POOL_ITERATIONS, sizeof(all[0]), cmp_u64);
    for (size_t i = 1; i < POOL_THREADS * POOL_ITERATIONS; i++)
        assert_true(all[i] > all[i - 1]);
    assert_int_equal(f->s->ops->last_seq(f->s, &last, NULL), 0);
    assert_true(last >= all[POOL_THREADS * POOL_ITERATIONS - 1]);
    srv_pool_free(pool);
}

int main(int argc, char **argv)
{
    tu_use_backend(argc > 1 ? argv[1] : "sqlite");
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tu_db_setup, tu_db_teardown)
        T(test_users_are_unique_and_managers_must_exist),
        T(test_code_is_used_at_most_once),
        T(test_sequence_survives_reopen_and_rollback_undoes),
        T(test_record_put_get_round_trip),
        T(test_record_put_again_in_place_or_moved),
        T(test_manager_pages_merge_the_team_in_seq_order),
        T(test_team_change_makes_both_managers_pull_again),
        T(test_reassign_renumbers_and_leaves_removals),
        T(test_gc_collects_tombstones_every_reader_passed),
        T(test_pool_serves_threads_with_distinct_increasing_numbers),
#undef T
    };
    return cmocka_run_group_tests_name(tu_is_pg() ? "storage on postgresql" : "storage on sqlite",
                                       tests, NULL, NULL);
}
