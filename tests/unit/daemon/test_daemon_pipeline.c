/*
 * test_daemon_pipeline.c: the sales method where it lives: calendar days
 * (calendar.c), each stage's rule and what a move writes (pipeline.c), and
 * the counts of the reports as of a day, per currency, per rep and per week
 * (report.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "pipeline.h"
#include "report.h"

typedef Fieldsync__Opportunity Opp;
typedef Fieldsync__Opportunity__StageChange Move;

#define STAGE(name) FIELDSYNC__OPPORTUNITY__STAGE__##name
#define TODAY "2026-11-25" /* a Wednesday */

static long day_of(const char *date)
{
    long d;
    assert_true(fs_cal_day(date, &d));
    return d;
}

/* ------------------------------------------------------------------------- */
/* calendar.c */

static void test_days_weekdays_and_iso_weeks(void **state)
{
    (void)state;
    static const struct {
        const char *date;
        long day;
        int weekday;
        const char *week;
    } cases[] = {
        {"1970-01-01", 0, 3, "1970-W01"},     {"1969-12-31", -1, 2, "1970-W01"},
        {"2000-02-29", 11016, 1, "2000-W09"}, {"2026-11-23", 20780, 0, "2026-W48"},
        {"2026-01-01", 20454, 3, "2026-W01"}, {"2027-01-01", 20819, 4, "2026-W53"},
        {"2024-12-30", 20087, 0, "2025-W01"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char date[FS_DATE_SIZE], week[FS_WEEK_SIZE];
        assert_int_equal(day_of(cases[i].date), cases[i].day);
        fs_cal_date(cases[i].day, date);
        assert_string_equal(date, cases[i].date);
        assert_int_equal(fs_cal_weekday(cases[i].day), cases[i].weekday);
        fs_cal_week(cases[i].day, week);
        assert_string_equal(week, cases[i].week);
    }
    long d;
    assert_false(fs_cal_day("2026-02-29", &d));
    assert_false(fs_cal_day("2026-11-5", &d));
    assert_false(fs_cal_day(NULL, &d));
    /* a local midnight falls on its own day, the instant before on the one before */
    int64_t midnight = fs_cal_local_midnight(20780);
    assert_int_equal(fs_cal_local_day(midnight), 20780);
    assert_int_equal(fs_cal_local_day(midnight - 1), 20779);
}

/* ------------------------------------------------------------------------- */
/* pipeline.c */

/* A heap copy of a message built on the stack, as record.put's parser makes. */
static Opp *heap(const Opp *o)
{
    uint8_t buf[4096];
    size_t n = protobuf_c_message_pack(&o->base, buf);
    Opp *copy = fieldsync__opportunity__unpack(NULL, n, buf);
    assert_non_null(copy);
    return copy;
}

static Move move(int stage, const char *date)
{
    Move m = FIELDSYNC__OPPORTUNITY__STAGE_CHANGE__INIT;
    m.has_stage = 1, m.stage = (Fieldsync__Opportunity__Stage)stage, m.date = (char *)date;
    return m;
}

typedef struct put_case {
    Opp *put;
    uint32_t cleared[32];
    size_t ncleared;
    char field[FS_PIPELINE_FIELD_MAX];
    fs_err err;
} put_case;

/* Runs fs_pipeline_put of put (a stack message, copied) over cur. */
static int run_put(put_case *pc, const Opp *cur, const Opp *put, const char *override)
{
    memset(pc, 0, sizeof(*pc));
    pc->put = heap(put);
    return fs_pipeline_put(cur, pc->put, pc->cleared, &pc->ncleared, TODAY, override, pc->field,
                           &pc->err);
}

static void put_clear(put_case *pc)
{
    fieldsync__opportunity__free_unpacked(pc->put, NULL);
}

static void expect_refusal(const Opp *cur, const Opp *put, const char *says)
{
    put_case pc;
    assert_int_equal(run_put(&pc, cur, put, NULL), FS_EDENIED);
    assert_string_equal(pc.field, "stage");
    if (strstr(pc.err.msg, says) == NULL)
        fail_msg("\"%s\" not in \"%s\"", says, pc.err.msg);
    put_clear(&pc);
}

static void expect_accepted(const Opp *cur, const Opp *put)
{
    put_case pc;
    int rc = run_put(&pc, cur, put, NULL);
    if (rc != 0)
        fail_msg("refused: %s", pc.err.msg);
    put_clear(&pc);
}

static void test_each_stage_needs_what_the_method_says(void **state)
{
    (void)state;
    Opp put = FIELDSYNC__OPPORTUNITY__INIT;
    put.has_stage = 1;
    put.stage = STAGE(FIRST_MEETING_SET);
    expect_refusal(NULL, &put, "first_meeting_date");
    put.first_meeting_date = "2026-12-01"; /* set, still to come */
    expect_accepted(NULL, &put);
    put.stage = STAGE(PCT_25);
    expect_refusal(NULL, &put, "first_meeting_date 2026-12-01 is after today");
    put.first_meeting_date = TODAY;
    expect_accepted(NULL, &put);

    Fieldsync__Opportunity__Criteria four = FIELDSYNC__OPPORTUNITY__CRITERIA__INIT;
    four.has_decision_maker = four.decision_maker = 1;
    four.has_plan_fits_need = four.plan_fits_need = 1;
    four.has_budget_discussed = four.budget_discussed = 1;
    four.has_next_step_agreed = four.next_step_agreed = 1;
    put.stage = STAGE(PCT_50);
    expect_refusal(NULL, &put,
                   "not met: decision_maker, plan_fits_need, budget_discussed, "
                   "signing_in_cycle, next_step_agreed");
    put.criteria = &four;
    expect_refusal(NULL, &put, "not met: signing_in_cycle.");
    four.has_signing_in_cycle = four.signing_in_cycle = 1;
    expect_accepted(NULL, &put);
    /* the criteria may be on the record already */
    Opp cur = FIELDSYNC__OPPORTUNITY__INIT;
    cur.has_stage = 1, cur.stage = STAGE(PCT_25), cur.criteria = &four;
    Opp move50 = FIELDSYNC__OPPORTUNITY__INIT;
    move50.has_stage = 1, move50.stage = STAGE(PCT_50);
    expect_accepted(&cur, &move50);

    put = (Opp)FIELDSYNC__OPPORTUNITY__INIT;
    put.has_stage = 1, put.stage = STAGE(PCT_90);
    expect_refusal(NULL, &put, "signed_date is not set, prepaid_date is not set");
    put.signed_date = "2026-11-20", put.prepaid_date = "2026-11-26";
    expect_refusal(NULL, &put, "prepaid_date 2026-11-26 is after today");
    put.prepaid_date = TODAY;
    expect_accepted(NULL, &put);

    /* closed: only after the cooling-off, 10 days after the later date */
    put.stage = STAGE(CLOSED);
    put.signed_date = "2026-11-15", put.prepaid_date = "2026-11-10";
    expect_refusal(NULL, &put, "runs until 2026-11-25");
    expect_refusal(NULL, &put, "can close from 2026-11-26");
    put.signed_date = "2026-11-14";
    expect_accepted(NULL, &put);
    put.signed_date = NULL;
    expect_refusal(NULL, &put, "closed needs signed_date and prepaid_date");

    put = (Opp)FIELDSYNC__OPPORTUNITY__INIT;
    put.has_stage = 1, put.stage = STAGE(LOST);
    expect_accepted(NULL, &put);
    put.stage = STAGE(SALES_OPPORTUNITY);
    expect_accepted(NULL, &put);
}

static void test_a_move_is_dated_and_added_to_the_history(void **state)
{
    (void)state;
    /* a record from before there was a history: its stage opens it */
    Opp cur = FIELDSYNC__OPPORTUNITY__INIT;
    cur.has_stage = 1, cur.stage = STAGE(SALES_OPPORTUNITY), cur.stage_entered_date = "2026-10-01";
    Opp put = FIELDSYNC__OPPORTUNITY__INIT;
    put.has_stage = 1, put.stage = STAGE(LOST);
    put_case pc;
    assert_int_equal(run_put(&pc, &cur, &put, "the buyer left the company"), 0);
    assert_string_equal(pc.put->stage_entered_date, TODAY);
    assert_int_equal(pc.put->n_stage_history, 2);
    assert_int_equal(pc.put->stage_history[0]->stage, STAGE(SALES_OPPORTUNITY));
    assert_string_equal(pc.put->stage_history[0]->date, "2026-10-01");
    assert_null(pc.put->stage_history[0]->override);
    assert_int_equal(pc.put->stage_history[1]->stage, STAGE(LOST));
    assert_string_equal(pc.put->stage_history[1]->date, TODAY);
    assert_string_equal(pc.put->stage_history[1]->override, "the buyer left the company");

    /* the next move appends to the history it finds */
    put_case next;
    Opp back = FIELDSYNC__OPPORTUNITY__INIT;
    back.has_stage = 1, back.stage = STAGE(SALES_OPPORTUNITY);
    back.stage_entered_date = "2026-11-24"; /* a move dated by the rep */
    assert_int_equal(run_put(&next, pc.put, &back, NULL), 0);
    assert_int_equal(next.put->n_stage_history, 3);
    assert_string_equal(next.put->stage_history[2]->date, "2026-11-24");
    put_clear(&next);
    put_clear(&pc);

    /* a move dated after today, or undated on purpose, is refused */
    put.stage_entered_date = "2026-11-26";
    assert_int_equal(run_put(&pc, &cur, &put, NULL), FS_EINVAL);
    assert_string_equal(pc.field, "stage_entered_date");
    put_clear(&pc);
    put.stage_entered_date = NULL;
    memset(&pc, 0, sizeof(pc));
    pc.put = heap(&put);
    pc.cleared[pc.ncleared++] = 10; /* stage_entered_date: null */
    assert_int_equal(
        fs_pipeline_put(&cur, pc.put, pc.cleared, &pc.ncleared, TODAY, NULL, pc.field, &pc.err),
        FS_EINVAL);
    assert_string_equal(pc.field, "stage_entered_date");
    put_clear(&pc);

    /* a history given with the move is taken as it is */
    Move given[2] = {move(STAGE(SALES_OPPORTUNITY), "2026-01-01"), move(STAGE(LOST), TODAY)};
    Move *given_p[2] = {&given[0], &given[1]};
    put.n_stage_history = 2, put.stage_history = given_p;
    assert_int_equal(run_put(&pc, &cur, &put, NULL), 0);
    assert_int_equal(pc.put->n_stage_history, 2);
    assert_string_equal(pc.put->stage_history[0]->date, "2026-01-01");
    put_clear(&pc);

    /* no move: no date, no history, and no override */
    Opp edit = FIELDSYNC__OPPORTUNITY__INIT;
    edit.title = "renamed";
    edit.has_stage = 1, edit.stage = STAGE(SALES_OPPORTUNITY); /* the stage it is in */
    assert_int_equal(run_put(&pc, &cur, &edit, NULL), 0);
    assert_null(pc.put->stage_entered_date);
    assert_int_equal(pc.put->n_stage_history, 0);
    put_clear(&pc);
    assert_int_equal(run_put(&pc, &cur, &edit, "why"), FS_EINVAL);
    assert_string_equal(pc.field, "override");
    put_clear(&pc);
}

static void test_cooling_off_end_is_computed_never_typed(void **state)
{
    (void)state;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
        &fieldsync__opportunity__descriptor, "cooling_off_end_date");
    char end[FS_DATE_SIZE];
    assert_true(fs_pipeline_cooling_off_end("2026-01-30", "2026-02-02", end));
    assert_string_equal(end, "2026-02-12");
    assert_true(fs_pipeline_cooling_off_end("2026-02-25", "2026-02-20", end));
    assert_string_equal(end, "2026-03-07");
    assert_false(fs_pipeline_cooling_off_end("2026-02-25", NULL, end));

    Opp put = FIELDSYNC__OPPORTUNITY__INIT;
    put.signed_date = "2026-11-01", put.prepaid_date = "2026-11-03";
    put_case pc;
    assert_int_equal(run_put(&pc, NULL, &put, NULL), 0);
    assert_string_equal(pc.put->cooling_off_end_date, "2026-11-13");
    Opp cur = *pc.put;
    /* clearing the prepayment clears the end */
    Opp unpaid = FIELDSYNC__OPPORTUNITY__INIT;
    put_case pc2;
    memset(&pc2, 0, sizeof(pc2));
    pc2.put = heap(&unpaid);
    pc2.cleared[pc2.ncleared++] = 12; /* prepaid_date */
    assert_int_equal(fs_pipeline_put(&cur, pc2.put, pc2.cleared, &pc2.ncleared, TODAY, NULL,
                                     pc2.field, &pc2.err),
                     0);
    assert_int_equal(pc2.ncleared, 2);
    assert_int_equal(pc2.cleared[1], f->id);
    put_clear(&pc2);
    /* the value it has is accepted again; another one is refused */
    Opp typed = FIELDSYNC__OPPORTUNITY__INIT;
    typed.cooling_off_end_date = "2026-11-13";
    assert_int_equal(run_put(&pc2, &cur, &typed, NULL), 0);
    put_clear(&pc2);
    typed.cooling_off_end_date = "2026-11-11";
    assert_int_equal(run_put(&pc2, &cur, &typed, NULL), FS_EINVAL);
    assert_string_equal(pc2.field, "cooling_off_end_date");
    assert_non_null(strstr(pc2.err.msg, "2026-11-13"));
    put_clear(&pc2);
    put_clear(&pc);
}

