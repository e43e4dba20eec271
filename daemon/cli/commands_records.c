/*
 * commands_records.c: `fieldsync accounts|contacts|visits|opportunities|
 * transactions list|show|add|edit|rm` over record.list/get/put/delete.
 *
 * add and edit take one flag per field of the kind (fields.h), a generic
 * `--set FIELD=VALUE`, `--json '{...}'` for anything, and (edit) `--clear
 * FIELD`. The socket API replaces a nested message as a whole, so edit first
 * reads the record and merges flags like --city into its current address:
 * `accounts edit X --city Leeds` keeps the street.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync.pb-c.h"
#include "records.h"

void fs_kind_cmd_add_opt(fs_kind_cmd *kc, const char *name, fs_opt_kind k, const char *meta,
                         const char *help, int leaf)
{
    if (kc->nopts >= FS_RECORD_MAX_OPTS)
        return;
    kc->opts[kc->nopts] = (fs_opt){name, k, meta, help};
    kc->leaf_of[kc->nopts++] = leaf;
}

static bool has_opt(const fs_kind_cmd *kc, const char *name)
{
    for (size_t i = 0; i < kc->nopts; i++)
        if (strcmp(kc->opts[i].name, name) == 0)
            return true;
    return false;
}

/* The global options, except those the command already defines (add's --json). */
void fs_kind_cmd_add_globals(fs_kind_cmd *kc)
{
    static const fs_opt g[] = {FS_CLI_GLOBAL_OPTS};
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
        if (!has_opt(kc, g[i].name))
            fs_kind_cmd_add_opt(kc, g[i].name, g[i].kind, g[i].metavar, g[i].help, -1);
}

/* The options of add (edit == false) or edit: control options, then one per field. */
static void build_edit_opts(fs_kind_cmd *kc, bool edit)
{
    kc->nopts = 0;
    if (edit)
        fs_kind_cmd_add_opt(kc, "clear", FS_OPT_REPEAT, "FIELD", "unset a field (repeatable)", -1);
    else
        fs_kind_cmd_add_opt(kc, "id", FS_OPT_VALUE, "ID",
                            "the new record's id (default: a random one)", -1);
    fs_kind_cmd_add_opt(kc, "set", FS_OPT_REPEAT, "FIELD=VALUE",
                        "set any field, e.g. address.city=Leeds", -1);
    if (kc->kind->desc == &fieldsync__opportunity__descriptor)
        fs_kind_cmd_add_opt(kc, "override", FS_OPT_VALUE, "REASON",
                            "move to a stage against the sales method's rules; the reason is "
                            "recorded with the move",
                            -1);
    fs_kind_cmd_add_opt(
        kc, "json", FS_OPT_OBJECT, "['{...}']",
        "fields as a JSON object (socket API form); alone: print the result as JSON", -1);
    fs_kind_cmd_add_globals(kc);
    for (size_t i = 0; i < kc->fields.n; i++) {
        const fs_leaf *l = &kc->fields.leaves[i];
        fs_opt_kind k = l->repeated ? FS_OPT_REPEAT : FS_OPT_VALUE;
        const char *meta = l->type == FS_LEAF_ENUM ? "NAME" : "VALUE";
        bool alias = l->alias[0] && strcmp(l->alias, l->flag) != 0;
        if (alias) /* the short name is listed; the long one is hidden */
            snprintf(kc->alias_help[i], sizeof(kc->alias_help[i]), "%s (or --%s)", l->help,
                     l->flag);
        fs_kind_cmd_add_opt(kc, alias ? l->alias : l->flag, k, meta,
                            alias ? kc->alias_help[i] : l->help, (int)i);
        if (alias)
            fs_kind_cmd_add_opt(kc, l->flag, k, meta, NULL, (int)i);
    }
}

