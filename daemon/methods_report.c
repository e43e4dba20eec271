/*
 * methods_report.c: report.pipeline, report.team and report.weekly
 * (docs/socket-api.md): the weekly pipeline review of DOMAIN.md. The store
 * hands over the records (report.c of store/), report.c counts them, and
 * this file checks parameters and shapes the answers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_record.h"
#include "report.h"
#include "rpc.h"

/* The lower-case name of an enum value, "unknown" when it has none. */
static const char *enum_name(const ProtobufCEnumDescriptor *e, int value, char buf[64])
{
    const char *n = fs_json_enum_name(e, value, buf, 64);
    return n != NULL ? n : "unknown";
}

static const char *stage_name(int stage, char buf[64])
{
    return enum_name(&fieldsync__opportunity__stage__descriptor, stage, buf);
}

/* {today, cycle_days} params, with the store. */
static int pipeline_params(fs_daemon *d, json_t *params, long *day, long long *cycle, fs_store **st,
                           fs_rpc_err *e)
{
    static const char *const allowed[] = {"today", "cycle_days", NULL};
    char date[FS_DATE_SIZE];
    *cycle = d->cfg->sales_cycle_days;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_date(params, "today", date, e) != 0 ||
        fs_rpc_param_int(params, "cycle_days", 1, 3650, cycle, e) != 0 ||
        fs_rpc_need_store(d, st, e) != 0)
        return -1;
    fs_cal_day(date, day);
    return 0;
}

static json_t *money_json(const fs_money_sum *m)
{
    return json_pack("{s:s,s:I}", "currency", m->currency, "minor_units",
                     (json_int_t)m->minor_units);
}

static json_t *amounts_json(const fs_stage_tally *t)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < t->nsums; i++)
        json_array_append_new(a, money_json(&t->sums[i]));
    return a;
}

/* One stale opportunity as of day: what it is, whose, in which stage since
 * when and for how many days. */
static json_t *stale_json(const fs_stale *o, long day)
{
    char since[FS_DATE_SIZE], buf[64];
    fs_cal_date(o->since, since);
    return json_pack("{s:o,s:o,s:o,s:o,s:s,s:s,s:I,s:o}", "id", fs_json_text(o->id), "title",
                     fs_json_text_or_null(o->title), "account_id",
                     fs_json_text_or_null(o->account_id), "account_name",
                     fs_json_text_or_null(o->account_name), "stage", stage_name(o->stage, buf),
                     "since", since, "days", (json_int_t)(day - o->since), "amount",
                     o->amount.currency != NULL ? money_json(&o->amount) : json_null());
}

/* {stages: [...], stale: [...]} of one tally as of day (t NULL: all zero). */
static json_t *tally_json(const fs_tally *t, long day)
{
    static const fs_tally none;
    json_t *stages = json_array(), *stale = json_array();
    if (t == NULL)
        t = &none;
    for (int i = 0; stages != NULL && i < FS_STAGE_COUNT; i++) {
        char buf[64];
        const fs_stage_tally *s = &t->stage[i];
        json_array_append_new(stages, json_pack("{s:s,s:I,s:I,s:o}", "stage", stage_name(i, buf),
                                                "count", (json_int_t)s->count, "stale",
                                                (json_int_t)s->stale, "amounts", amounts_json(s)));
    }
    for (size_t i = 0; stale != NULL && i < t->nstale; i++)
        json_array_append_new(stale, stale_json(&t->stale[i], day));
    return json_pack("{s:o,s:o}", "stages", stages, "stale", stale);
}

/* Tallies every opportunity into r; the answer's head into *result. */
static int run_pipeline(fs_daemon *d, json_t *params, bool per_owner, fs_pipeline_report *r,
                        json_t **result, fs_rpc_err *e)
{
    long day;
    long long cycle;
    fs_store *st;
    fs_err err = {0};
    char date[FS_DATE_SIZE];
    if (pipeline_params(d, params, &day, &cycle, &st, e) != 0)
        return -1;
    fs_pipeline_report_init(r, day, (int)cycle, per_owner);
    if (fs_store_each_opportunity(st, fs_pipeline_report_add, r, &err) != 0) {
        fs_pipeline_report_clear(r);
        return err.code == 0 ? fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory")
                             : fs_rpc_fail_fs(e, &err);
    }
    fs_pipeline_report_finish(r);
    fs_cal_date(day, date);
    *result = json_pack("{s:s,s:I}", "today", date, "cycle_days", (json_int_t)cycle);
    return 0;
}

static int m_pipeline(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                      fs_rpc_err *e)
{
    (void)s;
    fs_pipeline_report r;
    if (run_pipeline(d, params, false, &r, result, e) != 0)
        return -1;
    json_object_update_new(*result, tally_json(r.n > 0 ? &r.tallies[0] : NULL, r.day));
    fs_pipeline_report_clear(&r);
    return 0;
}

