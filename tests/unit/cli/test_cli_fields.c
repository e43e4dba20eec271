/*
 * test_cli_fields.c: the descriptor-driven field mapping (daemon/cli/fields.c,
 * fields_value.c): which flags each kind gets, how text becomes the socket
 * API's JSON (enums, money, dates, times, phones, lists), that bad values are
 * refused with a reason naming the field, and that format(convert(x)) == x,
 * which CSV export -> import relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fields.h"

static fs_fields accounts, visits, opps;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(fs_fields_init(&accounts, fs_kind_find("accounts")), 0);
    assert_int_equal(fs_fields_init(&visits, fs_kind_find("visit")), 0);
    assert_int_equal(fs_fields_init(&opps, fs_kind_find("opportunities")), 0);
    return 0;
}

/* Converts text for leaf name of f and returns the compact JSON (malloc'd), or
 * NULL with the reason in why. */
static char *conv(const fs_fields *f, const char *name, const char *text, char *why)
{
    const fs_leaf *l = fs_fields_find(f, name);
    assert_non_null(l);
    json_t *v;
    if (fs_fields_convert(l, text, true, &v, why, 512) != 0)
        return NULL;
    char *s = fs_json_dump(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return s;
}

static void expect_conv(const fs_fields *f, const char *name, const char *text, const char *json)
{
    char why[512] = "";
    char *s = conv(f, name, text, why);
    if (s == NULL)
        fail_msg("%s=%s refused: %s", name, text, why);
    assert_string_equal(s, json);
    free(s);
}

static void expect_refused(const fs_fields *f, const char *name, const char *text,
                           const char *reason_has)
{
    char why[512] = "";
    char *s = conv(f, name, text, why);
    if (s != NULL)
        fail_msg("%s=%s accepted as %s", name, text, s);
    if (strstr(why, reason_has) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", why, reason_has);
}

static void test_kinds_by_singular_and_plural(void **state)
{
    (void)state;
    assert_string_equal(fs_kind_find("opportunities")->name, "opportunity");
    assert_string_equal(fs_kind_find("contact")->plural, "contacts");
    assert_null(fs_kind_find("things"));
    assert_null(fs_kind_find(""));
}

static void test_leaves_by_path_flag_alias_and_header_spelling(void **state)
{
    (void)state;
    const fs_leaf *city = fs_fields_find(&accounts, "address.city");
    assert_non_null(city);
    assert_ptr_equal(fs_fields_find(&accounts, "city"), city);
    assert_ptr_equal(fs_fields_find(&accounts, "address-city"), city);
    assert_ptr_equal(fs_fields_find(&accounts, "Address City"), city);
    assert_ptr_equal(fs_fields_find(&accounts, "Postal Code"),
                     fs_fields_find(&accounts, "address.postal_code"));
    assert_null(fs_fields_find(&accounts, "id")); /* named by the ID argument */
    assert_null(fs_fields_find(&accounts, "colour"));
    assert_null(fs_fields_find(&accounts, "address")); /* a message, not a leaf */
    /* decision_maker is both a contact id and a criterion: only unambiguous aliases */
    assert_string_equal(fs_fields_find(&opps, "decision-maker")->path, "criteria.decision_maker");
    assert_string_equal(fs_fields_find(&opps, "decision-maker-id")->path, "decision_maker_id");
}

static void test_enums_by_name_and_unambiguous_short_name(void **state)
{
    (void)state;
    expect_conv(&accounts, "tier", "quoted", "\"quoted\"");
    expect_conv(&accounts, "tier", "QUOTED", "\"quoted\"");
    expect_conv(&accounts, "tier", "opportunity", "\"opportunity_tier\"");
    expect_conv(&accounts, "funnel-stage", "prospect", "\"funnel_prospect\"");
    expect_conv(&accounts, "source", "chamber-of-commerce", "\"chamber_of_commerce\"");
    expect_conv(&opps, "stage", "50", "\"pct_50\"");
    expect_refused(&accounts, "tier", "hot", "quoted, contracted");
    expect_refused(&accounts, "tier", "", "tier");
    expect_refused(&accounts, "tier", "unspecified", "tier");
}

static void test_numbers_are_strict_and_range_checked(void **state)
{
    (void)state;
    expect_conv(&accounts, "staff", "40", "40");
    expect_refused(&accounts, "staff", "-1", "size.staff");
    expect_refused(&accounts, "staff", "4294967296", "size.staff");
    expect_refused(&accounts, "staff", "12 people", "size.staff");
    expect_refused(&accounts, "staff", " 4", "size.staff");
    expect_refused(&accounts, "staff", "", "size.staff");
}

static void test_booleans(void **state)
{
    (void)state;
    expect_conv(&opps, "decision-maker", "yes", "true");
    expect_conv(&opps, "decision-maker", "FALSE", "false");
    expect_refused(&opps, "decision-maker", "maybe", "true or false");
}

static void test_money_in_major_units_with_currency(void **state)
{
    (void)state;
    expect_conv(&opps, "amount", "1250.50 EUR", "{\"minor_units\":125050,\"currency\":\"EUR\"}");
    expect_conv(&opps, "amount", "EUR 1250", "{\"minor_units\":125000,\"currency\":\"EUR\"}");
    expect_conv(&opps, "amount", "-3.5", "{\"minor_units\":-350}");
    expect_conv(&opps, "amount", "1000 JPY", "{\"minor_units\":1000,\"currency\":\"JPY\"}");
    expect_conv(&opps, "amount", "1.234 KWD", "{\"minor_units\":1234,\"currency\":\"KWD\"}");
    expect_conv(&opps, "amount", "{\"minor_units\":7}", "{\"minor_units\":7}");
    expect_refused(&opps, "amount", "1.234 EUR", "amount"); /* a third decimal */
    expect_refused(&opps, "amount", "lots", "amount");
    expect_refused(&opps, "amount", "12 E", "amount");
    expect_refused(&opps, "amount", "99999999999999999999 EUR", "amount");
    expect_refused(&opps, "amount", "1 2 EUR", "amount");
    expect_refused(&opps, "amount", ".", "amount");
}

static void test_dates_are_real_days(void **state)
{
    (void)state;
    expect_conv(&visits, "next-step-date", "2028-02-29", "\"2028-02-29\"");
    expect_refused(&visits, "next-step-date", "2026-02-29", "next_step_date");
    expect_refused(&visits, "next-step-date", "2026-13-01", "next_step_date");
    expect_refused(&visits, "next-step-date", "26-1-1", "next_step_date");
    expect_refused(&visits, "next-step-date", "2026-01-01x", "next_step_date");
    /* today, tomorrow, +N are days of the local zone: 14 hours east of UTC here,
     * where the local date differs from UTC's for ten hours of every day */
    setenv("TZ", "TST-14", 1);
    tzset();
    char today[11], in2[11], why[512];
    time_t now = time(NULL), later = now + 14 * 3600, later2 = later + 2 * 86400;
    struct tm tm;
    strftime(today, sizeof(today), "%Y-%m-%d", gmtime_r(&later, &tm));
    strftime(in2, sizeof(in2), "%Y-%m-%d", gmtime_r(&later2, &tm));
    char *s = conv(&visits, "next-step-date", "today", why);
    assert_non_null(s);
    assert_memory_equal(s + 1, today, 10);
    free(s);
    s = conv(&visits, "next-step-date", "+2", why);
    assert_non_null(s);
    assert_memory_equal(s + 1, in2, 10);
    free(s);
    unsetenv("TZ");
    tzset();
    expect_refused(&visits, "next-step-date", "+x", "next_step_date");
}

static void test_times_local_with_a_zone_or_unix_seconds(void **state)
{
    (void)state;
    setenv("TZ", "TST+12", 1); /* 12 hours west of UTC, no daylight saving */
    tzset();
    /* 2025-11-20 10:00 UTC is 1763632800 */
    expect_conv(&visits, "planned-at", "1763632800", "1763632800");
    expect_conv(&visits, "planned-at", "2025-11-20 10:00", "1763676000");
    expect_conv(&visits, "planned-at", "2025-11-20 10:00 TST", "1763676000");
    expect_conv(&visits, "planned-at", "2025-11-20", "1763640000");
    expect_conv(&visits, "planned-at", "2025-11-20T10:00:00Z", "1763632800");
    expect_conv(&visits, "planned-at", "2025-11-20 10:00 UTC", "1763632800");
    expect_conv(&visits, "planned-at", "2025-11-20 11:00 +01:00", "1763632800");
    expect_conv(&visits, "planned-at", "2025-11-20 05:30-0430", "1763632800");
    expect_refused(&visits, "planned-at", "2025-11-20 25:00", "planned_at");
    expect_refused(&visits, "planned-at", "2025-11-20 10:00 XYZ", "planned_at");
    expect_refused(&visits, "planned-at", "2025-11-20 10:00 +1", "planned_at");
    expect_refused(&visits, "planned-at", "tomorrow at ten", "planned_at");
    /* the hour that happens twice when the clocks go back: the zone decides */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    expect_conv(&visits, "planned-at", "2025-10-26 02:30 CEST", "1761438600");
    expect_conv(&visits, "planned-at", "2025-10-26 02:30 CET", "1761442200");
    unsetenv("TZ");
    tzset();
}

static void test_phones_and_lists(void **state)
{
    (void)state;
    expect_conv(&accounts, "phone", "+44 1", "[{\"kind\":\"office\",\"number\":\"+44 1\"}]");
    expect_conv(&accounts, "mobile", "+44 7", "[{\"kind\":\"mobile\",\"number\":\"+44 7\"}]");
    expect_conv(&accounts, "phones", "fax:1;home:2",
                "[{\"kind\":\"fax\",\"number\":\"1\"},{\"kind\":\"home\",\"number\":\"2\"}]");
    expect_conv(&accounts, "phone", "ext:12", "[{\"kind\":\"office\",\"number\":\"ext:12\"}]");
    expect_conv(&accounts, "tags", "a; b;;c", "[\"a\",\"b\",\"c\"]");
    expect_conv(&accounts, "competitors", "[{\"vendor\":\"V\"}]", "[{\"vendor\":\"V\"}]");
    expect_refused(&accounts, "competitors", "{\"vendor\":\"V\"}", "JSON array");
    expect_refused(&accounts, "phone", "office:", "phone number");
}

static void test_apply_builds_nested_objects_and_appends_lists(void **state)
{
    (void)state;
    json_t *rec = json_object(), *v;
    char why[512];
    const fs_leaf *city = fs_fields_find(&accounts, "city"),
                  *street = fs_fields_find(&accounts, "street"),
                  *tags = fs_fields_find(&accounts, "tags");
    assert_int_equal(fs_fields_convert(city, "Leeds", false, &v, why, sizeof(why)), 0);
    assert_int_equal(fs_fields_apply(rec, city, v), 0);
    assert_int_equal(fs_fields_convert(street, "1 Mill Lane", false, &v, why, sizeof(why)), 0);
    assert_int_equal(fs_fields_apply(rec, street, v), 0);
    assert_int_equal(fs_fields_convert(tags, "a", false, &v, why, sizeof(why)), 0);
    assert_int_equal(fs_fields_apply(rec, tags, v), 0);
    assert_int_equal(fs_fields_convert(tags, "b;c", false, &v, why, sizeof(why)), 0);
    assert_int_equal(fs_fields_apply(rec, tags, v), 0); /* no split: one element */
    char *s = fs_json_dump(rec, JSON_COMPACT);
    assert_string_equal(s, "{\"address\":{\"city\":\"Leeds\",\"street\":\"1 Mill Lane\"},"
                           "\"tags\":[\"a\",\"b;c\"]}");
    free(s);
    json_decref(rec);
}

/* Every value CSV export writes imports back to the same JSON. */
static void test_format_inverts_convert(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"name", "Acme, \"Ltd\""},
        {"tier", "opportunity_tier"},
        {"staff", "40"},
        {"budget", "1250.05 EUR"},
        {"budget", "-0.50 USD"},
        {"budget", "1000 JPY"},
        {"phone", "office:+44 1;mobile:2"},
        {"tags", "a;b"},
        {"city", "M\xC3\xBCnster"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const fs_leaf *l = fs_fields_find(&accounts, cases[i][0]);
        json_t *rec = json_object(), *v;
        char why[512];
        assert_int_equal(fs_fields_convert(l, cases[i][1], true, &v, why, sizeof(why)), 0);
        assert_int_equal(fs_fields_apply(rec, l, v), 0);
        char *text = fs_fields_format(l, rec);
        assert_non_null(text);
        assert_string_equal(text, cases[i][1]);
        free(text);
        json_decref(rec);
    }
    json_t *odd = json_pack("{s:{s:{s:I, s:s}}}", "purchase_plan", "budget", "minor_units",
                            (json_int_t)5, "currency", "euro");
    char *text = fs_fields_format(fs_fields_find(&accounts, "budget"), odd);
    assert_string_equal(text, "{\"currency\":\"euro\",\"minor_units\":5}"); /* still importable */
    free(text);
    json_decref(odd);
    json_t *empty = json_object();
    assert_null(fs_fields_format(fs_fields_find(&accounts, "city"), empty));
    json_decref(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_by_singular_and_plural),
        cmocka_unit_test(test_leaves_by_path_flag_alias_and_header_spelling),
        cmocka_unit_test(test_enums_by_name_and_unambiguous_short_name),
        cmocka_unit_test(test_numbers_are_strict_and_range_checked),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_money_in_major_units_with_currency),
        cmocka_unit_test(test_dates_are_real_days),
        cmocka_unit_test(test_times_local_with_a_zone_or_unix_seconds),
        cmocka_unit_test(test_phones_and_lists),
        cmocka_unit_test(test_apply_builds_nested_objects_and_appends_lists),
        cmocka_unit_test(test_format_inverts_convert),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
