/*
 * followups.c: the follow-ups a rep's day is planned from: visits whose next
 * step is not done, due on or before a date, oldest first, with the account's
 * name, the contact to call and a number to call them on.
 *
 * The list itself runs on the partial index visits_followups (schema v2); the
 * contact is the visit's first contact_ids entry, read from the records (the
 * visits projection does not hold contacts): a few record reads per row, for a
 * page of at most 1000 rows. The count of everything due runs on the same
 * index, so a caller can say when a page is not the whole list.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#define FOLLOWUPS_LIMIT_MAX 1000

const char fs_store_followups_sql[] =
    "SELECT v.id, v.account_id, v.next_step, v.next_step_date, a.name FROM visits v "
    "LEFT JOIN records r ON r.kind = 1 AND r.id = v.account_id "
    "LEFT JOIN accounts a ON a.rid = r.rid "
    "WHERE v.next_step_date IS NOT NULL AND v.next_step_done = 0 AND v.next_step_date <= ?1 "
    "ORDER BY v.next_step_date, v.id LIMIT ?2";

const char fs_store_followups_count_sql[] =
    "SELECT count(*) FROM visits "
    "WHERE next_step_date IS NOT NULL AND next_step_done = 0 AND next_step_date <= ?1";

void fs_followups_free(fs_followup *f, size_t n)
{
    for (size_t i = 0; f != NULL && i < n; i++) {
        free(f[i].visit_id);
        free(f[i].account_id);
        free(f[i].next_step);
        free(f[i].next_step_date);
        free(f[i].account_name);
        free(f[i].contact_id);
        free(f[i].contact_name);
        free(f[i].phone);
    }
    free(f);
}

/* The number to call: a mobile first, then an office or home line, never a fax. */
static const char *best_phone(Fieldsync__Phone *const *phones, size_t n)
{
    static const Fieldsync__Phone__Kind order[] = {
        FIELDSYNC__PHONE__KIND__MOBILE, FIELDSYNC__PHONE__KIND__OFFICE,
        FIELDSYNC__PHONE__KIND__PHONE_KIND_UNSPECIFIED, FIELDSYNC__PHONE__KIND__HOME};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
        for (size_t i = 0; i < n; i++) {
            Fieldsync__Phone__Kind kind = phones[i]->has_kind
                                              ? phones[i]->kind
                                              : FIELDSYNC__PHONE__KIND__PHONE_KIND_UNSPECIFIED;
            if (kind == order[k] && phones[i]->number != NULL && phones[i]->number[0] != '\0')
                return phones[i]->number;
        }
    return NULL;
}

/* The visible message of a record, or NULL when absent or deleted. */
static int visible(fs_store *st, fs_kind kind, const char *id, ProtobufCMessage **m, fs_err *err)
{
    *m = NULL;
    int rc = fs_store_get(st, kind, id, NULL, m, err);
    return rc == FS_ENOTFOUND ? 0 : rc;
}

/* Fills the contact to call: the visit's first contact with a phone of theirs,
 * else the account's phone. */
static int add_contact(fs_store *st, fs_followup *f, fs_err *err)
{
    ProtobufCMessage *vm = NULL, *cm = NULL, *am = NULL;
    const char *phone = NULL;
    int rc = visible(st, FIELDSYNC__RECORD_KIND__VISIT, f->visit_id, &vm, err);
    const Fieldsync__Visit *v = (const Fieldsync__Visit *)vm;
    if (rc == 0 && v != NULL && v->n_contact_ids > 0 && v->contact_ids[0][0] != '\0') {
        f->contact_id = fs_store_strdup(v->contact_ids[0]);
        rc = f->contact_id == NULL
                 ? FS_ENOMEM
                 : visible(st, FIELDSYNC__RECORD_KIND__CONTACT, f->contact_id, &cm, err);
    }
    const Fieldsync__Contact *c = (const Fieldsync__Contact *)cm;
    if (rc == 0 && c != NULL) {
        phone = best_phone(c->phones, c->n_phones);
        if (c->name != NULL && (f->contact_name = fs_store_strdup(c->name)) == NULL)
            rc = FS_ENOMEM;
    }
    if (rc == 0 && phone == NULL)
        rc = visible(st, FIELDSYNC__RECORD_KIND__ACCOUNT, f->account_id, &am, err);
    if (rc == 0 && am != NULL)
        phone = best_phone(((const Fieldsync__Account *)am)->phones,
                           ((const Fieldsync__Account *)am)->n_phones);
    if (rc == 0 && phone != NULL && (f->phone = fs_store_strdup(phone)) == NULL)
        rc = FS_ENOMEM;
    if (rc == FS_ENOMEM)
        rc = fs_err_set(err, FS_ENOMEM, "follow-ups: out of memory");
    ProtobufCMessage *msgs[] = {vm, cm, am};
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
        if (msgs[i] != NULL)
            protobuf_c_message_free_unpacked(msgs[i], NULL);
    return rc;
}

static int read_rows(fs_store *st, sqlite3_stmt *s, fs_followup *out, size_t *n, fs_err *err)
{
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        fs_followup *f = &out[(*n)++];
        f->visit_id = fs_store_strdup((const char *)sqlite3_column_text(s, 0));
        f->account_id = fs_store_strdup((const char *)sqlite3_column_text(s, 1));
        f->next_step = fs_store_strdup((const char *)sqlite3_column_text(s, 2));
        f->next_step_date = fs_store_strdup((const char *)sqlite3_column_text(s, 3));
        if (sqlite3_column_type(s, 4) != SQLITE_NULL)
            f->account_name = fs_store_strdup((const char *)sqlite3_column_text(s, 4));
        if (f->visit_id == NULL || f->account_id == NULL || f->next_step_date == NULL)
            rc = fs_err_set(err, FS_ENOMEM, "follow-ups: out of memory");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = fs_store_sqlerr(st, step, err, "listing follow-ups");
    return rc;
}

int fs_store_followups_due(fs_store *st, const char *until, size_t limit, fs_followup **out,
                           size_t *n, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *out = NULL;
    *n = 0;
    if (until == NULL)
        return fs_err_set(err, FS_EINVAL, "follow-ups: no date given");
    if (limit == 0 || limit > FOLLOWUPS_LIMIT_MAX)
        limit = FOLLOWUPS_LIMIT_MAX;
    int rc = fs_store_prepare(st, fs_store_followups_sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, until, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    *out = calloc(limit, sizeof(**out));
    rc = *out == NULL ? fs_err_set(err, FS_ENOMEM, "follow-ups: out of memory")
                      : read_rows(st, s, *out, n, err);
    fs_store_finish(st, s); /* before the record reads below use the statement cache */
    for (size_t i = 0; rc == 0 && i < *n; i++)
        rc = add_contact(st, &(*out)[i], err);
    if (rc != 0) {
        fs_followups_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int fs_store_followups_count(fs_store *st, const char *until, size_t *n, fs_err *err)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    if (until == NULL)
        return fs_err_set(err, FS_EINVAL, "follow-ups: no date given");
    int rc = fs_store_prepare(st, fs_store_followups_count_sql, &s, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(s, 1, until, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(s, 0);
    else
        rc = fs_store_sqlerr(st, step, err, "counting follow-ups");
    fs_store_finish(st, s);
    return rc;
}
