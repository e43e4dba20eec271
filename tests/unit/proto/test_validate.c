/*
 * test_validate.c: the record limits (docs/record-model.md "Limits"): a local
 * write refuses text that is not UTF-8, holds a NUL or is too long, at any
 * depth, and values over the per-write limit, leaving the state as it was;
 * fs_record_validate finds the same in states from elsewhere, which decode
 * regardless, and names the record and the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "record_internal.h"

#define R1 0x1111111111111111ull

/* A write of account fields that must be refused, with why containing needle. */
static void expect_refused(fs_state *st, const Fieldsync__Account *a, const char *needle)
{
    size_t before_len = 0, after_len = 0;
    uint8_t *before = encode(st, &before_len);
    fs_err err = {0};
    assert_int_equal(fs_record_write_msg(st, R1, 5000, &a->base, NULL, 0, &err), FS_EINVAL);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
    uint8_t *after = encode(st, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len); /* the state is unchanged */
    free(before);
    free(after);
}

static char *text_of(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, 'x', n);
    s[n] = '\0';
    return s;
}

static void write_refuses_text_that_is_not_utf8_at_any_depth(void **state)
{
    (void)state;
    fs_state *st = new_account();
    write_str(st, R1, 1000, 2, "Hansen Fleet Services");
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Bad \xff\xfe name";
    expect_refused(st, &a, "name is not valid UTF-8");

    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    addr.city = "Bre\xc3men";
    Fieldsync__Account b = FIELDSYNC__ACCOUNT__INIT;
    b.address = &addr;
    expect_refused(st, &b, "address.city is not valid UTF-8");

    Fieldsync__Phone ph = FIELDSYNC__PHONE__INIT, *phones[] = {&ph};
    ph.number = "\xed\xa0\x80"; /* a surrogate */
    Fieldsync__Account c = FIELDSYNC__ACCOUNT__INIT;
    c.n_phones = 1;
    c.phones = phones;
    expect_refused(st, &c, "phones.number is not valid UTF-8");
    fs_state_free(st);
}

static void write_refuses_a_nul_byte(void **state)
{
    (void)state;
    fs_state *st = new_account();
    tb b = {.len = 0};
    tb_bytes(&b, 3, (const uint8_t *)"steel\0works", 11);
    fs_err err = {0};
    assert_int_equal(fs_record_write(st, R1, 1000, b.data, b.len, NULL, 0, &err), FS_EINVAL);
    assert_non_null(strstr(err.msg, "industry contains a NUL byte"));
    assert_int_equal(st->nevents, 0);
    fs_state_free(st);
}

