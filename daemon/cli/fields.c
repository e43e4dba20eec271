/*
 * fields.c: the descriptor-driven field mapping of fields.h.
 *
 * The walk over a kind's descriptor decides each field's leaf type from its
 * protobuf type and name (the socket API's conventions: `*_date` strings are
 * dates, `*_at` integers are instants). Conversion is strict, so a typo is a
 * usage error naming the field and the accepted values before anything reaches
 * the daemon; the daemon still checks everything again.
 */
#include "fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldsync.pb-c.h"

const fs_kind_info fs_kinds[] = {
    {"account", "accounts", &fieldsync__account__descriptor},
    {"contact", "contacts", &fieldsync__contact__descriptor},
    {"visit", "visits", &fieldsync__visit__descriptor},
    {"opportunity", "opportunities", &fieldsync__opportunity__descriptor},
    {"transaction", "transactions", &fieldsync__transaction__descriptor},
};
const size_t fs_nkinds = sizeof(fs_kinds) / sizeof(fs_kinds[0]);

const fs_kind_info *fs_kind_find(const char *name)
{
    for (size_t i = 0; i < fs_nkinds; i++)
        if (strcmp(name, fs_kinds[i].name) == 0 || strcmp(name, fs_kinds[i].plural) == 0)
            return &fs_kinds[i];
    return NULL;
}

/* ---- collecting leaves ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static fs_leaf_type scalar_type(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        return (strcmp(fd->name, "date") == 0 || ends_with(fd->name, "_date")) ? FS_LEAF_DATE
                                                                               : FS_LEAF_STRING;
    case PROTOBUF_C_TYPE_BOOL:
        return FS_LEAF_BOOL;
    case PROTOBUF_C_TYPE_ENUM:
        return FS_LEAF_ENUM;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FIXED64:
        return FS_LEAF_UINT;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return ends_with(fd->name, "_at") ? FS_LEAF_TIME : FS_LEAF_INT;
    case PROTOBUF_C_TYPE_BYTES:
        return FS_LEAF_JSON;
    default:
        return FS_LEAF_INT;
    }
}

static void enum_help(char *buf, size_t n, const ProtobufCEnumDescriptor *ed)
{
    size_t o = 0;
    for (unsigned i = 0; i < ed->n_values && o + 1 < n; i++) {
        const char *name = ed->values[i].name;
        if (ends_with(name, "UNSPECIFIED"))
            continue;
        int w = snprintf(buf + o, n - o, "%s", o ? "|" : "");
        o += (size_t)w < n - o ? (size_t)w : n - o - 1;
        for (const char *p = name; *p && o + 1 < n; p++)
            buf[o++] = (char)tolower((unsigned char)*p);
        buf[o] = '\0';
    }
}

static void leaf_help(fs_leaf *l)
{
    static const char *const what[] = {
        [FS_LEAF_STRING] = "text",
        [FS_LEAF_DATE] = "date YYYY-MM-DD (or today, tomorrow, +N days)",
        [FS_LEAF_INT] = "integer",
        [FS_LEAF_UINT] = "integer >= 0",
        [FS_LEAF_TIME] = "time: YYYY-MM-DD HH:MM local (or with Z, +HH:MM) or Unix seconds",
        [FS_LEAF_BOOL] = "true or false",
        [FS_LEAF_ENUM] = "one of ",
        [FS_LEAF_MONEY] = "amount and currency, e.g. \"1250.00 EUR\"",
        [FS_LEAF_PHONES] = "[office|mobile|fax|home:]NUMBER, repeatable",
        [FS_LEAF_JSON] = "JSON array of objects",
    };
    int w = snprintf(
        l->help, sizeof(l->help), "%s%s", what[l->type],
        l->repeated && l->type != FS_LEAF_PHONES && l->type != FS_LEAF_JSON ? " (repeatable)" : "");
    if (l->type == FS_LEAF_ENUM && w > 0 && (size_t)w < sizeof(l->help))
        enum_help(l->help + w, sizeof(l->help) - (size_t)w, l->fd->descriptor);
}

static int add_leaf(fs_fields *f, const char *path, const ProtobufCFieldDescriptor *fd,
                    fs_leaf_type type, bool repeated)
{
    if (f->n >= FS_FIELDS_MAX)
        return -1;
    fs_leaf *l = &f->leaves[f->n++];
    memset(l, 0, sizeof(*l));
    snprintf(l->path, sizeof(l->path), "%s", path);
    snprintf(l->flag, sizeof(l->flag), "%s", path);
    for (char *p = l->flag; *p; p++)
        if (*p == '.' || *p == '_')
            *p = '-';
    l->fd = fd;
    l->type = type;
    l->repeated = repeated;
    l->csv = true;
    leaf_help(l);
    return 0;
}

static int add_phones(fs_fields *f, const char *path, const ProtobufCFieldDescriptor *fd)
{
    static const char *const kinds[][2] = {
        {"phone", "office"}, {"mobile", "mobile"}, {"fax", "fax"}};
    for (size_t i = 0; i < 3; i++) {
        if (add_leaf(f, path, fd, FS_LEAF_PHONES, true) != 0)
            return -1;
        fs_leaf *l = &f->leaves[f->n - 1];
        snprintf(l->flag, sizeof(l->flag), "%s", kinds[i][0]);
        l->phone_kind = kinds[i][1];
        l->csv = i == 0;
        if (i > 0)
            snprintf(l->help, sizeof(l->help), "a %s number, repeatable", kinds[i][1]);
    }
    return 0;
}

static int walk(fs_fields *f, const ProtobufCMessageDescriptor *d, const char *prefix, int depth)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (depth == 0 && fd->id == 1)
            continue; /* id: named by the command's ID argument */
        char path[FS_LEAF_NAME_MAX];
        snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", fd->name);
        bool rep = fd->label == PROTOBUF_C_LABEL_REPEATED;
        int rc;
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            rc = add_leaf(f, path, fd, scalar_type(fd), rep);
        else if (fd->descriptor == &fieldsync__phone__descriptor && rep)
            rc = add_phones(f, path, fd);
        else if (rep)
            rc = add_leaf(f, path, fd, FS_LEAF_JSON, true);
        else if (fd->descriptor == &fieldsync__money__descriptor)
            rc = add_leaf(f, path, fd, FS_LEAF_MONEY, false);
        else if (depth >= 3)
            rc = add_leaf(f, path, fd, FS_LEAF_JSON, false);
        else
            rc = walk(f, fd->descriptor, path, depth + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const char *last_part(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* Short names for nested leaves whose last path part no other leaf uses. */
static void assign_aliases(fs_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        fs_leaf *l = &f->leaves[i];
        if (strchr(l->path, '.') == NULL || l->type == FS_LEAF_PHONES)
            continue;
        const char *base = last_part(l->path);
        bool unique = true;
        for (size_t j = 0; j < f->n && unique; j++) {
            if (j == i)
                continue;
            const char *other = last_part(f->leaves[j].path);
            unique = strcmp(other, base) != 0;
        }
        if (!unique)
            continue;
        snprintf(l->alias, sizeof(l->alias), "%s", base);
        for (char *p = l->alias; *p; p++)
            if (*p == '_')
                *p = '-';
    }
}

int fs_fields_init(fs_fields *f, const fs_kind_info *kind)
{
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    if (walk(f, kind->desc, "", 0) != 0)
        return -1;
    assign_aliases(f);
    return 0;
}

/* Compares names ignoring case and treating '-', '_', ' ' alike. */
static bool name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);
        if (x == '-' || x == ' ')
            x = '_';
        if (y == '-' || y == ' ')
            y = '_';
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

