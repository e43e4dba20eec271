/*
 * pipeline.c: the sales method's rules for one opportunity (see pipeline.h).
 *
 * A put is judged on the record as it will be after the put: each field the
 * rules read is the put's value, nothing when the put clears it, else the
 * current one. Only a move is judged (a put that sets a stage other than the
 * current one): editing a deal that already sits in a stage is never refused.
 *
 * The cooling-off. DOMAIN.md closes a deal "past the cooling-off period (10
 * days) after signing"; the issue that brought these rules counts it from the
 * prepayment. A deal reaches 90% only when both happened, so the cooling-off
 * ends 10 days after the later of the two: from the prepayment when it follows
 * the signing (the usual order), and never sooner than 10 days after signing.
 */
#include "pipeline.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE(name) FIELDSYNC__OPPORTUNITY__STAGE__##name

typedef Fieldsync__Opportunity Opp;
typedef Fieldsync__Opportunity__StageChange Move;

static const char *const stage_label[FS_STAGE_COUNT] = {"an unspecified stage",
                                                        "sales opportunity",
                                                        "first meeting set",
                                                        "25%",
                                                        "50%",
                                                        "90%",
                                                        "closed",
                                                        "lost"};

static const char *label(int stage)
{
    return stage >= 0 && stage < FS_STAGE_COUNT ? stage_label[stage] : "an unknown stage";
}

bool fs_pipeline_cooling_off_end(const char *signed_date, const char *prepaid_date,
                                 char out[FS_DATE_SIZE])
{
    long s, p;
    if (!fs_cal_day(signed_date, &s) || !fs_cal_day(prepaid_date, &p))
        return false;
    fs_cal_date((s > p ? s : p) + FS_COOLING_OFF_DAYS, out);
    return true;
}

bool fs_pipeline_stage_on(const Opp *o, long day, int *stage, const char **since)
{
    bool found = false;
    long best = LONG_MIN, last = LONG_MIN, d;
    for (size_t i = 0; i < o->n_stage_history; i++) {
        const Move *m = o->stage_history[i];
        if (!m->has_stage || !fs_cal_day(m->date, &d))
            continue;
        last = d > last ? d : last;
        /* the latest move on or before day; of moves on one day, the last */
        if (d <= day && d >= best) {
            found = true, best = d;
            *stage = (int)m->stage, *since = m->date;
        }
    }
    if (!o->has_stage)
        return found;
    /* the current stage is the last move; undated, it follows the history's
     * last move (with no history: known since forever) */
    if (!fs_cal_day(o->stage_entered_date, &d))
        d = last;
    if (d <= day && d >= best) {
        found = true;
        *stage = (int)o->stage;
        *since = o->stage_entered_date != NULL ? o->stage_entered_date : "";
    }
    return found;
}

bool fs_pipeline_stale(int stage, const char *since, long day, int cycle_days)
{
    long d;
    return stage >= STAGE(FIRST_MEETING_SET) && stage <= STAGE(PCT_90) && fs_cal_day(since, &d) &&
           day - d > cycle_days;
}

/* ------------------------------------------------------------------------- */
/* The record as the put leaves it */

static bool is_cleared(const uint32_t *cleared, size_t n, uint32_t field)
{
    for (size_t i = 0; i < n; i++)
        if (cleared[i] == field)
            return true;
    return false;
}

static const ProtobufCFieldDescriptor *field_of(const char *name)
{
    return protobuf_c_message_descriptor_get_field_by_name(&fieldsync__opportunity__descriptor,
                                                           name);
}

/* A pointer-valued field (string, message) after the put. */
static const void *after(const Opp *cur, const Opp *put, const uint32_t *cleared, size_t ncleared,
                         const char *name)
{
    const ProtobufCFieldDescriptor *f = field_of(name);
    const void *v = *(void *const *)((const char *)put + f->offset);
    if (v != NULL || cur == NULL || is_cleared(cleared, ncleared, f->id))
        return v;
    return *(void *const *)((const char *)cur + f->offset);
}

typedef struct view {
    const Fieldsync__Opportunity__Criteria *criteria;
    const char *first_meeting, *signed_date, *prepaid_date;
    char cooling_off_end[FS_DATE_SIZE]; /* "" when there is none */
} view;

static void view_of(view *v, const Opp *cur, const Opp *put, const uint32_t *cl, size_t ncl)
{
    v->criteria = after(cur, put, cl, ncl, "criteria");
    v->first_meeting = after(cur, put, cl, ncl, "first_meeting_date");
    v->signed_date = after(cur, put, cl, ncl, "signed_date");
    v->prepaid_date = after(cur, put, cl, ncl, "prepaid_date");
    if (!fs_pipeline_cooling_off_end(v->signed_date, v->prepaid_date, v->cooling_off_end))
        v->cooling_off_end[0] = '\0';
}

/* ------------------------------------------------------------------------- */
/* What each stage needs (DOMAIN.md) */

/* Appends "name" to a list of what is missing. */
static void missing(char *why, size_t n, const char *name)
{
    size_t len = strlen(why);
    snprintf(why + len, n - len, "%s%s", len ? ", " : "", name);
}

