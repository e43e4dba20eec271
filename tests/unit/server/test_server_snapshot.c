/*
 * test_server_snapshot.c: a pull from cursor 0 served as a snapshot
 * (protocol.md, "Snapshot"), through the handler and the storage ops, on both
 * backends (`test_server_snapshot sqlite`, and `postgresql` inside
 * tests/pg/pgcluster.py run): the territory in key order then the change
 * feed, changes made during a snapshot coming in that feed, removals first,
 * the puller's own writes, forged positions, and the change order that
 * managers and devices without snapshots keep getting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin.h"
#include "fieldsync.pb-c.h"
#include "srv_test_util.h"

typedef tu_team fx;

/* Pushes st as bearer; every state must be joined. */
static void push_ok(fx *f, const char *bearer, fs_state *const *st, size_t n)
{
    Fieldsync__PushResponse *pr = tu_push(f->s, &f->cfg, bearer, st, n);
    for (size_t i = 0; i < pr->n_results; i++)
        assert_int_equal(pr->results[i]->outcome_case, FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED);
    fieldsync__push_response__free_unpacked(pr, NULL);
}

/* Pushes accounts with the given ids as anna's first device. */
static void push_accounts(fx *f, const char *const *ids, size_t n)
{
    fs_state *st[16];
    for (size_t i = 0; i < n; i++)
        st[i] = tu_account(f->ra, ids[i], "Account");
    push_ok(f, f->anna_a, st, n);
    for (size_t i = 0; i < n; i++)
        fs_state_free(st[i]);
}

/* Sends a pull body (freed here); status is what the handler answered. */
static Fieldsync__PullResponse *send_pull(fx *f, const char *bearer, uint8_t *body, size_t len,
                                          long *status)
{
    return tu_send_pull(f->s, &f->cfg, bearer, body, len, status);
}

/* One page of a snapshot (pos NULL: the first); the answer must be 200. */
static Fieldsync__PullResponse *snapshot(fx *f, const char *bearer, uint32_t limit, bool full,
                                         const ProtobufCBinaryData *pos)
{
    size_t len;
    long status;
    uint8_t *body =
        tu_pull_snapshot_body(limit, full, pos ? pos->data : NULL, pos ? pos->len : 0, &len);
    Fieldsync__PullResponse *pr = send_pull(f, bearer, body, len, &status);
    assert_int_equal(status, 200);
    assert_non_null(pr);
    return pr;
}

static Fieldsync__PullResponse *feed(fx *f, const char *bearer, uint64_t cursor)
{
    size_t len;
    long status;
    uint8_t *body = tu_pull_body(cursor, 0, &len);
    Fieldsync__PullResponse *pr = send_pull(f, bearer, body, len, &status);
    assert_int_equal(status, 200);
    assert_non_null(pr);
    return pr;
}

/* Whether the change feed from cursor gives bearer nothing. */
static bool feed_is_empty(fx *f, const char *bearer, uint64_t cursor)
{
    Fieldsync__PullResponse *pr = feed(f, bearer, cursor);
    bool empty = pr->n_states == 0 && pr->n_removals == 0 && !pr->more;
    fieldsync__pull_response__free_unpacked(pr, NULL);
    return empty;
}

static uint64_t last_seq(fx *f)
{
    uint64_t seq;
    assert_int_equal(f->s->ops->begin(f->s, false, NULL), 0);
    assert_int_equal(f->s->ops->last_seq(f->s, &seq, NULL), 0);
    assert_int_equal(f->s->ops->commit(f->s, NULL), 0);
    return seq;
}

/* What a device collects from the pages of a snapshot: the ids in order. */
typedef struct seen {
    char ids[64][40]; /* "kind:id" of states, "-kind:id" of removals */
    size_t n;
    int pages;
    uint64_t cursor; /* the last page's next_cursor */
    bool more;       /* the last page's more */
} seen;

