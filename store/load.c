/*
 * load.c: the initial load, a pull into an empty store taken in bulk
 * (store.md, "Initial load").
 *
 * An empty store that pulls from the start drops its projection indexes and
 * applies pulled pages several to a transaction; the indexes are built once,
 * sorted, when the pull ends. Built page by page, their random keys dirtied
 * most of their leaf pages in every page's transaction.
 *
 * The marker is what makes this safe. fs_store_load_begin drops the indexes
 * and writes their CREATE statements to sync_meta's initial_load in one
 * transaction; fs_store_load_finish builds them and deletes the key in one
 * transaction. While the key exists the store is loading, also after a crash:
 * the pages committed so far are whole pages with their position (each page
 * is a savepoint, and a batch commits them with the last page's position), so
 * the next run goes on from that position, still in bulk, and builds the
 * indexes at its end. The store is never without its indexes unless the
 * marker says which ones to build. An upgrade that finds the marker builds
 * them before migrating, since a migration may expect them.
 *
 * The open batch transaction spans pages, and the event loop runs between
 * them: anything else that writes a transaction of its own (fs_store_begin:
 * local changes, the outbox), maintenance, a check, a rekey and closing
 * commit the batch first. Single statements run meanwhile (a sync_meta value)
 * commit with the batch. Reads on the connection see the batch's records.
 * Crash point (crash.h): store.load.committed, after each batch's commit.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/crash.h"

/* The sync_meta key of the marker: the indexes to build, as SQL. */
#define FS_META_INITIAL_LOAD "initial_load"

/* The indexes an initial load does without: those of the projection tables,
 * which every pulled record writes (records' own keep their unique key). */
static const char load_indexes_sql[] =
    "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name "
    "IN ('accounts', 'contacts', 'visits', 'opportunities', 'transactions') ORDER BY name";

/* Appends each index's CREATE statement to *sql and drops the index. */
static int drop_indexes(fs_store *st, char **sql, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    size_t len = 0;
    char drop[160];
    int rc = fs_store_prepare(st, load_indexes_sql, &s, err);
    if (rc != 0)
        return rc;
    char **names = NULL;
    size_t n = 0;
    int step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        const char *create = (const char *)sqlite3_column_text(s, 1);
        size_t add = strlen(create) + 2;
        char *grown = realloc(*sql, len + add + 1);
        char **more = realloc(names, (n + 1) * sizeof(*names));
        if (grown != NULL)
            *sql = grown;
        if (more != NULL)
            names = more;
        if (grown == NULL || more == NULL || (names[n] = fs_store_strdup(name)) == NULL) {
            rc = fs_err_set(err, FS_ENOMEM, "beginning an initial load: out of memory");
            break;
        }
        n++;
        memcpy(*sql + len, create, add - 2);
        memcpy(*sql + len + add - 2, ";\n", 3);
        len += add;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "listing the indexes");
    fs_store_finish(st, s);
    for (size_t i = 0; i < n; i++) {
        snprintf(drop, sizeof(drop), "DROP INDEX \"%s\"", names[i]);
        if (rc == 0)
            rc = fs_store_exec(st, drop, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Whether the store holds no record at all. */
static int store_empty(fs_store *st, bool *empty, fs_err *err)
{
    bool any = false;
    int rc =
        fs_store_has_row(st, "SELECT 1 FROM records LIMIT 1", 0, &any, "looking for records", err);
    *empty = rc == 0 && !any;
    return rc;
}

int fs_store_load_begin(fs_store *st, fs_err *err)
{
    char *sql = NULL;
    bool empty = false;
    if (st->loading)
        return 0;
    int rc = fs_store_begin(st, err);
    if (rc == 0)
        rc = store_empty(st, &empty, err);
    if (rc == 0 && empty)
        rc = drop_indexes(st, &sql, err);
    if (rc == 0 && empty)
        rc = fs_store_meta_set(st, FS_META_INITIAL_LOAD, sql != NULL ? sql : "",
                               sql != NULL ? strlen(sql) : 0, err);
    if (rc == 0)
        rc = fs_store_commit(st, err);
    else
        fs_store_rollback(st);
    free(sql);
    st->loading = rc == 0 && empty;
    return rc;
}

int fs_store_load_flush(fs_store *st, fs_err *err)
{
    if (!st->bulk_open)
        return 0;
    st->bulk_open = false;
    st->bulk_states = 0;
    int rc = fs_store_end_unflushed(st, 0, err);
    if (rc == 0)
        fs_crash_point("store.load.committed");
    return rc;
}

/* Builds the indexes the marker names and deletes it, in one transaction. */
static int build_indexes(fs_store *st, fs_err *err)
{
    uint8_t *sql = NULL;
    size_t len = 0;
    int rc = fs_store_meta_get(st, FS_META_INITIAL_LOAD, &sql, &len, err);
    if (rc == 0)
        rc = fs_store_begin(st, err);
    else
        return rc;
    if (rc == 0 && len > 0)
        rc = fs_store_exec(st, (const char *)sql, err);
    if (rc == 0)
        rc = fs_store_meta_delete(st, FS_META_INITIAL_LOAD, err);
    if (rc == 0)
        rc = fs_store_commit(st, err);
    else
        fs_store_rollback(st);
    free(sql);
    return rc;
}

int fs_store_load_finish(fs_store *st, fs_err *err)
{
    if (!st->loading)
        return 0;
    int rc = build_indexes(st, err);
    if (rc == 0)
        st->loading = false;
    return rc;
}

bool fs_store_loading(const fs_store *st)
{
    return st->loading;
}

void fs_store_set_load_batch(fs_store *st, size_t states)
{
    st->load_batch = states;
}

int fs_store_load_resume(fs_store *st, bool migrating, fs_err *err)
{
    uint8_t *sql = NULL;
    size_t len = 0;
    int rc = fs_store_meta_get(st, FS_META_INITIAL_LOAD, &sql, &len, err);
    free(sql);
    if (rc == FS_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    st->loading = true;
    return migrating ? fs_store_load_finish(st, err) : 0;
}

int fs_store_load_page(fs_store *st, fs_store_page_fn apply, void *ctx, size_t nstates, fs_err *err)
{
    int rc = 0;
    /* a batch of pulled pages commits unflushed, as one page does (remote.c) */
    if (!st->bulk_open && (rc = fs_store_begin_unflushed(st, err)) == 0)
        st->bulk_open = true;
    if (rc == 0)
        rc = fs_store_exec(st, "SAVEPOINT page", err);
    if (rc != 0)
        return rc;
    rc = apply(st, ctx, err);
    if (rc != 0) {
        /* the batch's earlier pages stay, with their position */
        sqlite3_exec(st->db, "ROLLBACK TO page; RELEASE page", NULL, NULL, NULL);
        return rc;
    }
    rc = fs_store_exec(st, "RELEASE page", err);
    st->bulk_states += nstates;
    if (rc == 0 && st->bulk_states >= (st->load_batch ? st->load_batch : FS_STORE_LOAD_BATCH))
        rc = fs_store_load_flush(st, err);
    return rc;
}
