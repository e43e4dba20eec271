/*
 * test_write.c: local writes and deletes: dots and vv, superseding, revival,
 * cleared and repeated fields, and every refused input leaving the state as
 * it was.
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

static void test_write_makes_one_event_with_the_next_dot(void **state)
{
    (void)state;
    fs_state *st = new_account();
    assert_false(fs_record_alive(st));
    write_str(st, R1, 100, 2, "Acme");
    assert_int_equal(fs_vv_get(&st->vv, R1), 1);
    assert_int_equal(st->nevents, 1);
    assert_int_equal(st->events[0].dot.replica, R1);
    assert_int_equal(st->events[0].dot.counter, 1);
    assert_int_equal(st->events[0].hlc, 100);
    assert_int_equal(st->events[0].alive, FS_ALIVE_TRUE);
    assert_true(fs_record_alive(st));
    Fieldsync__Account *a = visible_account(st);
    assert_string_equal(a->id, "acc-1");
    assert_string_equal(a->name, "Acme");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    fs_state_free(st);
}

static void test_write_supersedes_earlier_siblings_of_its_fields(void **state)
{
    (void)state;
    fs_state *st = new_account();
    write_str(st, R1, 100, 2, "Acme");
    write_str(st, R1, 101, 3, "steel");
    write_str(st, R1, 102, 2, "Acme GmbH");
    /* event 1 lost name and alive: nothing left, so it is gone */
    assert_int_equal(st->nevents, 2);
    assert_int_equal(st->events[0].dot.counter, 2);
    assert_int_equal(st->events[0].alive, FS_ALIVE_NONE); /* industry only */
    assert_int_equal(st->events[1].dot.counter, 3);
    assert_int_equal(fs_vv_get(&st->vv, R1), 3);
    Fieldsync__Account *a = visible_account(st);
    assert_string_equal(a->name, "Acme GmbH");
    assert_string_equal(a->industry, "steel");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    size_t n = 0;
    fs_conflict *c = NULL;
    assert_int_equal(fs_record_conflicts(st, &c, &n, NULL), 0);
    assert_int_equal(n, 0);
    fs_state_free(st);
}