static void collect(seen *sn, const Fieldsync__PullResponse *pr)
{
    for (size_t i = 0; i < pr->n_removals; i++)
        snprintf(sn->ids[sn->n++], sizeof(sn->ids[0]), "-%d:%s", (int)pr->removals[i]->kind,
                 pr->removals[i]->id);
    for (size_t i = 0; i < pr->n_states; i++)
        snprintf(sn->ids[sn->n++], sizeof(sn->ids[0]), "%d:%s", (int)pr->states[i]->kind,
                 pr->states[i]->id);
    sn->pages++;
    sn->cursor = pr->next_cursor;
    sn->more = pr->more;
}

/* Pulls a whole snapshot of `limit` states a page; stop_after > 0 stops after
 * that many pages with the position left in *pos (caller frees pos->data). */
static void run_snapshot(fx *f, const char *bearer, uint32_t limit, bool full, int stop_after,
                         seen *sn, ProtobufCBinaryData *pos)
{
    ProtobufCBinaryData cur = pos != NULL ? *pos : (ProtobufCBinaryData){0, NULL};
    for (;;) {
        Fieldsync__PullResponse *pr = snapshot(f, bearer, limit, full, cur.data ? &cur : NULL);
        collect(sn, pr);
        free(cur.data);
        cur = (ProtobufCBinaryData){0, NULL};
        if (pr->has_snapshot) {
            assert_true(pr->more);
            assert_int_equal(pr->next_cursor, 0);
            cur.len = pr->snapshot.len;
            cur.data = malloc(cur.len);
            memcpy(cur.data, pr->snapshot.data, cur.len);
        }
        bool go_on = pr->has_snapshot;
        fieldsync__pull_response__free_unpacked(pr, NULL);
        if (!go_on || (stop_after > 0 && sn->pages == stop_after))
            break;
    }
    if (pos != NULL)
        *pos = cur;
    else
        free(cur.data);
}

/* ------------------------------------------------------------------------- */
/* The storage ops (both backends) */

static void test_storage_reads_an_owners_records_in_key_order(void **state)
{
    fx *f = *state;
    const char *ids[] = {"c", "a", "e", "b", "d"};
    push_accounts(f, ids, 5);
    fs_state *theirs = tu_account(f->rbob, "aa", "Bob's");
    push_ok(f, f->bob, &theirs, 1);
    fs_state *contact = tu_contact(f->ra, "0", "a", "Eva");
    push_ok(f, f->anna_a, &contact, 1);
    srv_user anna;
    srv_pull_item *items = NULL;
    size_t n = 0;
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &anna, NULL), 0);
    assert_int_equal(f->s->ops->snapshot_records(f->s, anna.id, 0, "", 0, 10, &items, &n, NULL), 0);
    static const char *const order[] = {"a", "b", "c", "d", "e", "0"}; /* accounts, then contacts */
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(items[i].id, order[i]);
        assert_non_null(items[i].state);
        assert_true(items[i].seq > 0);
    }
    srv_pull_items_free(items, n);
    /* after a key, and at most limit */
    assert_int_equal(f->s->ops->snapshot_records(f->s, anna.id, FIELDSYNC__RECORD_KIND__ACCOUNT,
                                                 "b", 0, 2, &items, &n, NULL),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].id, "c");
    assert_string_equal(items[1].id, "d");
    srv_pull_items_free(items, n);
    /* the writer left out: anna's first device (enrolled first) pushed them all */
    srv_device *devs;
    size_t ndevs;
    assert_int_equal(f->s->ops->device_list(f->s, anna.id, &devs, &ndevs, NULL), 0);
    assert_int_equal(
        f->s->ops->snapshot_records(f->s, anna.id, 0, "", devs[0].id, 10, &items, &n, NULL), 0);
    assert_int_equal(n, 0);
    srv_pull_items_free(items, n);
    free(devs);
    fs_state_free(theirs);
    fs_state_free(contact);
}

