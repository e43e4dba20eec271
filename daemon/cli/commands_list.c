/*
 * commands_list.c: `fieldsync KIND list`: filters as flags, paging with
 * --limit/--cursor or all pages with --all, and a table per kind with the
 * columns a rep scans for (name, tier, city; stage and amount; due dates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

typedef struct column {
    const char *title;
    const char *path;
    bool time; /* Unix seconds shown as a date and time */
} column;

typedef struct kind_view {
    const char *kind;
    column cols[7];
    const char *filters[5]; /* list filters: option name == param name with '-' */
} kind_view;

static const kind_view views[] = {
    {"account",
     {{"ID", "id", 0},
      {"NAME", "name", 0},
      {"TIER", "tier", 0},
      {"FUNNEL", "funnel_stage", 0},
      {"CITY", "address.city", 0},
      {"OWNER", "owner", 0}},
     {"tier", "funnel-stage", "owner", "city"}},
    {"contact",
     {{"ID", "id", 0},
      {"NAME", "name", 0},
      {"ACCOUNT", "account_id", 0},
      {"TITLE", "title", 0},
      {"ROLE", "buying_role", 0},
      {"EMAIL", "email", 0}},
     {"account"}},
    {"visit",
     {{"ID", "id", 0},
      {"ACCOUNT", "account_id", 0},
      {"KIND", "kind", 0},
      {"STATUS", "status", 0},
      {"PLANNED", "planned_at", 1},
      {"NEXT STEP", "next_step", 0},
      {"DUE", "next_step_date", 0}},
     {"account"}},
    {"opportunity",
     {{"ID", "id", 0},
      {"ACCOUNT", "account_id", 0},
      {"TITLE", "title", 0},
      {"STAGE", "stage", 0},
      {"AMOUNT", "amount", 0},
      {"ENTERED", "stage_entered_date", 0}},
     {"stage", "account"}},
    {"transaction",
     {{"ID", "id", 0},
      {"ACCOUNT", "account_id", 0},
      {"DATE", "date", 0},
      {"AMOUNT", "amount", 0},
      {"DESCRIPTION", "description", 0}},
     {"account"}},
};

static const kind_view *view_of(const char *kind)
{
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (strcmp(views[i].kind, kind) == 0)
            return &views[i];
    return &views[0];
}

static int add_list_rows(fs_table *t, const kind_view *v, size_t ncols, const json_t *items)
{
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        char *cells[7] = {0};
        for (size_t c = 0; c < ncols; c++) {
            json_t *val = fs_json_path(item, v->cols[c].path);
            char buf[40];
            cells[c] = v->cols[c].time && json_is_integer(val)
                           ? strdup(fs_cli_time(json_integer_value(val), buf, sizeof(buf)))
                           : fs_cli_cell(val);
        }
        int rc = fs_table_add_row(t, (const char *const *)cells);
        for (size_t c = 0; c < ncols; c++)
            free(cells[c]);
        if (rc != 0)
            return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    }
    return 0;
}

