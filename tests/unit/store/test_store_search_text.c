/*
 * test_store_search_text.c: what a record's search row says. The index keeps
 * no copy of its text (store.md, version 7): taking a row out re-reads the
 * text from the state, so the text must be exactly what the row went in with,
 * in this build and in the builds that indexed a store before it. Here it is
 * compared with the visible message's fields joined as those builds did (the
 * name; the body's non-empty fields joined by newlines), for every record of
 * a demo book, after concurrent edits and a cleared field too.
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

#define REMOTE 0x5ea7c4ull
#define OTHER 0x0712e4ull

/* The name and body from the visible message, as earlier builds built them. */
static void text_of_message(const fs_state *st, char *name, char *body, size_t cap)
{
    ProtobufCMessage *m = NULL;
    assert_int_equal(fs_record_visible(st, &m, NULL), 0);
    const char *parts[5] = {NULL};
    name[0] = body[0] = '\0';
    if (st->kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
        const Fieldsync__Account *a = (const Fieldsync__Account *)m;
        snprintf(name, cap, "%s", a->name ? a->name : "");
        parts[0] = a->notes;
    } else if (st->kind == FIELDSYNC__RECORD_KIND__CONTACT) {
        const Fieldsync__Contact *c = (const Fieldsync__Contact *)m;
        snprintf(name, cap, "%s", c->name ? c->name : "");
        parts[0] = c->title;
    } else {
        const Fieldsync__Visit *v = (const Fieldsync__Visit *)m;
        const char *p[5] = {v->objective, v->agenda, v->outcome, v->needs, v->next_step};
        memcpy(parts, p, sizeof(p));
    }
    for (size_t i = 0; i < 5; i++) {
        if (parts[i] == NULL || parts[i][0] == '\0')
            continue;
        if (body[0] != '\0')
            strncat(body, "\n", cap - strlen(body) - 1);
        strncat(body, parts[i], cap - strlen(body) - 1);
    }
    protobuf_c_message_free_unpacked(m, NULL);
}

static void assert_text_as_before(const fs_state *st)
{
    static char want_name[1 << 16], want_body[1 << 16];
    char *name = NULL, *body = NULL;
    text_of_message(st, want_name, want_body, sizeof(want_name));
    assert_int_equal(fs_store_search_text(st, &name, &body, NULL), 0);
    assert_string_equal(name, want_name);
    assert_string_equal(body, want_body);
    free(name);
    free(body);
}

typedef struct tally {
    size_t checked;
} tally;

/* Each searchable demo record; then an edit of a body field by another
 * replica, a clearing of it by the first, and their join (the later clearing
 * shows, the edit stays a sibling). */
static int check_record(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *rec)
{
    tally *t = ctx;
    if (!fs_store_kind_searchable(kind))
        return 0;
    const ProtobufCFieldDescriptor *idf =
        protobuf_c_message_descriptor_get_field(rec->descriptor, 1);
    const char *id = *(char *const *)((const char *)rec + idf->offset);
    fs_state *st = NULL, *other = NULL, *joined = NULL;
    assert_int_equal(fs_state_new(&st, kind, id, NULL), 0);
    assert_int_equal(fs_record_write_msg(st, REMOTE, 100 << 16, rec, NULL, 0, NULL), 0);
    assert_text_as_before(st);
    assert_int_equal(fs_state_copy(&other, st, NULL), 0);
    /* a body field: the account's notes, the contact's title, the visit's agenda */
    uint32_t field = kind == FIELDSYNC__RECORD_KIND__ACCOUNT   ? 15
                     : kind == FIELDSYNC__RECORD_KIND__CONTACT ? 4
                                                               : 11;
    uint8_t edit[] = {(uint8_t)(field << 3 | 2), 0x06, 'e', 'd', 'i', 't', 'e', 'd'};
    assert_int_equal(fs_record_write(other, OTHER, 101 << 16, edit, sizeof(edit), NULL, 0, NULL),
                     0);
    uint32_t clear = field;
    assert_int_equal(fs_record_write(st, REMOTE, 102 << 16, NULL, 0, &clear, 1, NULL), 0);
    assert_int_equal(fs_record_join(&joined, st, other, NULL), 0);
    assert_text_as_before(other);
    assert_text_as_before(st);
    assert_text_as_before(joined);
    fs_state_free(st);
    fs_state_free(other);
    fs_state_free(joined);
    t->checked++;
    return 0;
}

static void search_text_is_the_visible_fields_as_before(void **state)
{
    (void)state;
    fs_demo_opts o = fs_demo_opts_default();
    o.accounts = 30;
    tally t = {0};
    assert_int_equal(fs_demo_generate(&o, check_record, &t, NULL), 0);
    assert_true(t.checked > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(search_text_is_the_visible_fields_as_before),
    };
    return cmocka_run_group_tests_name("store search text", tests, NULL, NULL);
}