static void need_criteria(const view *v, char *why, size_t n)
{
    const Fieldsync__Opportunity__Criteria *c = v->criteria;
    char list[160] = "";
    if (c == NULL || !c->decision_maker)
        missing(list, sizeof(list), "decision_maker");
    if (c == NULL || !c->plan_fits_need)
        missing(list, sizeof(list), "plan_fits_need");
    if (c == NULL || !c->budget_discussed)
        missing(list, sizeof(list), "budget_discussed");
    if (c == NULL || !c->signing_in_cycle)
        missing(list, sizeof(list), "signing_in_cycle");
    if (c == NULL || !c->next_step_agreed)
        missing(list, sizeof(list), "next_step_agreed");
    if (list[0] != '\0')
        snprintf(why, n, "50%% needs all five criteria; not met: %s", list);
}

/* A date that must be set and on or before today. */
static void need_past(const char *name, const char *date, long today, char *list, size_t n)
{
    long d;
    char item[96];
    if (date == NULL)
        snprintf(item, sizeof(item), "%s is not set", name);
    else if (fs_cal_day(date, &d) && d > today)
        snprintf(item, sizeof(item), "%s %s is after today", name, date);
    else
        return;
    missing(list, n, item);
}

static void need_signed_and_paid(const view *v, long today, char *why, size_t n)
{
    char list[256] = "";
    need_past("signed_date", v->signed_date, today, list, sizeof(list));
    need_past("prepaid_date", v->prepaid_date, today, list, sizeof(list));
    if (list[0] != '\0')
        snprintf(why, n, "90%% needs the contract signed and the prepayment received: %s", list);
}

static void need_cooling_off_over(const view *v, long today, char *why, size_t n)
{
    long end;
    char from[FS_DATE_SIZE];
    if (!fs_cal_day(v->cooling_off_end, &end)) {
        snprintf(why, n,
                 "closed needs signed_date and prepaid_date: the %d-day cooling-off runs from "
                 "the later of them",
                 FS_COOLING_OFF_DAYS);
        return;
    }
    if (today > end)
        return;
    fs_cal_date(end + 1, from);
    snprintf(why, n,
             "closed needs the %d-day cooling-off to be over: it runs until %s (%d days after "
             "the later of signed_date and prepaid_date); the deal can close from %s",
             FS_COOLING_OFF_DAYS, v->cooling_off_end, FS_COOLING_OFF_DAYS, from);
}

/* Fills why (empty when the stage's rule holds). */
static void check_rule(int stage, const view *v, long today, char *why, size_t n)
{
    char list[96] = "";
    why[0] = '\0';
    switch (stage) {
    case STAGE(FIRST_MEETING_SET):
        if (v->first_meeting == NULL)
            snprintf(why, n, "first meeting set needs the meeting's date (first_meeting_date)");
        break;
    case STAGE(PCT_25):
        need_past("first_meeting_date", v->first_meeting, today, list, sizeof(list));
        if (list[0] != '\0')
            snprintf(why, n, "25%% means the first meeting took place: %s", list);
        break;
    case STAGE(PCT_50):
        need_criteria(v, why, n);
        break;
    case STAGE(PCT_90):
        need_signed_and_paid(v, today, why, n);
        break;
    case STAGE(CLOSED):
        need_cooling_off_over(v, today, why, n);
        break;
    default: /* sales opportunity, lost: always allowed */
        break;
    }
}

/* ------------------------------------------------------------------------- */
/* What the daemon writes with a put */

static int set_text(char **field, const char *value)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return FS_ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

/* cooling_off_end_date follows the signing and prepayment dates. */
static int put_cooling_off(const view *v, const Opp *cur, Opp *put, uint32_t *cleared,
                           size_t *ncleared, char field[FS_PIPELINE_FIELD_MAX], fs_err *err)
{
    const ProtobufCFieldDescriptor *f = field_of("cooling_off_end_date");
    const char *shown = after(cur, put, cleared, *ncleared, f->name);
    bool given = put->cooling_off_end_date != NULL || is_cleared(cleared, *ncleared, f->id);
    bool none = v->cooling_off_end[0] == '\0';
    if (none ? shown == NULL : shown != NULL && strcmp(shown, v->cooling_off_end) == 0)
        return 0;
    if (given) {
        snprintf(field, FS_PIPELINE_FIELD_MAX, "%s", f->name);
        return fs_err_set(err, FS_EINVAL,
                          "cooling_off_end_date is computed: %d days after the later of "
                          "signed_date and prepaid_date (%s); leave it out",
                          FS_COOLING_OFF_DAYS,
                          none ? "none until both are set" : v->cooling_off_end);
    }
    if (none) {
        cleared[(*ncleared)++] = f->id;
        return 0;
    }
    return set_text(&put->cooling_off_end_date, v->cooling_off_end) == 0
               ? 0
               : fs_err_set(err, FS_ENOMEM, "out of memory");
}

