/*
 * methods_query.c: the read-only views the rep plans the day from: search and
 * followups (docs/socket-api.md; the reports are in methods_report.c), and
 * the daemon's one "today". The queries themselves run in the store on indexes
 * and FTS5; this file only checks parameters and shapes the answers.
 */
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "json_record.h"
#include "rpc.h"

/* Today's date as "YYYY-MM-DD", in the daemon's local time zone (calendar.h). */
void fs_rpc_today(char buf[11])
{
    fs_calendar_day(0, buf);
}

int fs_rpc_param_date(json_t *params, const char *key, char out[11], fs_rpc_err *e)
{
    const char *s;
    if (fs_rpc_param_string(params, key, false, &s, e) != 0)
        return -1;
    if (s == NULL) {
        fs_rpc_today(out);
        return 0;
    }
    if (!fs_json_valid_date(s))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "\"%s\" must be a date as YYYY-MM-DD",
                           key);
    memcpy(out, s, 11);
    return 0;
}

static int m_search(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result, fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"query", "limit", "raw", NULL};
    const char *query;
    long long limit = 20;
    bool raw = false;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_string(params, "query", true, &query, e) != 0 ||
        fs_rpc_param_int(params, "limit", 1, 1000, &limit, e) != 0 ||
        fs_rpc_param_bool(params, "raw", &raw, e) != 0)
        return -1;
    if (strspn(query, " \t\r\n") == strlen(query))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "query", "the query is empty");
    if (fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_search_hit *hits = NULL;
    size_t n = 0;
    uint64_t backlog = 0;
    fs_err err = {0};
    if (fs_store_search(st, query, raw ? FS_SEARCH_RAW : 0, (size_t)limit, &hits, &n, &err) != 0) {
        if (err.code == FS_EINVAL)
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "query", "%s", fs_err_message(&err));
        return fs_rpc_fail_fs(e, &err);
    }
    /* a UI can say the answer may grow: pulled records still being indexed */
    if (fs_store_search_backlog(st, &backlog, &err) != 0) {
        fs_search_hits_free(hits, n);
        return fs_rpc_fail_fs(e, &err);
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "kind", fs_kind_name(hits[i].kind), "id",
                           fs_json_text(hits[i].id), "snippet",
                           fs_json_text(hits[i].snippet ? hits[i].snippet : ""), "name",
                           fs_json_text_or_null(hits[i].name), "account_id",
                           fs_json_text_or_null(hits[i].account_id), "account_name",
                           fs_json_text_or_null(hits[i].account_name)));
    fs_search_hits_free(hits, n);
    *result = json_pack("{s:o,s:I}", "hits", arr, "search_backlog", (json_int_t)backlog);
    return 0;
}

/* One follow-up as JSON; days_overdue counts from today (the local day). */
static json_t *followup_json(const fs_followup *f, const char *day)
{
    long due = 0, now = 0;
    long late = fs_cal_day(f->next_step_date, &due) && fs_cal_day(day, &now) ? now - due : 0;
    return json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:b,s:I,s:o,s:o,s:o}", "visit_id", fs_json_text(f->visit_id),
        "account_id", fs_json_text_or_null(f->account_id), "account_name",
        fs_json_text_or_null(f->account_name), "next_step", fs_json_text_or_null(f->next_step),
        "next_step_date", fs_json_text_or_null(f->next_step_date), "overdue", late > 0,
        "days_overdue", (json_int_t)(late > 0 ? late : 0), "contact_id",
        fs_json_text_or_null(f->contact_id), "contact_name", fs_json_text_or_null(f->contact_name),
        "phone", fs_json_text_or_null(f->phone));
}

static int m_followups(fs_daemon *d, fs_rpc_session *s, json_t *params, json_t **result,
                       fs_rpc_err *e)
{
    (void)s;
    static const char *const allowed[] = {"until", "limit", NULL};
    char until[11], day[11];
    long long limit = 100;
    fs_store *st;
    if (fs_rpc_params_check(params, allowed, e) != 0 ||
        fs_rpc_param_date(params, "until", until, e) != 0 ||
        fs_rpc_param_int(params, "limit", 1, 1000, &limit, e) != 0 ||
        fs_rpc_need_store(d, &st, e) != 0)
        return -1;
    fs_followup *f = NULL;
    size_t n = 0, total = 0;
    fs_err err = {0};
    if (fs_store_followups_due(st, until, (size_t)limit, &f, &n, &err) != 0 ||
        fs_store_followups_count(st, until, &total, &err) != 0) {
        fs_followups_free(f, n);
        return fs_rpc_fail_fs(e, &err);
    }
    fs_rpc_today(day);
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, followup_json(&f[i], day));
    fs_followups_free(f, n);
    *result = json_pack("{s:s,s:s,s:I,s:o}", "until", until, "today", day, "total",
                        (json_int_t)total, "items", arr);
    return 0;
}

const fs_rpc_method fs_rpc_methods_query[] = {
    {"search", m_search, false},
    {"followups", m_followups, false},
    {NULL, NULL, false},
};
