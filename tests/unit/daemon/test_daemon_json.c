/*
 * test_daemon_json.c: the generic record <-> JSON mapping: every field shape
 * (scalars, enums, nested messages, Money, repeated, int64) round-trips; partial
 * updates report cleared fields; every malformed input is refused with the
 * dotted path of the field at fault, never half-applied or crashed on; text the
 * store holds that is not UTF-8 leaves as valid JSON (U+FFFD).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/record.h"
#include "json_record.h"

typedef struct result {
    int rc;
    ProtobufCMessage *msg;
    uint32_t cleared[64];
    size_t ncleared;
    char field[FS_JSON_FIELD_MAX];
    fs_err err;
} result;

static void convert(fs_kind kind, const char *json, result *r)
{
    memset(r, 0, sizeof(*r));
    json_error_t jerr;
    json_t *obj = json_loads(json, 0, &jerr);
    if (obj == NULL)
        fail_msg("bad test JSON: %s", jerr.text);
    r->rc = fs_json_to_msg(&r->msg, r->cleared, &r->ncleared, fs_kind_descriptor(kind), obj,
                           r->field, &r->err);
    json_decref(obj);
}

static void release(result *r)
{
    if (r->msg != NULL)
        protobuf_c_message_free_unpacked(r->msg, NULL);
}

static void account_round_trips_through_json(void **state)
{
    (void)state;
    const char *in = "{\"name\":\"Acme Hydraulics\",\"industry\":\"machinery\","
                     "\"size\":{\"staff\":120,\"fleet\":4},"
                     "\"address\":{\"city\":\"Köln\",\"country\":\"DE\"},"
                     "\"phones\":[{\"kind\":\"office\",\"number\":\"+49 221 1\"},"
                     "{\"kind\":\"fax\",\"number\":\"+49 221 2\"}],"
                     "\"source\":\"chamber_of_commerce\",\"tier\":\"quoted\","
                     "\"funnel_stage\":\"funnel_prospect\","
                     "\"purchase_plan\":{\"what\":\"press\",\"budget\":{\"minor_units\":"
                     "9007199254740993,\"currency\":\"EUR\"}},"
                     "\"competitors\":[{\"vendor\":\"Other\",\"satisfaction\":2}],"
                     "\"tags\":[\"key\",\"north\"]}";
    result r;
    convert(FIELDSYNC__RECORD_KIND__ACCOUNT, in, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.ncleared, 0);
    Fieldsync__Account *a = (Fieldsync__Account *)r.msg;
    assert_string_equal(a->name, "Acme Hydraulics");
    assert_int_equal(a->tier, FIELDSYNC__ACCOUNT__TIER__QUOTED);
    assert_int_equal(a->n_phones, 2);
    assert_int_equal(a->phones[1]->kind, FIELDSYNC__PHONE__KIND__FAX);
    assert_true(a->purchase_plan->budget->minor_units == 9007199254740993LL); /* > 2^53 */
    json_t *out = fs_json_from_msg(r.msg);
    json_t *want = json_loads(in, 0, NULL);
    if (!json_equal(out, want)) {
        char *s = json_dumps(out, 0);
        fail_msg("round trip differs: %s", s);
    }
    json_decref(out);
    json_decref(want);
    release(&r);
}

static void id_in_record_is_ignored(void **state)
{
    (void)state;
    result r;
    convert(FIELDSYNC__RECORD_KIND__CONTACT, "{\"id\":\"evil\",\"name\":\"Ann\"}", &r);
    assert_int_equal(r.rc, 0);
    assert_null(((Fieldsync__Contact *)r.msg)->id);
    assert_int_equal(r.ncleared, 0);
    release(&r);
}

static void null_and_empty_array_clear_fields(void **state)
{
    (void)state;
    result r;
    convert(FIELDSYNC__RECORD_KIND__ACCOUNT,
            "{\"website\":null,\"tags\":[],\"address\":null,\"name\":\"Kept\"}", &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.ncleared, 3);
    int seen = 0;
    for (size_t i = 0; i < r.ncleared; i++)
        seen |= r.cleared[i] == 7 ? 1 : r.cleared[i] == 16 ? 2 : r.cleared[i] == 5 ? 4 : 8;
    assert_int_equal(seen, 7);
    Fieldsync__Account *a = (Fieldsync__Account *)r.msg;
    assert_null(a->website);
    assert_null(a->address);
    assert_string_equal(a->name, "Kept");
    release(&r);
}

static void expect_bad(fs_kind kind, const char *json, const char *field)
{
    result r;
    convert(kind, json, &r);
    if (r.rc != FS_EINVAL)
        fail_msg("accepted %s", json);
    assert_null(r.msg);
    if (strcmp(r.field, field) != 0)
        fail_msg("%s: field \"%s\", expected \"%s\" (%s)", json, r.field, field, r.err.msg);
    assert_true(strlen(r.err.msg) > 0);
}

