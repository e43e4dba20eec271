/*
 * query.c: the reads the UI plans a day from: keyset-paginated lists per kind
 * (search, follow-ups and conflicts are in search.c, what reports count in
 * report.c).
 *
 * Every query here is shaped to run on an index of schema.c (the unit tests
 * check each plan with EXPLAIN QUERY PLAN): a list filters on an index's leading
 * column and sorts on the columns after it, and continues from a cursor with a
 * row-value comparison on (sort key, id) rather than an OFFSET, so page 500 costs
 * what page 1 does.
 */
#include "store_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_TIER = 1, F_STAGE = 2, F_OWNER = 4, F_CITY = 8, F_ACCOUNT = 16 };

typedef struct list_spec {
    const char *table;
    const char *sort; /* sort column, then id */
    bool text_sort;
    unsigned filters;
} list_spec;

static const list_spec specs[] = {
    [FIELDSYNC__RECORD_KIND__ACCOUNT] = {"accounts", "name", true,
                                         F_TIER | F_STAGE | F_OWNER | F_CITY},
    [FIELDSYNC__RECORD_KIND__CONTACT] = {"contacts", "name", true, F_ACCOUNT},
    [FIELDSYNC__RECORD_KIND__VISIT] = {"visits", "planned_at", false, F_ACCOUNT},
    [FIELDSYNC__RECORD_KIND__OPPORTUNITY] = {"opportunities", "stage_entered_date", true,
                                             F_STAGE | F_ACCOUNT},
    [FIELDSYNC__RECORD_KIND__TRANSACTION] = {"transactions", "date", true, F_ACCOUNT},
};

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 1000

static unsigned used_filters(const fs_list_query *q)
{
    return (q->tier ? F_TIER : 0) | (q->stage ? F_STAGE : 0) | (q->owner ? F_OWNER : 0) |
           (q->city ? F_CITY : 0) | (q->account_id ? F_ACCOUNT : 0);
}

int fs_store_list_sql(const fs_list_query *q, char *sql, size_t size, fs_err *err)
{
    if (q->kind < FS_KIND_MIN || q->kind > FS_KIND_MAX)
        return fs_err_set(err, FS_EINVAL, "cannot list records of kind %d", (int)q->kind);
    const list_spec *sp = &specs[q->kind];
    unsigned used = used_filters(q);
    if (used & ~sp->filters)
        return fs_err_set(err, FS_EINVAL, "a filter given does not apply to %s",
                          fs_kind_name(q->kind));
    const char *dir = q->descending ? "DESC" : "ASC";
    char after[128] = "";
    if (q->cursor != NULL)
        snprintf(after, sizeof(after), " AND (p.%s, p.id) %s (?7, ?8)", sp->sort,
                 q->descending ? "<" : ">");
    int n = snprintf(sql, size,
                     "SELECT p.id, r.state, p.%s FROM %s p JOIN records r ON r.rid = p.rid "
                     "WHERE 1%s%s%s%s%s%s ORDER BY p.%s %s, p.id %s LIMIT ?6",
                     sp->sort, sp->table, (used & F_TIER) ? " AND p.tier = ?1" : "",
                     (used & F_STAGE) ? " AND p.stage = ?2" : "",
                     (used & F_OWNER) ? " AND p.owner = ?3" : "",
                     (used & F_CITY) ? " AND p.city = ?4" : "",
                     (used & F_ACCOUNT) ? " AND p.account_id = ?5" : "", after, sp->sort, dir, dir);
    if (n < 0 || (size_t)n >= size)
        return fs_err_set(err, FS_ETOOBIG, "list query too long");
    return 0;
}

/* Cursor: hex of "<type><sort key>\0<id>", type 'i' (integer) or 's' (text), as
 * long as the key and id are (a name may take up to FS_RECORD_TEXT_MAX bytes).
 * Neither holds a NUL (ids are refused with one, text projects as C strings), so
 * the NUL splits them whatever else they contain. */
static char *cursor_make(sqlite3_stmt *s, bool text_sort)
{
    char num[24];
    const char *key = num, *id = (const char *)sqlite3_column_text(s, 0);
    size_t keylen;
    if (text_sort) {
        key = (const char *)sqlite3_column_text(s, 2);
        keylen = (size_t)sqlite3_column_bytes(s, 2);
    } else {
        keylen = (size_t)snprintf(num, sizeof(num), "%lld", (long long)sqlite3_column_int64(s, 2));
    }
    size_t idlen = (size_t)sqlite3_column_bytes(s, 0), n = keylen + idlen + 2;
    char *raw = malloc(n), *hex = malloc(2 * n + 1);
    if (raw != NULL && hex != NULL && key != NULL && id != NULL) {
        raw[0] = text_sort ? 's' : 'i';
        memcpy(raw + 1, key, keylen);
        raw[1 + keylen] = '\0';
        memcpy(raw + 2 + keylen, id, idlen);
        sodium_bin2hex(hex, 2 * n + 1, (const unsigned char *)raw, n);
    } else {
        free(hex);
        hex = NULL;
    }
    free(raw);
    return hex;
}

/* Binds a cursor's sort key and id as ?7 and ?8; *raw (malloc'd, the caller frees
 * it) must outlive the statement. */
