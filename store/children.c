/*
 * children.c: the records under an account (its contacts, visits,
 * opportunities and transactions), and deleting an account with them.
 *
 * Deleting an account used to leave its children behind, listed under an
 * account that no longer shows. fs_store_delete_account refuses while the
 * account has visible children, or, with cascade, deletes them and the
 * account in one transaction: every delete is an ordinary local write with its
 * own outbox entry, so the server and the rep's other devices see the same
 * deletes. Children are found on the projections' account_id indexes.
 */
#include "remote_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The projection table of each child kind (project.c's tables). */
static const char *const child_table[] = {
    [FIELDSYNC__RECORD_KIND__CONTACT] = "contacts",
    [FIELDSYNC__RECORD_KIND__VISIT] = "visits",
    [FIELDSYNC__RECORD_KIND__OPPORTUNITY] = "opportunities",
    [FIELDSYNC__RECORD_KIND__TRANSACTION] = "transactions",
};

/* The ids of kind's visible records under account_id (*ids malloc'd, each too). */
static int child_ids(fs_store *st, fs_kind kind, const char *account_id, char ***ids, size_t *n,
                     fs_err *err)
{
    char sql[96];
    sqlite3_stmt *s = NULL;
    *ids = NULL;
    *n = 0;
    snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE account_id = ?", child_table[kind]);
    int rc = fs_store_prepare(st, sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, account_id, -1, SQLITE_STATIC);
    int step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        char **grown = realloc(*ids, (*n + 1) * sizeof(**ids));
        char *id = fs_store_strdup((const char *)sqlite3_column_text(s, 0));
        if (grown != NULL)
            *ids = grown;
        if (grown == NULL || id == NULL) {
            free(id);
            rc = fs_err_set(err, FS_ENOMEM, "listing the records of account %s: out of memory",
                            account_id);
        } else {
            (*ids)[(*n)++] = id;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "listing the records of an account");
    fs_store_finish(st, s);
    return rc;
}

static void ids_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

void fs_children_clear(fs_children *c)
{
    if (c == NULL)
        return;
    fs_refs_free(c->refs, c->total);
    memset(c, 0, sizeof(*c));
}

/* Lists the children (and deletes them when del), kind by kind. */
static int walk_children(fs_store *st, const char *account_id, bool del, fs_children *out,
                         fs_err *err)
{
    int rc = 0;
    memset(out, 0, sizeof(*out));
    for (fs_kind k = FIELDSYNC__RECORD_KIND__CONTACT; rc == 0 && k <= FS_KIND_MAX; k++) {
        char **ids = NULL;
        size_t n = 0;
        rc = child_ids(st, k, account_id, &ids, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = fs_store_ref_append(&out->refs, out->total, k, ids[i], err);
            if (rc == 0) {
                out->n[k]++;
                out->total++;
            }
            if (rc == 0 && del)
                rc = fs_store_delete_in(st, k, ids[i], err);
        }
        ids_free(ids, n);
    }
    if (rc != 0)
        fs_children_clear(out);
    return rc;
}

int fs_store_children(fs_store *st, const char *account_id, fs_children *out, fs_err *err)
{
    return walk_children(st, account_id, false, out, err);
}

/* "2 contacts, 1 visit" */
static void describe(const fs_children *c, char *buf, size_t size)
{
    static const char *const one[] = {[FIELDSYNC__RECORD_KIND__CONTACT] = "contact",
                                      [FIELDSYNC__RECORD_KIND__VISIT] = "visit",
                                      [FIELDSYNC__RECORD_KIND__OPPORTUNITY] = "opportunity",
                                      [FIELDSYNC__RECORD_KIND__TRANSACTION] = "transaction"};
    static const char *const many[] = {[FIELDSYNC__RECORD_KIND__CONTACT] = "contacts",
                                       [FIELDSYNC__RECORD_KIND__VISIT] = "visits",
                                       [FIELDSYNC__RECORD_KIND__OPPORTUNITY] = "opportunities",
                                       [FIELDSYNC__RECORD_KIND__TRANSACTION] = "transactions"};
    size_t o = 0;
    buf[0] = '\0';
    for (fs_kind k = FIELDSYNC__RECORD_KIND__CONTACT; k <= FS_KIND_MAX && o < size; k++)
        if (c->n[k] > 0)
            o += (size_t)snprintf(buf + o, size - o, "%s%zu %s", o ? ", " : "", c->n[k],
                                  c->n[k] == 1 ? one[k] : many[k]);
}

int fs_store_delete_account(fs_store *st, const char *id, bool cascade, fs_children *children,
                            fs_err *err)
{
    fs_children local;
    fs_children *c = children != NULL ? children : &local;
    char what[160];
    memset(c, 0, sizeof(*c));
    int rc = fs_store_begin(st, err);
    if (rc != 0)
        return rc;
    rc = walk_children(st, id, cascade, c, err);
    if (rc == 0 && !cascade && c->total > 0) {
        describe(c, what, sizeof(what));
        rc = fs_err_set(err, FS_ECONFLICT,
                        "account %s still has %s: delete them first, or delete the account "
                        "with them",
                        id, what);
    }
    if (rc == 0)
        rc = fs_store_delete_in(st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, err);
    if (rc == 0)
        rc = fs_store_commit(st, err);
    if (rc != 0)
        fs_store_rollback(st);
    if (rc != 0 && rc != FS_ECONFLICT)
        fs_children_clear(c);
    if (c == &local)
        fs_children_clear(c);
    return rc;
}
