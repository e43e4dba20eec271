/*
 * report.h: the counts of the weekly pipeline review (DOMAIN.md "Prospect
 * pipeline"; docs/socket-api.md report.pipeline, report.team,
 * report.weekly), kept apart from the socket so the unit tests feed them
 * messages directly.
 *
 * A pipeline is tallied "as of" a day: each opportunity counts in the stage it
 * was in on that day (pipeline.h), amounts add up per currency, and a deal
 * that sat in an open stage longer than the sales cycle is stale. The team
 * table is the same tally per rep (the owner of the deal's account). The
 * weekly report counts, per week, the stages on each review day (Monday,
 * Wednesday, Friday) and the steps of the funnel: calls, connections, first
 * meetings set, meetings held, and the moves to 25%, 50%, 90% and closed.
 */
#ifndef FS_DAEMON_REPORT_H
#define FS_DAEMON_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync.pb-c.h"
#include "fieldsync/error.h"
#include "pipeline.h"

/* The currency of an amount that names none (ISO 4217's "no currency"). */
#define FS_NO_CURRENCY "XXX"

typedef struct fs_money_sum {
    char *currency;
    int64_t minor_units;
} fs_money_sum;

typedef struct fs_stage_tally {
    size_t count;       /* opportunities in the stage */
    size_t stale;       /* ... of which stale */
    fs_money_sum *sums; /* their amounts per currency, ascending by currency */
    size_t nsums;
} fs_stage_tally;

/* A stale opportunity, with what a rep needs to act on it. */
typedef struct fs_stale {
    char *id;
    char *title;        /* NULL when it has none */
    char *account_id;   /* NULL when it names none */
    char *account_name; /* NULL when the account is not in the store */
    int stage;
    long since;          /* the day it entered the stage */
    fs_money_sum amount; /* currency NULL: no amount */
} fs_stale;

/* One rep's pipeline (or everyone's: owner NULL). */
typedef struct fs_tally {
    char *owner; /* "" for deals whose account names no owner */
    fs_stage_tally stage[FS_STAGE_COUNT];
    fs_stale *stale; /* longest in its stage first, once finished */
    size_t nstale;
} fs_tally;

typedef struct fs_pipeline_report {
    long day;
    int cycle_days;
    bool per_owner;    /* the team table: one tally per owner */
    fs_tally *tallies; /* ascending by owner */
    size_t n;
} fs_pipeline_report;

/* An empty report as of day; per_owner for the team table. */
void fs_pipeline_report_init(fs_pipeline_report *r, long day, int cycle_days, bool per_owner);
void fs_pipeline_report_clear(fs_pipeline_report *r);
/* Counts one opportunity (an fs_opportunity_fn of the store). 0 or FS_ENOMEM. */
int fs_pipeline_report_add(void *report, const Fieldsync__Opportunity *o, const char *owner,
                           const char *account_name);
/* After the last add: orders each tally's stale deals, longest in its stage
 * first (then by id). */
void fs_pipeline_report_finish(fs_pipeline_report *r);

/* The steps of the weekly funnel, in order. */
typedef enum fs_step {
    FS_STEP_CALLS,       /* phone calls made (not still planned) */
    FS_STEP_CONNECTIONS, /* ... that reached someone (done) */
    FS_STEP_FIRST_MEETINGS,
    FS_STEP_MEETINGS, /* visits held in person */
    FS_STEP_PCT_25,
    FS_STEP_PCT_50,
    FS_STEP_PCT_90,
    FS_STEP_CLOSED,
    FS_STEP_COUNT
} fs_step;

/* The name of a step in the socket API ("calls", "pct_50"). */
const char *fs_step_name(fs_step s);
/* The step whose count a step's ratio is taken over, or FS_STEP_COUNT for
 * the steps that start a chain (calls, meetings). */
fs_step fs_step_base(fs_step s);

#define FS_REVIEW_DAYS 3 /* Monday, Wednesday, Friday */
#define FS_WEEKS_MAX 52

typedef struct fs_week {
    long monday;
    size_t nreview;                                /* review days on or before the report's day */
    size_t review[FS_REVIEW_DAYS][FS_STAGE_COUNT]; /* opportunities per stage on each */
    size_t steps[FS_STEP_COUNT];
} fs_week;

typedef struct fs_weekly_report {
    long day;
    size_t nweeks; /* the last ends with the week of day */
    fs_week weeks[FS_WEEKS_MAX];
} fs_weekly_report;

/* An empty report of the nweeks (1 .. FS_WEEKS_MAX) weeks up to day's. */
void fs_weekly_report_init(fs_weekly_report *r, long day, size_t nweeks);
/* The first day the report covers, and the day after its last. */
long fs_weekly_report_first(const fs_weekly_report *r);
long fs_weekly_report_end(const fs_weekly_report *r);
/* Count one opportunity / one visit (the store's callbacks). Always 0. */
int fs_weekly_report_add_opportunity(void *report, const Fieldsync__Opportunity *o,
                                     const char *owner, const char *account_name);
int fs_weekly_report_add_visit(void *report, const Fieldsync__Visit *v);

#endif