static void test_storage_reads_removals_in_a_number_range(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b", "c"};
    push_accounts(f, ids, 3);
    size_t moved;
    uint64_t before = last_seq(f);
    assert_int_equal(srv_admin_reassign(f->s, "a", "bob", &moved, NULL), 0);
    uint64_t mid = last_seq(f);
    assert_int_equal(srv_admin_reassign(f->s, "c", "bob", &moved, NULL), 0);
    srv_user anna;
    srv_pull_item *items = NULL;
    size_t n = 0;
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &anna, NULL), 0);
    assert_int_equal(f->s->ops->snapshot_removals(f->s, anna.id, before, mid, 10, &items, &n, NULL),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].id, "a");
    assert_null(items[0].state);
    srv_pull_items_free(items, n);
    assert_int_equal(
        f->s->ops->snapshot_removals(f->s, anna.id, 0, last_seq(f), 10, &items, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(items[1].id, "c");
    assert_true(items[0].seq < items[1].seq);
    srv_pull_items_free(items, n);
}

/* ------------------------------------------------------------------------- */
/* Through the handler */

static void
test_snapshot_gives_the_territory_in_key_order_then_ends_at_the_last_change(void **state)
{
    fx *f = *state;
    const char *ids[] = {"m", "b", "x", "a", "k", "c", "z"};
    push_accounts(f, ids, 7);
    fs_state *theirs = tu_account(f->rbob, "bb", "Bob's");
    push_ok(f, f->bob, &theirs, 1);
    seen sn = {0};
    uint64_t s0 = last_seq(f);
    run_snapshot(f, f->anna_b, 3, false, 0, &sn, NULL);
    static const char *const order[] = {"1:a", "1:b", "1:c", "1:k", "1:m", "1:x", "1:z"};
    assert_int_equal(sn.n, 7);
    for (size_t i = 0; i < sn.n; i++)
        assert_string_equal(sn.ids[i], order[i]);
    assert_int_equal(sn.pages, 3);
    /* its last page ends where the change feed goes on, which has nothing of
     * anna's (on SQLite it says so: no more) */
    assert_int_equal(sn.cursor, s0);
    assert_true(!sn.more || feed_is_empty(f, f->anna_b, sn.cursor));
    assert_true(tu_is_pg() || !sn.more);
    fs_state_free(theirs);
}

static void test_changes_during_a_snapshot_come_in_the_feed_after_it(void **state)
{
    fx *f = *state;
    const char *ids[] = {"b", "d", "f", "h"};
    push_accounts(f, ids, 4);
    seen sn = {0};
    ProtobufCBinaryData pos = {0, NULL};
    run_snapshot(f, f->anna_b, 2, false, 1, &sn, &pos); /* b, d */
    assert_non_null(pos.data);
    /* behind the position: a new record and a change to one already given */
    fs_state *a = tu_account(f->ra, "a", "New, behind");
    fs_state *b = tu_account(f->ra, "b", "Account");
    tu_rename(b, f->ra, "Changed after its page");
    fs_state *two[2] = {a, b};
    push_ok(f, f->anna_a, two, 2);
    run_snapshot(f, f->anna_b, 2, false, 0, &sn, &pos); /* f, h */
    assert_int_equal(sn.n, 4);
    assert_string_equal(sn.ids[3], "1:h");
    assert_true(sn.more); /* something changed after S */
    assert_true(sn.cursor < last_seq(f));
    Fieldsync__PullResponse *pr = feed(f, f->anna_b, sn.cursor);
    assert_int_equal(pr->n_states, 2);
    assert_string_equal(pr->states[0]->id, "a");
    assert_string_equal(pr->states[1]->id, "b");
    assert_false(pr->more);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    fs_state_free(a);
    fs_state_free(b);
}

/* A removal at or below S comes before the records: a record that left the
 * territory and came back is removed, then given again, as in change order. */
static void test_removals_come_first_and_a_record_that_came_back_is_given(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b"};
    push_accounts(f, ids, 2);
    size_t moved;
    assert_int_equal(srv_admin_reassign(f->s, "a", "bob", &moved, NULL), 0);
    assert_int_equal(srv_admin_reassign(f->s, "b", "bob", &moved, NULL), 0);
    assert_int_equal(srv_admin_reassign(f->s, "a", "anna", &moved, NULL), 0);
    seen sn = {0};
    run_snapshot(f, f->anna_b, 10, false, 0, &sn, NULL);
    assert_int_equal(sn.n, 3);
    assert_string_equal(sn.ids[0], "-1:a");
    assert_string_equal(sn.ids[1], "-1:b");
    assert_string_equal(sn.ids[2], "1:a");
    /* a device applies a page's states before its removals: never both */
    assert_int_equal(sn.pages, 2);
}

static void test_a_snapshot_leaves_out_the_pullers_own_writes_unless_full(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b"};
    push_accounts(f, ids, 2);
    seen own = {0}, full = {0};
    uint64_t s0 = last_seq(f);
    run_snapshot(f, f->anna_a, 0, false, 0, &own, NULL);
    assert_int_equal(own.n, 0);
    assert_int_equal(own.cursor, s0);
    run_snapshot(f, f->anna_a, 0, true, 0, &full, NULL);
    assert_int_equal(full.n, 2);
}

static void test_a_position_the_server_did_not_write_is_400(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a"};
    push_accounts(f, ids, 1);
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x01, 0x02};
    static const uint8_t no_seq[] = {0x18, 0x01}; /* records = true and nothing else */
    const struct {
        const uint8_t *p;
        size_t n;
    } bad[] = {{garbage, sizeof(garbage)}, {no_seq, sizeof(no_seq)}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len;
        long status;
        uint8_t *body = tu_pull_snapshot_body(0, false, bad[i].p, bad[i].n, &len);
        assert_null(send_pull(f, f->anna_b, body, len, &status));
        assert_int_equal(status, 400);
    }
}