static int m_team(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    fs_pipeline_report r;
    if (run_pipeline(d, params, true, &r, result, e) != 0)
        return -1;
    json_t *reps = json_array();
    for (size_t i = 0; reps != NULL && i < r.n; i++) {
        json_t *row = tally_json(&r.tallies[i], r.day);
        const char *owner = r.tallies[i].owner;
        json_object_set_new(row, "owner", owner[0] != '\0' ? json_string(owner) : json_null());
        json_array_append_new(reps, row);
    }
    json_object_set_new(*result, "reps", reps);
    fs_pipeline_report_clear(&r);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* report.weekly */

static json_t *review_json(const fs_week *w)
{
    json_t *days = json_array();
    for (size_t k = 0; days != NULL && k < w->nreview; k++) {
        char date[FS_DATE_SIZE], buf[64];
        json_t *stages = json_array();
        for (int i = 0; stages != NULL && i < FS_STAGE_COUNT; i++)
            json_array_append_new(stages, json_pack("{s:s,s:I}", "stage", stage_name(i, buf),
                                                    "count", (json_int_t)w->review[k][i]));
        fs_cal_date(w->monday + 2 * (long)k, date);
        json_array_append_new(days, json_pack("{s:s,s:o}", "date", date, "stages", stages));
    }
    return days;
}

/* n as a share of of (not zero), rounded to three places. */
static json_t *ratio(size_t n, size_t of)
{
    return json_real(round(1000.0 * (double)n / (double)of) / 1000.0);
}

/* Each step with its count and, but for the steps that start a chain, the
 * step it is a ratio of (base) and that ratio (when the base is not zero). */
static json_t *funnel_json(const fs_week *w)
{
    json_t *steps = json_array();
    for (int i = 0; steps != NULL && i < FS_STEP_COUNT; i++) {
        fs_step base = fs_step_base((fs_step)i);
        json_t *row = json_pack("{s:s,s:I}", "step", fs_step_name((fs_step)i), "count",
                                (json_int_t)w->steps[i]);
        if (row != NULL && base != FS_STEP_COUNT)
            json_object_set_new(row, "base", json_string(fs_step_name(base)));
        if (row != NULL && base != FS_STEP_COUNT && w->steps[base] > 0)
            json_object_set_new(row, "ratio", ratio(w->steps[i], w->steps[base]));
        json_array_append_new(steps, row);
    }
    return steps;
}

/* The accounts per funnel stage: how many sit there, how many reached it
 * (sit there or further on) and that as a share of the stage before. */
static json_t *accounts_json(const size_t count[FS_FUNNEL_COUNT])
{
    json_t *rows = json_array();
    size_t reached[FS_FUNNEL_COUNT] = {0};
    for (int i = FS_FUNNEL_COUNT - 1; i >= 1; i--)
        reached[i] = count[i] + (i + 1 < FS_FUNNEL_COUNT ? reached[i + 1] : 0);
    for (int i = 1; rows != NULL && i < FS_FUNNEL_COUNT; i++) {
        char buf[64];
        json_t *row = json_pack("{s:s,s:I,s:I}", "funnel_stage",
                                enum_name(&fieldsync__account__funnel_stage__descriptor, i, buf),
                                "count", (json_int_t)count[i], "reached", (json_int_t)reached[i]);
        if (row != NULL && i > 1 && reached[i - 1] > 0)
            json_object_set_new(row, "ratio", ratio(reached[i], reached[i - 1]));
        json_array_append_new(rows, row);
    }
    return rows;
}

static json_t *weeks_json(const fs_weekly_report *r)
{
    json_t *weeks = json_array();
    for (size_t i = 0; weeks != NULL && i < r->nweeks; i++) {
        const fs_week *w = &r->weeks[i];
        char week[FS_WEEK_SIZE], from[FS_DATE_SIZE], to[FS_DATE_SIZE];
        fs_cal_week(w->monday, week);
        fs_cal_date(w->monday, from);
        fs_cal_date(w->monday + 6, to);
        json_array_append_new(weeks, json_pack("{s:s,s:s,s:s,s:o,s:o}", "week", week, "from", from,
                                               "to", to, "review_days", review_json(w), "funnel",
                                               funnel_json(w)));
    }
    return weeks;
}

static int m_weekly(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"today", "weeks", NULL};
    char date[FS_DATE_SIZE];
    long long nweeks = 1;
    long day;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_date(params, "today", date, e) != 0 ||
        fs_rpc_param_int(params, "weeks", 1, FS_WEEKS_MAX, &nweeks, e) != 0 ||
        fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_cal_day(date, &day);
    fs_weekly_report *r = calloc(1, sizeof(*r));
    size_t funnel[FS_FUNNEL_COUNT];
    fs_err err = {0};
    if (r == NULL)
        return fs_rpc_fail(e, FS_RPC_INTERNAL, NULL, "out of memory");
    fs_weekly_report_init(r, day, (size_t)nweeks);
    int rc = fs_store_each_opportunity(st, fs_weekly_report_add_opportunity, r, &err);
    if (rc == 0)
        rc = fs_store_each_visit(st, fs_cal_local_midnight(fs_weekly_report_first(r)),
                                 fs_cal_local_midnight(fs_weekly_report_end(r)),
                                 fs_weekly_report_add_visit, r, &err);
    if (rc == 0)
        rc = fs_store_funnel(st, funnel, &err);
    if (rc == 0)
        *result = json_pack("{s:s,s:o,s:o}", "today", date, "weeks", weeks_json(r), "accounts",
                            accounts_json(funnel));
    free(r);
    return rc == 0 ? 0 : fs_rpc_fail_fs(e, &err);
}

const fs_rpc_method fs_rpc_methods_report[] = {
    {"report.pipeline", m_pipeline, false},
    {"report.team", m_team, false},
    {"report.weekly", m_weekly, false},
    {NULL, NULL, false},
};
