/*
 * test_wire.c: the private wire-format walker: it refuses every malformed input
 * it can meet and its canonical form is a stable, minimal regrouping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/error.h"
#include "helpers.h"
#include "wire.h"

static int walk_all(const uint8_t *buf, size_t len)
{
    size_t pos = 0;
    fs_wire_field f;
    const char *why = NULL;
    int r;
    while ((r = fs_wire_next(buf, len, &pos, &f, &why)) == 1)
        assert_true(pos <= len);
    if (r < 0)
        assert_non_null(why);
    return r;
}

static void test_wire_varint_reads_up_to_64_bits(void **state)
{
    (void)state;
    const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    size_t pos = 0;
    uint64_t v;
    assert_int_equal(fs_wire_get_varint(max, sizeof(max), &pos, &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(pos, 10);
    uint8_t out[FS_WIRE_VARINT_MAX];
    assert_int_equal(fs_wire_put_varint(out, UINT64_MAX), 10);
    assert_memory_equal(out, max, 10);
    assert_int_equal(fs_wire_put_varint(out, 0), 1);
    assert_int_equal(out[0], 0);
}

static void test_wire_refuses_a_truncated_varint(void **state)
{
    (void)state;
    const uint8_t buf[] = {0x80, 0x80};
    size_t pos = 0;
    uint64_t v;
    assert_int_equal(fs_wire_get_varint(buf, sizeof(buf), &pos, &v), -1);
    assert_int_equal(pos, 0);
    const uint8_t field[] = {0x10, 0xff}; /* field 2 varint, value cut off */
    assert_int_equal(walk_all(field, sizeof(field)), -1);
}

static void test_wire_refuses_a_varint_longer_than_64_bits(void **state)
{
    (void)state;
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    const uint8_t tenth_big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    size_t pos = 0;
    uint64_t v;
    assert_int_equal(fs_wire_get_varint(eleven, sizeof(eleven), &pos, &v), -1);
    pos = 0;
    assert_int_equal(fs_wire_get_varint(tenth_big, sizeof(tenth_big), &pos, &v), -1);
}

static void test_wire_refuses_groups_and_reserved_wire_types(void **state)
{
    (void)state;
    for (unsigned type = 3; type <= 7; type++) {
        if (type == FS_WIRE_I32)
            continue;
        tb b = {.len = 0};
        tb_tag(&b, 2, type);
        b.data[b.len++] = 0;
        assert_int_equal(walk_all(b.data, b.len), -1);
    }
}

static void test_wire_refuses_field_number_zero_and_too_large(void **state)
{
    (void)state;
    tb b = {.len = 0};
    tb_tag(&b, 0, 0);
    b.data[b.len++] = 1;
    assert_int_equal(walk_all(b.data, b.len), -1);
    tb c = {.len = 0};
    tb_varint_raw(&c, ((uint64_t)FS_WIRE_MAX_FIELD + 1) << 3);
    c.data[c.len++] = 1;
    assert_int_equal(walk_all(c.data, c.len), -1);
    tb d = {.len = 0};
    tb_uint(&d, FS_WIRE_MAX_FIELD, 1);
    assert_int_equal(walk_all(d.data, d.len), 0);
}

