/*
 * test_store_project.c: the list tables' rows (project.c). They are read from
 * the visible value's bytes, not from its unpacked message; here every column
 * of every kind is compared with what the unpacked message says, read as the
 * builds before did: for every record of a demo book, after a concurrent edit
 * and a cleared field, and for the corners of protobuf's rules (a message
 * field in two occurrences, empty strings, a NUL inside one). A field of the
 * wrong wire type is refused, as the message's parser refused it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/demo.h"
#include "store_int.h"
#include "store_test_util.h"

#define REMOTE 0x5ea7c4ull
#define OTHER 0x0712e4ull
#define MAX_CELLS 6

/* One column's value: SQLITE_NULL, SQLITE_INTEGER or SQLITE_TEXT. */
typedef struct cell {
    int type;
    long long n;
    char text[256];
} cell;

static cell text_cell(const char *s)
{
    cell c = {.type = SQLITE_TEXT};
    snprintf(c.text, sizeof(c.text), "%s", s != NULL ? s : "");
    return c;
}

static cell int_cell(long long n)
{
    return (cell){.type = SQLITE_INTEGER, .n = n};
}

static const cell null_cell = {.type = SQLITE_NULL};

/* The row after rid, from the unpacked visible message, as earlier builds
 * bound it; returns the number of cells. */
