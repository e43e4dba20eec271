/*
 * test_demo.c: the demo generator is deterministic, consistent (everything
 * hangs off an account emitted before it, ids are unique) and holds what the
 * demo shows: follow-ups due around today and stale opportunities, in a
 * pipeline that follows the sales method (docs/record-model.md, "Pipeline
 * rules"): every deal names its account and meets its stage's rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldsync/demo.h"

#define MAX_IDS 20000
#define TODAY 1795000000 /* a fixed "today" keeps the test independent of the clock */

typedef struct tally {
    uint8_t digest[32];
    size_t count[6];
    char *ids[MAX_IDS];
    size_t nids;
    char *accounts[MAX_IDS], *names[MAX_IDS];
    size_t naccounts;
    size_t followups_due_soon, stale_opportunities, notes_bytes, done_visits;
    size_t stages[8];
} tally;

static void digest_add(tally *t, const uint8_t *buf, size_t len)
{
    /* FNV-1a folded into 32 bytes: enough to tell two books apart */
    for (size_t i = 0; i < len; i++) {
        size_t slot = i % 32;
        t->digest[slot] = (uint8_t)((t->digest[slot] ^ buf[i]) * 0x93u);
    }
}

static int known_account(const tally *t, const char *id)
{
    for (size_t i = 0; i < t->naccounts; i++)
        if (strcmp(t->accounts[i], id) == 0)
            return 1;
    return 0;
}

static const char *account_name(const tally *t, const char *id)
{
    for (size_t i = 0; i < t->naccounts; i++)
        if (strcmp(t->accounts[i], id) == 0)
            return t->names[i];
    return "";
}

/* "YYYY-MM-DD" + days, as "YYYY-MM-DD" into out. */
static void date_plus(const char *date, int days, char out[11])
{
    struct tm tm = {0};
    assert_non_null(strptime(date, "%Y-%m-%d", &tm));
    fs_demo_date((int64_t)timegm(&tm) + (int64_t)days * 86400, out);
}

/* A deal meets the rule of the stage it was moved to, names its account,
 * and its history ends with that move; the daemon computes the cooling-off. */
static void check_opportunity(tally *t, const Fieldsync__Opportunity *o)
{
    enum { FIRST = 2, P25 = 3, P50 = 4, P90 = 5, CLOSED = 6 };
    const int stage = (int)o->stage;
    char today[11], end[11];
    fs_demo_date(TODAY, today);
    t->stages[stage]++;
    assert_non_null(strstr(o->title, account_name(t, o->account_id)));
    assert_null(o->cooling_off_end_date);
    assert_true(o->n_stage_history >= 1);
    const Fieldsync__Opportunity__StageChange *last = o->stage_history[o->n_stage_history - 1];
    assert_int_equal(last->stage, stage);
    assert_string_equal(last->date, o->stage_entered_date);
    for (size_t i = 1; i < o->n_stage_history; i++)
        assert_true(strcmp(o->stage_history[i - 1]->date, o->stage_history[i]->date) < 0);
    assert_true(strcmp(o->stage_entered_date, today) <= 0);
    if (stage >= FIRST)
        assert_non_null(o->first_meeting_date);
    if (stage >= P25)
        assert_true(strcmp(o->first_meeting_date, today) <= 0);
    if (stage >= P50)
        assert_true(o->criteria->decision_maker && o->criteria->plan_fits_need &&
                    o->criteria->budget_discussed && o->criteria->signing_in_cycle &&
                    o->criteria->next_step_agreed);
    if (stage >= P90) {
        assert_true(strcmp(o->signed_date, today) <= 0 && strcmp(o->prepaid_date, today) <= 0);
        date_plus(strcmp(o->signed_date, o->prepaid_date) > 0 ? o->signed_date : o->prepaid_date,
                  10, end);
        /* closed only once the cooling-off is over */
        if (stage == CLOSED)
            assert_true(strcmp(end, o->stage_entered_date) < 0);
    }
}

