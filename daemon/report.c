/*
 * report.c: the counts of the weekly pipeline review (see report.h). Tallies
 * grow as the store hands over one record at a time; owners and currencies
 * are few, so they are kept in small sorted arrays.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define STAGE(name) FIELDSYNC__OPPORTUNITY__STAGE__##name

/* ------------------------------------------------------------------------- */
/* The pipeline as of a day */

void fs_pipeline_report_init(fs_pipeline_report *r, long day, int cycle_days, bool per_owner)
{
    *r = (fs_pipeline_report){.day = day, .cycle_days = cycle_days, .per_owner = per_owner};
}

static void stale_clear(fs_stale *s)
{
    free(s->id);
    free(s->title);
    free(s->account_id);
    free(s->account_name);
    free(s->amount.currency);
}

static void tally_clear(fs_tally *t)
{
    free(t->owner);
    for (int s = 0; s < FS_STAGE_COUNT; s++) {
        for (size_t i = 0; i < t->stage[s].nsums; i++)
            free(t->stage[s].sums[i].currency);
        free(t->stage[s].sums);
    }
    for (size_t i = 0; i < t->nstale; i++)
        stale_clear(&t->stale[i]);
    free(t->stale);
}

void fs_pipeline_report_clear(fs_pipeline_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        tally_clear(&r->tallies[i]);
    free(r->tallies);
    r->tallies = NULL;
    r->n = 0;
}

/* Grows *arr of *n elements of size elem by one zeroed slot at index at. */
static void *insert_at(void *arr, size_t *n, size_t elem, size_t at)
{
    char *grown = realloc(arr, (*n + 1) * elem);
    if (grown == NULL)
        return NULL;
    memmove(grown + (at + 1) * elem, grown + at * elem, (*n - at) * elem);
    memset(grown + at * elem, 0, elem);
    (*n)++;
    return grown;
}

/* The tally of owner (NULL: the only one), made when new. */
static fs_tally *tally_of(fs_pipeline_report *r, const char *owner)
{
    size_t at = 0;
    if (owner == NULL && r->n == 1)
        return &r->tallies[0];
    while (owner != NULL && at < r->n) {
        int c = strcmp(r->tallies[at].owner, owner);
        if (c == 0)
            return &r->tallies[at];
        if (c > 0)
            break;
        at++;
    }
    char *copy = owner != NULL ? strdup(owner) : NULL;
    fs_tally *grown =
        (owner == NULL || copy != NULL) ? insert_at(r->tallies, &r->n, sizeof(*grown), at) : NULL;
    if (grown == NULL) {
        free(copy);
        return NULL;
    }
    r->tallies = grown;
    grown[at].owner = copy;
    return &grown[at];
}

/* The currency of an amount m (not NULL). */
static const char *currency_of(const Fieldsync__Money *m)
{
    return m->currency != NULL && m->currency[0] != '\0' ? m->currency : FS_NO_CURRENCY;
}

static int add_amount(fs_stage_tally *t, const Fieldsync__Money *m)
{
    if (m == NULL || !m->has_minor_units)
        return 0;
    const char *cur = currency_of(m);
    size_t at = 0;
    for (; at < t->nsums; at++) {
        int c = strcmp(t->sums[at].currency, cur);
        if (c == 0) {
            t->sums[at].minor_units += m->minor_units;
            return 0;
        }
        if (c > 0)
            break;
    }
    char *copy = strdup(cur);
    fs_money_sum *grown = copy != NULL ? insert_at(t->sums, &t->nsums, sizeof(*grown), at) : NULL;
    if (grown == NULL) {
        free(copy);
        return FS_ENOMEM;
    }
    t->sums = grown;
    grown[at] = (fs_money_sum){.currency = copy, .minor_units = m->minor_units};
    return 0;
}

/* A copy of s, or NULL when s is NULL (ok stays) or out of memory (ok
 * cleared). */
static char *copy_or_null(const char *s, bool *ok)
{
    char *copy = s != NULL ? strdup(s) : NULL;
    if (s != NULL && copy == NULL)
        *ok = false;
    return copy;
}