/* The descriptor of top-level field name, or NULL. */
static const ProtobufCFieldDescriptor *top_field(const fs_kind_info *k, const char *name)
{
    return protobuf_c_message_descriptor_get_field_by_name(k->desc, name);
}

static bool is_nested_message(const ProtobufCFieldDescriptor *fd)
{
    return fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
           fd->label != PROTOBUF_C_LABEL_REPEATED &&
           fd->descriptor != &fieldsync__money__descriptor;
}

/* One --set FIELD=VALUE into flags. */
static int apply_set(fs_kind_cmd *kc, json_t *flags, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return fs_cli_usage(kc->cli, "--set needs FIELD=VALUE, got \"%.64s\"", arg);
    char name[FS_LEAF_NAME_MAX];
    snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
    const char *text = eq + 1;
    const fs_leaf *l = fs_fields_find(&kc->fields, name);
    char why[512];
    json_t *v;
    if (l != NULL) {
        if (fs_fields_convert(l, text, true, &v, why, sizeof(why)) != 0)
            return fs_cli_usage(kc->cli, "%s", why);
        return fs_fields_apply(flags, l, v) == 0 ? 0 : fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    }
    const ProtobufCFieldDescriptor *fd = top_field(kc->kind, name);
    if (fd == NULL || fd->id == 1)
        return fs_cli_usage(kc->cli, "%s has no field \"%s\"", kc->kind->name, name);
    v = json_loads(text, JSON_DECODE_ANY, NULL); /* a whole message or list, as JSON */
    if (v == NULL)
        return fs_cli_usage(kc->cli,
                            "%s: \"%.64s\" is not JSON (a message or list field takes "
                            "its JSON form)",
                            name, text);
    json_object_set_new(flags, fd->name, v);
    return 0;
}

