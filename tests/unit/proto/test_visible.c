/*
 * test_visible.c: the visible value of every kind, whole-field granularity of
 * nested messages, and the conflict listing (names, order, borrowed values).
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

static void test_visible_of_an_empty_state_is_its_id_only(void **state)
{
    (void)state;
    fs_state *st = new_account();
    assert_false(fs_record_alive(st));
    assert_int_equal(fs_record_hlc(st), 0);
    Fieldsync__Account *a = visible_account(st);
    assert_string_equal(a->id, "acc-1");
    assert_null(a->name);
    assert_int_equal(a->n_phones, 0);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    fs_conflict *c = (fs_conflict *)1;
    size_t n = 9;
    assert_int_equal(fs_record_conflicts(st, &c, &n, NULL), 0);
    assert_int_equal(n, 0);
    fs_conflicts_free(c, n);
    fs_state_free(st);
}

static void test_visible_round_trips_a_message_of_every_kind(void **state)
{
    (void)state;
    Fieldsync__Phone ph = FIELDSYNC__PHONE__INIT;
    ph.has_kind = 1;
    ph.kind = FIELDSYNC__PHONE__KIND__MOBILE;
    ph.number = "+49 170 1234567";
    Fieldsync__Phone *phones[] = {&ph, &ph};
    Fieldsync__Contact ct = FIELDSYNC__CONTACT__INIT;
    ct.name = "Ms Weber";
    ct.n_phones = 2;
    ct.phones = phones;
    ct.has_stance = 1;
    ct.stance = FIELDSYNC__CONTACT__STANCE__SUPPORTER;
    Fieldsync__Visit vi = FIELDSYNC__VISIT__INIT;
    char *mats[] = {"brochure", "samples"};
    vi.n_materials = 2;
    vi.materials = mats;
    vi.has_planned_at = 1;
    vi.planned_at = -5; /* negative int64 survives */
    vi.has_next_step_done = 1;
    vi.next_step = "send a quote";
    Fieldsync__Money m = FIELDSYNC__MONEY__INIT;
    m.has_minor_units = 1;
    m.minor_units = 1234500;
    m.currency = "EUR";
    Fieldsync__Opportunity op = FIELDSYNC__OPPORTUNITY__INIT;
    op.amount = &m;
    op.has_stage = 1;
    op.stage = FIELDSYNC__OPPORTUNITY__STAGE__PCT_50;
    Fieldsync__Transaction tx = FIELDSYNC__TRANSACTION__INIT;
    tx.amount = &m;
    tx.date = "2026-11-23";
    const ProtobufCMessage *msgs[] = {&ct.base, &vi.base, &op.base, &tx.base};
    fs_kind kinds[] = {FIELDSYNC__RECORD_KIND__CONTACT, FIELDSYNC__RECORD_KIND__VISIT,
                       FIELDSYNC__RECORD_KIND__OPPORTUNITY, FIELDSYNC__RECORD_KIND__TRANSACTION};
    for (size_t i = 0; i < 4; i++) {
        fs_state *st = NULL;
        assert_int_equal(fs_state_new(&st, kinds[i], "rec-9", NULL), 0);
        assert_int_equal(fs_record_write_msg(st, R1, 1, msgs[i], NULL, 0, NULL), 0);
        fs_state *rt = roundtrip(st);
        ProtobufCMessage *out = NULL;
        assert_int_equal(fs_record_visible(rt, &out, NULL), 0);
        assert_ptr_equal(out->descriptor, fs_kind_descriptor(kinds[i]));
        uint8_t want[512], got[512];
        size_t wn = protobuf_c_message_pack(msgs[i], want);
        size_t gn = protobuf_c_message_pack(out, got);
        /* got = id (field 1, "rec-9") followed by the message's own fields */
        assert_int_equal(gn, wn + 7);
        assert_memory_equal(got, "\x0a\x05rec-9", 7);
        assert_memory_equal(got + 7, want, wn);
        protobuf_c_message_free_unpacked(out, NULL);
        fs_state_free(rt);
        fs_state_free(st);
    }
}

static void test_visible_nested_message_is_one_value_not_merged(void **state)
{
    (void)state;
    fs_state *st = new_account();
    Fieldsync__Address ad = FIELDSYNC__ADDRESS__INIT;
    ad.street = "Hauptstr. 1";
    ad.city = "Ulm";
    Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
    m.address = &ad;
    assert_int_equal(fs_record_write_msg(st, R1, 1, &m.base, NULL, 0, NULL), 0);
    Fieldsync__Address ad2 = FIELDSYNC__ADDRESS__INIT;
    ad2.city = "Neu-Ulm";
    m.address = &ad2;
    assert_int_equal(fs_record_write_msg(st, R1, 2, &m.base, NULL, 0, NULL), 0);
    Fieldsync__Account *v = visible_account(st);
    assert_string_equal(v->address->city, "Neu-Ulm");
    assert_null(v->address->street); /* the address is replaced as a whole */
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_state_free(st);
}

