/*
 * test_join.c: the join rules one by one: concurrent writes and deletes,
 * three-way concurrency, tie-breaks, field granularity inside events, unknown
 * fields, conflict resolution, and the deterministic pick between two copies
 * of one dot that disagree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define R1 0x1111
#define R2 0x2222
#define R3 0x3333

static fs_state *copy(const fs_state *st)
{
    fs_state *c = NULL;
    assert_int_equal(fs_state_copy(&c, st, NULL), 0);
    return c;
}

static void get_conflicts(const fs_state *st, fs_conflict **c, size_t *n)
{
    fs_err err;
    int rc = fs_record_conflicts(st, c, n, &err);
    if (rc != 0)
        fail_msg("conflicts failed: %s", err.msg);
}

static void test_join_edit_concurrent_with_delete_keeps_record_and_lists_alive(void **state)
{
    (void)state;
    fs_state *base = new_account();
    write_str(base, R1, 100, 2, "Acme");
    fs_state *a = copy(base), *b = copy(base);
    write_str(a, R1, 200, 3, "steel");
    assert_int_equal(fs_record_delete(b, R2, 300, NULL), 0);
    fs_state *j = join(a, b);
    assert_true(fs_record_alive(j));
    fs_conflict *c = NULL;
    size_t n = 0;
    get_conflicts(j, &c, &n);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].field, FS_FIELD_ALIVE);
    assert_string_equal(c[0].name, "alive");
    assert_int_equal(c[0].nsiblings, 2);
    /* ascending by (hlc, replica, counter): the edit, then the delete */
    assert_int_equal(c[0].siblings[0].alive, FS_ALIVE_TRUE);
    assert_int_equal(c[0].siblings[0].dot.replica, R1);
    assert_int_equal(c[0].siblings[1].alive, FS_ALIVE_FALSE);
    assert_true(c[0].siblings[0].visible);
    assert_false(c[0].siblings[1].visible);
    fs_conflicts_free(c, n);
    Fieldsync__Account *v = visible_account(j);
    assert_string_equal(v->name, "Acme");
    assert_string_equal(v->industry, "steel");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    /* the rep resolves it by writing: the record stays, the conflict goes */
    assert_int_equal(fs_record_write(j, R1, 400, NULL, 0, NULL, 0, NULL), 0);
    get_conflicts(j, &c, &n);
    assert_int_equal(n, 0);
    fs_state *again = join(j, b); /* the old delete arriving again changes nothing */
    assert_same_state(again, j);
    fs_state_free(again);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(base);
}

static void test_join_three_concurrent_writes_keep_three_siblings(void **state)
{
    (void)state;
    fs_state *base = new_account();
    write_str(base, R1, 100, 2, "Acme");
    fs_state *a = copy(base), *b = copy(base), *c3 = copy(base);
    write_str(a, R1, 300, 2, "A");
    write_str(b, R2, 500, 2, "B");
    write_str(c3, R3, 400, 2, "C");
    fs_state *ab = join(a, b), *abc = join(ab, c3);
    fs_state *cb = join(c3, b), *cba = join(cb, a);
    assert_same_state(abc, cba);
    fs_conflict *c = NULL;
    size_t n = 0;
    get_conflicts(abc, &c, &n);
    assert_int_equal(n, 1); /* name; alive's three true siblings agree */
    assert_int_equal(c[0].field, 2);
    assert_string_equal(c[0].name, "name");
    assert_int_equal(c[0].nsiblings, 3);
    assert_int_equal(c[0].siblings[0].hlc, 300);
    assert_int_equal(c[0].siblings[1].hlc, 400);
    assert_int_equal(c[0].siblings[2].hlc, 500);
    assert_true(c[0].siblings[2].visible);
    assert_false(c[0].siblings[0].visible || c[0].siblings[1].visible);
    fs_conflicts_free(c, n);
    Fieldsync__Account *v = visible_account(abc);
    assert_string_equal(v->name, "B"); /* greatest HLC */
    protobuf_c_message_free_unpacked(&v->base, NULL);
    /* the base event was superseded everywhere and is gone */
    for (size_t i = 0; i < abc->nevents; i++)
        assert_false(abc->events[i].dot.replica == R1 && abc->events[i].dot.counter == 1);
    fs_state *parts[] = {base, a, b, c3, ab, abc, cb, cba};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        fs_state_free(parts[i]);
}