static void test_stage_on_a_day_and_staleness(void **state)
{
    (void)state;
    Move h[3] = {move(STAGE(FIRST_MEETING_SET), "2026-10-01"), move(STAGE(PCT_25), "2026-10-20"),
                 move(STAGE(PCT_50), "2026-11-10")};
    Move *hp[3] = {&h[0], &h[1], &h[2]};
    Opp o = FIELDSYNC__OPPORTUNITY__INIT;
    o.has_stage = 1, o.stage = STAGE(PCT_50), o.stage_entered_date = "2026-11-10";
    o.n_stage_history = 3, o.stage_history = hp;
    int stage;
    const char *since;
    assert_false(fs_pipeline_stage_on(&o, day_of("2026-09-30"), &stage, &since));
    assert_true(fs_pipeline_stage_on(&o, day_of("2026-10-01"), &stage, &since));
    assert_int_equal(stage, STAGE(FIRST_MEETING_SET));
    assert_true(fs_pipeline_stage_on(&o, day_of("2026-11-09"), &stage, &since));
    assert_int_equal(stage, STAGE(PCT_25));
    assert_string_equal(since, "2026-10-20");
    assert_true(fs_pipeline_stage_on(&o, day_of(TODAY), &stage, &since));
    assert_int_equal(stage, STAGE(PCT_50));
    /* moved on by a build that keeps no history: the current stage follows it */
    o.stage = STAGE(PCT_90), o.stage_entered_date = "2026-11-20";
    assert_true(fs_pipeline_stage_on(&o, day_of("2026-11-19"), &stage, &since));
    assert_int_equal(stage, STAGE(PCT_50));
    assert_true(fs_pipeline_stage_on(&o, day_of("2026-11-20"), &stage, &since));
    assert_int_equal(stage, STAGE(PCT_90));
    /* ... and undated, after the history's last move */
    o.stage_entered_date = NULL;
    assert_true(fs_pipeline_stage_on(&o, day_of("2026-11-09"), &stage, &since));
    assert_int_equal(stage, STAGE(PCT_25));
    assert_true(fs_pipeline_stage_on(&o, day_of("2026-11-10"), &stage, &since));
    assert_int_equal(stage, STAGE(PCT_90));
    assert_string_equal(since, "");
    /* no history, no date: in its stage all along, never stale */
    Opp bare = FIELDSYNC__OPPORTUNITY__INIT;
    bare.has_stage = 1, bare.stage = STAGE(PCT_25);
    assert_true(fs_pipeline_stage_on(&bare, 0, &stage, &since));
    assert_false(fs_pipeline_stale(stage, since, day_of(TODAY), 28));

    long t = day_of(TODAY);
    assert_false(fs_pipeline_stale(STAGE(PCT_25), "2026-10-28", t, 28)); /* 28 days: not yet */
    assert_true(fs_pipeline_stale(STAGE(PCT_25), "2026-10-27", t, 28));
    assert_true(fs_pipeline_stale(STAGE(FIRST_MEETING_SET), "2026-10-27", t, 28));
    assert_true(fs_pipeline_stale(STAGE(PCT_90), "2026-10-27", t, 28));
    assert_false(fs_pipeline_stale(STAGE(SALES_OPPORTUNITY), "2026-01-01", t, 28));
    assert_false(fs_pipeline_stale(STAGE(CLOSED), "2026-01-01", t, 28));
    assert_false(fs_pipeline_stale(STAGE(LOST), "2026-01-01", t, 28));
}