static void test_conflicts_name_known_and_unknown_fields(void **state)
{
    (void)state;
    fs_state *a = new_account(), *b = new_account();
    write_str(a, R1, 10, 99, "x");
    write_str(b, R2, 10, 99, "y");
    write_str(a, R1, 11, 15, "note a");
    write_str(b, R2, 12, 15, "note b");
    fs_state *j = join(a, b);
    fs_conflict *c = NULL;
    size_t n = 0;
    assert_int_equal(fs_record_conflicts(j, &c, &n, NULL), 0);
    assert_int_equal(n, 2); /* alive is true on both sides: no conflict */
    assert_int_equal(c[0].field, 15);
    assert_string_equal(c[0].name, "notes");
    assert_int_equal(c[1].field, 99);
    assert_null(c[1].name);
    /* sibling values are the field's wire bytes, borrowed from the state */
    tb want = {.len = 0};
    tb_str(&want, 15, "note b");
    assert_int_equal(c[0].siblings[1].value_len, want.len);
    assert_memory_equal(c[0].siblings[1].value, want.data, want.len);
    assert_true(c[0].siblings[1].visible);
    assert_int_equal(c[0].siblings[1].dot.replica, R2);
    assert_int_equal(c[0].siblings[1].hlc, 12);
    assert_int_equal(c[0].siblings[1].alive, FS_ALIVE_NONE);
    fs_conflicts_free(c, n);
    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
}

static void test_concurrent_deletes_keep_the_record_hidden(void **state)
{
    (void)state;
    fs_state *base = new_account();
    write_str(base, R1, 10, 2, "Acme");
    fs_state *a = NULL, *b = NULL;
    assert_int_equal(fs_state_copy(&a, base, NULL), 0);
    assert_int_equal(fs_state_copy(&b, base, NULL), 0);
    assert_int_equal(fs_record_delete(a, R1, 20, NULL), 0);
    assert_int_equal(fs_record_delete(b, R2, 20, NULL), 0);
    fs_state *j = join(a, b);
    assert_false(fs_record_alive(j));
    assert_int_equal(fs_record_hlc(j), 20);
    fs_conflict *c = NULL;
    size_t n = 0;
    assert_int_equal(fs_record_conflicts(j, &c, &n, NULL), 0);
    assert_int_equal(n, 0); /* two deletes agree: nothing to resolve */
    fs_conflicts_free(c, n);

    fs_state_free(j);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(base);
}

static void test_visible_keeps_an_enum_value_this_build_does_not_know(void **state)
{
    (void)state;
    fs_state *st = new_account();
    tb b = {.len = 0};
    tb_uint(&b, 10, 99); /* tier 99: added by a newer schema */
    assert_int_equal(fs_record_write(st, R1, 1, b.data, b.len, NULL, 0, NULL), 0);
    fs_state *rt = roundtrip(st);
    Fieldsync__Account *v = visible_account(rt);
    assert_true(v->has_tier);
    assert_int_equal(v->tier, 99);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    fs_state_free(rt);
    fs_state_free(st);
}

/* fs_record_visible_string(st, f) is field f of fs_record_visible's message. */
static void assert_string_as_in_message(const fs_state *st)
{
    static const uint32_t strings[] = {2, 3, 7}; /* name, industry, website */
    Fieldsync__Account *a = visible_account(st);
    const char *in_msg[] = {a->name, a->industry, a->website};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        char *v = (char *)1;
        assert_int_equal(fs_record_visible_string(st, strings[i], &v, NULL), 0);
        if (in_msg[i] == NULL)
            assert_null(v);
        else
            assert_string_equal(v, in_msg[i]);
        free(v);
    }
    protobuf_c_message_free_unpacked(&a->base, NULL);
}