static void test_join_equal_hlcs_break_ties_by_replica_then_counter(void **state)
{
    (void)state;
    fs_state *a = new_account(), *b = new_account();
    write_str(a, R2, 777, 2, "from R2");
    write_str(b, R1, 777, 2, "from R1");
    fs_state *j = join(a, b);
    Fieldsync__Account *v = visible_account(j);
    assert_string_equal(v->name, "from R2");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);

    /* Two live siblings of one replica only come from a faulty peer, but the
     * order must still be total: the greater counter wins. */
    Fieldsync__VersionVectorEntry vv = FIELDSYNC__VERSION_VECTOR_ENTRY__INIT;
    vv.has_replica = vv.has_counter = 1;
    vv.replica = R1;
    vv.counter = 2;
    Fieldsync__VersionVectorEntry *vvs[] = {&vv};
    tb f1 = {.len = 0}, f2 = {.len = 0};
    tb_str(&f1, 2, "counter 1");
    tb_str(&f2, 2, "counter 2");
    Fieldsync__Event e1 = FIELDSYNC__EVENT__INIT, e2 = FIELDSYNC__EVENT__INIT;
    Fieldsync__Event *evs[] = {&e2, &e1};
    tb *fs[] = {&f1, &f2};
    Fieldsync__Event *es[] = {&e1, &e2};
    for (int i = 0; i < 2; i++) {
        es[i]->has_replica = es[i]->has_counter = es[i]->has_hlc = es[i]->has_fields = 1;
        es[i]->replica = R1;
        es[i]->counter = (uint64_t)i + 1;
        es[i]->hlc = 777;
        es[i]->fields.data = fs[i]->data;
        es[i]->fields.len = fs[i]->len;
    }
    Fieldsync__RecordState pb = FIELDSYNC__RECORD_STATE__INIT;
    pb.has_kind = 1;
    pb.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    pb.id = "acc-1";
    pb.n_vv = 1;
    pb.vv = vvs;
    pb.n_events = 2;
    pb.events = evs;
    fs_state *st = NULL;
    assert_int_equal(fs_state_from_pb(&st, &pb, NULL), 0);
    v = visible_account(st);
    assert_string_equal(v->name, "counter 2");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_state_free(st);
}

static void test_join_with_self_and_with_empty_changes_nothing(void **state)
{
    (void)state;
    fs_state *a = new_account(), *empty = new_account();
    write_str(a, R1, 100, 2, "Acme");
    write_str(a, R2, 90, 3, "steel");
    assert_int_equal(fs_record_delete(a, R1, 110, NULL), 0);
    fs_state *aa = join(a, a), *ae = join(a, empty), *ea = join(empty, a), *ee = join(empty, empty);
    assert_same_state(aa, a);
    assert_same_state(ae, a);
    assert_same_state(ea, a);
    assert_same_state(ee, empty);
    fs_state *parts[] = {a, empty, aa, ae, ea, ee};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        fs_state_free(parts[i]);
}

static void test_join_newer_state_dominates_an_older_one(void **state)
{
    (void)state;
    fs_state *old = new_account();
    write_str(old, R1, 100, 2, "Acme");
    fs_state *newer = copy(old);
    write_str(newer, R2, 200, 2, "Acme GmbH");
    assert_int_equal(fs_record_delete(newer, R2, 300, NULL), 0);
    fs_state *j = join(old, newer);
    assert_same_state(j, newer);
    fs_state_free(j);
    fs_state_free(old);
    fs_state_free(newer);
}