static size_t row_of_message(const fs_state *st, cell *c)
{
    ProtobufCMessage *m = NULL;
    size_t n = 0;
    assert_int_equal(fs_record_visible(st, &m, NULL), 0);
    c[n++] = text_cell(st->id);
    if (st->kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
        const Fieldsync__Account *a = (const Fieldsync__Account *)m;
        c[n++] = text_cell(a->name);
        c[n++] = int_cell(a->has_tier ? (int)a->tier : 0);
        c[n++] = int_cell(a->has_funnel_stage ? (int)a->funnel_stage : 0);
        c[n++] = text_cell(a->owner);
        c[n++] = text_cell(a->address != NULL ? a->address->city : NULL);
    } else if (st->kind == FIELDSYNC__RECORD_KIND__CONTACT) {
        const Fieldsync__Contact *k = (const Fieldsync__Contact *)m;
        c[n++] = text_cell(k->account_id);
        c[n++] = text_cell(k->name);
    } else if (st->kind == FIELDSYNC__RECORD_KIND__VISIT) {
        const Fieldsync__Visit *v = (const Fieldsync__Visit *)m;
        c[n++] = text_cell(v->account_id);
        c[n++] = int_cell(v->has_planned_at ? v->planned_at : 0);
        c[n++] = v->next_step != NULL ? text_cell(v->next_step) : null_cell;
        c[n++] = v->next_step_date != NULL && v->next_step_date[0] != '\0'
                     ? text_cell(v->next_step_date)
                     : null_cell;
        c[n++] = int_cell(v->has_next_step_done && v->next_step_done);
    } else if (st->kind == FIELDSYNC__RECORD_KIND__OPPORTUNITY) {
        const Fieldsync__Opportunity *o = (const Fieldsync__Opportunity *)m;
        c[n++] = text_cell(o->account_id);
        c[n++] = int_cell(o->has_stage ? (int)o->stage : 0);
        c[n++] = text_cell(o->stage_entered_date);
        c[n++] = int_cell(o->amount != NULL ? o->amount->minor_units : 0);
    } else {
        const Fieldsync__Transaction *t = (const Fieldsync__Transaction *)m;
        c[n++] = text_cell(t->account_id);
        c[n++] = text_cell(t->date);
        c[n++] = int_cell(t->amount != NULL ? t->amount->minor_units : 0);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return n;
}

static const char *const tables[] = {
    [FIELDSYNC__RECORD_KIND__ACCOUNT] = "accounts",
    [FIELDSYNC__RECORD_KIND__CONTACT] = "contacts",
    [FIELDSYNC__RECORD_KIND__VISIT] = "visits",
    [FIELDSYNC__RECORD_KIND__OPPORTUNITY] = "opportunities",
    [FIELDSYNC__RECORD_KIND__TRANSACTION] = "transactions",
};

/* The stored record's row, after its rid. */
static size_t row_in_store(fs_store *st, fs_kind kind, const char *id, cell *c)
{
    char sql[160];
    sqlite3_stmt *s = NULL;
    snprintf(sql, sizeof(sql),
             "SELECT * FROM %s WHERE rid = (SELECT rid FROM records WHERE kind = ? AND id = ?)",
             tables[kind]);
    assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int(s, 1, (int)kind);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_count(s) - 1;
    assert_true(n <= MAX_CELLS);
    for (size_t i = 0; i < n; i++) {
        int col = (int)i + 1;
        c[i] = (cell){.type = sqlite3_column_type(s, col)};
        if (c[i].type == SQLITE_INTEGER)
            c[i].n = sqlite3_column_int64(s, col);
        else if (c[i].type == SQLITE_TEXT)
            snprintf(c[i].text, sizeof(c[i].text), "%s", sqlite3_column_text(s, col));
    }
    sqlite3_finalize(s);
    return n;
}

/* Saves state (joined with what the store holds) and compares its row with
 * the message's. */
static void assert_row_as_before(fs_store *st, const fs_state *state)
{
    cell want[MAX_CELLS], got[MAX_CELLS];
    fs_state *stored = NULL;
    int64_t rid = 0;
    bool changed;
    assert_int_equal(fs_store_join_save(st, state, &changed, NULL), 0);
    assert_int_equal(fs_store_load(st, state->kind, state->id, &rid, &stored, NULL), 0);
    size_t n = row_of_message(stored, want);
    assert_int_equal(row_in_store(st, state->kind, state->id, got), n);
    for (size_t i = 0; i < n; i++) {
        if (got[i].type != want[i].type || got[i].n != want[i].n ||
            strcmp(got[i].text, want[i].text) != 0)
            fail_msg("%s %s, column %zu: '%s'/%lld (type %d) in the store, '%s'/%lld (type %d) "
                     "in the message",
                     fs_kind_name(state->kind), state->id, i + 2, got[i].text, got[i].n,
                     got[i].type, want[i].text, want[i].n, want[i].type);
    }
    fs_state_free(stored);
}

/* A projected field of each kind: the account's name, the contact's name,
 * the visit's next step, the opportunity's stage date, the transaction's date. */
static uint32_t listed_field(fs_kind kind)
{
    switch (kind) {
    case FIELDSYNC__RECORD_KIND__ACCOUNT:
        return 2;
    case FIELDSYNC__RECORD_KIND__CONTACT:
        return 3;
    case FIELDSYNC__RECORD_KIND__VISIT:
        return 17;
    case FIELDSYNC__RECORD_KIND__OPPORTUNITY:
        return 10;
    default:
        return 3;
    }
}

typedef struct book {
    fs_store *st;
    size_t checked[FS_KIND_MAX + 1];
} book;

/* Each demo record as pulled; then an edit of a listed field by another
 * replica and a clearing of another by the first, joined in the store. */
static int check_record(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *rec)
{
    book *b = ctx;
    const ProtobufCFieldDescriptor *idf =
        protobuf_c_message_descriptor_get_field(rec->descriptor, 1);
    const char *id = *(char *const *)((const char *)rec + idf->offset);
    fs_state *st = NULL, *other = NULL;
    assert_int_equal(fs_state_new(&st, kind, id, NULL), 0);
    assert_int_equal(fs_record_write_msg(st, REMOTE, 100 << 16, rec, NULL, 0, NULL), 0);
    assert_row_as_before(b->st, st);
    assert_int_equal(fs_state_copy(&other, st, NULL), 0);
    uint32_t field = listed_field(kind);
    bool day =
        kind == FIELDSYNC__RECORD_KIND__OPPORTUNITY || kind == FIELDSYNC__RECORD_KIND__TRANSACTION;
    const char *value = day ? "2026-12-04" : "edited";
    uint8_t edit[16];
    size_t n = 0;
    for (uint32_t tag = field << 3 | 2; tag != 0 || n == 0; tag >>= 7) /* a varint */
        edit[n++] = (uint8_t)((tag & 0x7f) | (tag > 0x7f ? 0x80 : 0));
    edit[n++] = (uint8_t)strlen(value);
    memcpy(edit + n, value, strlen(value));
    n += strlen(value);
    assert_int_equal(fs_record_write(other, OTHER, 101 << 16, edit, n, NULL, 0, NULL), 0);
    uint32_t clear = 2; /* account name, or the account_id of the others */
    if (kind == FIELDSYNC__RECORD_KIND__ACCOUNT)
        clear = 5; /* the address, and its city with it */
    assert_int_equal(fs_record_write(st, REMOTE, 102 << 16, NULL, 0, &clear, 1, NULL), 0);
    assert_row_as_before(b->st, other);
    assert_row_as_before(b->st, st);
    fs_state_free(st);
    fs_state_free(other);
    b->checked[kind]++;
    return 0;
}

static void list_rows_are_the_visible_fields_as_before(void **state)
{
    tu_store_fixture *f = *state;
    fs_demo_opts o = fs_demo_opts_default();
    o.accounts = 20;
    book b = {.st = f->st};
    assert_int_equal(fs_demo_generate(&o, check_record, &b, NULL), 0);
    for (fs_kind k = FS_KIND_MIN; k <= FS_KIND_MAX; k++)
        if (b.checked[k] == 0)
            fail_msg("the demo book has no %s", fs_kind_name(k));
}

/* A state of one write of the given value bytes (canonical wire format). */
static fs_state *written(fs_kind kind, const char *id, const uint8_t *fields, size_t len)
{
    fs_state *st = NULL;
    fs_err err = {0};
    assert_int_equal(fs_state_new(&st, kind, id, NULL), 0);
    if (fs_record_write(st, REMOTE, 100 << 16, fields, len, NULL, 0, &err) != 0)
        fail_msg("%s %s: %s", fs_kind_name(kind), id, err.msg);
    return st;
}

static void list_rows_follow_protobufs_rules_in_the_corners(void **state)
{
    tu_store_fixture *f = *state;
    /* the address twice: the city of the later one that has one; owner "" */
    const uint8_t split[] = {0x2a, 0x03, 0x1a, 0x01, 'A',  0x2a, 0x03,
                             0x0a, 0x01, 'S',  0x62, 0x00, 0x50, 0x02};
    const uint8_t twice[] = {0x2a, 0x03, 0x1a, 0x01, 'A', 0x2a, 0x03, 0x1a, 0x01, 'B'};
    /* a visit: next step "" (a value), next step date "" (none), done = 1 */
    const uint8_t visit[] = {0x12, 0x01, 'a', 0x8a, 0x01, 0x00, 0x92, 0x01, 0x00, 0x98, 0x01, 0x01};
    /* an opportunity's amount in two occurrences, the later without units */
    const uint8_t amount[] = {0x3a, 0x02, 0x08, 0x2a, 0x3a, 0x02, 0x12, 0x00};
    fs_state *st[] = {
        written(FIELDSYNC__RECORD_KIND__ACCOUNT, "split", split, sizeof(split)),
        written(FIELDSYNC__RECORD_KIND__ACCOUNT, "twice", twice, sizeof(twice)),
        written(FIELDSYNC__RECORD_KIND__VISIT, "visit", visit, sizeof(visit)),
        written(FIELDSYNC__RECORD_KIND__OPPORTUNITY, "amount", amount, sizeof(amount)),
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        assert_row_as_before(f->st, st[i]);
        fs_state_free(st[i]);
    }
    cell got[MAX_CELLS];
    row_in_store(f->st, FIELDSYNC__RECORD_KIND__ACCOUNT, "twice", got);
    assert_string_equal(got[5].text, "B");
    row_in_store(f->st, FIELDSYNC__RECORD_KIND__OPPORTUNITY, "amount", got);
    assert_int_equal(got[4].n, 42);
}

/* Replaces the values of st's one write with bytes no write lets through, as
 * a damaged store could hold them. */
static void damage(fs_state *st, const uint8_t *fields, size_t len)
{
    free(st->events[0].fields);
    assert_non_null(st->events[0].fields = malloc(len));
    memcpy(st->events[0].fields, fields, len);
    st->events[0].fields_len = len;
}

/* A name holding a NUL (writes refuse one): the message's C string ends at
 * it, and the row's name with it. */
static void a_name_ends_at_a_nul_as_the_messages_did(void **state)
{
    tu_store_fixture *f = *state;
    const uint8_t name[] = {0x12, 0x01, 'a', 0x1a, 0x01, 'x'};
    const uint8_t nul[] = {0x12, 0x01, 'a', 0x1a, 0x05, 'a', 'b', 0x00, 'c', 'd'};
    fs_state *st = written(FIELDSYNC__RECORD_KIND__CONTACT, "nul", name, sizeof(name));
    damage(st, nul, sizeof(nul));
    assert_row_as_before(f->st, st);
    cell got[MAX_CELLS];
    row_in_store(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "nul", got);
    assert_string_equal(got[2].text, "ab");
    fs_state_free(st);
}

/* The tier as a string: the message's parser refuses it, and so does the
 * projection, naming the record; nothing is written. */
static void a_field_of_the_wrong_wire_type_is_refused(void **state)
{
    tu_store_fixture *f = *state;
    const uint8_t tier[] = {0x50, 0x01};
    const uint8_t as_string[] = {0x52, 0x02, 'a', 'b'};
    fs_state *st = written(FIELDSYNC__RECORD_KIND__ACCOUNT, "acc", tier, sizeof(tier));
    damage(st, as_string, sizeof(as_string));
    fs_err err = {0};
    assert_int_equal(fs_store_exec(f->st, "BEGIN", NULL), 0);
    assert_int_equal(fs_store_project(f->st, 1, st, true, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "account acc"));
    assert_non_null(strstr(err.msg, "field 10"));
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_record_visible(st, &m, NULL), FS_ECORRUPT);
    assert_int_equal(fs_store_exec(f->st, "ROLLBACK", NULL), 0);
    fs_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(list_rows_are_the_visible_fields_as_before, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(list_rows_follow_protobufs_rules_in_the_corners,
                                        tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_name_ends_at_a_nul_as_the_messages_did, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(a_field_of_the_wrong_wire_type_is_refused, tu_store_setup,
                                        tu_store_teardown),
    };
    return cmocka_run_group_tests_name("store projections", tests, NULL, NULL);
}