static void text_limit_holds_for_each_value_alone(void **state)
{
    (void)state;
    fs_state *st = new_account();
    char *max = text_of(FS_RECORD_TEXT_MAX), *over = text_of(FS_RECORD_TEXT_MAX + 1);
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.notes = over;
    expect_refused(st, &a, "notes is 65537 bytes long, over the limit of 65536");
    char *tags[] = {max, max}; /* two tags at the limit: each counts alone */
    Fieldsync__Account b = FIELDSYNC__ACCOUNT__INIT;
    b.notes = max;
    b.n_tags = 2;
    b.tags = tags;
    assert_int_equal(fs_record_write_msg(st, R1, 1000, &b.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_record_validate(st, NULL), 0);
    tags[1] = over;
    expect_refused(st, &b, "tags is 65537 bytes long");
    free(max);
    free(over);
    fs_state_free(st);
}

static void write_limit_holds_for_the_values_of_one_write(void **state)
{
    (void)state;
    fs_state *st = new_account();
    char *max = text_of(FS_RECORD_TEXT_MAX);
    char *tags[FS_RECORD_WRITE_MAX / FS_RECORD_TEXT_MAX + 1];
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        tags[i] = max;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.n_tags = sizeof(tags) / sizeof(tags[0]);
    a.tags = tags;
    expect_refused(st, &a, "over the limit of 1048576");
    a.n_tags--; /* 16 tags of 64 KiB and their tags and lengths: still over */
    expect_refused(st, &a, "the values of one write");
    a.n_tags--;
    assert_int_equal(fs_record_write_msg(st, R1, 1000, &a.base, NULL, 0, NULL), 0);
    free(max);
    fs_state_free(st);
}

static void fields_this_build_does_not_know_pass_as_bytes(void **state)
{
    (void)state;
    fs_state *st = new_account();
    tb b = {.len = 0};
    tb_bytes(&b, 99, (const uint8_t *)"\xff\x00\xfe", 3); /* a future field's bytes */
    assert_int_equal(fs_record_write(st, R1, 1000, b.data, b.len, NULL, 0, NULL), 0);
    assert_int_equal(fs_record_validate(st, NULL), 0);
    fs_state_free(st);
}

/* A decoded state with one event holding values (wire format of an account). */
static fs_state *decoded(const char *id, const tb *values)
{
    Fieldsync__VersionVectorEntry vv = FIELDSYNC__VERSION_VECTOR_ENTRY__INIT, *vvp[] = {&vv};
    vv.has_replica = vv.has_counter = 1;
    vv.replica = R1;
    vv.counter = 1;
    Fieldsync__Event ev = FIELDSYNC__EVENT__INIT, *evp[] = {&ev};
    ev.has_replica = ev.has_counter = ev.has_hlc = ev.has_alive = ev.alive = ev.has_fields = 1;
    ev.replica = R1;
    ev.counter = 1;
    ev.hlc = 1000;
    ev.fields.data = (uint8_t *)values->data;
    ev.fields.len = values->len;
    Fieldsync__RecordState pb = FIELDSYNC__RECORD_STATE__INIT;
    pb.has_kind = 1;
    pb.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    pb.id = (char *)id;
    pb.n_vv = pb.n_events = 1;
    pb.vv = vvp;
    pb.events = evp;
    fs_state *st = NULL;
    assert_int_equal(fs_state_from_pb(&st, &pb, NULL), 0); /* decoding does not check limits */
    return st;
}

static void validate_names_the_record_and_the_field(void **state)
{
    (void)state;
    tb good = {.len = 0}, bad = {.len = 0};
    tb_str(&good, 2, "Alder Foods");
    tb_str(&bad, 2, "Alder Foods");
    tb_str(&bad, 15, "\xc0\xaf overlong");
    fs_state *st = decoded("acc-9", &good);
    assert_int_equal(fs_record_validate(st, NULL), 0);
    fs_state_free(st);
    st = decoded("acc-9", &bad);
    fs_err err = {0};
    assert_int_equal(fs_record_validate(st, &err), FS_EINVAL);
    assert_string_equal(err.msg, "account acc-9: notes is not valid UTF-8 text");
    fs_state_free(st);
    st = decoded("acc-\xff", &good);
    assert_int_equal(fs_record_validate(st, &err), FS_EINVAL);
    assert_string_equal(err.msg, "account id is not valid UTF-8 text");
    fs_state_free(st);
}

/* Values that do not parse inside a nested message: only a local write's can
 * be such (a state from elsewhere that does not parse is refused before). */
static void malformed_nested_values_are_named_by_their_path(void **state)
{
    (void)state;
    tb nested = {.len = 0};
    static const uint8_t city_past_its_end[] = {0x1a, 0x05, 'a'};
    tb_bytes(&nested, 5, city_past_its_end, sizeof(city_past_its_end)); /* address */
    char why[256];
    assert_int_equal(
        fs_values_check(&fieldsync__account__descriptor, nested.data, nested.len, why, sizeof(why)),
        FS_EINVAL);
    if (strncmp(why, "address.malformed values: ", 26) != 0)
        fail_msg("\"%s\" does not name the address", why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_refuses_text_that_is_not_utf8_at_any_depth),
        cmocka_unit_test(write_refuses_a_nul_byte),
        cmocka_unit_test(text_limit_holds_for_each_value_alone),
        cmocka_unit_test(write_limit_holds_for_the_values_of_one_write),
        cmocka_unit_test(fields_this_build_does_not_know_pass_as_bytes),
        cmocka_unit_test(validate_names_the_record_and_the_field),
        cmocka_unit_test(malformed_nested_values_are_named_by_their_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
