/*
 * test_store_outbox.c: the outbox as the sync client drives it: FIFO order,
 * one pending entry per record (at its oldest place, with its newest state;
 * entries in flight or refused untouched), acknowledgement that removes exactly
 * the entries sent (not ones queued meanwhile) and joins the server's answer,
 * refusals that neither block the queue nor vanish, changes refused as dated
 * ahead of the server's clock going back to pending once its clock reaches
 * them, in-flight entries coming back after a failed send or a restart, and
 * batches that carry each record as its last local change left it (a
 * damaged entry stops the take and loses nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT

typedef tu_store_fixture fixture;

static void put_name(fs_store *st, const char *id, const char *name)
{
    tu_put_account(st, id, name, 0, NULL, NULL, NULL);
}

static size_t count(fs_store *st, int status)
{
    size_t n = 0;
    assert_int_equal(fs_outbox_count(st, status, &n, NULL), 0);
    return n;
}

static const char *visible_name(const fs_state *s)
{
    static char buf[128];
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_record_visible(s, &m, NULL), 0);
    snprintf(buf, sizeof(buf), "%s", ((Fieldsync__Account *)m)->name);
    protobuf_c_message_free_unpacked(m, NULL);
    return buf;
}

static void take_returns_records_oldest_first(void **state)
{
    fixture *f = *state;
    put_name(f->st, "c", "C");
    put_name(f->st, "a", "A");
    put_name(f->st, "b", "B");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 3);
    assert_string_equal(b.items[0].state->id, "c");
    assert_string_equal(b.items[1].state->id, "a");
    assert_string_equal(b.items[2].state->id, "b");
    assert_int_equal(count(f->st, FS_OUTBOX_IN_FLIGHT), 3);
    fs_outbox_batch_clear(&b);
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 0); /* in-flight entries are not taken twice */
    fs_outbox_batch_clear(&b);
}

/* Seq, status and the name in the change of every outbox entry, in order. */
typedef struct row {
    int64_t seq;
    int status;
    char name[32];
} row;

static size_t rows(fs_store *st, row *out, size_t max)
{
    sqlite3_stmt *s = NULL;
    size_t n = 0;
    assert_int_equal(sqlite3_prepare_v2(st->db,
                                        "SELECT seq, status, change FROM outbox ORDER BY seq", -1,
                                        &s, NULL),
                     SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        assert_true(n < max);
        Fieldsync__Change *ch = fieldsync__change__unpack(NULL, (size_t)sqlite3_column_bytes(s, 2),
                                                          sqlite3_column_blob(s, 2));
        assert_non_null(ch);
        fs_state *cs = NULL;
        assert_int_equal(fs_state_from_pb(&cs, ch->state, NULL), 0);
        out[n].seq = sqlite3_column_int64(s, 0);
        out[n].status = sqlite3_column_int(s, 1);
        snprintf(out[n].name, sizeof(out[n].name), "%s", visible_name(cs));
        fs_state_free(cs);
        fieldsync__change__free_unpacked(ch, NULL);
        n++;
    }
    sqlite3_finalize(s);
    return n;
}

static void pending_changes_of_one_record_coalesce_at_its_oldest_place(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A1");
    put_name(f->st, "b", "B1");
    put_name(f->st, "a", "A2");
    put_name(f->st, "a", "A3");
    row r[8];
    assert_int_equal(rows(f->st, r, 8), 2); /* one entry per record, not per change */
    assert_string_equal(r[0].name, "A3");   /* a's newest state, at a's first place */
    assert_string_equal(r[1].name, "B1");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.items[0].state->id, "a"); /* edited since, still first in line */
    assert_string_equal(visible_name(b.items[0].state), "A3");
    assert_int_equal(b.items[0].first_seq, r[0].seq);
    assert_int_equal(count(f->st, FS_OUTBOX_IN_FLIGHT), 2);
    fs_outbox_batch_clear(&b);
}

/* A batch that failed leaves a record's older entry pending while a newer one
 * is out in the next batch: the record's next change folds its pending entries
 * into the oldest, and leaves the one in flight, whose ack takes only it. */