/* The flags, --set and --json of an add/edit into *base (from --json) and *flags. */
static int collect_fields(fs_kind_cmd *kc, const fs_args *a, json_t *base, json_t *flags)
{
    const char *js = fs_args_get(a, "json");
    if (js != NULL) {
        json_error_t jerr;
        json_t *obj = json_loads(js, 0, &jerr);
        if (!json_is_object(obj)) {
            json_decref(obj);
            return fs_cli_usage(kc->cli, "--json needs a JSON object: %s", jerr.text);
        }
        json_object_update(base, obj);
        json_decref(obj);
    }
    int set = fs_args_index(a, "set");
    for (size_t i = 0; i < a->ngiven; i++) {
        const fs_arg *g = &a->given[i];
        int rc = 0;
        if (kc->leaf_of[g->opt] >= 0) {
            const fs_leaf *l = &kc->fields.leaves[kc->leaf_of[g->opt]];
            char why[512];
            json_t *v;
            if (fs_fields_convert(l, g->value, false, &v, why, sizeof(why)) != 0)
                return fs_cli_usage(kc->cli, "%s", why);
            rc =
                fs_fields_apply(flags, l, v) == 0 ? 0 : fs_cli_fail(FS_EXIT_ERROR, "out of memory");
        } else if ((int)g->opt == set) {
            rc = apply_set(kc, flags, g->value);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* edit: nested messages set by flags start from the record's current value. */
static void merge_current(fs_kind_cmd *kc, json_t *flags, const json_t *current)
{
    const char *key;
    json_t *val;
    json_object_foreach(flags, key, val)
    {
        const json_t *cur = json_object_get(current, key);
        if (!json_is_object(val) || !json_is_object(cur) ||
            !is_nested_message(top_field(kc->kind, key)))
            continue;
        json_t *merged = json_deep_copy(cur);
        json_object_update_recursive(merged, val);
        json_object_set_new(flags, key, merged);
    }
}

/* edit --clear FIELD: a top-level field becomes null, a nested one is removed
 * from its (current) message. */
static int apply_clears(fs_kind_cmd *kc, const fs_args *a, json_t *flags, const json_t *current)
{
    int clear = fs_args_index(a, "clear");
    for (size_t i = 0; i < a->ngiven; i++) {
        if ((int)a->given[i].opt != clear)
            continue;
        const char *name = a->given[i].value;
        const fs_leaf *l = fs_fields_find(&kc->fields, name);
        const char *path = l ? l->path : name;
        const char *dot = strchr(path, '.');
        char top[FS_LEAF_NAME_MAX];
        snprintf(top, sizeof(top), "%.*s", dot ? (int)(dot - path) : (int)strlen(path), path);
        const ProtobufCFieldDescriptor *fd = top_field(kc->kind, top);
        if (fd == NULL || fd->id == 1)
            return fs_cli_usage(kc->cli, "%s has no field \"%s\"", kc->kind->name, name);
        if (dot == NULL) {
            json_object_set_new(flags, top, json_null());
            continue;
        }
        json_t *msg = json_object_get(flags, top);
        if (!json_is_object(msg)) {
            const json_t *cur = json_object_get(current, top);
            msg = json_is_object(cur) ? json_deep_copy(cur) : json_object();
            json_object_set_new(flags, top, msg);
        }
        /* Walk to the parent of the leaf and drop it. */
        const char *rest = dot + 1;
        json_t *parent = msg;
        for (const char *d; (d = strchr(rest, '.')) != NULL; rest = d + 1) {
            char part[FS_LEAF_NAME_MAX];
            snprintf(part, sizeof(part), "%.*s", (int)(d - rest), rest);
            parent = json_object_get(parent, part);
        }
        if (json_is_object(parent))
            json_object_del(parent, rest);
        if (json_object_size(msg) == 0)
            json_object_set_new(flags, top, json_null());
    }
    return 0;
}

/* record.get; a deleted record is "not found" for the commands that need it. */
static int get_record(fs_kind_cmd *kc, const char *id, json_t **result)
{
    json_t *params = json_pack("{s:s, s:s}", "kind", kc->kind->name, "id", id);
    int rc = fs_cli_call(kc->cli, "record.get", params, result);
    if (rc != 0)
        return rc;
    if (json_is_true(json_object_get(*result, "deleted")))
        return fs_cli_fail(FS_EXIT_NOT_FOUND, "%s %s is deleted", kc->kind->name, id);
    return 0;
}

static int put_record(fs_kind_cmd *kc, const fs_args *a, const char *id, json_t *record,
                      const char *verb)
{
    json_t *params = json_pack("{s:s, s:o}", "kind", kc->kind->name, "record", record);
    const char *override = fs_args_get(a, "override");
    if (id != NULL)
        json_object_set_new(params, "id", json_string(id));
    if (override != NULL)
        json_object_set_new(params, "override", json_string(override));
    json_t *res;
    int rc = fs_cli_call(kc->cli, "record.put", params, &res);
    if (rc != 0)
        return rc;
    if (kc->cli->json)
        rc = fs_cli_print_json(kc->cli, res);
    else
        printf("%s %s %s\n", kc->kind->name, json_string_value(json_object_get(res, "id")),
               json_is_true(json_object_get(res, "created")) ? "created" : verb);
    json_decref(res);
    return rc;
}

static int cmd_add(fs_kind_cmd *kc, int argc, char **argv)
{
    fs_args a;
    build_edit_opts(kc, false);
    int rc = fs_cli_parse(kc->cli, &a, kc->opts, kc->nopts, argc, argv,
                          "[--FIELD VALUE ...] [--set FIELD=VALUE] [--json '{...}']",
                          "Creates a record. Each field has its own flag; --set and --json reach "
                          "any field.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *base = json_object(), *flags = json_object();
    rc = collect_fields(kc, &a, base, flags);
    if (rc == 0 && json_object_size(base) + json_object_size(flags) == 0)
        rc = fs_cli_usage(kc->cli, "no fields given (e.g. --name)");
    if (rc == 0) {
        json_object_update(base, flags);
        rc = put_record(kc, &a, fs_args_get(&a, "id"), json_incref(base), "updated");
    }
    json_decref(base);
    json_decref(flags);
    return rc;
}

static int cmd_edit(fs_kind_cmd *kc, int argc, char **argv)
{
    fs_args a;
    build_edit_opts(kc, true);
    int rc = fs_cli_parse(kc->cli, &a, kc->opts, kc->nopts, argc, argv,
                          "ID [--FIELD VALUE ...] [--set FIELD=VALUE] [--clear FIELD] "
                          "[--json '{...}']",
                          "Changes the given fields of a record and keeps the others. Nested "
                          "fields (--city) keep their siblings (the street stays).",
                          1, 1);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    const char *id = a.pos[0];
    json_t *base = json_object(), *flags = json_object(), *cur = NULL;
    rc = collect_fields(kc, &a, base, flags);
    if (rc == 0 && json_object_size(base) + json_object_size(flags) == 0 &&
        !fs_args_has(&a, "clear"))
        rc = fs_cli_usage(kc->cli, "nothing to change: give a field flag, --set or --clear");
    if (rc == 0)
        rc = get_record(kc, id, &cur);
    if (rc == 0) {
        json_t *current = json_object_get(cur, "record");
        merge_current(kc, flags, current);
        rc = apply_clears(kc, &a, flags, current);
    }
    if (rc == 0) {
        json_object_update(base, flags);
        rc = put_record(kc, &a, id, json_incref(base), "updated");
    }
    json_decref(cur);
    json_decref(base);
    json_decref(flags);
    return rc;
}

/* "account a1 deleted, with 2 contacts, 1 visit" (the children a cascade deleted). */
static void print_deleted(fs_kind_cmd *kc, const char *id, const json_t *res)
{
    printf("%s %s deleted", kc->kind->name, id);
    const char *kind;
    json_t *n;
    const char *sep = ", with ";
    json_object_foreach(json_object_get(res, "children_deleted"), kind, n)
    {
        long long c = json_integer_value(n);
        const fs_kind_info *k = fs_kind_find(kind);
        if (c > 0 && k != NULL) {
            printf("%s%lld %s", sep, c, c == 1 ? k->name : k->plural);
            sep = ", ";
        }
    }
    printf("\n");
}

static int cmd_rm(fs_kind_cmd *kc, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"cascade", FS_OPT_FLAG, NULL,
         "accounts: delete its contacts, visits, opportunities and transactions too"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(kc->cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
                          "ID [--cascade]",
                          "Deletes a record (the deletion syncs like any change). An account "
                          "with records under it is deleted only with --cascade, which deletes "
                          "them with it.",
                          1, 1);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *params = json_pack("{s:s, s:s}", "kind", kc->kind->name, "id", a.pos[0]), *res;
    if (fs_args_has(&a, "cascade"))
        json_object_set_new(params, "cascade", json_true());
    fs_rpcc_error derr;
    rc = fs_cli_call_quiet(kc->cli, "record.delete", params, &res, &derr);
    if (rc == 1 && derr.code == -32013) /* has_children */
        return fs_cli_fail(FS_EXIT_ERROR, "%s (`fieldsync %s rm %s --cascade`)", derr.message,
                           kc->kind->plural, a.pos[0]);
    if (rc == 1)
        return fs_cli_report_rpc_error(&derr);
    if (rc != 0)
        return rc;
    if (kc->cli->json)
        rc = fs_cli_print_json(kc->cli, res);
    else
        print_deleted(kc, a.pos[0], res);
    json_decref(res);
    return rc;
}

static int print_record(fs_kind_cmd *kc, const json_t *res)
{
    const json_t *rec = json_object_get(res, "record");
    const char *pairs[2 * (FS_FIELDS_MAX + 2)];
    char *texts[FS_FIELDS_MAX];
    size_t n = 0;
    pairs[2 * n] = "id";
    pairs[2 * n++ + 1] = json_string_value(json_object_get(res, "id"));
    for (size_t i = 0; i < kc->fields.n; i++) {
        const fs_leaf *l = &kc->fields.leaves[i];
        texts[i] = l->csv ? fs_fields_format(l, rec) : NULL;
        if (l->type == FS_LEAF_TIME && texts[i] != NULL) {
            char buf[40];
            fs_cli_time(atoll(texts[i]), buf, sizeof(buf));
            free(texts[i]);
            texts[i] = strdup(buf);
        }
        pairs[2 * n] = l->path;
        pairs[2 * n++ + 1] = texts[i];
    }
    char conf[512] = "";
    const json_t *c = json_object_get(res, "conflicts");
    size_t i;
    json_t *v;
    json_array_foreach(c, i, v)
    {
        size_t o = strlen(conf);
        snprintf(conf + o, sizeof(conf) - o, "%s%s", i ? ", " : "", json_string_value(v));
    }
    pairs[2 * n] = "conflicts";
    pairs[2 * n++ + 1] = conf[0] ? conf : NULL;
    fs_cli_print_pairs(pairs, n);
    if (conf[0])
        fprintf(stderr, "fieldsync: fields in conflict: see `fieldsync conflicts list`\n");
    for (size_t k = 0; k < kc->fields.n; k++)
        free(texts[k]);
    return FS_EXIT_OK;
}

static int cmd_show(fs_kind_cmd *kc, int argc, char **argv)
{
    static const fs_opt opts[] = {FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(kc->cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv, "ID",
                          "Shows a record's fields and the fields in conflict.", 1, 1);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *res;
    rc = fs_cli_call(kc->cli, "record.get",
                     json_pack("{s:s, s:s}", "kind", kc->kind->name, "id", a.pos[0]), &res);
    if (rc != 0)
        return rc;
    bool deleted = json_is_true(json_object_get(res, "deleted"));
    if (kc->cli->json)
        rc = fs_cli_print_json(kc->cli, res);
    else if (!deleted)
        rc = print_record(kc, res);
    json_decref(res);
    if (rc == 0 && deleted)
        return fs_cli_fail(FS_EXIT_NOT_FOUND, "%s %s is deleted", kc->kind->name, a.pos[0]);
    return rc;
}

int fs_cmd_records(fs_cli *cli, const char *kind, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(fs_kind_cmd *, int, char **);
    } subs[] = {{"list", fs_kind_cmd_list},
                {"show", cmd_show},
                {"add", cmd_add},
                {"edit", cmd_edit},
                {"rm", cmd_rm}};
    fs_kind_cmd *kc = calloc(1, sizeof(*kc));
    if (kc == NULL)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    kc->cli = cli;
    kc->kind = fs_kind_find(kind);
    fs_fields_init(&kc->fields, kc->kind);
    static char label[64];
    int rc = -1;
    const char *sub = argc > 0 ? argv[0] : "";
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(sub, subs[i].name) == 0) {
            snprintf(label, sizeof(label), "%s %s", kind, sub);
            cli->command = label;
            rc = subs[i].fn(kc, argc - 1, argv + 1);
        }
    if (rc < 0 && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        printf("usage: fieldsync %s list|show|add|edit|rm ...\n\n"
               "  list [filters] [--all]   list %s\n  show ID                  one record\n"
               "  add --FIELD VALUE ...    create one\n  edit ID --FIELD VALUE    change fields\n"
               "  rm ID [--cascade]        delete one\n\n`fieldsync %s add --help` lists the "
               "fields.\n",
               kind, kind, kind);
        rc = FS_EXIT_OK;
    } else if (rc < 0) {
        rc = fs_cli_fail(FS_EXIT_USAGE,
                         "%s needs one of list, show, add, edit, rm (see `fieldsync %s --help`)",
                         kind, kind);
    }
    free(kc);
    return rc;
}