/* ------------------------------------------------------------------------- */
/* report.c */

static void add(fs_pipeline_report *r, const char *id, int stage, const char *entered,
                int64_t minor, const char *currency, const char *owner)
{
    Opp o = FIELDSYNC__OPPORTUNITY__INIT;
    Fieldsync__Money m = FIELDSYNC__MONEY__INIT;
    o.id = (char *)id;
    o.title = (char *)"Line 3 retrofit";
    o.account_id = (char *)"a1";
    o.has_stage = 1, o.stage = (Fieldsync__Opportunity__Stage)stage;
    o.stage_entered_date = (char *)entered;
    if (minor != 0) {
        m.has_minor_units = 1, m.minor_units = minor, m.currency = (char *)currency;
        o.amount = &m;
    }
    assert_int_equal(fs_pipeline_report_add(r, &o, owner, owner[0] != '\0' ? "Alder" : NULL), 0);
}

static void test_pipeline_adds_up_per_currency_and_per_rep(void **state)
{
    (void)state;
    fs_pipeline_report r;
    for (int per_owner = 0; per_owner <= 1; per_owner++) {
        fs_pipeline_report_init(&r, day_of(TODAY), 28, per_owner);
        add(&r, "o1", STAGE(PCT_50), "2026-11-01", 500, "GBP", "ben");
        add(&r, "o2", STAGE(PCT_50), "2026-10-01", 300, "EUR", "anna"); /* stale */
        add(&r, "o3", STAGE(PCT_50), "2026-11-20", 200, "EUR", "anna");
        add(&r, "o4", STAGE(PCT_50), "2026-11-20", 100, NULL, "");
        add(&r, "o5", STAGE(CLOSED), "2026-11-26", 900, "EUR", "anna"); /* after the day */
        add(&r, "o6", STAGE(PCT_90), "2026-10-01", 0, NULL, "ben");     /* stale, no amount */
        if (!per_owner) {
            assert_int_equal(r.n, 1);
            const fs_stage_tally *t = &r.tallies[0].stage[STAGE(PCT_50)];
            assert_int_equal(t->count, 4);
            assert_int_equal(t->stale, 1);
            assert_int_equal(t->nsums, 3);
            assert_string_equal(t->sums[0].currency, "EUR");
            assert_int_equal(t->sums[0].minor_units, 500);
            assert_string_equal(t->sums[1].currency, "GBP");
            assert_string_equal(t->sums[2].currency, FS_NO_CURRENCY);
            assert_int_equal(r.tallies[0].stage[STAGE(CLOSED)].count, 0);
            assert_int_equal(r.tallies[0].nstale, 2);
            const fs_stale *o2 = &r.tallies[0].stale[0], *o6 = &r.tallies[0].stale[1];
            assert_string_equal(o2->id, "o2");
            assert_string_equal(o2->title, "Line 3 retrofit");
            assert_string_equal(o2->account_id, "a1");
            assert_string_equal(o2->account_name, "Alder");
            assert_int_equal(o2->stage, STAGE(PCT_50));
            assert_int_equal(o2->since, day_of("2026-10-01"));
            assert_string_equal(o2->amount.currency, "EUR");
            assert_int_equal(o2->amount.minor_units, 300);
            assert_string_equal(o6->id, "o6");
            assert_int_equal(o6->stage, STAGE(PCT_90));
            assert_null(o6->amount.currency);
        } else {
            assert_int_equal(r.n, 3);
            assert_string_equal(r.tallies[0].owner, "");
            assert_string_equal(r.tallies[1].owner, "anna");
            assert_string_equal(r.tallies[2].owner, "ben");
            assert_int_equal(r.tallies[1].stage[STAGE(PCT_50)].count, 2);
            assert_int_equal(r.tallies[1].stage[STAGE(PCT_50)].sums[0].minor_units, 500);
            assert_int_equal(r.tallies[2].stage[STAGE(PCT_90)].count, 1);
            assert_int_equal(r.tallies[2].stage[STAGE(PCT_90)].nsums, 0);
            assert_int_equal(r.tallies[2].nstale, 1);
        }
        fs_pipeline_report_clear(&r);
    }
}