static void a_change_folds_pending_entries_but_never_one_in_flight(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A1");
    fs_outbox_batch first, second;
    assert_int_equal(fs_outbox_take(f->st, 10, &first, NULL), 0);
    put_name(f->st, "a", "A2");
    assert_int_equal(fs_outbox_take(f->st, 10, &second, NULL), 0);
    assert_int_equal(second.n, 1);
    assert_int_equal(fs_outbox_fail(f->st, &first, NULL), 0);
    put_name(f->st, "a", "A3");
    row r[8];
    assert_int_equal(rows(f->st, r, 8), 2);
    assert_int_equal(r[0].status, FS_OUTBOX_PENDING);
    assert_string_equal(r[0].name, "A3");
    assert_int_equal(r[1].status, FS_OUTBOX_IN_FLIGHT);
    assert_string_equal(r[1].name, "A2");
    fs_outbox_result res = {.joined = second.items[0].state};
    assert_int_equal(fs_outbox_complete(f->st, &second, &res, 1, NULL), 0);
    assert_int_equal(rows(f->st, r, 8), 1);
    assert_int_equal(r[0].status, FS_OUTBOX_PENDING);
    assert_string_equal(r[0].name, "A3");
    fs_outbox_batch_clear(&first);
    fs_outbox_batch_clear(&second);
}

static void changes_while_in_flight_coalesce_beside_the_batch_and_outlive_its_ack(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A1");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    put_name(f->st, "a", "A2");
    put_name(f->st, "a", "A3");
    row r[8];
    assert_int_equal(rows(f->st, r, 8), 2);
    assert_int_equal(r[0].status, FS_OUTBOX_IN_FLIGHT); /* what was sent stays as sent */
    assert_string_equal(r[0].name, "A1");
    assert_int_equal(r[1].status, FS_OUTBOX_PENDING);
    assert_string_equal(r[1].name, "A3");
    fs_outbox_result res = {.joined = b.items[0].state};
    assert_int_equal(fs_outbox_complete(f->st, &b, &res, 1, NULL), 0);
    fs_outbox_batch_clear(&b);
    assert_int_equal(rows(f->st, r, 8), 1); /* the ack took only the entry it answered */
    assert_int_equal(r[0].status, FS_OUTBOX_PENDING);
    assert_string_equal(r[0].name, "A3");
}

static void batch_back_to_pending_folds_into_the_oldest_at_the_next_change(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A1");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    put_name(f->st, "a", "A2");
    assert_int_equal(fs_outbox_fail(f->st, &b, NULL), 0);
    fs_outbox_batch_clear(&b);
    assert_int_equal(count(f->st, FS_OUTBOX_PENDING), 2);
    put_name(f->st, "a", "A3");
    row r[8];
    assert_int_equal(rows(f->st, r, 8), 1);
    assert_int_equal(r[0].status, FS_OUTBOX_PENDING);
    assert_string_equal(r[0].name, "A3");
}

/* Another device (replica 99) writes owner "rep7" into st, after its last write. */
static void other_device_sets_owner(fs_state *st)
{
    Fieldsync__Account other = FIELDSYNC__ACCOUNT__INIT;
    other.owner = "rep7";
    uint64_t later = fs_record_hlc(st) + (1u << 16);
    assert_int_equal(fs_record_write_msg(st, 99, later, &other.base, NULL, 0, NULL), 0);
}

/* A batch carries each record as its newest pending entry holds it, which is
 * what the record's last local change left; a pull that joined another
 * device's write since is the server's to add, not the push's. */
static void take_sends_each_record_as_its_last_change_left_it(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A1");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    put_name(f->st, "a", "A2"); /* pending beside A1's entry, which goes back */
    assert_int_equal(fs_outbox_fail(f->st, &b, NULL), 0);
    fs_outbox_batch_clear(&b);
    /* another device's write of owner, joined in as a pull would */
    ProtobufCMessage *m = NULL;
    fs_state *remote = NULL;
    int64_t rid = 0;
    assert_int_equal(fs_store_load(f->st, ACCOUNT, "a", &rid, &remote, NULL), 0);
    other_device_sets_owner(remote);
    bool changed = false;
    assert_int_equal(fs_store_begin(f->st, NULL), 0);
    assert_int_equal(fs_store_join_save(f->st, remote, &changed, NULL), 0);
    assert_int_equal(fs_store_commit(f->st, NULL), 0);
    assert_true(changed);
    fs_state_free(remote);

    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.items[0].last_seq, b.items[0].first_seq + 1); /* both entries */
    assert_string_equal(visible_name(b.items[0].state), "A2");       /* the newest one */
    assert_int_equal(fs_vv_get(&b.items[0].state->vv, 99), 0);       /* not the pull's */
    assert_int_equal(fs_record_visible(b.items[0].state, &m, NULL), 0);
    const char *owner = ((Fieldsync__Account *)m)->owner;
    assert_true(owner == NULL || owner[0] == '\0');
    protobuf_c_message_free_unpacked(m, NULL);
    fs_outbox_batch_clear(&b);
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "a", NULL, &m, NULL), 0);
    assert_string_equal(((Fieldsync__Account *)m)->owner, "rep7"); /* the record has both */
    assert_string_equal(((Fieldsync__Account *)m)->name, "A2");
    protobuf_c_message_free_unpacked(m, NULL);
}