static void test_join_works_at_field_granularity_inside_an_event(void **state)
{
    (void)state;
    fs_state *base = new_account();
    tb b = {.len = 0};
    tb_str(&b, 2, "Acme");
    tb_str(&b, 3, "steel");
    assert_int_equal(fs_record_write(base, R1, 100, b.data, b.len, NULL, 0, NULL), 0);
    fs_state *a = copy(base), *c = copy(base);
    write_str(a, R2, 200, 2, "Acme GmbH"); /* supersedes name@(R1,1) */
    write_str(c, R3, 150, 3, "metal");     /* supersedes industry@(R1,1) */
    fs_state *j = join(a, c);
    Fieldsync__Account *v = visible_account(j);
    assert_string_equal(v->name, "Acme GmbH");
    assert_string_equal(v->industry, "metal");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_conflict *cf = NULL;
    size_t n = 0;
    get_conflicts(j, &cf, &n);
    assert_int_equal(n, 0); /* different fields merge; both alive siblings say true */
    fs_conflicts_free(cf, n);
    for (size_t i = 0; i < j->nevents; i++)
        assert_false(j->events[i].dot.replica == R1);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(c);
    fs_state_free(base);
}

static void test_join_keeps_unknown_fields_from_either_side(void **state)
{
    (void)state;
    fs_state *a = new_account(), *b = new_account();
    write_str(a, R1, 100, 99, "future field");
    write_str(b, R2, 100, 2, "Acme");
    fs_state *j = join(a, b);
    fs_state *r = roundtrip(j);
    Fieldsync__Account *v = visible_account(r);
    assert_string_equal(v->name, "Acme");
    assert_int_equal(v->base.n_unknown_fields, 1);
    assert_int_equal(v->base.unknown_fields[0].tag, 99);
    /* packing the visible message gives the unknown field back byte for byte */
    uint8_t buf[256];
    size_t n = protobuf_c_message_pack(&v->base, buf);
    assert_non_null(memmem(buf, n, "future field", 12));
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_state_free(r);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
}

static void test_join_resolution_write_supersedes_all_siblings(void **state)
{
    (void)state;
    fs_state *a = new_account(), *b = new_account();
    write_str(a, R1, 100, 2, "A");
    write_str(b, R2, 200, 2, "B");
    write_str(b, R2, 210, 7, "b.example");
    fs_state *j = join(a, b);
    write_str(j, R1, 300, 2, "resolved");
    fs_conflict *c = NULL;
    size_t n = 0;
    get_conflicts(j, &c, &n);
    assert_int_equal(n, 0); /* every write supersedes the alive siblings it saw, too */
    fs_conflicts_free(c, n);
    /* b, which never saw the resolution, joins in: the resolution wins */
    fs_state *k = join(b, j);
    Fieldsync__Account *v = visible_account(k);
    assert_string_equal(v->name, "resolved");
    assert_string_equal(v->website, "b.example");
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_state_free(k);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
}

static void test_join_lists_a_clearing_as_a_sibling(void **state)
{
    (void)state;
    fs_state *base = new_account();
    write_str(base, R1, 100, 7, "old.example");
    fs_state *a = copy(base), *b = copy(base);
    uint32_t cl[] = {7};
    assert_int_equal(fs_record_write(a, R1, 300, NULL, 0, cl, 1, NULL), 0);
    write_str(b, R2, 200, 7, "new.example");
    fs_state *j = join(a, b);
    Fieldsync__Account *v = visible_account(j);
    assert_null(v->website); /* the later clearing wins */
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_conflict *c = NULL;
    size_t n = 0;
    get_conflicts(j, &c, &n);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].field, 7);
    assert_false(c[0].siblings[0].cleared);
    assert_non_null(memmem(c[0].siblings[0].value, c[0].siblings[0].value_len, "new", 3));
    assert_true(c[0].siblings[1].cleared);
    assert_true(c[0].siblings[1].visible);
    fs_conflicts_free(c, n);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(base);
}

