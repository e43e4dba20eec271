/*
 * commands_conflicts.c: `fieldsync conflicts list` (every field holding more
 * than one sibling, one row per sibling, numbered as `resolve --sibling N`
 * takes them, with the record's name and the device that wrote each) and
 * `fieldsync conflicts resolve` (writes a value that supersedes all siblings:
 * for one field a new value, a chosen sibling, or, for the `alive` field of an
 * edit concurrent with a delete, keep or delete; for every field of a record,
 * or of every record in conflict, the values shown now or this device's own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fields.h"

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))

/* Who wrote a sibling: the device's name, else its replica id. */
static const char *writer(const json_t *s)
{
    const char *device = json_string_value(json_object_get(s, "device"));
    return device != NULL ? device : json_string_value(json_object_get(s, "replica"));
}

static int add_sibling_rows(fs_table *t, const json_t *rec)
{
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *name = json_string_value(json_object_get(rec, "name"));
    size_t i, j;
    json_t *f, *s;
    json_array_foreach(json_object_get(rec, "fields"), i, f)
    {
        const char *field = json_string_value(json_object_get(f, "field"));
        json_array_foreach(json_object_get(f, "siblings"), j, s)
        {
            char n[24];
            snprintf(n, sizeof(n), "%zu", j);
            char *value = json_is_true(json_object_get(s, "cleared"))
                              ? strdup("(cleared)")
                              : fs_cli_cell(json_object_get(s, "value"));
            const char *iso = json_string_value(json_object_get(s, "time"));
            char when[40] = "";
            long long at;
            if (iso != NULL && fs_time_parse(iso, &at) == 0) /* UTC, shown local */
                fs_cli_time(at, when, sizeof(when));
            const char *cells[] = {
                kind, id,        field,
                n,    name,      value,
                when, writer(s), json_is_true(json_object_get(s, "visible")) ? "yes" : ""};
            int rc = fs_table_add_row(t, cells);
            free(value);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static int conflicts_list(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {{"limit", FS_OPT_VALUE, "N", "at most N records (1-1000)"},
                                  FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv, "[--limit N]",
                          "Fields written concurrently on two devices, one row per version "
                          "(sibling); the visible one is marked.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *params = json_object();
    long long n;
    if (fs_args_get(&a, "limit") != NULL) {
        if (fs_args_int(fs_args_get(&a, "limit"), 1, 1000, &n) != 0) {
            json_decref(params);
            return fs_cli_usage(cli, "--limit must be a number from 1 to 1000");
        }
        json_object_set_new(params, "limit", json_integer(n));
    }
    json_t *res;
    if ((rc = fs_cli_call(cli, "conflicts.list", params, &res)) != 0)
        return rc;
    const json_t *recs = json_object_get(res, "records");
    if (cli->json) {
        rc = fs_cli_print_json(cli, res);
    } else if (json_array_size(recs) == 0) {
        printf("no conflicts\n");
    } else {
        static const char *const titles[] = {"KIND",  "ID",   "FIELD",  "#",      "RECORD",
                                             "VALUE", "TIME", "DEVICE", "VISIBLE"};
        fs_table t;
        rc = fs_table_init(&t, titles, 9);
        for (size_t c = 0; c < 4; c++) /* what `conflicts resolve` takes */
            fs_table_keep_whole(&t, c);
        size_t i;
        json_t *rec;
        json_array_foreach(recs, i, rec) if (rc == 0) rc = add_sibling_rows(&t, rec);
        rc = rc == 0 ? fs_cli_print_table(cli, &t) : fs_cli_fail(FS_EXIT_ERROR, "out of memory");
        fs_table_clear(&t);
    }
    json_decref(res);
    return rc;
}

/* --value V as the field's JSON value: through the field's leaf when FIELD is a
 * top-level leaf, else as JSON, else as a string. */
static int resolve_value(fs_cli *cli, const fs_kind_info *k, const char *field, const char *text,
                         json_t **out)
{
    fs_fields f;
    fs_fields_init(&f, k);
    const fs_leaf *l = fs_fields_find(&f, field);
    char why[512];
    if (l != NULL && strcmp(l->path, field) == 0) {
        if (fs_fields_convert(l, text, true, out, why, sizeof(why)) != 0)
            return fs_cli_usage(cli, "%s", why);
        return 0;
    }
    *out = json_loads(text, JSON_DECODE_ANY, NULL);
    if (*out == NULL)
        *out = json_string(text);
    return 0;
}

/* --visible / --mine: the socket API's "keep", or NULL. */
static const char *keep_of(const fs_args *a)
{
    return fs_args_has(a, "visible") ? "visible" : fs_args_has(a, "mine") ? "mine" : NULL;
}

/* One field: exactly one way to choose its value. */
static int resolve_params(fs_cli *cli, const fs_args *a, const fs_kind_info *k, json_t *params)
{
    const char *field = a->pos[2], *value = fs_args_get(a, "value");
    const char *sib = fs_args_get(a, "sibling"), *keep_all = keep_of(a);
    bool keep = fs_args_has(a, "keep"), del = fs_args_has(a, "delete");
    if ((value != NULL) + (sib != NULL) + keep + del + fs_args_has(a, "visible") +
            fs_args_has(a, "mine") !=
        1)
        return fs_cli_usage(cli, "give exactly one of --value V, --sibling N, --keep, --delete, "
                                 "--visible, --mine");
    if ((keep || del) && strcmp(field, "alive") != 0)
        return fs_cli_usage(cli, "--keep and --delete resolve the field `alive` (an edit "
                                 "concurrent with a delete)");
    long long n;
    json_t *v = NULL;
    if (keep_all != NULL)
        return json_object_set_new(params, "keep", json_string(keep_all));
    if (sib != NULL) {
        if (fs_args_int(sib, 0, 1 << 20, &n) != 0)
            return fs_cli_usage(cli, "--sibling needs the sibling's number from `conflicts "
                                     "list` (0, 1, ...)");
        return json_object_set_new(params, "sibling", json_integer(n));
    }
    if (keep || del)
        v = json_boolean(keep);
    else if (resolve_value(cli, k, field, value, &v) != 0)
        return FS_EXIT_USAGE;
    return json_object_set_new(params, "value", v);
}

/* --all: every record in conflict keeps its values shown now (or this
 * device's), a page of conflicts.list at a time until none is left. */
static int resolve_all(fs_cli *cli, const char *keep)
{
    size_t done = 0;
    bool more = true;
    int rc = 0;
    while (rc == 0 && more) {
        json_t *res, *rec;
        size_t i;
        if ((rc = fs_cli_call(cli, "conflicts.list", json_pack("{s:i}", "limit", 1000), &res)) != 0)
            return rc;
        /* a full page, all resolved: more may follow */
        more = json_array_size(json_object_get(res, "records")) == 1000;
        json_array_foreach(json_object_get(res, "records"), i, rec)
        {
            json_t *r;
            rc = fs_cli_call(cli, "conflicts.resolve",
                             json_pack("{s:O,s:O,s:s}", "kind", json_object_get(rec, "kind"), "id",
                                       json_object_get(rec, "id"), "keep", keep),
                             &r);
            if (rc != 0)
                break;
            json_decref(r);
            done++;
        }
        json_decref(res);
    }
    if (rc == 0 && cli->json) {
        json_t *out = json_pack("{s:I,s:s}", "resolved", (json_int_t)done, "keep", keep);
        rc = fs_cli_print_json(cli, out);
        json_decref(out);
    } else if (rc == 0) {
        printf("%zu record%s resolved, keeping %s\n", done, done == 1 ? "" : "s",
               strcmp(keep, "mine") == 0 ? "this device's values" : "the values shown");
    }
    return rc;
}

static int conflicts_resolve(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"value", FS_OPT_VALUE, "V", "write this value (as a field flag takes it)"},
        {"sibling", FS_OPT_VALUE, "N", "keep sibling N (numbered as `conflicts list` shows)"},
        {"keep", FS_OPT_FLAG, NULL, "alive: keep the record"},
        {"delete", FS_OPT_FLAG, NULL, "alive: delete the record"},
        {"visible", FS_OPT_FLAG, NULL, "keep the values shown now (every field without FIELD)"},
        {"mine", FS_OPT_FLAG, NULL,
         "keep this device's values where it wrote one, else the ones shown"},
        {"all", FS_OPT_FLAG, NULL, "every record in conflict (with --visible or --mine)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv,
                          "KIND ID FIELD (--value V | --sibling N | --keep | --delete | --visible "
                          "| --mine) | KIND ID (--visible | --mine) | --all (--visible | --mine)",
                          "Resolves conflicts by writing one value over all the siblings: of a "
                          "field, of every field of a record, or of every record in conflict.",
                          0, 3);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    const char *keep = keep_of(&a);
    bool all = fs_args_has(&a, "all");
    if (all != (a.npos == 0) || a.npos == 1 || (a.npos < 3 && keep == NULL) ||
        (fs_args_has(&a, "visible") && fs_args_has(&a, "mine")))
        return fs_cli_usage(cli, "give KIND ID FIELD and a value, or KIND ID with --visible or "
                                 "--mine, or --all with --visible or --mine");
    if (all)
        return resolve_all(cli, keep);
    const fs_kind_info *k = fs_kind_find(a.pos[0]);
    if (k == NULL)
        return fs_cli_usage(cli,
                            "unknown kind \"%.32s\" (account, contact, visit, opportunity, "
                            "transaction)",
                            a.pos[0]);
    json_t *params = json_pack("{s:s, s:s}", "kind", k->name, "id", a.pos[1]);
    if (a.npos == 3) {
        json_object_set_new(params, "field", json_string(a.pos[2]));
        rc = resolve_params(cli, &a, k, params);
    } else {
        rc = json_object_set_new(params, "keep", json_string(keep));
    }
    if (rc != 0) {
        json_decref(params);
        return rc;
    }
    json_t *res;
    if ((rc = fs_cli_call(cli, "conflicts.resolve", params, &res)) != 0)
        return rc;
    if (cli->json)
        rc = fs_cli_print_json(cli, res);
    else
        printf("%s%s%s %s resolved\n", a.npos == 3 ? a.pos[2] : "", a.npos == 3 ? " of " : "",
               k->name, a.pos[1]);
    json_decref(res);
    return rc;
}

int fs_cmd_conflicts(fs_cli *cli, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (strcmp(sub, "list") == 0) {
        cli->command = "conflicts list";
        return conflicts_list(cli, argc - 1, argv + 1);
    }
    /* `fieldsync conflicts [--limit N]` is what a rep types to see them */
    if (argc == 0 || (strncmp(sub, "--", 2) == 0 && strcmp(sub, "--help") != 0)) {
        cli->command = "conflicts list";
        return conflicts_list(cli, argc, argv);
    }
    if (strcmp(sub, "resolve") == 0) {
        cli->command = "conflicts resolve";
        return conflicts_resolve(cli, argc - 1, argv + 1);
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        printf("usage: fieldsync conflicts [list] [--limit N]\n"
               "       fieldsync conflicts resolve KIND ID FIELD (--value V | --sibling N | "
               "--keep | --delete | --visible | --mine)\n"
               "       fieldsync conflicts resolve KIND ID (--visible | --mine)\n"
               "       fieldsync conflicts resolve --all (--visible | --mine)\n\nFields "
               "written concurrently on two devices keep every version (sibling) until\n"
               "resolved; the one shown meanwhile is the latest.\n");
        return FS_EXIT_OK;
    }
    return fs_cli_fail(FS_EXIT_USAGE,
                       "conflicts needs list or resolve (see `fieldsync conflicts --help`)");
}