/* An entry whose change is damaged, or names another record, stops the take
 * with an error that names it, and leaves every entry pending. */
static void damaged_entry_stops_the_take_and_keeps_every_entry(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A");
    put_name(f->st, "b", "B");
    static const char *const damage[] = {
        "UPDATE outbox SET change = x'ff01' WHERE id = 'a'",
        "UPDATE outbox SET change = (SELECT change FROM outbox WHERE id = 'b') WHERE id = 'a'",
    };
    static const char *const says[] = {"does not hold a change", "another record's change"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(sqlite3_exec(f->st->db, damage[i], NULL, NULL, NULL), SQLITE_OK);
        fs_outbox_batch b;
        fs_err err = {0};
        assert_int_equal(fs_outbox_take(f->st, 10, &b, &err), FS_ECORRUPT);
        assert_non_null(strstr(err.msg, "outbox entry 1 "));
        assert_non_null(strstr(err.msg, says[i]));
        assert_int_equal(b.n, 0);
        assert_int_equal(count(f->st, FS_OUTBOX_PENDING), 2);
    }
}

static void refused_entry_is_not_replaced_by_a_later_change(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A1");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    fs_outbox_result res = {.reason = FIELDSYNC__REFUSAL__REASON__INVALID, .message = "bad"};
    assert_int_equal(fs_outbox_complete(f->st, &b, &res, 1, NULL), 0);
    fs_outbox_batch_clear(&b);
    put_name(f->st, "a", "A2");
    put_name(f->st, "a", "A3");
    row r[8];
    assert_int_equal(rows(f->st, r, 8), 2);
    assert_int_equal(r[0].status, FS_OUTBOX_REFUSED); /* still listed with its reason */
    assert_string_equal(r[0].name, "A1");
    assert_int_equal(r[1].status, FS_OUTBOX_PENDING);
    assert_string_equal(r[1].name, "A3");
}

static void take_honours_the_batch_size(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A");
    put_name(f->st, "b", "B");
    put_name(f->st, "c", "C");
    fs_outbox_batch b1, b2;
    assert_int_equal(fs_outbox_take(f->st, 2, &b1, NULL), 0);
    assert_int_equal(b1.n, 2);
    assert_int_equal(fs_outbox_take(f->st, 2, &b2, NULL), 0);
    assert_int_equal(b2.n, 1);
    assert_string_equal(b2.items[0].state->id, "c");
    assert_true(b2.id != b1.id);
    fs_outbox_batch_clear(&b1);
    fs_outbox_batch_clear(&b2);
    assert_int_equal(fs_outbox_take(f->st, 0, &b1, NULL), FS_EINVAL);
}

static void ack_removes_only_the_entries_that_were_sent(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A1");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    put_name(f->st, "a", "A2"); /* queued while the batch is out */
    fs_outbox_result r = {.joined = b.items[0].state};
    assert_int_equal(fs_outbox_complete(f->st, &b, &r, 1, NULL), 0);
    fs_outbox_batch_clear(&b);
    /* take and ack commit without a WAL flush; local writes flush again */
    assert_int_equal(tu_synchronous(f->st), 2);

    fs_outbox_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(fs_outbox_list(f->st, -1, 0, &e, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].status, FS_OUTBOX_PENDING);
    fs_outbox_entries_free(e, n);
    /* The acknowledged (older) state did not roll the record back. */
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "a", NULL, &m, NULL), 0);
    assert_string_equal(((Fieldsync__Account *)m)->name, "A2");
    protobuf_c_message_free_unpacked(m, NULL);
}

static void ack_joins_the_servers_state_without_queueing_it(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "Acme");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    /* The server's copy also holds another device's later write of owner. */
    fs_state *joined = NULL;
    assert_int_equal(fs_state_copy(&joined, b.items[0].state, NULL), 0);
    other_device_sets_owner(joined);
    fs_outbox_result r = {.joined = joined};
    assert_int_equal(fs_outbox_complete(f->st, &b, &r, 1, NULL), 0);
    fs_state_free(joined);
    fs_outbox_batch_clear(&b);
    assert_int_equal(count(f->st, -1), 0);
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "a", NULL, &m, NULL), 0);
    assert_string_equal(((Fieldsync__Account *)m)->owner, "rep7");
    assert_string_equal(((Fieldsync__Account *)m)->name, "Acme");
    protobuf_c_message_free_unpacked(m, NULL);
    fs_list_query q = {.kind = ACCOUNT, .owner = "rep7"}; /* projections follow the join */
    fs_list_page page;
    assert_int_equal(fs_store_list(f->st, &q, &page, NULL), 0);
    assert_int_equal(page.n, 1);
    fs_list_page_clear(&page);
}

