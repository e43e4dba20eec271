/*
 * commands_query.c: the read-mostly views: search, followups and the outbox
 * (the reports are in commands_report.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fields.h"

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))

/* Builds and prints a table of items: each column a title and a JSON path. */
static int print_items(fs_cli *cli, const json_t *items, const char *const *cols, size_t ncols)
{
    const char *titles[FS_TABLE_MAX_COLS];
    for (size_t c = 0; c < ncols; c++)
        titles[c] = cols[2 * c];
    fs_table t;
    if (fs_table_init(&t, titles, ncols) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    for (size_t c = 0; c < ncols; c++)
        if (fs_cli_is_id_path(cols[2 * c + 1]) || strcmp(cols[2 * c + 1], "seq") == 0)
            fs_table_keep_whole(&t, c);
    size_t i;
    json_t *item;
    int rc = 0;
    json_array_foreach(items, i, item)
    {
        char *cells[FS_TABLE_MAX_COLS] = {0};
        for (size_t c = 0; c < ncols; c++) {
            const char *path = cols[2 * c + 1];
            json_t *v = fs_json_path(item, path);
            size_t pl = strlen(path);
            char buf[40];
            if (json_is_integer(v) && pl > 3 && strcmp(path + pl - 3, "_at") == 0)
                cells[c] = strdup(fs_cli_time(json_integer_value(v), buf, sizeof(buf)));
            else
                cells[c] = fs_cli_cell(v);
        }
        rc = fs_table_add_row(&t, (const char *const *)cells);
        for (size_t c = 0; c < ncols; c++)
            free(cells[c]);
        if (rc != 0)
            break;
    }
    rc = rc == 0 ? fs_cli_print_table(cli, &t) : fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    fs_table_clear(&t);
    return rc;
}

/* Adds --limit N to params when given. */
static int limit_param(fs_cli *cli, const fs_args *a, json_t *params)
{
    long long n;
    const char *s = fs_args_get(a, "limit");
    if (s == NULL)
        return 0;
    if (fs_args_int(s, 1, 1000, &n) != 0) {
        json_decref(params);
        return fs_cli_usage(cli, "--limit must be a number from 1 to 1000");
    }
    json_object_set_new(params, "limit", json_integer(n));
    return 0;
}

int fs_cmd_search(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"limit", FS_OPT_VALUE, "N", "at most N hits, 1-1000 (default 20)"},
        {"raw", FS_OPT_FLAG, NULL, "the query is FTS5 syntax (default: words are prefixes)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv, "WORD...",
                          "Searches account names, contact names and visit notes.", 1, FS_ARGS_MAX);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    char query[4096] = "";
    for (size_t i = 0; i < a.npos; i++) {
        size_t o = strlen(query);
        snprintf(query + o, sizeof(query) - o, "%s%s", i ? " " : "", a.pos[i]);
    }
    json_t *params = json_pack("{s:s}", "query", query);
    if (fs_args_has(&a, "raw"))
        json_object_set_new(params, "raw", json_true());
    if ((rc = limit_param(cli, &a, params)) != 0)
        return rc;
    static const char *const cols[] = {"KIND",    "kind",         "ID",    "id",
                                       "ACCOUNT", "account_name", "MATCH", "snippet"};
    json_t *res;
    if ((rc = fs_cli_call(cli, "search", params, &res)) != 0)
        return rc;
    const json_t *hits = json_object_get(res, "hits");
    if (cli->json)
        rc = fs_cli_print_json(cli, res);
    else if (json_array_size(hits) == 0)
        printf("no hits for \"%s\"\n", query);
    else
        rc = print_items(cli, hits, cols, 4);
    long long backlog = json_integer_value(json_object_get(res, "search_backlog"));
    if (rc == 0 && !cli->json && backlog > 0)
        fprintf(stderr,
                "fieldsync: %lld pulled records are still being indexed: more hits may "
                "come in a few seconds\n",
                backlog);
    json_decref(res);
    return rc;
}

/* The follow-ups table: overdue ones say by how much, and a partial list says so. */
static int print_followups(fs_cli *cli, json_t *res)
{
    static const char *const cols[] = {"DUE",     "next_step_date", "LATE",      "late",
                                       "ACCOUNT", "account_name",   "CALL",      "contact_name",
                                       "PHONE",   "phone",          "NEXT STEP", "next_step",
                                       "VISIT",   "visit_id"};
    json_t *items = json_object_get(res, "items"), *item;
    size_t i, shown = json_array_size(items);
    if (shown == 0) {
        printf("no follow-ups due by %s\n", json_string_value(json_object_get(res, "until")));
        return 0;
    }
    json_array_foreach(items, i, item)
    {
        long long late = json_integer_value(json_object_get(item, "days_overdue"));
        char buf[32] = "";
        if (late > 0)
            snprintf(buf, sizeof(buf), "%lld day%s", late, late == 1 ? "" : "s");
        json_object_set_new(item, "late", json_string(buf));
    }
    int rc = print_items(cli, items, cols, 7);
    long long total = json_integer_value(json_object_get(res, "total"));
    if (rc == 0 && (size_t)total > shown)
        fprintf(stderr,
                "fieldsync: %zu of %lld follow-ups due by %s shown: --limit N shows up to 1000, "
                "--until an earlier date fewer\n",
                shown, total, json_string_value(json_object_get(res, "until")));
    return rc;
}