static int print_list(fs_kind_cmd *kc, const json_t *items)
{
    const kind_view *v = view_of(kc->kind->name);
    const char *titles[7];
    size_t ncols = 0;
    while (ncols < 7 && v->cols[ncols].title != NULL) {
        titles[ncols] = v->cols[ncols].title;
        ncols++;
    }
    fs_table t;
    if (fs_table_init(&t, titles, ncols) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    for (size_t c = 0; c < ncols; c++)
        if (fs_cli_is_id_path(v->cols[c].path))
            fs_table_keep_whole(&t, c);
    int rc = add_list_rows(&t, v, ncols, items);
    if (rc == 0)
        rc = fs_cli_print_table(kc->cli, &t);
    fs_table_clear(&t);
    return rc;
}

/* Filters and paging into record.list params. */
static int list_params(fs_kind_cmd *kc, const fs_args *a, const kind_view *v, json_t *params)
{
    for (size_t i = 0; i < 5 && v->filters[i]; i++) {
        const char *val = fs_args_get(a, v->filters[i]);
        if (val == NULL)
            continue;
        const fs_leaf *l = fs_fields_find(&kc->fields, v->filters[i]);
        json_t *jv = NULL;
        char why[512];
        if (strcmp(v->filters[i], "account") == 0) {
            json_object_set_new(params, "account_id", json_string(val));
            continue;
        }
        if (l != NULL && l->type == FS_LEAF_ENUM &&
            fs_fields_convert(l, val, false, &jv, why, sizeof(why)) != 0)
            return fs_cli_usage(kc->cli, "%s", why);
        char key[64];
        snprintf(key, sizeof(key), "%s", v->filters[i]);
        for (char *p = key; *p; p++)
            *p = *p == '-' ? '_' : *p;
        json_object_set_new(params, key, jv ? jv : json_string(val));
    }
    long long limit = 100;
    const char *lim = fs_args_get(a, "limit"), *order = fs_args_get(a, "order");
    if (lim != NULL && fs_args_int(lim, 1, 1000, &limit) != 0)
        return fs_cli_usage(kc->cli, "--limit must be a number from 1 to 1000");
    if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return fs_cli_usage(kc->cli, "--order must be asc or desc");
    json_object_set_new(params, "limit", json_integer(limit));
    if (order != NULL)
        json_object_set_new(params, "order", json_string(order));
    if (fs_args_get(a, "cursor") != NULL)
        json_object_set_new(params, "cursor", json_string(fs_args_get(a, "cursor")));
    return 0;
}

int fs_kind_cmd_list(fs_kind_cmd *kc, int argc, char **argv)
{
    const kind_view *v = view_of(kc->kind->name);
    kc->nopts = 0;
    static const char *const help[] = {
        "tier",  "accounts with this tier",     "funnel-stage", "accounts at this funnel stage",
        "owner", "accounts of this rep",        "city",         "accounts in this city",
        "stage", "opportunities at this stage", "account",      "records of this account (id)"};
    for (size_t i = 0; i < 5 && v->filters[i]; i++)
        for (size_t h = 0; h < sizeof(help) / sizeof(help[0]); h += 2)
            if (strcmp(help[h], v->filters[i]) == 0)
                fs_kind_cmd_add_opt(kc, help[h], FS_OPT_VALUE, "VALUE", help[h + 1], -1);
    fs_kind_cmd_add_opt(kc, "limit", FS_OPT_VALUE, "N", "records per page, 1-1000 (default 100)",
                        -1);
    fs_kind_cmd_add_opt(kc, "all", FS_OPT_FLAG, NULL, "follow next_cursor to the last page", -1);
    fs_kind_cmd_add_opt(kc, "order", FS_OPT_VALUE, "asc|desc", "sort order (default asc)", -1);
    fs_kind_cmd_add_opt(kc, "cursor", FS_OPT_VALUE, "CURSOR", "continue from a previous page", -1);
    fs_kind_cmd_add_globals(kc);
    fs_args a;
    int rc = fs_cli_parse(kc->cli, &a, kc->opts, kc->nopts, argc, argv, "[filters] [--all]",
                          "Lists records (deleted ones are not listed).", 0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *params = json_pack("{s:s}", "kind", kc->kind->name), *items = NULL, *next = NULL;
    rc = list_params(kc, &a, v, params);
    if (rc == 0)
        rc = fs_cli_list(kc->cli, params, fs_args_has(&a, "all"), &items, &next);
    if (rc == 0 && kc->cli->json) {
        json_t *out = json_pack("{s:O, s:O}", "items", items, "next_cursor", next);
        rc = fs_cli_print_json(kc->cli, out);
        json_decref(out);
    } else if (rc == 0) {
        rc = print_list(kc, items);
        if (json_is_string(next))
            fprintf(stderr, "fieldsync: more %s: use --all, or --cursor %s\n", kc->kind->plural,
                    json_string_value(next));
    }
    json_decref(params);
    json_decref(items);
    json_decref(next);
    return rc;
}