static void test_join_refuses_different_records(void **state)
{
    (void)state;
    fs_state *a = new_account(), *b = NULL, *c = NULL, *out = (fs_state *)1;
    fs_err err;
    assert_int_equal(fs_state_new(&b, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-2", NULL), 0);
    assert_int_equal(fs_state_new(&c, FIELDSYNC__RECORD_KIND__CONTACT, "acc-1", NULL), 0);
    assert_int_equal(fs_record_join(&out, a, b, &err), FS_EINVAL);
    assert_null(out);
    assert_non_null(strstr(err.msg, "acc-2"));
    assert_int_equal(fs_record_join(&out, a, c, &err), FS_EINVAL);
    assert_int_equal(fs_record_join_into(a, c, &err), FS_EINVAL);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(c);
}

static void test_join_into_equals_join(void **state)
{
    (void)state;
    fs_state *a = new_account(), *b = new_account();
    write_str(a, R1, 100, 2, "A");
    write_str(b, R2, 100, 3, "B");
    fs_state *j = join(a, b);
    assert_int_equal(fs_record_join_into(a, b, NULL), 0);
    assert_same_state(a, j);
    assert_int_equal(fs_record_hlc(a), 100);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
}

/* Builds a one-event state at dot (R1, 1) from raw values. */
static fs_state *one_event(const char *name, uint64_t hlc, int alive)
{
    tb f = {.len = 0};
    tb_str(&f, 2, name);
    Fieldsync__VersionVectorEntry vv = FIELDSYNC__VERSION_VECTOR_ENTRY__INIT;
    vv.has_replica = vv.has_counter = 1;
    vv.replica = R1;
    vv.counter = 1;
    Fieldsync__VersionVectorEntry *vvs[] = {&vv};
    Fieldsync__Event e = FIELDSYNC__EVENT__INIT;
    e.has_replica = e.has_counter = e.has_hlc = e.has_fields = e.has_alive = 1;
    e.replica = R1;
    e.counter = 1;
    e.hlc = hlc;
    e.alive = alive;
    e.fields.data = f.data;
    e.fields.len = f.len;
    Fieldsync__Event *evs[] = {&e};
    Fieldsync__RecordState pb = FIELDSYNC__RECORD_STATE__INIT;
    pb.has_kind = 1;
    pb.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    pb.id = "acc-1";
    pb.n_vv = 1;
    pb.vv = vvs;
    pb.n_events = 1;
    pb.events = evs;
    fs_state *st = NULL;
    assert_int_equal(fs_state_from_pb(&st, &pb, NULL), 0);
    return st;
}

static void test_join_one_dot_with_different_bytes_is_still_commutative(void **state)
{
    (void)state;
    fs_state *a = one_event("zebra", 500, 1), *b = one_event("apple", 400, 0);
    fs_state *ab = join(a, b), *ba = join(b, a);
    assert_same_state(ab, ba);
    assert_int_equal(ab->nevents, 1);
    assert_int_equal(ab->events[0].hlc, 400);              /* smaller HLC */
    assert_int_equal(ab->events[0].alive, FS_ALIVE_FALSE); /* false before true */
    assert_non_null(memmem(ab->events[0].fields, ab->events[0].fields_len, "apple", 5));
    fs_state *again = join(ab, a); /* and idempotent from there */
    assert_same_state(again, ab);
    fs_state_free(again);
    fs_state_free(ab);
    fs_state_free(ba);
    fs_state_free(a);
    fs_state_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_edit_concurrent_with_delete_keeps_record_and_lists_alive),
        cmocka_unit_test(test_join_three_concurrent_writes_keep_three_siblings),
        cmocka_unit_test(test_join_equal_hlcs_break_ties_by_replica_then_counter),
        cmocka_unit_test(test_join_with_self_and_with_empty_changes_nothing),
        cmocka_unit_test(test_join_newer_state_dominates_an_older_one),
        cmocka_unit_test(test_join_works_at_field_granularity_inside_an_event),
        cmocka_unit_test(test_join_keeps_unknown_fields_from_either_side),
        cmocka_unit_test(test_join_resolution_write_supersedes_all_siblings),
        cmocka_unit_test(test_join_lists_a_clearing_as_a_sibling),
        cmocka_unit_test(test_join_refuses_different_records),
        cmocka_unit_test(test_join_into_equals_join),
        cmocka_unit_test(test_join_one_dot_with_different_bytes_is_still_commutative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
