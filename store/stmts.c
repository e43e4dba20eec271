/*
 * stmts.c: the store's prepared-statement cache, and fs_store_has_row on top of it.
 *
 * A pulled record ran eight statements, each prepared and finalized again, and
 * parsing took about a third of a pull's time in the store. fs_store_prepare now hands out a cached
 * statement for the same SQL text and fs_store_finish gives it back reset, with
 * its bindings cleared (so no pointer bound with SQLITE_STATIC outlives the
 * call). A statement is lent to one caller at a time: asking for SQL whose
 * statement is out (a query run while iterating the same query) prepares a
 * private one, finalized by fs_store_finish. Statements survive schema changes
 * (SQLite re-prepares them) but not the connection: fs_store_stmts_clear runs
 * before every close.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static uint32_t sql_hash(const char *sql)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static int lend(fs_store_stmt *c, sqlite3_stmt **stmt)
{
    c->lent = true;
    *stmt = c->stmt;
    return 0;
}

int fs_store_prepare(fs_store *st, const char *sql, sqlite3_stmt **stmt, fs_err *err)
{
    *stmt = NULL;
    if (st->db == NULL) /* a failed rekey could not reopen it */
        return fs_err_set(err, FS_ESTATE, "%s is not open: close the store and open it again",
                          st->path);
    /* Callers pass string literals: the same pointer is the same statement,
     * found without hashing the text (compared still, since a buffer that
     * held other SQL may come back at the same address). */
    for (size_t i = 0; i < FS_STORE_STMTS; i++) {
        fs_store_stmt *c = &st->stmts[i];
        if (c->sql == sql && c->stmt != NULL && !c->lent && strcmp(sqlite3_sql(c->stmt), sql) == 0)
            return lend(c, stmt);
    }
    uint32_t h = sql_hash(sql);
    fs_store_stmt *free_slot = NULL;
    for (size_t i = 0; i < FS_STORE_STMTS; i++) {
        fs_store_stmt *c = &st->stmts[i];
        if (c->stmt == NULL) {
            free_slot = free_slot != NULL ? free_slot : c;
            continue;
        }
        if (c->hash == h && !c->lent && strcmp(sqlite3_sql(c->stmt), sql) == 0) {
            c->sql = sql;
            return lend(c, stmt);
        }
    }
    int rc = sqlite3_prepare_v3(st->db, sql, -1, free_slot != NULL ? SQLITE_PREPARE_PERSISTENT : 0,
                                stmt, NULL);
    if (rc != SQLITE_OK)
        return fs_store_sqlerr(st, rc, err, "preparing a store query");
    if (free_slot != NULL && *stmt != NULL) {
        free_slot->stmt = *stmt;
        free_slot->sql = sql;
        free_slot->hash = h;
        free_slot->lent = true;
    }
    return 0;
}

void fs_store_finish(fs_store *st, sqlite3_stmt *stmt)
{
    if (stmt == NULL)
        return;
    for (size_t i = 0; i < FS_STORE_STMTS; i++) {
        fs_store_stmt *c = &st->stmts[i];
        if (c->stmt == stmt) {
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            c->lent = false;
            return;
        }
    }
    sqlite3_finalize(stmt);
}

void fs_store_stmts_clear(fs_store *st)
{
    for (size_t i = 0; i < FS_STORE_STMTS; i++) {
        sqlite3_finalize(st->stmts[i].stmt);
        memset(&st->stmts[i], 0, sizeof(st->stmts[i]));
    }
}

int fs_store_has_row(fs_store *st, const char *sql, int64_t id, bool *yes, const char *what,
                     fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *yes = false;
    int rc = fs_store_prepare(st, sql, &s, err);
    if (rc != 0)
        return rc;
    if (sqlite3_bind_parameter_count(s) > 0)
        sqlite3_bind_int64(s, 1, id);
    int step = sqlite3_step(s);
    *yes = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, what);
    fs_store_finish(st, s);
    return rc;
}