static int add_stale(fs_tally *t, const Fieldsync__Opportunity *o, const char *account_name,
                     int stage, long since)
{
    fs_stale *grown = realloc(t->stale, (t->nstale + 1) * sizeof(*grown));
    if (grown == NULL)
        return FS_ENOMEM;
    t->stale = grown;
    bool ok = true;
    const Fieldsync__Money *m = o->amount;
    fs_stale s = {
        .id = copy_or_null(o->id != NULL ? o->id : "", &ok),
        .title = copy_or_null(o->title, &ok),
        .account_id = copy_or_null(o->account_id, &ok),
        .account_name = copy_or_null(account_name, &ok),
        .stage = stage,
        .since = since,
    };
    if (m != NULL && m->has_minor_units)
        s.amount = (fs_money_sum){.currency = copy_or_null(currency_of(m), &ok),
                                  .minor_units = m->minor_units};
    if (!ok) {
        stale_clear(&s);
        return FS_ENOMEM;
    }
    grown[t->nstale++] = s;
    return 0;
}

int fs_pipeline_report_add(void *report, const Fieldsync__Opportunity *o, const char *owner,
                           const char *account_name)
{
    fs_pipeline_report *r = report;
    int stage;
    const char *since;
    if (!fs_pipeline_stage_on(o, r->day, &stage, &since) || stage < 0 || stage >= FS_STAGE_COUNT)
        return 0; /* not there yet on that day, or a stage from a newer build */
    fs_tally *t = tally_of(r, r->per_owner ? owner : NULL);
    if (t == NULL)
        return FS_ENOMEM;
    fs_stage_tally *st = &t->stage[stage];
    st->count++;
    long since_day;
    if (fs_pipeline_stale(stage, since, r->day, r->cycle_days) && fs_cal_day(since, &since_day)) {
        st->stale++;
        if (add_stale(t, o, account_name, stage, since_day) != 0)
            return FS_ENOMEM;
    }
    return add_amount(st, o->amount);
}

/* Longest in its stage first, then by id: the deals to act on lead. */
static int stale_order(const void *a, const void *b)
{
    const fs_stale *x = a, *y = b;
    if (x->since != y->since)
        return x->since < y->since ? -1 : 1;
    return strcmp(x->id, y->id);
}

void fs_pipeline_report_finish(fs_pipeline_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->tallies[i].nstale > 1)
            qsort(r->tallies[i].stale, r->tallies[i].nstale, sizeof(fs_stale), stale_order);
}

/* ------------------------------------------------------------------------- */
/* The weeks */

static const char *const step_names[FS_STEP_COUNT] = {
    [FS_STEP_CALLS] = "calls",
    [FS_STEP_CONNECTIONS] = "connections",
    [FS_STEP_FIRST_MEETINGS] = "first_meeting_set",
    [FS_STEP_MEETINGS] = "meetings",
    [FS_STEP_PCT_25] = "pct_25",
    [FS_STEP_PCT_50] = "pct_50",
    [FS_STEP_PCT_90] = "pct_90",
    [FS_STEP_CLOSED] = "closed",
};

const char *fs_step_name(fs_step s)
{
    return s < FS_STEP_COUNT ? step_names[s] : "unknown";
}

/*
 * The funnel is two chains of activity and what it yields (DOMAIN.md: "15
 * calls -> 7 connections -> 1 meeting; 8 meetings a week -> 1 sale"): on the
 * phone, connections per call and first meetings set per connection; in
 * person, the deals moved to 25%, 50%, 90% and closed per meeting held. A
 * step's ratio to the one listed before it would mix the chains (meetings
 * per first meeting set) or compare one week's moves out of different deals.
 */
static const fs_step step_bases[FS_STEP_COUNT] = {
    [FS_STEP_CALLS] = FS_STEP_COUNT,
    [FS_STEP_CONNECTIONS] = FS_STEP_CALLS,
    [FS_STEP_FIRST_MEETINGS] = FS_STEP_CONNECTIONS,
    [FS_STEP_MEETINGS] = FS_STEP_COUNT,
    [FS_STEP_PCT_25] = FS_STEP_MEETINGS,
    [FS_STEP_PCT_50] = FS_STEP_MEETINGS,
    [FS_STEP_PCT_90] = FS_STEP_MEETINGS,
    [FS_STEP_CLOSED] = FS_STEP_MEETINGS,
};