static void malformed_fields_are_refused_with_their_path(void **state)
{
    (void)state;
    fs_kind acc = FIELDSYNC__RECORD_KIND__ACCOUNT;
    expect_bad(acc, "{\"nmae\":\"x\"}", "nmae");
    expect_bad(acc, "{\"address\":{\"ctiy\":\"x\"}}", "address.ctiy");
    expect_bad(acc, "{\"name\":42}", "name");
    expect_bad(acc, "{\"name\":[\"a\"]}", "name");
    expect_bad(acc, "{\"tier\":\"platinum\"}", "tier");
    expect_bad(acc, "{\"tier\":3}", "tier");
    expect_bad(acc, "{\"size\":{\"staff\":-1}}", "size.staff");
    expect_bad(acc, "{\"size\":{\"staff\":4294967296}}", "size.staff");
    expect_bad(acc, "{\"size\":{\"staff\":1.5}}", "size.staff");
    expect_bad(acc, "{\"size\":\"big\"}", "size");
    expect_bad(acc, "{\"tags\":\"one\"}", "tags");
    expect_bad(acc, "{\"tags\":[\"ok\",7]}", "tags[1]");
    expect_bad(acc, "{\"phones\":[{\"kind\":\"pager\"}]}", "phones[0].kind");
    expect_bad(acc, "{\"purchase_plan\":{\"budget\":{\"minor_units\":\"100\"}}}",
               "purchase_plan.budget.minor_units");
    fs_kind visit = FIELDSYNC__RECORD_KIND__VISIT;
    expect_bad(visit, "{\"next_step_done\":\"yes\"}", "next_step_done");
    expect_bad(visit, "{\"planned_at\":true}", "planned_at");
    expect_bad(visit, "{\"next_step_date\":\"2026-13-01\"}", "next_step_date");
    expect_bad(visit, "{\"objections\":[{\"objection\":1}]}", "objections[0].objection");
}

static void dates_must_be_real_calendar_days(void **state)
{
    (void)state;
    assert_true(fs_json_valid_date("2024-02-29"));
    assert_true(fs_json_valid_date("2026-12-31"));
    assert_false(fs_json_valid_date("2023-02-29"));
    assert_false(fs_json_valid_date("1900-02-29"));
    assert_true(fs_json_valid_date("2000-02-29"));
    assert_false(fs_json_valid_date("2026-04-31"));
    assert_false(fs_json_valid_date("2026-00-10"));
    assert_false(fs_json_valid_date("2026-1-01"));
    assert_false(fs_json_valid_date("2026-01-01T00:00"));
    assert_false(fs_json_valid_date("20260101"));
    assert_false(fs_json_valid_date("2026-01-0a"));
    assert_false(fs_json_valid_date(""));
    assert_true(fs_json_is_date_field("date"));
    assert_true(fs_json_is_date_field("next_step_date"));
    assert_false(fs_json_is_date_field("update"));
    assert_false(fs_json_is_date_field("planned_at"));
    result r;
    convert(FIELDSYNC__RECORD_KIND__TRANSACTION, "{\"date\":\"2026-02-30\"}", &r);
    assert_int_equal(r.rc, FS_EINVAL);
    assert_string_equal(r.field, "date");
    convert(FIELDSYNC__RECORD_KIND__TRANSACTION, "{\"date\":\"2026-02-28\"}", &r);
    assert_int_equal(r.rc, 0);
    release(&r);
}

static void enums_are_lower_case_names_and_unknown_values_numbers(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(
        fs_json_enum_name(&fieldsync__opportunity__stage__descriptor, 4, buf, sizeof(buf)),
        "pct_50");
    assert_null(
        fs_json_enum_name(&fieldsync__opportunity__stage__descriptor, 99, buf, sizeof(buf)));
    int v;
    assert_int_equal(fs_json_enum_from_name(&fieldsync__visit__kind__descriptor, "phone_call", &v),
                     0);
    assert_int_equal(v, FIELDSYNC__VISIT__KIND__PHONE_CALL);
    assert_int_equal(fs_json_enum_from_name(&fieldsync__visit__kind__descriptor, "", &v), -1);
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(fs_json_enum_from_name(&fieldsync__visit__kind__descriptor, longname, &v), -1);
    /* a value from a newer build (no name here) is shown as its number */
    Fieldsync__Opportunity o = FIELDSYNC__OPPORTUNITY__INIT;
    o.has_stage = 1;
    o.stage = 42;
    json_t *j = fs_json_from_msg(&o.base);
    assert_int_equal(json_integer_value(json_object_get(j, "stage")), 42);
    json_decref(j);
}

static void absent_fields_are_absent_and_zero_values_present(void **state)
{
    (void)state;
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    v.has_next_step_done = 1; /* false, but set */
    v.next_step_done = 0;
    v.has_planned_at = 1;
    v.planned_at = 0;
    json_t *j = fs_json_from_msg(&v.base);
    assert_int_equal(json_object_size(j), 2);
    assert_true(json_is_false(json_object_get(j, "next_step_done")));
    assert_int_equal(json_integer_value(json_object_get(j, "planned_at")), 0);
    json_decref(j);
}

static void stored_text_that_is_not_utf8_leaves_as_valid_json(void **state)
{
    (void)state;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    char *tags[] = {"ok", "\xc0\xaf"};
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Bad \xff\xfe name";
    addr.city = "Bre\xc3men";
    a.address = &addr;
    a.n_tags = 2;
    a.tags = tags;
    json_t *o = fs_json_from_msg(&a.base);
    assert_non_null(o);
    char *line = json_dumps(o, JSON_COMPACT); /* fails on invalid UTF-8 */
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(o, "name")),
                        "Bad \xef\xbf\xbd\xef\xbf\xbd name");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "address"), "city")),
                        "Bre\xef\xbf\xbdmen");
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "tags"), 1)),
                        "\xef\xbf\xbd\xef\xbf\xbd");
    free(line);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(account_round_trips_through_json),
        cmocka_unit_test(id_in_record_is_ignored),
        cmocka_unit_test(null_and_empty_array_clear_fields),
        cmocka_unit_test(malformed_fields_are_refused_with_their_path),
        cmocka_unit_test(dates_must_be_real_calendar_days),
        cmocka_unit_test(enums_are_lower_case_names_and_unknown_values_numbers),
        cmocka_unit_test(absent_fields_are_absent_and_zero_values_present),
        cmocka_unit_test(stored_text_that_is_not_utf8_leaves_as_valid_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