const fs_leaf *fs_fields_find(const fs_fields *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++) {
        const fs_leaf *l = &f->leaves[i];
        if (name_eq(name, l->flag) || (l->alias[0] && name_eq(name, l->alias)))
            return l;
    }
    for (size_t i = 0; i < f->n; i++) /* dotted paths ("address.city") */
        if (strcmp(name, f->leaves[i].path) == 0)
            return &f->leaves[i];
    return NULL;
}

json_t *fs_json_path(const json_t *obj, const char *path)
{
    char part[FS_LEAF_NAME_MAX];
    const json_t *cur = obj;
    while (cur != NULL && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        cur = json_object_get(cur, part);
        path += n + (dot != NULL);
    }
    return (json_t *)cur;
}

int fs_fields_apply(json_t *record, const fs_leaf *l, json_t *value)
{
    char part[FS_LEAF_NAME_MAX];
    const char *path = l->path;
    json_t *cur = record;
    for (const char *dot; (dot = strchr(path, '.')) != NULL; path = dot + 1) {
        size_t n = (size_t)(dot - path);
        memcpy(part, path, n);
        part[n] = '\0';
        json_t *next = json_object_get(cur, part);
        if (!json_is_object(next)) {
            next = json_object();
            if (json_object_set_new(cur, part, next) != 0)
                goto fail;
        }
        cur = next;
    }
    json_t *old = json_object_get(cur, path);
    if (l->repeated && json_is_array(old) && json_is_array(value)) {
        int rc = json_array_extend(old, value);
        json_decref(value);
        return rc;
    }
    return json_object_set_new(cur, path, value);
fail:
    json_decref(value);
    return -1;
}