fs_step fs_step_base(fs_step s)
{
    return s < FS_STEP_COUNT ? step_bases[s] : FS_STEP_COUNT;
}

void fs_weekly_report_init(fs_weekly_report *r, long day, size_t nweeks)
{
    memset(r, 0, sizeof(*r));
    r->day = day;
    r->nweeks = nweeks < 1 ? 1 : nweeks > FS_WEEKS_MAX ? FS_WEEKS_MAX : nweeks;
    long monday = day - fs_cal_weekday(day) - 7 * (long)(r->nweeks - 1);
    for (size_t w = 0; w < r->nweeks; w++, monday += 7) {
        r->weeks[w].monday = monday;
        for (long k = 0; k < FS_REVIEW_DAYS && monday + 2 * k <= day; k++)
            r->weeks[w].nreview++;
    }
}

long fs_weekly_report_first(const fs_weekly_report *r)
{
    return r->weeks[0].monday;
}

long fs_weekly_report_end(const fs_weekly_report *r)
{
    return r->weeks[r->nweeks - 1].monday + 7;
}

/* The week day falls in, or NULL outside the report. */
static fs_week *week_of(fs_weekly_report *r, long day)
{
    if (day < fs_weekly_report_first(r) || day >= fs_weekly_report_end(r))
        return NULL;
    return &r->weeks[(day - fs_weekly_report_first(r)) / 7];
}

/* The funnel step a move to stage is, or FS_STEP_COUNT for none. */
static fs_step step_of_stage(int stage)
{
    switch (stage) {
    case STAGE(FIRST_MEETING_SET):
        return FS_STEP_FIRST_MEETINGS;
    case STAGE(PCT_25):
        return FS_STEP_PCT_25;
    case STAGE(PCT_50):
        return FS_STEP_PCT_50;
    case STAGE(PCT_90):
        return FS_STEP_PCT_90;
    case STAGE(CLOSED):
        return FS_STEP_CLOSED;
    default:
        return FS_STEP_COUNT;
    }
}

static void count_move(fs_weekly_report *r, bool has_stage, int stage, const char *date)
{
    long d;
    fs_week *w;
    fs_step s = step_of_stage(stage);
    if (has_stage && s != FS_STEP_COUNT && fs_cal_day(date, &d) && d <= r->day &&
        (w = week_of(r, d)) != NULL)
        w->steps[s]++;
}

int fs_weekly_report_add_opportunity(void *report, const Fieldsync__Opportunity *o,
                                     const char *owner, const char *account_name)
{
    fs_weekly_report *r = report;
    (void)owner, (void)account_name;
    bool current;
    size_t n = fs_pipeline_moves(o, &current);
    for (size_t i = 0; i < n; i++)
        count_move(r, o->stage_history[i]->has_stage, (int)o->stage_history[i]->stage,
                   o->stage_history[i]->date);
    if (current)
        count_move(r, true, (int)o->stage, o->stage_entered_date);
    for (size_t w = 0; w < r->nweeks; w++) {
        fs_week *wk = &r->weeks[w];
        for (size_t k = 0; k < wk->nreview; k++) {
            int stage;
            const char *since;
            if (fs_pipeline_stage_on(o, wk->monday + 2 * (long)k, &stage, &since) && stage >= 0 &&
                stage < FS_STAGE_COUNT)
                wk->review[k][stage]++;
        }
    }
    return 0;
}

int fs_weekly_report_add_visit(void *report, const Fieldsync__Visit *v)
{
    fs_weekly_report *r = report;
    fs_week *w;
    if (!v->has_planned_at || (w = week_of(r, fs_cal_local_day(v->planned_at))) == NULL ||
        !v->has_status || v->status == FIELDSYNC__VISIT__STATUS__PLANNED)
        return 0;
    bool done = v->status == FIELDSYNC__VISIT__STATUS__DONE;
    if (v->has_kind && v->kind == FIELDSYNC__VISIT__KIND__PHONE_CALL) {
        w->steps[FS_STEP_CALLS]++;
        w->steps[FS_STEP_CONNECTIONS] += done;
    } else if (done) {
        w->steps[FS_STEP_MEETINGS]++;
    }
    return 0;
}