int fs_cmd_followups(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"until", FS_OPT_VALUE, "DATE", "due on or before DATE (default today; also +N days)"},
        {"limit", FS_OPT_VALUE, "N", "at most N, 1-1000 (default 100)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc =
        fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv, "[--until DATE]",
                     "Next steps not done yet, oldest first: what to plan the day from.", 0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *params = json_object();
    const char *until = fs_args_get(&a, "until");
    char date[16];
    if (until != NULL && fs_date_parse(until, date) != 0) {
        json_decref(params);
        return fs_cli_usage(cli, "--until: \"%.32s\" is not a date YYYY-MM-DD", until);
    }
    if (until != NULL)
        json_object_set_new(params, "until", json_string(date));
    if ((rc = limit_param(cli, &a, params)) != 0)
        return rc;
    json_t *res;
    if ((rc = fs_cli_call(cli, "followups", params, &res)) != 0)
        return rc;
    rc = cli->json ? fs_cli_print_json(cli, res) : print_followups(cli, res);
    json_decref(res);
    return rc;
}

/* outbox retry|drop SEQ: what to do with an entry the server refused. */
static int outbox_seq(fs_cli *cli, const char *sub, int argc, char **argv)
{
    static const fs_opt opts[] = {FS_CLI_GLOBAL_OPTS};
    static char label[32];
    snprintf(label, sizeof(label), "outbox %s", sub);
    cli->command = label;
    bool retry = strcmp(sub, "retry") == 0;
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv, "SEQ",
                          retry ? "Sends a refused change again (after fixing the cause)."
                                : "Stops pushing a refused change; it stays in the local record.",
                          1, 1);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    long long seq;
    if (fs_args_int(a.pos[0], 1, INT64_MAX, &seq) != 0)
        return fs_cli_usage(cli, "SEQ is the entry's number from `fieldsync outbox`");
    json_t *res;
    rc = fs_cli_call(cli, retry ? "outbox.retry" : "outbox.drop",
                     json_pack("{s:I}", "seq", (json_int_t)seq), &res);
    if (rc != 0)
        return rc;
    rc = cli->json ? fs_cli_print_json(cli, res)
                   : (printf("outbox entry %lld %s\n", seq, retry ? "queued again" : "dropped"), 0);
    json_decref(res);
    return rc;
}

int fs_cmd_outbox(fs_cli *cli, int argc, char **argv)
{
    if (argc > 0 && (strcmp(argv[0], "retry") == 0 || strcmp(argv[0], "drop") == 0))
        return outbox_seq(cli, argv[0], argc - 1, argv + 1);
    if (argc > 0 && strcmp(argv[0], "list") == 0) {
        argc--;
        argv++;
    }
    static const fs_opt opts[] = {
        {"status", FS_OPT_VALUE, "STATUS", "only pending, in_flight or refused entries"},
        {"limit", FS_OPT_VALUE, "N", "at most N, 1-1000 (default 100)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv,
                          "[list] [--status STATUS] | retry SEQ | drop SEQ",
                          "Local changes waiting for the server, oldest first; refused ones "
                          "with the server's reason. `outbox retry SEQ` sends a refused one "
                          "again, `outbox drop SEQ` stops pushing it.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    const char *st = fs_args_get(&a, "status");
    if (st != NULL && strcmp(st, "in-flight") == 0)
        st = "in_flight";
    if (st != NULL && strcmp(st, "pending") != 0 && strcmp(st, "in_flight") != 0 &&
        strcmp(st, "refused") != 0)
        return fs_cli_usage(cli, "--status must be pending, in_flight or refused");
    json_t *params = st ? json_pack("{s:s}", "status", st) : json_object();
    if ((rc = limit_param(cli, &a, params)) != 0)
        return rc;
    json_t *res;
    if ((rc = fs_cli_call(cli, "outbox.list", params, &res)) != 0)
        return rc;
    if (cli->json) {
        rc = fs_cli_print_json(cli, res);
    } else {
        static const char *const cols[] = {"SEQ",    "seq",    "QUEUED",  "queued_at", "KIND",
                                           "kind",   "ID",     "id",      "STATUS",    "status",
                                           "REASON", "reason", "MESSAGE", "message"};
        json_t *c = json_object_get(res, "counts");
        printf("%lld pending, %lld in flight, %lld refused\n",
               (long long)json_integer_value(json_object_get(c, "pending")),
               (long long)json_integer_value(json_object_get(c, "in_flight")),
               (long long)json_integer_value(json_object_get(c, "refused")));
        if (json_array_size(json_object_get(res, "entries")) > 0)
            rc = print_items(cli, json_object_get(res, "entries"), cols, 7);
    }
    json_decref(res);
    return rc;
}
