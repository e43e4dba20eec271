/*
 * check.c: fs_store_check, the integrity check behind `fieldsync check` and the
 * socket's `check`: every page of the database file must open with the store's
 * key (fs_vfs_check_pages), and PRAGMA integrity_check, which reads every page
 * in use in its newest version (from the WAL when it is there) through the same
 * cipher, must find the b-trees and indexes consistent. Both run in one read
 * transaction, so no checkpoint moves pages under them. Last, every index a
 * new store of this version has must be there: an initial load drops the
 * projection indexes and builds them at its end (load.c), so a store left
 * without them, outside a load, is a finding (a lost marker). And the search
 * index must hold exactly the tokens of the records it lists (FTS5's
 * integrity-check, a command sent as an INSERT: the transaction becomes a
 * write one, which writes nothing and is rolled back).
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/vfs.h"

/* integrity_check stops after this many findings; the report keeps fewer. */
#define FS_STORE_CHECK_SQL "PRAGMA integrity_check(100)"

static void add_problem(void *arg, const char *msg)
{
    fs_check_report *r = arg;
    if (r->nkept < FS_STORE_CHECK_KEPT) {
        char *copy = fs_store_strdup(msg);
        if (copy != NULL)
            r->problems[r->nkept++] = copy;
    }
    r->nproblems++;
}

/* A failed step of a check: a page that cannot be read (or damage SQLite
 * sees) is a finding, anything else the check's error. */
static int step_failed(fs_store *st, int step, const char *what, fs_check_report *r, fs_err *err)
{
    fs_err why;
    fs_store_sqlerr(st, step, &why, what);
    if (why.code != FS_ECORRUPT && why.code != FS_EIO)
        return fs_err_set(err, why.code, "%s", fs_err_message(&why));
    add_problem(r, fs_err_message(&why));
    return 0;
}

/* PRAGMA integrity_check's findings; a page it cannot read is one of them. */
static int check_btrees(fs_store *st, fs_check_report *r, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, FS_STORE_CHECK_SQL, &s, err);
    if (rc != 0)
        return rc;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *msg = (const char *)sqlite3_column_text(s, 0);
        if (msg != NULL && strcmp(msg, "ok") != 0)
            add_problem(r, msg);
    }
    if (step != SQLITE_DONE)
        rc = step_failed(st, step, "integrity check", r, err);
    fs_store_finish(st, s);
    return rc;
}

/* Whether the store has an index of that name. */
static int has_index(fs_store *st, const char *name, bool *found, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = fs_store_prepare(st, "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?",
                              &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    *found = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "looking for an index");
    fs_store_finish(st, s);
    return rc;
}

/* Every index of the reference schema is in the store, unless an initial load
 * goes on (its marker names those it builds at its end). */
static int check_indexes(fs_store *st, fs_check_report *r, fs_err *err)
{
    sqlite3 *ref = NULL;
    sqlite3_stmt *s = NULL;
    char msg[160];
    if (st->loading)
        return 0;
    int rc = fs_store_schema_reference(&ref, err);
    if (rc != 0)
        return rc;
    if (sqlite3_prepare_v2(ref,
                           "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS "
                           "NOT NULL ORDER BY name",
                           -1, &s, NULL) != SQLITE_OK)
        rc = fs_err_set(err, FS_ENOMEM, "listing the reference schema's indexes: %s",
                        sqlite3_errmsg(ref));
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        bool found = false;
        rc = has_index(st, name, &found, err);
        if (rc == 0 && !found) {
            snprintf(msg, sizeof(msg),
                     "index %s is missing: lists and reports are complete but slower; report "
                     "this as a fieldsync bug",
                     name);
            add_problem(r, msg);
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(ref);
    return rc;
}

/* FTS5's integrity-check: the index holds the tokens of the text its content
 * view gives for every indexed record (schema.c, version 7), and only those. */
static int check_search(fs_store *st, fs_check_report *r, fs_err *err)
{
    int rc = sqlite3_exec(st->db, "INSERT INTO search(search, rank) VALUES('integrity-check', 1)",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    if (sqlite3_extended_errcode(st->db) != SQLITE_CORRUPT_VTAB)
        return step_failed(st, rc, "checking the search index", r, err);
    add_problem(r, "the search index does not match the records: search may miss or show wrong "
                   "hits; report this as a fieldsync bug");
    return 0;
}

int fs_store_check(fs_store *st, fs_check_report *r, fs_err *err)
{
    memset(r, 0, sizeof(*r));
    int rc = fs_store_load_flush(st, err);
    if (rc == 0)
        rc = fs_store_exec(st, "BEGIN; SELECT count(*) FROM sqlite_schema", err);
    if (rc != 0)
        return rc;
    rc = fs_vfs_check_pages(st->db, &r->pages, add_problem, r, err);
    if (rc == 0)
        rc = check_btrees(st, r, err);
    if (rc == 0)
        rc = check_indexes(st, r, err);
    if (rc == 0)
        rc = check_search(st, r, err);
    fs_store_rollback(st);
    if (rc != 0)
        fs_check_report_clear(r);
    return rc;
}

void fs_check_report_clear(fs_check_report *r)
{
    for (size_t i = 0; i < r->nkept; i++)
        free(r->problems[i]);
    memset(r, 0, sizeof(*r));
}
