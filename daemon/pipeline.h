/*
 * pipeline.h: the sales method's rules for one opportunity (DOMAIN.md
 * "Prospect pipeline"; docs/record-model.md "Pipeline rules"): what a move to
 * a stage needs, what the daemon writes with a move (the day the stage was
 * entered, the stage history, the end of the cooling-off), and which stage a
 * deal was in on a given day. Pure functions over the visible message: the
 * socket API's record.put applies them, the reports count with them.
 */
#ifndef FS_DAEMON_PIPELINE_H
#define FS_DAEMON_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "fieldsync.pb-c.h"
#include "fieldsync/error.h"

#define FS_STAGE_COUNT 8 /* Opportunity.Stage values 0 .. 7 */
#define FS_COOLING_OFF_DAYS 10
/* Longest field name fs_pipeline_put reports at fault, with its NUL. */
#define FS_PIPELINE_FIELD_MAX 32

/* The last day of the cooling-off: FS_COOLING_OFF_DAYS after the later of the
 * signing and the prepayment. False when either date is missing. */
bool fs_pipeline_cooling_off_end(const char *signed_date, const char *prepaid_date,
                                 char out[FS_DATE_SIZE]);

/*
 * The stage o was in on day, and the date it entered that stage (*since, ""
 * when unknown). The stage history says; the current stage and
 * stage_entered_date count as its last move when the history lacks them (a
 * record written before the history existed). False when o had reached no
 * stage by then (it was made, or first moved, after day).
 */
bool fs_pipeline_stage_on(const Fieldsync__Opportunity *o, long day, int *stage,
                          const char **since);

/*
 * The moves o records: its stage history and, when the history does not end
 * with it, the current stage entered on stage_entered_date (a record written
 * before there was a history, or by a build that kept none). Returns the
 * history's length; *current says whether that last move follows it.
 */
size_t fs_pipeline_moves(const Fieldsync__Opportunity *o, bool *current);

/* Whether a deal that entered an open stage (first meeting set .. 90%) on
 * since has sat in it longer than cycle_days on day. */
bool fs_pipeline_stale(int stage, const char *since, long day, int cycle_days);

/*
 * Applies the rules to a record.put of an opportunity. cur is the visible
 * record before the put (NULL when new or deleted); put the partial update
 * and cleared (capacity: the kind's field count) the numbers it unsets; today
 * "YYYY-MM-DD"; override the rep's reason to move against the rules (NULL:
 * none).
 *
 * Every put gets cooling_off_end_date computed. A put that moves the stage
 * must meet the new stage's rule, or carry an override; it gets
 * stage_entered_date (today unless given) and, unless it gives a history, the
 * history with this move (and the override) appended.
 *
 * 0 when the put may go on (put and cleared completed); FS_EDENIED when the
 * move breaks a rule (err says which and what is missing); FS_EINVAL for a
 * value the rules do not allow (field names it); FS_ENOMEM.
 */
int fs_pipeline_put(const Fieldsync__Opportunity *cur, Fieldsync__Opportunity *put,
                    uint32_t *cleared, size_t *ncleared, const char *today, const char *override,
                    char field[FS_PIPELINE_FIELD_MAX], fs_err *err);

#endif
