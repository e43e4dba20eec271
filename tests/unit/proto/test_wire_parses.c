/*
 * test_wire_parses.c: fs_wire_parses says a value parses exactly when
 * protobuf-c 1.4.1's unpack does, rule by rule (the rules are listed at the top
 * of proto/wire_check.c). Every case runs both on the same hand-made bytes and
 * asserts the outcome it expects of each, so a rule both got wrong the same
 * way still fails here. fstest.* (wire_types.proto) holds the field types the
 * record kinds lack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "wire.h"
#include "wire_types.pb-c.h"

#define ALL (&fstest__all_types__descriptor)
#define REQ (&fstest__required__descriptor)
#define ACCOUNT (&fieldsync__account__descriptor)

/* AllTypes' field numbers by the wire type their type wants. */
static const uint32_t varint_fields[] = {1, 2, 3, 4, 5, 6, 14};
static const uint32_t fixed32_fields[] = {7, 9, 11};
static const uint32_t fixed64_fields[] = {8, 10, 12};
static const uint32_t len_fields[] = {15, 16, 17};
#define FIELD_BOOL 13
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool unpacks(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return m != NULL;
}

/* protobuf-c's unpack and fs_wire_parses both answer want on buf. */
static void expect(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len, bool want)
{
    assert_int_equal(unpacks(d, buf, len), want);
    assert_int_equal(fs_wire_parses(d, buf, len), want);
}

#define EXPECT_BYTES(d, want, ...)                                                                 \
    do {                                                                                           \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        expect(d, b_, sizeof(b_), want);                                                           \
    } while (0)
#define ACCEPTS(d, ...) EXPECT_BYTES(d, true, __VA_ARGS__)
#define REFUSES(d, ...) EXPECT_BYTES(d, false, __VA_ARGS__)

/* One occurrence of field with a well-formed payload of wire type w. */
static void put_any(tb *b, uint32_t field, unsigned w)
{
    static const uint8_t leaf[] = {0x08, 0x01}; /* also a valid Leaf */
    tb_tag(b, field, w);
    switch (w) {
    case FS_WIRE_VARINT:
        tb_varint_raw(b, 1);
        break;
    case FS_WIRE_I64:
        memset(b->data + b->len, 0x11, 8);
        b->len += 8;
        break;
    case FS_WIRE_LEN:
        tb_varint_raw(b, sizeof(leaf));
        memcpy(b->data + b->len, leaf, sizeof(leaf));
        b->len += sizeof(leaf);
        break;
    default:
        memset(b->data + b->len, 0x22, 4);
        b->len += 4;
        break;
    }
}

static void expect_field_wires(const uint32_t *fields, size_t n, int want_wire)
{
    static const unsigned wires[] = {FS_WIRE_VARINT, FS_WIRE_I64, FS_WIRE_LEN, FS_WIRE_I32};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < NELEM(wires); k++) {
            tb b = {.len = 0};
            put_any(&b, fields[i], wires[k]);
            expect(ALL, b.data, b.len, want_wire < 0 || (unsigned)want_wire == wires[k]);
        }
    }
}

static void test_parses_empty_input_except_with_required_fields(void **state)
{
    (void)state;
    expect(ACCOUNT, NULL, 0, true);
    expect(ALL, NULL, 0, true);
    expect(&fieldsync__opportunity__descriptor, NULL, 0, true);
    expect(REQ, NULL, 0, false);
}

static void test_parses_only_the_wire_type_of_each_field_type_class(void **state)
{
    (void)state;
    expect_field_wires(varint_fields, NELEM(varint_fields), FS_WIRE_VARINT);
    expect_field_wires(fixed32_fields, NELEM(fixed32_fields), FS_WIRE_I32);
    expect_field_wires(fixed64_fields, NELEM(fixed64_fields), FS_WIRE_I64);
    expect_field_wires(len_fields, NELEM(len_fields), FS_WIRE_LEN);
    /* the record kinds: a string, an enum, a message and a nested uint32 */
    REFUSES(ACCOUNT, 0x10, 0x05);                   /* name (string) as a varint */
    REFUSES(ACCOUNT, 0x52, 0x01, 0x02);             /* tier (enum) length-delimited */
    REFUSES(ACCOUNT, 0x28, 0x01);                   /* address (message) as a varint */
    REFUSES(ACCOUNT, 0x22, 0x05, 0x0d, 1, 2, 3, 4); /* size.staff (uint32) as fixed32 */
    ACCEPTS(ACCOUNT, 0x22, 0x02, 0x08, 0x2a);       /* size.staff = 42 */
    REFUSES(&fieldsync__money__descriptor, 0x09, 1, 2, 3, 4, 5, 6, 7, 8); /* int64 as fixed64 */
}