static Move *move_new(bool has_stage, int stage, const char *date, const char *override)
{
    Move *m = malloc(sizeof(*m));
    if (m == NULL)
        return NULL;
    fieldsync__opportunity__stage_change__init(m);
    m->has_stage = has_stage;
    m->stage = (Fieldsync__Opportunity__Stage)stage;
    m->date = date != NULL ? strdup(date) : NULL;
    m->override = override != NULL ? strdup(override) : NULL;
    if ((date != NULL && m->date == NULL) || (override != NULL && m->override == NULL)) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return NULL;
    }
    return m;
}

size_t fs_pipeline_moves(const Opp *o, bool *current)
{
    size_t n = o->n_stage_history;
    *current = false;
    if (!o->has_stage || o->stage_entered_date == NULL)
        return n;
    const Move *last = n > 0 ? o->stage_history[n - 1] : NULL;
    *current = last == NULL || !last->has_stage || last->stage != o->stage || last->date == NULL ||
               strcmp(last->date, o->stage_entered_date) != 0;
    return n;
}

/* put->stage_history = the moves before the put and this move. */
static int put_history(const Opp *cur, Opp *put, const char *override)
{
    bool add_current = false;
    size_t n = cur != NULL ? fs_pipeline_moves(cur, &add_current) : 0, k = 0;
    Move **h = calloc(n + 2, sizeof(*h));
    if (h == NULL)
        return FS_ENOMEM;
    for (size_t i = 0; i < n; i++, k++) {
        const Move *m = cur->stage_history[i];
        if ((h[k] = move_new(m->has_stage, m->stage, m->date, m->override)) == NULL)
            goto fail;
    }
    if (add_current && (h[k++] = move_new(true, cur->stage, cur->stage_entered_date, NULL)) == NULL)
        goto fail;
    if ((h[k++] = move_new(true, put->stage, put->stage_entered_date, override)) == NULL)
        goto fail;
    put->stage_history = h;
    put->n_stage_history = k;
    return 0;
fail:
    for (size_t i = 0; i < k; i++)
        if (h[i] != NULL)
            protobuf_c_message_free_unpacked(&h[i]->base, NULL);
    free(h);
    return FS_ENOMEM;
}

/* A move: dated (today unless the put says when) and added to the history. */
static int put_move(const Opp *cur, Opp *put, const uint32_t *cleared, size_t ncleared, long today,
                    const char *override, char field[FS_PIPELINE_FIELD_MAX], fs_err *err)
{
    const ProtobufCFieldDescriptor *entered = field_of("stage_entered_date");
    const ProtobufCFieldDescriptor *history = field_of("stage_history");
    long d;
    char date[FS_DATE_SIZE];
    if (is_cleared(cleared, ncleared, entered->id) ||
        (fs_cal_day(put->stage_entered_date, &d) && d > today)) {
        snprintf(field, FS_PIPELINE_FIELD_MAX, "%s", entered->name);
        return fs_err_set(err, FS_EINVAL,
                          "stage_entered_date dates the move: a day on or before today, or "
                          "left out for today");
    }
    fs_cal_date(today, date);
    if (put->stage_entered_date == NULL && set_text(&put->stage_entered_date, date) != 0)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    /* a history given with the move (an import, a restore) is taken as it is */
    if (put->n_stage_history > 0 || is_cleared(cleared, ncleared, history->id))
        return 0;
    return put_history(cur, put, override) == 0 ? 0 : fs_err_set(err, FS_ENOMEM, "out of memory");
}

int fs_pipeline_put(const Opp *cur, Opp *put, uint32_t *cleared, size_t *ncleared,
                    const char *today, const char *override, char field[FS_PIPELINE_FIELD_MAX],
                    fs_err *err)
{
    view v;
    long day;
    char why[FS_ERR_MSG_MAX - 160];
    field[0] = '\0';
    if (!fs_cal_day(today, &day))
        return fs_err_set(err, FS_EINVAL, "today must be YYYY-MM-DD, not \"%.16s\"", today);
    view_of(&v, cur, put, cleared, *ncleared);
    int rc = put_cooling_off(&v, cur, put, cleared, ncleared, field, err);
    if (rc != 0)
        return rc;
    bool moved = put->has_stage && (cur == NULL || !cur->has_stage || cur->stage != put->stage);
    if (!moved && override != NULL) {
        snprintf(field, FS_PIPELINE_FIELD_MAX, "override");
        return fs_err_set(err, FS_EINVAL,
                          "an override is for a move to another stage, and this put does not "
                          "change the stage");
    }
    if (!moved)
        return 0;
    check_rule((int)put->stage, &v, day, why, sizeof(why));
    if (why[0] != '\0' && override == NULL) {
        snprintf(field, FS_PIPELINE_FIELD_MAX, "stage");
        return fs_err_set(err, FS_EDENIED,
                          "a move to %s breaks the sales method: %s. Give a reason to override "
                          "the rule and it is recorded with the move",
                          label((int)put->stage), why);
    }
    return put_move(cur, put, cleared, *ncleared, day, override, field, err);
}