static void refused_entry_stays_listed_and_does_not_block_others(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "Not mine");
    put_name(f->st, "b", "Mine");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    fs_outbox_result r[2] = {
        {.reason = FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY, .message = "account of rep9"},
        {.joined = b.items[1].state},
    };
    assert_int_equal(fs_outbox_complete(f->st, &b, r, 2, NULL), 0);
    fs_outbox_batch_clear(&b);

    put_name(f->st, "c", "Next");
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 1); /* c goes out; the refused a is not resent */
    assert_string_equal(b.items[0].state->id, "c");
    fs_outbox_batch_clear(&b);

    fs_outbox_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(fs_outbox_list(f->st, FS_OUTBOX_REFUSED, 0, &e, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].id, "a");
    assert_int_equal(e[0].reason, FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    assert_string_equal(e[0].message, "account of rep9");
    int64_t seq = e[0].seq;
    fs_outbox_entries_free(e, n);

    assert_int_equal(fs_outbox_retry(f->st, seq, NULL), 0);
    assert_int_equal(fs_outbox_retry(f->st, seq, NULL), FS_ENOTFOUND); /* pending now */
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.items[0].state->id, "a");
    fs_outbox_result again = {.reason = 1, .message = NULL};
    assert_int_equal(fs_outbox_complete(f->st, &b, &again, 1, NULL), 0);
    fs_outbox_batch_clear(&b);
    assert_int_equal(fs_outbox_drop(f->st, seq, NULL), 0);
    assert_int_equal(count(f->st, FS_OUTBOX_REFUSED), 0);
    assert_int_equal(fs_outbox_drop(f->st, seq, NULL), FS_ENOTFOUND);
    /* Dropping stops the push; the local change stays. */
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "a", NULL, NULL, NULL), 0);
}

static fs_outbox_status status_of(fs_store *st, const char *id)
{
    fs_outbox_entry *e = NULL;
    size_t n = 0;
    int status = -1;
    assert_int_equal(fs_outbox_list(st, -1, 0, &e, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].id, id) == 0)
            status = (int)e[i].status;
    fs_outbox_entries_free(e, n);
    assert_int_not_equal(status, -1);
    return (fs_outbox_status)status;
}