static void test_parses_bool_with_any_wire_type(void **state)
{
    (void)state;
    uint32_t flag = FIELD_BOOL;
    expect_field_wires(&flag, 1, -1);
    REFUSES(ALL, 0x6b, 0x6c); /* a group is refused all the same */
    /* Visit.next_step_done is the kinds' bool */
    ACCEPTS(&fieldsync__visit__descriptor, 0x9d, 0x01, 1, 0, 0, 0);
}

static void test_parses_refuses_truncated_values(void **state)
{
    (void)state;
    REFUSES(ALL, 0x08);                          /* tag, no value */
    REFUSES(ALL, 0x08, 0x80);                    /* varint cut */
    REFUSES(ALL, 0x3d, 1, 2, 3);                 /* fixed32: 3 of 4 bytes */
    REFUSES(ALL, 0x41, 1, 2, 3, 4, 5, 6, 7);     /* fixed64: 7 of 8 bytes */
    REFUSES(ALL, 0x7a, 0x05, 'a', 'b');          /* length past the end */
    REFUSES(ALL, 0x7a, 0x80);                    /* length varint cut */
    REFUSES(ALL, 0x7a);                          /* no length at all */
    REFUSES(ALL, 0x88);                          /* tag varint cut */
    REFUSES(ACCOUNT, 0x12, 0x04, 'a', 'b', 'c'); /* name cut */
    REFUSES(ACCOUNT, 0x12, 0x01, 'a', 0xc2);     /* a second tag cut */
    ACCEPTS(ACCOUNT, 0x12, 0x03, 'a', 'b', 'c'); /* the same, whole */
    ACCEPTS(ALL, 0x41, 1, 2, 3, 4, 5, 6, 7, 8);  /* fixed64 whole */
    ACCEPTS(ALL, 0x7a, 0x00);                    /* an empty string */
    REFUSES(ALL, 0x08, 0x01, 0x7a, 0x02, 'x');   /* good field, then a cut one */
}