static void test_visible_string_is_the_message_field(void **state)
{
    (void)state;
    fs_state *st = new_account();
    tb b = {.len = 0};
    tb_str(&b, 2, "first");
    tb_str(&b, 2, "last"); /* protobuf: the last occurrence wins */
    assert_int_equal(fs_record_write(st, R1, 10, b.data, b.len, NULL, 0, NULL), 0);
    char *v = NULL;
    assert_int_equal(fs_record_visible_string(st, 2, &v, NULL), 0);
    assert_string_equal(v, "last");
    free(v);
    assert_string_as_in_message(st);
    /* a clearing that wins hides the older value */
    uint32_t clear_name = 2;
    assert_int_equal(fs_record_write(st, R1, 20, NULL, 0, &clear_name, 1, NULL), 0);
    assert_int_equal(fs_record_visible_string(st, 2, &v, NULL), 0);
    assert_null(v);
    fs_state_free(st);

    /* random histories of three replicas joined at random, conflicts included */
    uint64_t seed = 42;
    for (int h = 0; h < 50; h++) {
        fs_state *r[3] = {new_account(), new_account(), new_account()};
        for (int step = 0; step < 30; step++) {
            size_t i = rnd(&seed) % 3, j = rnd(&seed) % 3;
            if (rnd(&seed) % 3 == 0) {
                fs_state *joined = join(r[i], r[j]);
                fs_state_free(r[i]);
                r[i] = joined;
            } else {
                random_op(r[i], R1 + i, 100 + rnd(&seed) % 20, &seed);
            }
            assert_string_as_in_message(r[i]);
        }
        for (size_t i = 0; i < 3; i++)
            fs_state_free(r[i]);
    }
}

/* fs_record_read_fields: the last occurrence of each field, one pass; bytes
 * that are not wire format refused. */
static void test_read_fields_takes_the_last_occurrence(void **state)
{
    (void)state;
    tb b = {.len = 0};
    tb_str(&b, 2, "first");
    tb_uint(&b, 10, 3);
    tb_str(&b, 2, "second");
    const uint32_t want[] = {10, 2, 7};
    fs_field_read r[3];
    assert_int_equal(fs_record_read_fields(b.data, b.len, want, 3, r, NULL), 0);
    assert_true(r[0].set && r[0].type == FS_FIELD_WIRE_VARINT && r[0].number == 3);
    assert_true(r[1].set && r[1].type == FS_FIELD_WIRE_LEN && r[1].len == 6);
    assert_memory_equal(r[1].bytes, "second", 6);
    assert_false(r[2].set);
    fs_err err = {0};
    b.data[b.len++] = 0x12; /* field 2, length-delimited, its length missing */
    assert_int_equal(fs_record_read_fields(b.data, b.len, want, 3, r, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "not wire format"));
}

/* fs_record_read_nested: the message field's occurrences merged, unpacked by
 * protobuf-c, which takes inside them a field number above protobuf's limit
 * in a five-byte tag (what the fuzz target found this file's walker refused). */
static void test_read_nested_merges_as_protobuf_c_unpacks(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *acc = &fieldsync__account__descriptor;
    tb first = {.len = 0}, second = {.len = 0}, b = {.len = 0};
    tb_str(&first, 3, "Ulm");        /* city */
    tb_str(&second, 1, "Hauptstr."); /* street only */
    tb_varint_raw(&second, 0x500000000ull | 0x10);
    tb_varint_raw(&second, 7); /* an unknown varint field numbered above 2^29 - 1 */
    tb_bytes(&b, 5, first.data, first.len);
    tb_bytes(&b, 5, second.data, second.len);
    fs_field_read city;
    assert_int_equal(fs_record_read_nested(b.data, b.len, acc, 5, 3, &city, NULL), 0);
    assert_true(city.set && city.type == FS_FIELD_WIRE_LEN && city.len == 3);
    assert_memory_equal(city.bytes, "Ulm", 3);
    fs_field_read_clear(&city);
    assert_null(city.owned);
    assert_int_equal(fs_record_read_nested(b.data, b.len, acc, 5, 4, &city, NULL), 0);
    assert_false(city.set); /* no region in either */
    fs_err err = {0};
    assert_int_equal(fs_record_read_nested(b.data, b.len, acc, 2, 1, &city, &err), FS_EINVAL);
    tb bad = {.len = 0};
    tb_bytes(&bad, 5,
             (const uint8_t *)"\x1a\x05"
                              "ab",
             4); /* city longer than its bytes */
    assert_int_equal(fs_record_read_nested(bad.data, bad.len, acc, 5, 3, &city, &err), FS_ECORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visible_of_an_empty_state_is_its_id_only),
        cmocka_unit_test(test_visible_round_trips_a_message_of_every_kind),
        cmocka_unit_test(test_visible_nested_message_is_one_value_not_merged),
        cmocka_unit_test(test_conflicts_name_known_and_unknown_fields),
        cmocka_unit_test(test_concurrent_deletes_keep_the_record_hidden),
        cmocka_unit_test(test_visible_keeps_an_enum_value_this_build_does_not_know),
        cmocka_unit_test(test_visible_string_is_the_message_field),
        cmocka_unit_test(test_read_fields_takes_the_last_occurrence),
        cmocka_unit_test(test_read_nested_merges_as_protobuf_c_unpacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