static void visit(fs_weekly_report *r, const char *date, int kind, int status)
{
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    v.has_planned_at = 1, v.planned_at = fs_cal_local_midnight(day_of(date)) + 9 * 3600;
    v.has_kind = 1, v.kind = (Fieldsync__Visit__Kind)kind;
    v.has_status = 1, v.status = (Fieldsync__Visit__Status)status;
    assert_int_equal(fs_weekly_report_add_visit(r, &v), 0);
}

static void test_weeks_count_review_days_and_the_funnel(void **state)
{
    (void)state;
    static fs_weekly_report r;
    fs_weekly_report_init(&r, day_of(TODAY), 2);
    assert_int_equal(r.nweeks, 2);
    assert_int_equal(fs_weekly_report_first(&r), day_of("2026-11-16"));
    assert_int_equal(fs_weekly_report_end(&r), day_of("2026-11-30"));
    assert_int_equal(r.weeks[0].nreview, 3);
    assert_int_equal(r.weeks[1].nreview, 2); /* Monday and today, Wednesday */

    enum { CALL = FIELDSYNC__VISIT__KIND__PHONE_CALL, DEMO = FIELDSYNC__VISIT__KIND__DEMO };
    enum { PLANNED = 1, DONE = 2, CANCELLED = 3 };
    visit(&r, "2026-11-23", CALL, DONE);
    visit(&r, "2026-11-24", CALL, CANCELLED);
    visit(&r, "2026-11-27", CALL, PLANNED); /* not made yet */
    visit(&r, "2026-11-25", DEMO, DONE);
    visit(&r, "2026-11-25", DEMO, CANCELLED);
    visit(&r, "2026-11-17", CALL, DONE);
    visit(&r, "2026-11-15", CALL, DONE); /* before the report */
    assert_int_equal(r.weeks[1].steps[FS_STEP_CALLS], 2);
    assert_int_equal(r.weeks[1].steps[FS_STEP_CONNECTIONS], 1);
    assert_int_equal(r.weeks[1].steps[FS_STEP_MEETINGS], 1);
    assert_int_equal(r.weeks[0].steps[FS_STEP_CALLS], 1);

    Move h[3] = {move(STAGE(FIRST_MEETING_SET), "2026-11-16"), move(STAGE(PCT_25), "2026-11-18"),
                 move(STAGE(PCT_50), "2026-11-24")};
    Move *hp[3] = {&h[0], &h[1], &h[2]};
    Opp o = FIELDSYNC__OPPORTUNITY__INIT;
    o.has_stage = 1, o.stage = STAGE(PCT_50), o.stage_entered_date = "2026-11-24";
    o.n_stage_history = 3, o.stage_history = hp;
    assert_int_equal(fs_weekly_report_add_opportunity(&r, &o, "anna", "Alder"), 0);
    /* an older record: its only move is its current stage */
    Opp old = FIELDSYNC__OPPORTUNITY__INIT;
    old.has_stage = 1, old.stage = STAGE(CLOSED), old.stage_entered_date = "2026-11-23";
    assert_int_equal(fs_weekly_report_add_opportunity(&r, &old, "anna", "Alder"), 0);
    assert_int_equal(r.weeks[0].steps[FS_STEP_FIRST_MEETINGS], 1);
    assert_int_equal(r.weeks[0].steps[FS_STEP_PCT_25], 1);
    assert_int_equal(r.weeks[1].steps[FS_STEP_PCT_50], 1);
    assert_int_equal(r.weeks[1].steps[FS_STEP_CLOSED], 1);
    assert_int_equal(r.weeks[1].steps[FS_STEP_PCT_90], 0);
    /* review days: Mon 16 first meeting; Wed 18 and Fri 20 at 25%; Mon 23 25% and the
     * closed one; Wed 25 50% */
    assert_int_equal(r.weeks[0].review[0][STAGE(FIRST_MEETING_SET)], 1);
    assert_int_equal(r.weeks[0].review[1][STAGE(PCT_25)], 1);
    assert_int_equal(r.weeks[0].review[2][STAGE(PCT_25)], 1);
    assert_int_equal(r.weeks[0].review[2][STAGE(CLOSED)], 0);
    assert_int_equal(r.weeks[1].review[0][STAGE(PCT_25)], 1);
    assert_int_equal(r.weeks[1].review[0][STAGE(CLOSED)], 1);
    assert_int_equal(r.weeks[1].review[1][STAGE(PCT_50)], 1);
    assert_string_equal(fs_step_name(FS_STEP_FIRST_MEETINGS), "first_meeting_set");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_weekdays_and_iso_weeks),
        cmocka_unit_test(test_each_stage_needs_what_the_method_says),
        cmocka_unit_test(test_a_move_is_dated_and_added_to_the_history),
        cmocka_unit_test(test_cooling_off_end_is_computed_never_typed),
        cmocka_unit_test(test_stage_on_a_day_and_staleness),
        cmocka_unit_test(test_pipeline_adds_up_per_currency_and_per_rep),
        cmocka_unit_test(test_weeks_count_review_days_and_the_funnel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