/* A manager's device, and a device that does not ask for a snapshot (one
 * from before them), get pages in change order as before. */
static void test_managers_and_devices_without_snapshots_get_change_order(void **state)
{
    fx *f = *state;
    const char *ids[] = {"z", "a"};
    push_accounts(f, ids, 2);
    Fieldsync__PullResponse *pr = snapshot(f, f->mgr, 0, false, NULL);
    assert_false(pr->has_snapshot);
    assert_int_equal(pr->n_states, 2);
    assert_string_equal(pr->states[0]->id, "z");
    fieldsync__pull_response__free_unpacked(pr, NULL);
    pr = feed(f, f->anna_b, 0);
    assert_false(pr->has_snapshot);
    assert_int_equal(pr->n_states, 2);
    assert_string_equal(pr->states[0]->id, "z");
    fieldsync__pull_response__free_unpacked(pr, NULL);
}

int main(int argc, char **argv)
{
    tu_use_backend(argc > 1 ? argv[1] : "sqlite");
#define T(t) cmocka_unit_test_setup_teardown(t, tu_team_setup, tu_team_teardown)
    const struct CMUnitTest tests[] = {
        T(test_storage_reads_an_owners_records_in_key_order),
        T(test_storage_reads_removals_in_a_number_range),
        T(test_snapshot_gives_the_territory_in_key_order_then_ends_at_the_last_change),
        T(test_changes_during_a_snapshot_come_in_the_feed_after_it),
        T(test_removals_come_first_and_a_record_that_came_back_is_given),
        T(test_a_snapshot_leaves_out_the_pullers_own_writes_unless_full),
        T(test_a_position_the_server_did_not_write_is_400),
        T(test_managers_and_devices_without_snapshots_get_change_order),
    };
    return cmocka_run_group_tests_name(tu_is_pg() ? "snapshot on postgresql" : "snapshot on sqlite",
                                       tests, NULL, NULL);
}