static void test_parses_varints_up_to_ten_bytes_unchecked_for_overflow(void **state)
{
    (void)state;
    /* ten bytes whose tenth holds bits past 64: not checked */
    ACCEPTS(ALL, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
    /* int32 and enum take ten-byte varints too (negative values are ten bytes) */
    ACCEPTS(ALL, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    ACCEPTS(ALL, 0x70, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    /* eleven bytes: refused, however small the value */
    REFUSES(ALL, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    REFUSES(ACCOUNT, 0x50, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    /* a tag of five bytes (field 1 written long) is read; of six, refused */
    ACCEPTS(ALL, 0x88, 0x80, 0x80, 0x80, 0x00, 0x01);
    REFUSES(ALL, 0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01);
    /* a length of five bytes is read; of six, refused */
    ACCEPTS(ALL, 0x7a, 0x81, 0x80, 0x80, 0x80, 0x00, 'x');
    REFUSES(ALL, 0x7a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 'x');
    /* a length above INT_MAX, or above the buffer */
    REFUSES(ALL, 0x7a, 0x80, 0x80, 0x80, 0x80, 0x08, 'x');
    REFUSES(ALL, 0x7a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x');
    REFUSES(ALL, 0x7a, 0xff, 0xff, 0xff, 0xff, 0x07, 'x');
}

static void test_parses_repeated_scalars_packed_or_not(void **state)
{
    (void)state;
    /* r_i32 (not packed in the .proto): one by one, or packed all the same */
    ACCEPTS(ALL, 0xa8, 0x01, 0x01, 0xa8, 0x01, 0x96, 0x01, 0xa8, 0x01, 0x00);
    ACCEPTS(ALL, 0xaa, 0x01, 0x04, 0x01, 0x96, 0x01, 0x00);
    /* p_u32 (packed): packed, or one by one all the same */
    ACCEPTS(ALL, 0xfa, 0x01, 0x03, 0x01, 0x02, 0x03);
    ACCEPTS(ALL, 0xf8, 0x01, 0x01, 0xf8, 0x01, 0x02);
    /* p_sfx32 one by one as fixed32; r_db packed; r_fx32 one by one */
    ACCEPTS(ALL, 0x8d, 0x02, 1, 2, 3, 4, 0x8d, 0x02, 5, 6, 7, 8);
    ACCEPTS(ALL, 0xc2, 0x01, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8);
    ACCEPTS(ALL, 0xbd, 0x01, 1, 2, 3, 4);
    /* packed bools are varints, any length */
    ACCEPTS(ALL, 0xa2, 0x02, 0x04, 0x01, 0x00, 0x80, 0x01);
    ACCEPTS(ALL, 0xca, 0x01, 0x03, 0x02, 0xff, 0x01);
    /* packed enums take undeclared values */
    ACCEPTS(ALL, 0xaa, 0x02, 0x02, 0x63, 0x05);
    /* an element of the wrong wire type */
    REFUSES(ALL, 0xfd, 0x01, 1, 2, 3, 4);       /* p_u32 as fixed32 */
    REFUSES(ALL, 0xb8, 0x01, 0x01);             /* r_fx32 as a varint */
    REFUSES(ALL, 0xd8, 0x01, 0x01);             /* r_text as a varint */
    ACCEPTS(ALL, 0xda, 0x01, 0x02, 0x80, 0x80); /* r_text: one string, never packed */
    REFUSES(ALL, 0xea, 0x01, 0x02, 0x08, 0x80); /* r_leaf: one message, which is cut */
    /* the real packed field: Event.cleared */
    ACCEPTS(&fieldsync__event__descriptor, 0x32, 0x03, 0x02, 0x05, 0x09);
    ACCEPTS(&fieldsync__event__descriptor, 0x30, 0x02, 0x30, 0x05);
    REFUSES(&fieldsync__event__descriptor, 0x35, 1, 2, 3, 4);
}

static void test_parses_refuses_bad_packed_payloads(void **state)
{
    (void)state;
    REFUSES(ALL, 0x8a, 0x02, 0x05, 1, 2, 3, 4, 5);                      /* p_sfx32: 5 bytes */
    REFUSES(ALL, 0x92, 0x02, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4); /* p_fx64: 12 */
    REFUSES(ALL, 0x9a, 0x02, 0x06, 1, 2, 3, 4, 5, 6);                   /* p_fl: 6 */
    REFUSES(ALL, 0xc2, 0x01, 0x04, 1, 2, 3, 4);                         /* r_db packed: 4 */
    REFUSES(ALL, 0xfa, 0x01, 0x02, 0x01, 0x80);                         /* p_u32 ends mid-varint */
    REFUSES(ALL, 0xa2, 0x02, 0x01, 0x80);                               /* p_flag ends mid-varint */
    REFUSES(ALL, 0xb2, 0x02, 0x0b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
            0x00); /* p_u64: an eleven-byte varint */
    ACCEPTS(ALL, 0xb2, 0x02, 0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f);
    ACCEPTS(ALL, 0xfa, 0x01, 0x00); /* an empty run */
    REFUSES(&fieldsync__event__descriptor, 0x32, 0x02, 0x02, 0x85);
}

static void test_parses_refuses_groups_and_reserved_wire_types(void **state)
{
    (void)state;
    static const unsigned bad[] = {3, 4, 6, 7};
    static const uint32_t fields[] = {1, 13, 15, 17, 1000};
    for (size_t i = 0; i < NELEM(bad); i++) {
        for (size_t k = 0; k < NELEM(fields); k++) {
            tb b = {.len = 0};
            tb_tag(&b, fields[k], bad[i]);
            tb_varint_raw(&b, 0); /* something after it */
            tb_varint_raw(&b, 0);
            expect(ALL, b.data, b.len, false);
            expect(ACCOUNT, b.data, b.len, false);
        }
    }
    REFUSES(ACCOUNT, 0x13, 0x14); /* field 2 as a start and end group */
    REFUSES(&fieldsync__address__descriptor, 0x0f, 0x01);
}

static void test_parses_unknown_fields_of_each_wire_type(void **state)
{
    (void)state;
    static const unsigned wires[] = {FS_WIRE_VARINT, FS_WIRE_I64, FS_WIRE_LEN, FS_WIRE_I32};
    for (size_t i = 0; i < NELEM(wires); i++) {
        tb b = {.len = 0};
        put_any(&b, 1000, wires[i]);
        put_any(&b, 99, wires[i]);
        expect(ACCOUNT, b.data, b.len, true);
        expect(ALL, b.data, b.len, true);
        expect(&fieldsync__phone__descriptor, b.data, b.len, true);
        b.len--; /* cut short: refused even though nobody reads it */
        expect(ACCOUNT, b.data, b.len, false);
    }
    /* an unknown length-delimited field's payload is not looked into */
    ACCEPTS(ACCOUNT, 0xc2, 0x3e, 0x03, 0xff, 0xff, 0xff);
}

static void test_parses_field_number_zero_only_in_a_long_tag(void **state)
{
    (void)state;
    REFUSES(ALL, 0x00, 0x01); /* field 0, varint */
    REFUSES(ALL, 0x02, 0x00); /* field 0, length-delimited */
    REFUSES(ALL, 0x05, 1, 2, 3, 4);
    REFUSES(ACCOUNT, 0x12, 0x01, 'a', 0x00, 0x00); /* after a good field */
    /* the same field 0 in a two-byte tag is read as an unknown field */
    ACCEPTS(ALL, 0x80, 0x00, 0x01);
    ACCEPTS(ACCOUNT, 0x82, 0x00, 0x01, 'a');
    /* field numbers above 2^29-1 are unknown fields, up to 2^32-1 */
    ACCEPTS(ALL, 0x80, 0x80, 0x80, 0x80, 0x10, 0x01);     /* 2^29 */
    ACCEPTS(ALL, 0xf8, 0xff, 0xff, 0xff, 0x7f, 0x01);     /* 2^32-1 */
    ACCEPTS(ACCOUNT, 0xfa, 0xff, 0xff, 0xff, 0x7f, 0x00); /* 2^32-1, empty payload */
    REFUSES(ACCOUNT, 0xfb, 0xff, 0xff, 0xff, 0x7f, 0x00); /* ... but never a group */
}

static void test_parses_refuses_a_nested_message_that_fails(void **state)
{
    (void)state;
    /* address.street as a varint */
    REFUSES(ACCOUNT, 0x2a, 0x02, 0x08, 0x01);
    ACCEPTS(ACCOUNT, 0x2a, 0x03, 0x0a, 0x01, 'x');
    /* phones[0] good, phones[1] with kind length-delimited */
    REFUSES(ACCOUNT, 0x32, 0x02, 0x08, 0x01, 0x32, 0x03, 0x0a, 0x01, 0x00);
    /* purchase_plan.budget.minor_units as fixed32: two levels down */
    REFUSES(ACCOUNT, 0x6a, 0x07, 0x12, 0x05, 0x0d, 1, 2, 3, 4);
    ACCEPTS(ACCOUNT, 0x6a, 0x04, 0x12, 0x02, 0x08, 0x05);
    /* competitors[0].satisfaction as fixed32 */
    REFUSES(ACCOUNT, 0x72, 0x05, 0x1d, 1, 2, 3, 4);
    /* a nested message cut inside: its own length runs past its payload */
    REFUSES(ACCOUNT, 0x2a, 0x04, 0x0a, 0x05, 'a', 'b');
    /* the same message field twice: the second fails */
    ACCEPTS(ACCOUNT, 0x2a, 0x00, 0x2a, 0x02, 0x1a, 0x00);
    REFUSES(ACCOUNT, 0x2a, 0x00, 0x2a, 0x02, 0x18, 0x00);
    /* stage_history[0].stage (enum) length-delimited; objections[0] fine */
    REFUSES(&fieldsync__opportunity__descriptor, 0x72, 0x03, 0x0a, 0x01, 0x01);
    ACCEPTS(&fieldsync__visit__descriptor, 0x7a, 0x03, 0x0a, 0x01, 'x');
    /* a group inside a nested message */
    REFUSES(&fieldsync__transaction__descriptor, 0x22, 0x02, 0x0b, 0x0c);
}

static void test_parses_required_fields_only_when_present(void **state)
{
    (void)state;
    REFUSES(REQ, 0x08, 0x01);                   /* a, no leaf */
    REFUSES(REQ, 0x22, 0x00);                   /* leaf, no a */
    ACCEPTS(REQ, 0x08, 0x01, 0x22, 0x00);       /* b has a default: not needed */
    ACCEPTS(REQ, 0x22, 0x00, 0x08, 0x01);       /* any order */
    REFUSES(REQ, 0x0d, 1, 2, 3, 4, 0x22, 0x00); /* a present, of the wrong wire type */
    REFUSES(REQ, 0x08, 0x01, 0x22, 0x01, 0x80); /* leaf present but broken */
    REFUSES(REQ, 0x1a, 0x00, 0x10, 0x01);       /* only the optional ones */
}

static void test_parses_oneof_members_as_optional_fields(void **state)
{
    (void)state;
    ACCEPTS(ALL, 0xc2, 0x02, 0x00, 0xc8, 0x02, 0x01, 0xd2, 0x02, 0x01, 'x');
    ACCEPTS(ALL, 0xc2, 0x02, 0x00, 0xc2, 0x02, 0x02, 0x08, 0x01);
    REFUSES(ALL, 0xc2, 0x02, 0x02, 0x08, 0x80);       /* c_leaf broken */
    REFUSES(ALL, 0xd0, 0x02, 0x01);                   /* c_text as a varint */
    ACCEPTS(ALL, 0xc9, 0x02, 1, 2, 3, 4, 5, 6, 7, 8); /* c_flag: a bool takes anything */
    /* PushResult: the real oneof */
    ACCEPTS(&fieldsync__push_result__descriptor, 0x1a, 0x02, 0x08, 0x02, 0x50, 0x01);
    REFUSES(&fieldsync__push_result__descriptor, 0x1a, 0x02, 0x08, 0x80);
}

static void test_parses_any_string_bytes_and_enum_value(void **state)
{
    (void)state;
    ACCEPTS(ACCOUNT, 0x12, 0x04, 0xff, 0x00, 0xc3, 0x28); /* not UTF-8, a NUL */
    ACCEPTS(ALL, 0x82, 0x01, 0x02, 0x00, 0xff);
    ACCEPTS(ACCOUNT, 0x50, 0x63);                     /* tier 99: no such tier */
    ACCEPTS(ALL, 0x70, 0xff, 0xff, 0xff, 0xff, 0x0f); /* color: above 2^31 */
}

/* Tree nested depth levels deep (depth 0: an empty Tree). */
static size_t nest_tree(uint8_t *out, unsigned depth)
{
    uint8_t tmp[64];
    size_t n = 0;
    for (unsigned i = 0; i < depth; i++) {
        tmp[0] = 0x0a;
        tmp[1] = (uint8_t)n;
        memcpy(tmp + 2, out, n);
        n += 2;
        memcpy(out, tmp, n);
    }
    return n;
}

static void test_parses_messages_nested_up_to_the_depth_bound(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = nest_tree(buf, FS_WIRE_MAX_DEPTH);
    expect(&fstest__tree__descriptor, buf, n, true);
    /* One level more: protobuf-c has no bound and unpacks it; fs_wire_parses
     * refuses it. No message of fieldsync.proto nests itself, so this never
     * separates them on a record kind. */
    n = nest_tree(buf, FS_WIRE_MAX_DEPTH + 1);
    assert_true(unpacks(&fstest__tree__descriptor, buf, n));
    assert_false(fs_wire_parses(&fstest__tree__descriptor, buf, n));
}

/* Everything protobuf-c packs, it parses, and so does fs_wire_parses. */
static void expect_packed_parses(const ProtobufCMessage *m)
{
    uint8_t buf[1024];
    size_t n = protobuf_c_message_get_packed_size(m);
    assert_true(n <= sizeof(buf));
    assert_int_equal(protobuf_c_message_pack(m, buf), n);
    expect(m->descriptor, buf, n, true);
}

static void test_parses_what_protobuf_c_packs(void **state)
{
    (void)state;
    Fieldsync__Money budget = FIELDSYNC__MONEY__INIT;
    budget.has_minor_units = 1;
    budget.minor_units = -250000;
    budget.currency = "EUR";
    Fieldsync__Account__PurchasePlan plan = FIELDSYNC__ACCOUNT__PURCHASE_PLAN__INIT;
    plan.what = "forklifts";
    plan.budget = &budget;
    Fieldsync__Phone phone = FIELDSYNC__PHONE__INIT, *phones[] = {&phone, &phone};
    phone.has_kind = 1;
    phone.kind = FIELDSYNC__PHONE__KIND__MOBILE;
    phone.number = "+49 89 1234";
    Fieldsync__Account__Competitor comp = FIELDSYNC__ACCOUNT__COMPETITOR__INIT, *comps[] = {&comp};
    comp.vendor = "Acme";
    comp.has_satisfaction = 1;
    comp.satisfaction = 3;
    Fieldsync__Account__Size size = FIELDSYNC__ACCOUNT__SIZE__INIT;
    size.has_staff = 1;
    size.staff = 120;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    addr.city = "Garching";
    char *tags[] = {"a", "b"};
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Hofer GmbH";
    a.size = &size;
    a.address = &addr;
    a.n_phones = 2;
    a.phones = phones;
    a.has_tier = 1;
    a.tier = FIELDSYNC__ACCOUNT__TIER__PROSPECT;
    a.purchase_plan = &plan;
    a.n_competitors = 1;
    a.competitors = comps;
    a.n_tags = 2;
    a.tags = tags;
    expect_packed_parses(&a.base);
    expect_packed_parses(&plan.base);
    Fieldsync__Opportunity__Criteria crit = FIELDSYNC__OPPORTUNITY__CRITERIA__INIT;
    crit.has_decision_maker = 1;
    crit.decision_maker = 1;
    Fieldsync__Opportunity__StageChange sc = FIELDSYNC__OPPORTUNITY__STAGE_CHANGE__INIT,
                                        *hist[] = {&sc, &sc};
    sc.has_stage = 1;
    sc.stage = FIELDSYNC__OPPORTUNITY__STAGE__PCT_50;
    sc.date = "2026-03-01";
    Fieldsync__Opportunity o = FIELDSYNC__OPPORTUNITY__INIT;
    o.title = "Fleet";
    o.criteria = &crit;
    o.amount = &budget;
    o.n_stage_history = 2;
    o.stage_history = hist;
    expect_packed_parses(&o.base);
    Fieldsync__Visit__Objection obj = FIELDSYNC__VISIT__OBJECTION__INIT, *objs[] = {&obj};
    obj.objection = "price";
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    v.has_planned_at = 1;
    v.planned_at = 1790000000;
    v.n_objections = 1;
    v.objections = objs;
    v.has_next_step_done = 1;
    v.next_step_done = 1;
    expect_packed_parses(&v.base);
    uint32_t p[] = {1, 300, 70000};
    int32_t r[] = {-1, 0, 150};
    Fstest__AllTypes all = FSTEST__ALL_TYPES__INIT;
    all.has_s64 = 1;
    all.s64 = -5;
    all.has_db = 1;
    all.db = 2.5;
    all.n_p_u32 = 3;
    all.p_u32 = p;
    all.n_r_i32 = 3;
    all.r_i32 = r;
    expect_packed_parses(&all.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_empty_input_except_with_required_fields),
        cmocka_unit_test(test_parses_only_the_wire_type_of_each_field_type_class),
        cmocka_unit_test(test_parses_bool_with_any_wire_type),
        cmocka_unit_test(test_parses_refuses_truncated_values),
        cmocka_unit_test(test_parses_varints_up_to_ten_bytes_unchecked_for_overflow),
        cmocka_unit_test(test_parses_repeated_scalars_packed_or_not),
        cmocka_unit_test(test_parses_refuses_bad_packed_payloads),
        cmocka_unit_test(test_parses_refuses_groups_and_reserved_wire_types),
        cmocka_unit_test(test_parses_unknown_fields_of_each_wire_type),
        cmocka_unit_test(test_parses_field_number_zero_only_in_a_long_tag),
        cmocka_unit_test(test_parses_refuses_a_nested_message_that_fails),
        cmocka_unit_test(test_parses_required_fields_only_when_present),
        cmocka_unit_test(test_parses_oneof_members_as_optional_fields),
        cmocka_unit_test(test_parses_any_string_bytes_and_enum_value),
        cmocka_unit_test(test_parses_messages_nested_up_to_the_depth_bound),
        cmocka_unit_test(test_parses_what_protobuf_c_packs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
