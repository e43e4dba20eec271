/*
 * import_match.c: an imported row's existing record, by its kind's key
 * (import_match.h).
 *
 * Candidates are grouped by scope: the account a row names, or "" for all
 * records of the kind. A scope is listed from the daemon (record.list, every
 * page) the first time a row needs it; each candidate is kept as its key text
 * (the key's fields in their CSV form, lower-cased, joined by \x1f) and id.
 * Rows the import creates join their scope, so a file that names the same
 * account twice makes it once.
 */
#include "import_match.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 4

typedef struct key_spec {
    const char *kind;
    const char *fields[KEY_MAX]; /* leaf paths; account_id first when present */
    const char *text;            /* for messages */
} key_spec;

static const key_spec specs[] = {
    {"account", {"name"}, "name"},
    {"contact", {"account_id", "name"}, "account_id and name"},
    {"visit", {"account_id", "planned_at"}, "account_id and planned_at"},
    {"opportunity", {"account_id", "title"}, "account_id and title"},
    {"transaction", {"account_id", "date", "amount"}, "account_id, date and amount"},
};

typedef struct scope {
    char *account; /* "" for every record of the kind */
    json_t *keys;  /* {"<key text>": ["id", ...]} */
} scope;

struct fs_import_match {
    fs_cli *cli;
    const fs_fields *fields;
    const key_spec *spec;
    const fs_leaf *leaves[KEY_MAX];
    size_t nleaves;
    scope *scopes;
    size_t nscopes;
};

fs_import_match *fs_import_match_new(fs_cli *cli, const fs_fields *fields)
{
    fs_import_match *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->cli = cli;
    m->fields = fields;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (strcmp(specs[i].kind, fields->kind->name) == 0)
            m->spec = &specs[i];
    for (size_t i = 0; m->spec != NULL && i < KEY_MAX && m->spec->fields[i] != NULL; i++) {
        const fs_leaf *l = fs_fields_find(fields, m->spec->fields[i]);
        if (l != NULL)
            m->leaves[m->nleaves++] = l;
    }
    return m;
}

void fs_import_match_free(fs_import_match *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nscopes; i++) {
        free(m->scopes[i].account);
        json_decref(m->scopes[i].keys);
    }
    free(m->scopes);
    free(m);
}

const char *fs_import_match_key(const fs_import_match *m)
{
    return m->spec != NULL ? m->spec->text : "";
}

static bool scoped(const fs_import_match *m)
{
    return m->nleaves > 0 && strcmp(m->leaves[0]->path, "account_id") == 0;
}

/* The record's key text (malloc'd): each key field's CSV form, lower-cased. */
static char *key_text(const fs_import_match *m, const json_t *record)
{
    char *out = strdup("");
    for (size_t i = 0; out != NULL && i < m->nleaves; i++) {
        char *v = fs_fields_format(m->leaves[i], record), *grown = NULL;
        if (asprintf(&grown, "%s%s%s", out, i ? "\x1f" : "", v ? v : "") < 0)
            grown = NULL;
        free(v);
        free(out);
        out = grown;
    }
    for (char *p = out; p != NULL && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

static int scope_add(const fs_import_match *m, scope *sc, const char *id, const json_t *record)
{
    char *key = key_text(m, record);
    if (key == NULL)
        return -1;
    json_t *ids = json_object_get(sc->keys, key);
    if (ids == NULL && json_object_set_new(sc->keys, key, ids = json_array()) != 0)
        ids = NULL;
    free(key);
    return ids != NULL ? json_array_append_new(ids, json_string(id)) : -1;
}

/* The scope of account ("" for all), listed from the daemon on first use. */
static int scope_get(fs_import_match *m, const char *account, scope **out)
{
    for (size_t i = 0; i < m->nscopes; i++)
        if (strcmp(m->scopes[i].account, account) == 0) {
            *out = &m->scopes[i];
            return 0;
        }
    scope *grown = realloc(m->scopes, (m->nscopes + 1) * sizeof(*grown));
    if (grown == NULL)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    m->scopes = grown;
    scope *sc = &m->scopes[m->nscopes];
    *sc = (scope){.account = strdup(account), .keys = json_object()};
    m->nscopes++;
    json_t *params = json_pack("{s:s,s:i}", "kind", m->fields->kind->name, "limit", 1000);
    if (account[0] != '\0')
        json_object_set_new(params, "account_id", json_string(account));
    json_t *items = NULL, *next = NULL, *item;
    int rc = fs_cli_list(m->cli, params, true, &items, &next);
    size_t i;
    json_array_foreach(items, i, item)
    {
        if (rc == 0 && scope_add(m, sc, json_string_value(json_object_get(item, "id")), item) != 0)
            rc = fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    }
    json_decref(params);
    json_decref(items);
    json_decref(next);
    *out = sc;
    return rc;
}

static const char *account_of(const fs_import_match *m, const json_t *record)
{
    const char *a = scoped(m) ? json_string_value(json_object_get(record, "account_id")) : NULL;
    return a != NULL ? a : "";
}

/* Whether the record has every key field other than its account: a visit
 * without a planned time is no known visit. */
static bool has_key(const fs_import_match *m, const json_t *record)
{
    for (size_t i = scoped(m) ? 1 : 0; i < m->nleaves; i++) {
        json_t *v = fs_json_path(record, m->leaves[i]->path);
        if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
            return false;
    }
    return m->nleaves > 0;
}

int fs_import_match_find(fs_import_match *m, const json_t *record, const char **id, size_t *n)
{
    scope *sc;
    *id = NULL;
    *n = 0;
    if (!has_key(m, record))
        return 0;
    int rc = scope_get(m, account_of(m, record), &sc);
    char *key = rc == 0 ? key_text(m, record) : NULL;
    if (rc == 0 && key == NULL)
        rc = fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    json_t *ids = key != NULL ? json_object_get(sc->keys, key) : NULL;
    free(key);
    *n = json_array_size(ids);
    if (*n == 1)
        *id = json_string_value(json_array_get(ids, 0));
    return rc;
}

int fs_import_match_add(fs_import_match *m, const char *id, const json_t *record)
{
    scope *sc;
    if (!has_key(m, record))
        return 0;
    int rc = scope_get(m, account_of(m, record), &sc);
    if (rc == 0 && scope_add(m, sc, id, record) != 0)
        rc = fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    return rc;
}