static void test_delete_hides_the_record_and_keeps_field_values(void **state)
{
    (void)state;
    fs_state *st = new_account();
    fs_err err;
    write_str(st, R1, 100, 2, "Acme");
    assert_int_equal(fs_record_delete(st, R1, 101, &err), 0);
    assert_false(fs_record_alive(st));
    assert_int_equal(fs_vv_get(&st->vv, R1), 2);
    /* a sequential delete supersedes the alive sibling: no conflict */
    size_t n = 0;
    fs_conflict *c = NULL;
    assert_int_equal(fs_record_conflicts(st, &c, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(st->nevents, 2);
    assert_int_equal(st->events[1].alive, FS_ALIVE_FALSE);
    assert_int_equal(st->events[1].fields_len, 0);
    fs_state_free(st);
}

static void test_write_of_no_field_revives_a_deleted_record(void **state)
{
    (void)state;
    fs_state *st = new_account();
    fs_err err;
    write_str(st, R1, 100, 2, "Acme");
    assert_int_equal(fs_record_delete(st, R1, 101, &err), 0);
    assert_int_equal(fs_record_write(st, R1, 102, NULL, 0, NULL, 0, &err), 0);
    assert_true(fs_record_alive(st));
    Fieldsync__Account *a = visible_account(st);
    assert_string_equal(a->name, "Acme");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    fs_state_free(st);
}

static void test_cleared_field_is_unset_in_the_visible_value(void **state)
{
    (void)state;
    fs_state *st = new_account();
    fs_err err;
    write_str(st, R1, 100, 7, "acme.example");
    uint32_t cl[] = {7};
    assert_int_equal(fs_record_write(st, R1, 101, NULL, 0, cl, 1, &err), 0);
    Fieldsync__Account *a = visible_account(st);
    assert_null(a->website);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    assert_int_equal(st->nevents, 1);
    assert_int_equal(st->events[0].ncleared, 1);
    assert_int_equal(st->events[0].cleared[0], 7);
    fs_state_free(st);
}

static void test_write_replaces_a_repeated_field_as_one_value(void **state)
{
    (void)state;
    fs_state *st = new_account();
    fs_err err;
    tb b = {.len = 0};
    tb_str(&b, 16, "steel");
    tb_str(&b, 16, "export");
    tb_str(&b, 16, "key");
    assert_int_equal(fs_record_write(st, R1, 100, b.data, b.len, NULL, 0, &err), 0);
    tb c = {.len = 0};
    tb_str(&c, 16, "lost");
    assert_int_equal(fs_record_write(st, R1, 101, c.data, c.len, NULL, 0, &err), 0);
    Fieldsync__Account *a = visible_account(st);
    assert_int_equal(a->n_tags, 1);
    assert_string_equal(a->tags[0], "lost");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    fs_state_free(st);
}

static void test_write_keeps_repeated_order_and_ignores_field_one(void **state)
{
    (void)state;
    fs_state *st = new_account();
    fs_err err;
    tb b = {.len = 0};
    tb_str(&b, 16, "b");
    tb_str(&b, 1, "other-id");
    tb_str(&b, 2, "Acme");
    tb_str(&b, 16, "a");
    assert_int_equal(fs_record_write(st, R1, 100, b.data, b.len, NULL, 0, &err), 0);
    Fieldsync__Account *a = visible_account(st);
    assert_string_equal(a->id, "acc-1");
    assert_int_equal(a->n_tags, 2);
    assert_string_equal(a->tags[0], "b");
    assert_string_equal(a->tags[1], "a");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    fs_state_free(st);
}

static void test_write_msg_packs_a_partial_message(void **state)
{
    (void)state;
    fs_state *st = new_account();
    fs_err err;
    Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
    m.name = "Acme";
    m.has_tier = 1;
    m.tier = FIELDSYNC__ACCOUNT__TIER__QUOTED;
    assert_int_equal(fs_record_write_msg(st, R1, 100, &m.base, NULL, 0, &err), 0);
    Fieldsync__Contact wrong = FIELDSYNC__CONTACT__INIT;
    assert_int_equal(fs_record_write_msg(st, R1, 101, &wrong.base, NULL, 0, &err), FS_EINVAL);
    Fieldsync__Account *a = visible_account(st);
    assert_string_equal(a->name, "Acme");
    assert_true(a->has_tier);
    assert_int_equal(a->tier, FIELDSYNC__ACCOUNT__TIER__QUOTED);
    assert_false(a->has_source);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    assert_int_equal(fs_vv_get(&st->vv, R1), 1);
    fs_state_free(st);
}

/* Every refused write must leave the state byte for byte as it was. */
static void expect_refused(fs_state *st, const uint8_t *f, size_t flen, const uint32_t *cl,
                           size_t ncl, uint64_t replica)
{
    size_t before_len, after_len;
    uint8_t *before = encode(st, &before_len);
    fs_err err = {0};
    assert_int_equal(fs_record_write(st, replica, 500, f, flen, cl, ncl, &err), FS_EINVAL);
    assert_int_equal(err.code, FS_EINVAL);
    assert_non_null(strstr(err.msg, "acc-1"));
    uint8_t *after = encode(st, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
}

static void test_write_refuses_bad_input_and_changes_nothing(void **state)
{
    (void)state;
    fs_state *st = new_account();
    write_str(st, R1, 100, 2, "Acme");
    const uint8_t truncated[] = {0x12, 0x05, 'a'};
    expect_refused(st, truncated, sizeof(truncated), NULL, 0, R1);
    tb wrong_type = {.len = 0};
    tb_str(&wrong_type, 10, "tier is an enum, not a string");
    expect_refused(st, wrong_type.data, wrong_type.len, NULL, 0, R1);
    tb both = {.len = 0};
    tb_str(&both, 3, "steel");
    uint32_t cl3[] = {3};
    expect_refused(st, both.data, both.len, cl3, 1, R1);
    uint32_t cl_id[] = {1};
    expect_refused(st, NULL, 0, cl_id, 1, R1);
    uint32_t cl_zero[] = {0};
    expect_refused(st, NULL, 0, cl_zero, 1, R1);
    uint32_t cl_big[] = {536870912u};
    expect_refused(st, NULL, 0, cl_big, 1, R1);
    expect_refused(st, NULL, 0, NULL, 0, 0); /* replica 0 is reserved */
    fs_state_free(st);
}

static void test_write_refuses_an_exhausted_counter(void **state)
{
    (void)state;
    fs_state *st = new_account();
    assert_int_equal(fs_vv_set(&st->vv, R1, UINT64_MAX), 0);
    expect_refused(st, NULL, 0, NULL, 0, R1);
    fs_state_free(st);
}

static void test_write_keeps_unknown_fields_and_supersedes_them_by_number(void **state)
{
    (void)state;
    fs_state *st = new_account();
    fs_err err;
    tb b = {.len = 0};
    tb_str(&b, 99, "from the future");
    tb_str(&b, 2, "Acme");
    assert_int_equal(fs_record_write(st, R1, 100, b.data, b.len, NULL, 0, &err), 0);
    write_str(st, R1, 101, 2, "Acme 2");
    Fieldsync__Account *a = visible_account(st);
    assert_int_equal(a->base.n_unknown_fields, 1);
    assert_int_equal(a->base.unknown_fields[0].tag, 99);
    /* protobuf-c keeps the length prefix in the unknown field's bytes */
    assert_int_equal(a->base.unknown_fields[0].len, 1 + strlen("from the future"));
    assert_memory_equal(a->base.unknown_fields[0].data + 1, "from the future", 15);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    write_str(st, R1, 102, 99, "newer");
    uint8_t *vis = NULL;
    size_t vlen = 0;
    assert_int_equal(fs_record_visible_bytes(st, &vis, &vlen, &err), 0);
    assert_non_null(memmem(vis, vlen, "newer", 5));
    assert_null(memmem(vis, vlen, "future", 6));
    free(vis);
    fs_state_free(st);
}

static void test_state_new_refuses_bad_kind_and_id(void **state)
{
    (void)state;
    fs_state *st = (fs_state *)1;
    fs_err err;
    assert_int_equal(fs_state_new(&st, 0, "x", &err), FS_EINVAL);
    assert_null(st);
    assert_int_equal(fs_state_new(&st, 77, "x", &err), FS_EINVAL);
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__VISIT, "", &err), FS_EINVAL);
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__VISIT, NULL, &err), FS_EINVAL);
    char longid[FS_RECORD_ID_MAX + 2];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = 0;
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__VISIT, longid, &err), FS_EINVAL);
    fs_state_free(NULL);
}