static int cursor_bind(sqlite3_stmt *s, const char *cursor, bool text_sort, char **raw, fs_err *err)
{
    size_t len = 0, hexlen = strlen(cursor);
    char *r = *raw = malloc(hexlen / 2 + 1);
    if (r == NULL)
        return fs_err_set(err, FS_ENOMEM, "listing records: out of memory");
    if (sodium_hex2bin((unsigned char *)r, hexlen / 2, cursor, hexlen, NULL, &len, NULL) != 0)
        goto bad;
    r[len] = '\0';
    char *sep = r + strnlen(r, len);
    if (sep == r + len || r[0] != (text_sort ? 's' : 'i') ||
        strlen(sep + 1) != len - (size_t)(sep + 1 - r))
        goto bad;
    if (text_sort) {
        sqlite3_bind_text(s, 7, r + 1, -1, SQLITE_STATIC);
    } else {
        char *end = NULL;
        long long v = strtoll(r + 1, &end, 10);
        if (end != sep)
            goto bad;
        sqlite3_bind_int64(s, 7, v);
    }
    sqlite3_bind_text(s, 8, sep + 1, -1, SQLITE_STATIC);
    return 0;
bad:
    return fs_err_set(err, FS_EINVAL, "invalid list cursor: start again from the first page");
}

static void bind_filters(sqlite3_stmt *s, const fs_list_query *q, size_t limit)
{
    sqlite3_bind_int(s, 1, q->tier);
    sqlite3_bind_int(s, 2, q->stage);
    sqlite3_bind_text(s, 3, q->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, q->city, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, q->account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)limit + 1); /* one more: is there a next page? */
}

/* One row of a page. A state that does not read (a damaged row) makes an item
 * that says why, not a failed page: the rest of the list stays reachable. */
static int read_item(sqlite3_stmt *s, fs_list_item *item, fs_err *err)
{
    fs_state *state = NULL;
    fs_err why = {0};
    item->id = fs_store_strdup((const char *)sqlite3_column_text(s, 0));
    if (item->id == NULL)
        return fs_err_set(err, FS_ENOMEM, "listing records: out of memory");
    int rc = fs_state_decode_stored(&state, sqlite3_column_blob(s, 1),
                                    (size_t)sqlite3_column_bytes(s, 1), &why);
    if (rc == 0)
        rc = fs_record_visible(state, &item->msg, &why);
    fs_state_free(state);
    if (rc == FS_ENOMEM)
        return fs_err_set(err, rc, "listing records: out of memory");
    if (rc != 0 && (item->damaged = fs_store_strdup(fs_err_message(&why))) == NULL)
        return fs_err_set(err, FS_ENOMEM, "listing records: out of memory");
    return 0;
}

void fs_list_page_clear(fs_list_page *page)
{
    if (page == NULL)
        return;
    for (size_t i = 0; i < page->n; i++) {
        free(page->items[i].id);
        free(page->items[i].damaged);
        if (page->items[i].msg != NULL)
            protobuf_c_message_free_unpacked(page->items[i].msg, NULL);
    }
    free(page->items);
    free(page->next_cursor);
    memset(page, 0, sizeof(*page));
}

static int list_rows(sqlite3_stmt *s, const fs_list_query *q, size_t limit, fs_list_page *page,
                     fs_err *err)
{
    int step, rc = 0;
    page->items = calloc(limit, sizeof(*page->items));
    if (page->items == NULL)
        return fs_err_set(err, FS_ENOMEM, "listing records: out of memory");
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (page->n == limit) { /* the extra row: there is a next page */
            sqlite3_reset(s);
            return 0;
        }
        if ((rc = read_item(s, &page->items[page->n++], err)) != 0)
            return rc;
        free(page->next_cursor);
        page->next_cursor = cursor_make(s, specs[q->kind].text_sort);
        if (page->next_cursor == NULL)
            return fs_err_set(err, FS_ENOMEM, "listing records: cannot make a cursor");
    }
    free(page->next_cursor); /* reached the end: no next page */
    page->next_cursor = NULL;
    return step == SQLITE_DONE ? 0 : FS_EIO;
}

int fs_store_list(fs_store *st, const fs_list_query *q, fs_list_page *page, fs_err *err)
{
    char sql[1024], *raw = NULL;
    sqlite3_stmt *s = NULL;
    memset(page, 0, sizeof(*page));
    size_t limit = q->limit == 0 ? LIST_LIMIT_DEFAULT : q->limit;
    if (limit > LIST_LIMIT_MAX)
        limit = LIST_LIMIT_MAX;
    int rc = fs_store_list_sql(q, sql, sizeof(sql), err);
    if (rc == 0)
        rc = fs_store_prepare(st, sql, &s, err);
    if (rc != 0)
        return rc;
    bind_filters(s, q, limit);
    if (q->cursor != NULL)
        rc = cursor_bind(s, q->cursor, specs[q->kind].text_sort, &raw, err);
    if (rc == 0 && (rc = list_rows(s, q, limit, page, err)) == FS_EIO)
        rc = fs_store_sqlerr(st, sqlite3_errcode(st->db), err, "listing records");
    fs_store_finish(st, s);
    free(raw);
    if (rc != 0)
        fs_list_page_clear(page);
    return rc;
}