static void clock_ahead_entries_go_back_once_the_bound_reaches_them(void **state)
{
    fixture *f = *state;
    uint64_t now_ms = 1000000;
    fs_store_set_clock(f->st, tu_clock, &now_ms);
    put_name(f->st, "soon", "Dated 1000 s");
    put_name(f->st, "other", "Refused for another reason");
    now_ms = 5000000;
    put_name(f->st, "later", "Dated 5000 s");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 3);
    fs_outbox_result r[3] = {
        {.reason = FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD, .message = "ahead"},
        {.reason = FIELDSYNC__REFUSAL__REASON__INVALID, .message = "bad"},
        {.reason = FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD, .message = "ahead"},
    };
    assert_int_equal(fs_outbox_complete(f->st, &b, r, 3, NULL), 0);
    fs_outbox_batch_clear(&b);
    size_t n = 0;
    uint64_t until = 0;
    assert_int_equal(fs_outbox_clock_ahead(f->st, &n, &until, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(until, 5000000);

    /* both still ahead: nothing moves */
    assert_int_equal(fs_outbox_retry_clock_ahead(f->st, 999999, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(count(f->st, FS_OUTBOX_REFUSED), 3);
    /* the bound passes the first: it alone goes back, its refusal cleared */
    assert_int_equal(fs_outbox_retry_clock_ahead(f->st, 4999999, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(status_of(f->st, "soon"), FS_OUTBOX_PENDING);
    assert_int_equal(status_of(f->st, "later"), FS_OUTBOX_REFUSED);
    assert_int_equal(fs_outbox_clock_ahead(f->st, &n, &until, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(until, 5000000);
    /* a bound equal to the write's time is no longer ahead of it */
    assert_int_equal(fs_outbox_retry_clock_ahead(f->st, 5000000, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(status_of(f->st, "later"), FS_OUTBOX_PENDING);
    assert_int_equal(fs_outbox_clock_ahead(f->st, &n, &until, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(until, 0);
    /* another reason is left to the rep, whatever the clock */
    assert_int_equal(fs_outbox_retry_clock_ahead(f->st, UINT64_MAX, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(status_of(f->st, "other"), FS_OUTBOX_REFUSED);
    fs_outbox_entry *e = NULL;
    assert_int_equal(fs_outbox_list(f->st, FS_OUTBOX_PENDING, 0, &e, &n, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(e[i].reason, 0);
        assert_null(e[i].message);
    }
    fs_outbox_entries_free(e, n);
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 2); /* and they go out with the next push */
    fs_outbox_batch_clear(&b);
}

static void restart_returns_in_flight_entries_to_pending(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A");
    put_name(f->st, "b", "B");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    fs_outbox_batch_clear(&b);
    fs_store_close(f->st); /* the daemon dies with the batch in flight */
    f->st = tu_open_plain(f->dir);
    assert_int_equal(count(f->st, FS_OUTBOX_IN_FLIGHT), 0);
    assert_int_equal(count(f->st, FS_OUTBOX_PENDING), 2);
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(b.n, 2);
    fs_outbox_batch_clear(&b);
}

static void failed_send_and_missing_results_return_entries_to_pending(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A");
    put_name(f->st, "b", "B");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    assert_int_equal(fs_outbox_fail(f->st, &b, NULL), 0);
    fs_outbox_batch_clear(&b);
    assert_int_equal(count(f->st, FS_OUTBOX_PENDING), 2);

    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    fs_outbox_result r = {.joined = b.items[0].state}; /* answer for the first only */
    assert_int_equal(fs_outbox_complete(f->st, &b, &r, 1, NULL), 0);
    fs_outbox_batch_clear(&b);
    fs_outbox_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(fs_outbox_list(f->st, -1, 0, &e, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].id, "b");
    assert_int_equal(e[0].status, FS_OUTBOX_PENDING);
    fs_outbox_entries_free(e, n);
}

static void answer_for_another_record_is_rejected_and_changes_nothing(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "A");
    put_name(f->st, "b", "B");
    fs_outbox_batch b;
    assert_int_equal(fs_outbox_take(f->st, 10, &b, NULL), 0);
    fs_outbox_result r[2] = {{.joined = b.items[0].state}, {.joined = b.items[0].state}};
    fs_err err;
    assert_int_equal(fs_outbox_complete(f->st, &b, r, 2, &err), FS_ECORRUPT);
    assert_non_null(strstr(fs_err_message(&err), "different record"));
    /* All or nothing: a's ack rolled back with b's bad answer. */
    assert_int_equal(count(f->st, FS_OUTBOX_IN_FLIGHT), 2);
    fs_outbox_batch_clear(&b);
}

static void outbox_entry_holds_the_change_as_committed(void **state)
{
    fixture *f = *state;
    put_name(f->st, "a", "First");
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "SELECT change FROM outbox", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    Fieldsync__Change *ch = fieldsync__change__unpack(NULL, (size_t)sqlite3_column_bytes(s, 0),
                                                      sqlite3_column_blob(s, 0));
    assert_non_null(ch);
    assert_true(ch->has_queued_at && ch->queued_at > 0);
    fs_state *st = NULL;
    assert_int_equal(fs_state_from_pb(&st, ch->state, NULL), 0);
    assert_string_equal(visible_name(st), "First");
    assert_int_equal(fs_vv_get(&st->vv, fs_store_replica(f->st)), 1);
    fs_state_free(st);
    fieldsync__change__free_unpacked(ch, NULL);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tu_store_setup, tu_store_teardown)
    const struct CMUnitTest tests[] = {
        T(take_returns_records_oldest_first),
        T(pending_changes_of_one_record_coalesce_at_its_oldest_place),
        T(changes_while_in_flight_coalesce_beside_the_batch_and_outlive_its_ack),
        T(batch_back_to_pending_folds_into_the_oldest_at_the_next_change),
        T(refused_entry_is_not_replaced_by_a_later_change),
        T(take_honours_the_batch_size),
        T(ack_removes_only_the_entries_that_were_sent),
        T(ack_joins_the_servers_state_without_queueing_it),
        T(refused_entry_stays_listed_and_does_not_block_others),
        T(clock_ahead_entries_go_back_once_the_bound_reaches_them),
        T(a_change_folds_pending_entries_but_never_one_in_flight),
        T(restart_returns_in_flight_entries_to_pending),
        T(failed_send_and_missing_results_return_entries_to_pending),
        T(take_sends_each_record_as_its_last_change_left_it),
        T(damaged_entry_stops_the_take_and_keeps_every_entry),
        T(answer_for_another_record_is_rejected_and_changes_nothing),
        T(outbox_entry_holds_the_change_as_committed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
