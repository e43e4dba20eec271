/*
 * search.c: full-text search over the FTS5 index, and the records in conflict
 * (follow-ups due: followups.c).
 *
 * Search input from the UI is words, not FTS5 syntax: each word becomes a quoted
 * prefix term, so "O'Brien" or "acme-gmbh" never fail as syntax. Raw FTS5 is
 * available for the CLI's power users with FS_SEARCH_RAW.
 */
#include "store_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_LIMIT_MAX 1000
#define SEARCH_QUERY_MAX 1024

/* Hits with the account each belongs to: an account is its own, a contact's
 * or a visit's is its account_id, looked up by (kind, id) for its name. */
const char fs_store_search_sql[] =
    "SELECT r.kind, r.id, snippet(search, -1, '[', ']', '...', 12), search.name, "
    "coalesce(a.id, c.account_id, v.account_id), coalesce(a.name, pa.name) "
    "FROM search JOIN records r ON r.rid = search.rowid "
    "LEFT JOIN accounts a ON a.rid = r.rid "
    "LEFT JOIN contacts c ON c.rid = r.rid "
    "LEFT JOIN visits v ON v.rid = r.rid "
    "LEFT JOIN records pr ON pr.kind = 1 AND pr.id = coalesce(c.account_id, v.account_id) "
    "LEFT JOIN accounts pa ON pa.rid = pr.rid "
    "WHERE search MATCH ?1 ORDER BY rank LIMIT ?2";

const char fs_store_conflicts_sql[] =
    "SELECT kind, id FROM records WHERE has_conflict ORDER BY kind, id LIMIT ?1";

/* Words -> "word"* "word2"* (implicit AND); quotes inside a word are doubled. */
static int fts_words(const char *in, char *out, size_t size, fs_err *err)
{
    size_t o = 0;
    const char *p = in;
    while (*p != '\0') {
        while (*p != '\0' && isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        if (o + 2 >= size)
            goto too_long;
        if (o > 0)
            out[o++] = ' ';
        out[o++] = '"';
        for (; *p != '\0' && !isspace((unsigned char)*p); p++) {
            if (o + 4 >= size)
                goto too_long;
            if (*p == '"')
                out[o++] = '"';
            out[o++] = *p;
        }
        out[o++] = '"';
        out[o++] = '*';
    }
    out[o] = '\0';
    return 0;
too_long:
    return fs_err_set(err, FS_ETOOBIG, "search query longer than %d bytes", SEARCH_QUERY_MAX / 2);
}

void fs_search_hits_free(fs_search_hit *hits, size_t n)
{
    for (size_t i = 0; hits != NULL && i < n; i++) {
        free(hits[i].id);
        free(hits[i].snippet);
        free(hits[i].name);
        free(hits[i].account_id);
        free(hits[i].account_name);
    }
    free(hits);
}

/* A text column as a copy, NULL for NULL or "". *oom when a copy failed. */
static char *column_text(sqlite3_stmt *s, int col, bool *oom)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    if (t == NULL || t[0] == '\0')
        return NULL;
    char *copy = fs_store_strdup(t);
    *oom |= copy == NULL;
    return copy;
}

static int search_rows(fs_store *st, sqlite3_stmt *s, size_t limit, fs_search_hit *hits, size_t *n,
                       fs_err *err)
{
    int step;
    while (*n < limit && (step = sqlite3_step(s)) == SQLITE_ROW) {
        fs_search_hit *h = &hits[(*n)++];
        bool oom = false;
        h->kind = (fs_kind)sqlite3_column_int(s, 0);
        h->id = fs_store_strdup((const char *)sqlite3_column_text(s, 1));
        h->snippet = fs_store_strdup((const char *)sqlite3_column_text(s, 2));
        h->name = column_text(s, 3, &oom);
        h->account_id = column_text(s, 4, &oom);
        h->account_name = column_text(s, 5, &oom);
        if (h->id == NULL || h->snippet == NULL || oom)
            return fs_err_set(err, FS_ENOMEM, "search: out of memory");
    }
    if (*n == limit || step == SQLITE_DONE)
        return 0;
    if ((step & 0xff) == SQLITE_ERROR) /* FTS5 reports query syntax errors here */
        return fs_err_set(err, FS_EINVAL, "search query not understood: %s",
                          sqlite3_errmsg(st->db));
    return fs_store_sqlerr(st, step, err, "searching");
}

int fs_store_search(fs_store *st, const char *query, unsigned flags, size_t limit,
                    fs_search_hit **hits, size_t *n, fs_err *err)
{
    char words[SEARCH_QUERY_MAX];
    sqlite3_stmt *s = NULL;
    *hits = NULL;
    *n = 0;
    if (query == NULL)
        return fs_err_set(err, FS_EINVAL, "search without a query");
    if (limit == 0 || limit > SEARCH_LIMIT_MAX)
        limit = SEARCH_LIMIT_MAX;
    int rc = (flags & FS_SEARCH_RAW) ? 0 : fts_words(query, words, sizeof(words), err);
    if (rc != 0)
        return rc;
    const char *match = (flags & FS_SEARCH_RAW) ? query : words;
    if (match[0] == '\0')
        return 0; /* no words: nothing matches */
    rc = fs_store_prepare(st, fs_store_search_sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    *hits = calloc(limit, sizeof(**hits));
    rc = *hits == NULL ? fs_err_set(err, FS_ENOMEM, "search: out of memory")
                       : search_rows(st, s, limit, *hits, n, err);
    fs_store_finish(st, s);
    if (rc != 0) {
        fs_search_hits_free(*hits, *n);
        *hits = NULL;
        *n = 0;
    }
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Records in conflict */

void fs_refs_free(fs_ref *refs, size_t n)
{
    for (size_t i = 0; refs != NULL && i < n; i++)
        free(refs[i].id);
    free(refs);
}

int fs_store_conflicts(fs_store *st, size_t limit, fs_ref **out, size_t *n, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *out = NULL;
    *n = 0;
    if (limit == 0 || limit > SEARCH_LIMIT_MAX)
        limit = SEARCH_LIMIT_MAX;
    int rc = fs_store_prepare(st, fs_store_conflicts_sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)limit);
    *out = calloc(limit, sizeof(**out));
    if (*out == NULL)
        rc = fs_err_set(err, FS_ENOMEM, "conflicts: out of memory");
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        fs_ref *r = &(*out)[(*n)++];
        r->kind = (fs_kind)sqlite3_column_int(s, 0);
        r->id = fs_store_strdup((const char *)sqlite3_column_text(s, 1));
        if (r->id == NULL)
            rc = fs_err_set(err, FS_ENOMEM, "conflicts: out of memory");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "listing conflicts");
    fs_store_finish(st, s);
    if (rc != 0) {
        fs_refs_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
