/*
 * commands_report.c: `fieldsync report pipeline|team|weekly`, the weekly
 * pipeline review (report.* in docs/socket-api.md) as tables: the stages as
 * of a day with their amounts per currency, the same per rep for a manager,
 * and per week the stages on each review day and the funnel's steps with
 * their ratios. Machine names show as the words of labels.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fields.h"
#include "labels.h"

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))

/* The stages a table shows, in order (stage_unspecified only in --json). */
static const char *const stage_keys[] = {
    "sales_opportunity", "first_meeting_set", "pct_25", "pct_50", "pct_90", "closed", "lost"};
#define NSTAGES (sizeof(stage_keys) / sizeof(stage_keys[0]))

static json_t *stage_row(const json_t *stages, const char *name)
{
    size_t i;
    json_t *row;
    json_array_foreach(stages, i, row)
    {
        const char *stage = json_string_value(json_object_get(row, "stage"));
        if (stage != NULL && strcmp(stage, name) == 0)
            return row;
    }
    return NULL;
}

static long long int_of(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

/* Adds the {currency, minor_units} of amounts into sums (currency -> int). */
static void add_amounts(json_t *sums, const json_t *amounts)
{
    size_t i;
    json_t *a;
    json_array_foreach(amounts, i, a)
    {
        const char *cur = json_string_value(json_object_get(a, "currency"));
        json_int_t v = json_integer_value(json_object_get(a, "minor_units"));
        if (cur != NULL)
            json_object_set_new(sums, cur,
                                json_integer(json_integer_value(json_object_get(sums, cur)) + v));
    }
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "5000.00 EUR; 1200.00 GBP" of sums (currency -> minor units), by currency;
 * malloc'd. */
static char *amounts_text(const json_t *sums)
{
    const char *keys[64]; /* currencies: a handful */
    size_t n = 0, len = 0;
    const char *cur;
    json_t *v;
    json_object_foreach((json_t *)sums, cur, v)
    {
        if (n < sizeof(keys) / sizeof(keys[0]))
            keys[n++] = cur;
    }
    qsort(keys, n, sizeof(keys[0]), by_text);
    char *out = calloc(1, 1);
    for (size_t i = 0; out != NULL && i < n; i++) {
        json_t *m = json_pack("{s:O,s:s}", "minor_units", json_object_get(sums, keys[i]),
                              "currency", keys[i]);
        char *one = fs_money_format(m);
        json_decref(m);
        char *grown = one != NULL ? realloc(out, len + strlen(one) + 3) : NULL;
        if (grown == NULL) {
            free(one);
            free(out);
            return NULL;
        }
        out = grown;
        len += (size_t)sprintf(out + len, "%s%s", len ? "; " : "", one);
        free(one);
    }
    return out;
}

/* The amounts of the stages from..to (stage_keys indexes) as text. */
static char *stages_amounts(const json_t *stages, size_t from, size_t to)
{
    json_t *sums = json_object();
    for (size_t s = from; s <= to; s++)
        add_amounts(sums, json_object_get(stage_row(stages, stage_keys[s]), "amounts"));
    char *text = amounts_text(sums);
    json_decref(sums);
    return text;
}

/* The text of key in obj, else of the fallback key (NULL: ""). */
static const char *text_or(const json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (s == NULL && fallback != NULL)
        s = json_string_value(json_object_get(obj, fallback));
    return s != NULL ? s : "";
}

/* The stale deals, one row each: what and whose, in which stage since when,
 * for how many days, and the id to look it up by. */
static int print_stale(fs_cli *cli, const json_t *r)
{
    static const char *const titles[] = {"OPPORTUNITY", "ACCOUNT", "STAGE", "SINCE",
                                         "DAYS",        "AMOUNT",  "ID"};
    const json_t *stale = json_object_get(r, "stale");
    if (json_array_size(stale) == 0)
        return 0;
    fs_table t;
    if (fs_table_init(&t, titles, 7) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    fs_table_align_right(&t, 4);
    fs_table_align_right(&t, 5);
    fs_table_keep_whole(&t, 6);
    size_t i;
    json_t *o;
    json_array_foreach(stale, i, o)
    {
        char days[24];
        snprintf(days, sizeof(days), "%lld", int_of(o, "days"));
        const json_t *amount = json_object_get(o, "amount");
        char *money = json_is_object(amount) ? fs_money_format(amount) : NULL;
        const char *cells[] = {text_or(o, "title", "id"),
                               text_or(o, "account_name", "account_id"),
                               fs_label(text_or(o, "stage", NULL)),
                               text_or(o, "since", NULL),
                               days,
                               money != NULL ? money : "",
                               text_or(o, "id", NULL)};
        fs_table_add_row(&t, cells);
        free(money);
    }
    printf("\nstale (longer than the cycle in one stage: back to sales opportunity):\n");
    int rc = fs_cli_print_table(cli, &t);
    fs_table_clear(&t);
    return rc;
}

static int print_pipeline(fs_cli *cli, const json_t *r)
{
    static const char *const titles[] = {"STAGE", "COUNT", "STALE", "AMOUNT"};
    const json_t *stages = json_object_get(r, "stages");
    fs_table t;
    if (fs_table_init(&t, titles, 4) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    fs_table_align_right(&t, 1);
    fs_table_align_right(&t, 2);
    fs_table_align_right(&t, 3);
    for (size_t s = 0; s < NSTAGES; s++) {
        const json_t *row = stage_row(stages, stage_keys[s]);
        char count[24], stale[24];
        snprintf(count, sizeof(count), "%lld", int_of(row, "count"));
        snprintf(stale, sizeof(stale), "%lld", int_of(row, "stale"));
        char *amount = stages_amounts(stages, s, s);
        const char *cells[] = {fs_label(stage_keys[s]), count, stale, amount};
        fs_table_add_row(&t, cells);
        free(amount);
    }
    printf("pipeline on %s (sales cycle %lld days)\n",
           json_string_value(json_object_get(r, "today")),
           (long long)json_integer_value(json_object_get(r, "cycle_days")));
    int rc = fs_cli_print_table(cli, &t);
    fs_table_clear(&t);
    return rc == 0 ? print_stale(cli, r) : rc;
}

/* The team table: per rep the counts of the open stages, closed, stale, and
 * the amounts of the open deals and of the closed ones. */
static int print_team(fs_cli *cli, const json_t *r)
{
    static const char *const titles[] = {"REP",   "1ST MEETING", "25%",
                                         "50%",   "90%",         "CLOSED",
                                         "STALE", "OPEN AMOUNT", "CLOSED AMOUNT"};
    fs_table t;
    if (fs_table_init(&t, titles, 9) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    for (size_t c = 1; c < 9; c++)
        fs_table_align_right(&t, c);
    size_t i;
    json_t *rep;
    json_array_foreach(json_object_get(r, "reps"), i, rep)
    {
        const json_t *stages = json_object_get(rep, "stages");
        char n[6][24];
        for (size_t s = 1; s <= 5; s++)
            snprintf(n[s - 1], sizeof(n[0]), "%lld",
                     int_of(stage_row(stages, stage_keys[s]), "count"));
        snprintf(n[5], sizeof(n[5]), "%zu", json_array_size(json_object_get(rep, "stale")));
        const char *owner = json_string_value(json_object_get(rep, "owner"));
        char *open = stages_amounts(stages, 0, 4), *closed = stages_amounts(stages, 5, 5);
        const char *cells[] = {
            owner ? owner : "(no owner)", n[0], n[1], n[2], n[3], n[4], n[5], open, closed};
        fs_table_add_row(&t, cells);
        free(open);
        free(closed);
    }
    printf("team on %s (sales cycle %lld days)\n", json_string_value(json_object_get(r, "today")),
           (long long)json_integer_value(json_object_get(r, "cycle_days")));
    int rc = fs_cli_print_table(cli, &t);
    fs_table_clear(&t);
    return rc;
}

/* "86% of calls", "7% of meetings held (1 in 14)": count as a share of base
 * (not 0), rounded, with "1 in N" where a share under a fifth reads easier
 * so. */
static void ratio_text(char *buf, size_t n, long long count, long long base, const char *of)
{
    long long pct = (200 * count + base) / (2 * base);
    char one_in[32] = "";
    if (count > 0 && 5 * count < base)
        snprintf(one_in, sizeof(one_in), " (1 in %lld)", (2 * base + count) / (2 * count));
    if (count > 0 && pct == 0)
        snprintf(buf, n, "<1%% of %s%s", of, one_in);
    else
        snprintf(buf, n, "%lld%% of %s%s", pct, of, one_in);
}

/* The count of the funnel step named step, or 0. */
static long long step_count(const json_t *funnel, const char *step)
{
    size_t i;
    json_t *row;
    json_array_foreach(funnel, i, row)
    {
        const char *name = json_string_value(json_object_get(row, "step"));
        if (name != NULL && step != NULL && strcmp(name, step) == 0)
            return int_of(row, "count");
    }
    return 0;
}

/* The week's funnel: each step with its ratio to its base step (none for
 * the steps that start a chain, empty while the base is 0). */
static int print_funnel(fs_cli *cli, const json_t *funnel)
{
    static const char *const titles[] = {"STEP", "COUNT", "RATIO"};
    fs_table t;
    if (fs_table_init(&t, titles, 3) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    fs_table_align_right(&t, 1);
    size_t i;
    json_t *row;
    json_array_foreach(funnel, i, row)
    {
        const char *base = json_string_value(json_object_get(row, "base"));
        long long of = step_count(funnel, base);
        char count[24], ratio[96] = "";
        snprintf(count, sizeof(count), "%lld", int_of(row, "count"));
        if (base != NULL && of > 0)
            ratio_text(ratio, sizeof(ratio), int_of(row, "count"), of, fs_label(base));
        const char *cells[] = {fs_label(json_string_value(json_object_get(row, "step"))), count,
                               ratio};
        fs_table_add_row(&t, cells);
    }
    int rc = fs_cli_print_table(cli, &t);
    fs_table_clear(&t);
    return rc;
}

/* One week: its review days' stages, then its funnel's steps. */
static int print_week(fs_cli *cli, const json_t *w)
{
    const char *titles[NSTAGES + 1] = {"REVIEW DAY"};
    for (size_t s = 0; s < NSTAGES; s++)
        titles[s + 1] = fs_label_title(stage_keys[s]);
    fs_table days;
    if (fs_table_init(&days, titles, NSTAGES + 1) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    for (size_t c = 1; c <= NSTAGES; c++)
        fs_table_align_right(&days, c);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(w, "review_days"), i, row)
    {
        char n[NSTAGES][24];
        const char *cells[NSTAGES + 1] = {json_string_value(json_object_get(row, "date"))};
        for (size_t s = 0; s < NSTAGES; s++) {
            snprintf(n[s], sizeof(n[s]), "%lld",
                     int_of(stage_row(json_object_get(row, "stages"), stage_keys[s]), "count"));
            cells[s + 1] = n[s];
        }
        fs_table_add_row(&days, cells);
    }
    printf("week %s (%s .. %s)\n", json_string_value(json_object_get(w, "week")),
           json_string_value(json_object_get(w, "from")),
           json_string_value(json_object_get(w, "to")));
    int rc = fs_cli_print_table(cli, &days);
    fs_table_clear(&days);
    return rc == 0 ? print_funnel(cli, json_object_get(w, "funnel")) : rc;
}

static int print_weekly(fs_cli *cli, const json_t *r)
{
    static const char *const titles[] = {"FUNNEL STAGE", "ACCOUNTS", "REACHED", "RATIO"};
    size_t i;
    json_t *row;
    int rc = 0;
    json_array_foreach(json_object_get(r, "weeks"), i, row)
    {
        if (rc == 0 && i > 0)
            printf("\n");
        if (rc == 0)
            rc = print_week(cli, row);
    }
    fs_table t;
    if (rc != 0 || fs_table_init(&t, titles, 4) != 0)
        return rc != 0 ? rc : fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    fs_table_align_right(&t, 1);
    fs_table_align_right(&t, 2);
    const json_t *prev = NULL;
    json_array_foreach(json_object_get(r, "accounts"), i, row)
    {
        char count[24], reached[24], ratio[96] = "";
        snprintf(count, sizeof(count), "%lld", int_of(row, "count"));
        snprintf(reached, sizeof(reached), "%lld", int_of(row, "reached"));
        if (prev != NULL && int_of(prev, "reached") > 0)
            ratio_text(ratio, sizeof(ratio), int_of(row, "reached"), int_of(prev, "reached"),
                       fs_label(json_string_value(json_object_get(prev, "funnel_stage"))));
        const char *cells[] = {fs_label(json_string_value(json_object_get(row, "funnel_stage"))),
                               count, reached, ratio};
        fs_table_add_row(&t, cells);
        prev = row;
    }
    printf("\naccounts by funnel stage, today:\n");
    rc = fs_cli_print_table(cli, &t);
    fs_table_clear(&t);
    return rc;
}

/* The params of the report named sub from the options in a. */
static int report_params(fs_cli *cli, const fs_args *a, const char *sub, json_t *params)
{
    const char *today = fs_args_get(a, "today"), *cyc = fs_args_get(a, "cycle-days"),
               *weeks = fs_args_get(a, "weeks");
    bool weekly = strcmp(sub, "weekly") == 0;
    char date[16];
    long long n;
    if (today != NULL && fs_date_parse(today, date) != 0)
        return fs_cli_usage(cli, "--today: \"%.32s\" is not a date YYYY-MM-DD", today);
    if (cyc != NULL && (weekly || fs_args_int(cyc, 1, 3650, &n) != 0))
        return fs_cli_usage(cli, weekly ? "--cycle-days is for report pipeline and team"
                                        : "--cycle-days must be a number of days from 1 to 3650");
    if (cyc != NULL)
        json_object_set_new(params, "cycle_days", json_integer(n));
    if (weeks != NULL && (!weekly || fs_args_int(weeks, 1, 52, &n) != 0))
        return fs_cli_usage(cli, weekly ? "--weeks must be a number from 1 to 52"
                                        : "--weeks is for report weekly");
    if (weeks != NULL)
        json_object_set_new(params, "weeks", json_integer(n));
    if (today != NULL)
        json_object_set_new(params, "today", json_string(date));
    return FS_CLI_CONTINUE;
}

int fs_cmd_report(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"today", FS_OPT_VALUE, "DATE", "as of DATE (default today)"},
        {"cycle-days", FS_OPT_VALUE, "N", "the sales cycle in days (default: the daemon's)"},
        {"weeks", FS_OPT_VALUE, "N", "weekly: the N weeks up to DATE's (default 1)"},
        FS_CLI_GLOBAL_OPTS};
    static const struct {
        const char *name;
        int (*print)(fs_cli *, const json_t *);
    } reports[] = {{"pipeline", print_pipeline}, {"team", print_team}, {"weekly", print_weekly}};
    fs_args a;
    cli->command = "report";
    int rc = fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv,
                          "pipeline|team|weekly [--today DATE] [--cycle-days N] [--weeks N]",
                          "The weekly pipeline review. pipeline: opportunities and amounts per "
                          "stage as of a day, and the ones stale past the sales cycle. team: the "
                          "same per rep (a manager's devices hold the team's records). weekly: "
                          "per week, the stages on each review day (Mon, Wed, Fri) and the "
                          "funnel: connections per call, first meetings set per connection, and "
                          "the deals moved to 25%, 50%, 90% and closed per meeting held; then the "
                          "accounts per funnel stage.",
                          1, 1);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    size_t k = 0;
    while (k < NOPTS(reports) && strcmp(a.pos[0], reports[k].name) != 0)
        k++;
    if (k == NOPTS(reports))
        return fs_cli_usage(cli, "unknown report \"%.32s\" (there are: pipeline, team, weekly)",
                            a.pos[0]);
    json_t *params = json_object(), *res;
    if ((rc = report_params(cli, &a, reports[k].name, params)) != FS_CLI_CONTINUE) {
        json_decref(params);
        return rc;
    }
    char method[32];
    snprintf(method, sizeof(method), "report.%s", reports[k].name);
    if ((rc = fs_cli_call(cli, method, params, &res)) != 0)
        return rc;
    rc = cli->json ? fs_cli_print_json(cli, res) : reports[k].print(cli, res);
    json_decref(res);
    return rc;
}