static void test_kinds_map_to_names_and_descriptors(void **state)
{
    (void)state;
    for (int k = FS_KIND_MIN; k <= FS_KIND_MAX; k++) {
        const char *name = fs_kind_name(k);
        assert_non_null(name);
        assert_non_null(fs_kind_descriptor(k));
        assert_int_equal(fs_kind_from_name(name), k);
        /* field 1 is the id in every kind */
        const ProtobufCFieldDescriptor *id =
            protobuf_c_message_descriptor_get_field(fs_kind_descriptor(k), FS_FIELD_ID);
        assert_string_equal(id->name, "id");
    }
    assert_string_equal(fs_kind_name(FIELDSYNC__RECORD_KIND__OPPORTUNITY), "opportunity");
    assert_null(fs_kind_name(0));
    assert_null(fs_kind_descriptor(FS_KIND_MAX + 1));
    assert_int_equal(fs_kind_from_name("nope"), 0);
    assert_int_equal(fs_kind_from_name(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_makes_one_event_with_the_next_dot),
        cmocka_unit_test(test_write_supersedes_earlier_siblings_of_its_fields),
        cmocka_unit_test(test_delete_hides_the_record_and_keeps_field_values),
        cmocka_unit_test(test_write_of_no_field_revives_a_deleted_record),
        cmocka_unit_test(test_cleared_field_is_unset_in_the_visible_value),
        cmocka_unit_test(test_write_replaces_a_repeated_field_as_one_value),
        cmocka_unit_test(test_write_keeps_repeated_order_and_ignores_field_one),
        cmocka_unit_test(test_write_msg_packs_a_partial_message),
        cmocka_unit_test(test_write_refuses_bad_input_and_changes_nothing),
        cmocka_unit_test(test_write_refuses_an_exhausted_counter),
        cmocka_unit_test(test_write_keeps_unknown_fields_and_supersedes_them_by_number),
        cmocka_unit_test(test_state_new_refuses_bad_kind_and_id),
        cmocka_unit_test(test_kinds_map_to_names_and_descriptors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