static void test_wire_refuses_a_length_past_the_end(void **state)
{
    (void)state;
    const uint8_t buf[] = {0x12, 0x05, 'a', 'b'};
    assert_int_equal(walk_all(buf, sizeof(buf)), -1);
    /* a length near 2^64 must not wrap the bounds check */
    const uint8_t huge[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(walk_all(huge, sizeof(huge)), -1);
}

static void test_wire_refuses_truncated_fixed_width_values(void **state)
{
    (void)state;
    const uint8_t f64[] = {0x11, 1, 2, 3, 4, 5, 6, 7};
    const uint8_t f32[] = {0x15, 1, 2, 3};
    assert_int_equal(walk_all(f64, sizeof(f64)), -1);
    assert_int_equal(walk_all(f32, sizeof(f32)), -1);
}

static void test_wire_canon_groups_fields_stably(void **state)
{
    (void)state;
    tb in = {.len = 0}, want = {.len = 0};
    tb_str(&in, 16, "t1");
    tb_str(&in, 2, "name");
    tb_str(&in, 16, "t2");
    tb_uint(&in, 10, 3);
    tb_str(&in, 16, "t3");
    tb_str(&want, 2, "name");
    tb_uint(&want, 10, 3);
    tb_str(&want, 16, "t1");
    tb_str(&want, 16, "t2");
    tb_str(&want, 16, "t3");
    uint8_t *out = NULL;
    size_t len = 0;
    const char *why = NULL;
    assert_int_equal(fs_wire_canon(in.data, in.len, 0, &out, &len, &why), 0);
    assert_int_equal(len, want.len);
    assert_memory_equal(out, want.data, len);
    fs_wire_span *spans = NULL;
    size_t n = 0;
    assert_int_equal(fs_wire_spans(out, len, &spans, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(spans[2].number, 16);
    assert_int_equal(spans[2].end, len);
    free(spans);
    free(out);
}

static void test_wire_canon_reencodes_overlong_varints_minimally(void **state)
{
    (void)state;
    /* field 2, varint 1, with tag and value padded to three bytes each */
    const uint8_t in[] = {0x90, 0x80, 0x00, 0x81, 0x80, 0x00, 0x9a,
                          0x80, 0x00, 0x82, 0x00, 'h',  'i'};
    const uint8_t want[] = {0x10, 0x01, 0x1a, 0x02, 'h', 'i'};
    uint8_t *out = NULL;
    size_t len = 0;
    const char *why = NULL;
    assert_int_equal(fs_wire_canon(in, sizeof(in), 0, &out, &len, &why), 0);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(out, want, len);
    free(out);
}

static void test_wire_canon_refuses_or_strips_field_one(void **state)
{
    (void)state;
    tb in = {.len = 0};
    tb_str(&in, 1, "some-id");
    tb_str(&in, 2, "name");
    uint8_t *out = NULL;
    size_t len = 0;
    const char *why = NULL;
    assert_int_equal(fs_wire_canon(in.data, in.len, 0, &out, &len, &why), FS_ECORRUPT);
    assert_non_null(why);
    assert_null(out);
    assert_int_equal(fs_wire_canon(in.data, in.len, FS_WIRE_STRIP_ID, &out, &len, &why), 0);
    tb want = {.len = 0};
    tb_str(&want, 2, "name");
    assert_int_equal(len, want.len);
    assert_memory_equal(out, want.data, len);
    free(out);
}

static void test_wire_spans_refuse_a_non_canonical_buffer(void **state)
{
    (void)state;
    tb in = {.len = 0};
    tb_str(&in, 3, "x");
    tb_str(&in, 2, "y");
    fs_wire_span *spans = NULL;
    size_t n = 0;
    assert_int_equal(fs_wire_spans(in.data, in.len, &spans, &n), FS_ECORRUPT);
    tb split = {.len = 0};
    tb_str(&split, 2, "x");
    tb_str(&split, 3, "y");
    tb_str(&split, 2, "z");
    assert_int_equal(fs_wire_spans(split.data, split.len, &spans, &n), FS_ECORRUPT);
}

static void test_wire_empty_buffer_is_valid_and_empty(void **state)
{
    (void)state;
    uint8_t *out = (uint8_t *)1;
    size_t len = 7;
    const char *why = NULL;
    assert_int_equal(fs_wire_canon(NULL, 0, 0, &out, &len, &why), 0);
    assert_null(out);
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_varint_reads_up_to_64_bits),
        cmocka_unit_test(test_wire_refuses_a_truncated_varint),
        cmocka_unit_test(test_wire_refuses_a_varint_longer_than_64_bits),
        cmocka_unit_test(test_wire_refuses_groups_and_reserved_wire_types),
        cmocka_unit_test(test_wire_refuses_field_number_zero_and_too_large),
        cmocka_unit_test(test_wire_refuses_a_length_past_the_end),
        cmocka_unit_test(test_wire_refuses_truncated_fixed_width_values),
        cmocka_unit_test(test_wire_canon_groups_fields_stably),
        cmocka_unit_test(test_wire_canon_reencodes_overlong_varints_minimally),
        cmocka_unit_test(test_wire_canon_refuses_or_strips_field_one),
        cmocka_unit_test(test_wire_spans_refuse_a_non_canonical_buffer),
        cmocka_unit_test(test_wire_empty_buffer_is_valid_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