static int on_record(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *m)
{
    tally *t = ctx;
    uint8_t buf[16384];
    size_t len = protobuf_c_message_get_packed_size(m);
    assert_true(len <= sizeof(buf));
    protobuf_c_message_pack(m, buf);
    digest_add(t, buf, len);
    t->count[kind]++;

    const char *id = NULL, *account_id = NULL;
    char today[11], soon[11], stale[11];
    fs_demo_date(TODAY - 3 * 86400, today);
    fs_demo_date(TODAY + 7 * 86400, soon);
    fs_demo_date(TODAY - 28 * 86400, stale);
    switch (kind) {
    case FIELDSYNC__RECORD_KIND__ACCOUNT: {
        const Fieldsync__Account *a = (const void *)m;
        id = a->id;
        assert_non_null(a->name);
        assert_string_equal(a->owner, "alice");
        t->names[t->naccounts] = strdup(a->name);
        t->accounts[t->naccounts++] = strdup(id);
        break;
    }
    case FIELDSYNC__RECORD_KIND__CONTACT:
        id = ((const Fieldsync__Contact *)m)->id;
        account_id = ((const Fieldsync__Contact *)m)->account_id;
        break;
    case FIELDSYNC__RECORD_KIND__VISIT: {
        const Fieldsync__Visit *v = (const void *)m;
        id = v->id, account_id = v->account_id;
        if (v->status == FIELDSYNC__VISIT__STATUS__DONE) {
            t->done_visits++;
            t->notes_bytes += strlen(v->outcome);
            assert_non_null(v->next_step); /* no visit without a next step */
            assert_non_null(v->next_step_date);
            if (!v->next_step_done && strcmp(v->next_step_date, today) >= 0 &&
                strcmp(v->next_step_date, soon) <= 0)
                t->followups_due_soon++;
        }
        break;
    }
    case FIELDSYNC__RECORD_KIND__OPPORTUNITY: {
        const Fieldsync__Opportunity *o = (const void *)m;
        id = o->id, account_id = o->account_id;
        if (strcmp(o->stage_entered_date, stale) < 0)
            t->stale_opportunities++;
        check_opportunity(t, o);
        break;
    }
    case FIELDSYNC__RECORD_KIND__TRANSACTION:
        id = ((const Fieldsync__Transaction *)m)->id;
        account_id = ((const Fieldsync__Transaction *)m)->account_id;
        break;
    default:
        fail_msg("unknown kind %d", kind);
    }
    assert_non_null(id);
    if (account_id != NULL)
        assert_true(known_account(t, account_id));
    for (size_t i = 0; i < t->nids; i++)
        assert_string_not_equal(t->ids[i], id);
    assert_true(t->nids < MAX_IDS);
    t->ids[t->nids++] = strdup(id);
    return 0;
}

static void tally_clear(tally *t)
{
    for (size_t i = 0; i < t->nids; i++)
        free(t->ids[i]);
    for (size_t i = 0; i < t->naccounts; i++) {
        free(t->accounts[i]);
        free(t->names[i]);
    }
}

static void generate(tally *t, uint64_t seed)
{
    fs_demo_opts o = fs_demo_opts_default();
    o.seed = seed, o.today = TODAY, o.owner = "alice", o.accounts = 200;
    memset(t, 0, sizeof(*t));
    assert_int_equal(fs_demo_generate(&o, on_record, t, NULL), 0);
}

static void test_same_seed_gives_same_book(void **state)
{
    (void)state;
    static tally a, b;
    generate(&a, 7);
    generate(&b, 7);
    assert_memory_equal(a.digest, b.digest, sizeof(a.digest));
    assert_int_equal(a.nids, b.nids);
    tally_clear(&a);
    tally_clear(&b);
}

static void test_other_seed_gives_other_book(void **state)
{
    (void)state;
    static tally a, b;
    generate(&a, 7);
    generate(&b, 8);
    assert_memory_not_equal(a.digest, b.digest, sizeof(a.digest));
    tally_clear(&a);
    tally_clear(&b);
}

static void test_book_is_consistent_and_realistic(void **state)
{
    (void)state;
    static tally t;
    generate(&t, 42);
    assert_int_equal(t.count[FIELDSYNC__RECORD_KIND__ACCOUNT], 200);
    assert_true(t.count[FIELDSYNC__RECORD_KIND__CONTACT] > 300);
    assert_true(t.count[FIELDSYNC__RECORD_KIND__VISIT] > 600);
    assert_true(t.count[FIELDSYNC__RECORD_KIND__OPPORTUNITY] > 50);
    assert_true(t.count[FIELDSYNC__RECORD_KIND__TRANSACTION] > 10);
    assert_true(t.followups_due_soon > 20);
    assert_true(t.stale_opportunities > 5);
    for (int stage = 1; stage <= 6; stage++) /* sales opportunity .. closed */
        assert_true(t.stages[stage] > 3);
    /* notes near the requested 600 bytes on average */
    size_t avg = t.notes_bytes / t.done_visits;
    assert_in_range(avg, 500, 800);
    tally_clear(&t);
}

static int stop_after_three(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *m)
{
    (void)kind, (void)m;
    return ++*(int *)ctx == 3 ? -99 : 0;
}

static void test_callback_error_stops_generation(void **state)
{
    (void)state;
    int calls = 0;
    fs_demo_opts o = fs_demo_opts_default();
    assert_int_equal(fs_demo_generate(&o, stop_after_three, &calls, NULL), -99);
    assert_int_equal(calls, 3);
}

static void test_missing_owner_is_refused(void **state)
{
    (void)state;
    fs_demo_opts o = fs_demo_opts_default();
    o.owner = NULL;
    fs_err err;
    assert_int_equal(fs_demo_generate(&o, stop_after_three, NULL, &err), FS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_gives_same_book),
        cmocka_unit_test(test_other_seed_gives_other_book),
        cmocka_unit_test(test_book_is_consistent_and_realistic),
        cmocka_unit_test(test_callback_error_stops_generation),
        cmocka_unit_test(test_missing_owner_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
