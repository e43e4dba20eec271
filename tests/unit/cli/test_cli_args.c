/*
 * test_cli_args.c: the CLI's option parser (daemon/cli/args.c): value forms,
 * repeatable options kept in order, `--` and negative numbers as positionals,
 * the `--json` flag-or-object option, and every usage error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

static const fs_opt opts[] = {
    {"name", FS_OPT_VALUE, "TEXT", "a name"}, {"all", FS_OPT_FLAG, NULL, "all"},
    {"set", FS_OPT_REPEAT, "F=V", "set"},     {"json", FS_OPT_OBJECT, NULL, "json"},
    {"help", FS_OPT_FLAG, NULL, "help"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int parse(fs_args *a, int argc, const char **argv)
{
    return fs_args_parse(a, opts, NOPTS, argc, (char **)argv);
}

static void test_values_flags_and_positionals_mix(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"id1", "--name", "Acme", "--all", "--name=Beta", "id2"};
    assert_int_equal(parse(&a, 6, argv), 0);
    assert_string_equal(fs_args_get(&a, "name"), "Beta"); /* last wins */
    assert_true(fs_args_has(&a, "all"));
    assert_false(fs_args_has(&a, "help"));
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "id1");
    assert_string_equal(a.pos[1], "id2");
}

static void test_repeatable_options_keep_their_order(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"--set", "a=1", "--name", "x", "--set=b=2"};
    assert_int_equal(parse(&a, 5, argv), 0);
    assert_int_equal(fs_args_count(&a, "set"), 2);
    int set = fs_args_index(&a, "set");
    const char *seen[2];
    size_t n = 0;
    for (size_t i = 0; i < a.ngiven; i++)
        if ((int)a.given[i].opt == set)
            seen[n++] = a.given[i].value;
    assert_string_equal(seen[0], "a=1");
    assert_string_equal(seen[1], "b=2");
}

static void test_double_dash_ends_options(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"--all", "--", "--name", "-h"};
    assert_int_equal(parse(&a, 4, argv), 0);
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "--name");
    assert_false(fs_args_has(&a, "help"));
}

static void test_negative_number_is_positional_and_dash_h_is_help(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"-5", "-h"};
    assert_int_equal(parse(&a, 2, argv), 0);
    assert_string_equal(a.pos[0], "-5");
    assert_true(fs_args_has(&a, "help"));
}

static void test_json_is_a_flag_unless_an_object_follows(void **state)
{
    (void)state;
    fs_args a;
    const char *argv1[] = {"--json", "id"};
    assert_int_equal(parse(&a, 2, argv1), 0);
    assert_true(fs_args_has(&a, "json"));
    assert_null(fs_args_get(&a, "json"));
    assert_int_equal(a.npos, 1);
    const char *argv2[] = {"--json", "{\"a\":1}", "--json"};
    assert_int_equal(parse(&a, 3, argv2), 0);
    assert_string_equal(fs_args_get(&a, "json"), "{\"a\":1}");
    assert_int_equal(a.npos, 0);
    const char *argv3[] = {"--json={}"};
    assert_int_equal(parse(&a, 1, argv3), 0);
    assert_string_equal(fs_args_get(&a, "json"), "{}");
}

static void test_unknown_option_is_a_usage_error(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"--colour", "red"};
    assert_int_equal(parse(&a, 2, argv), -1);
    assert_non_null(strstr(a.err, "--colour"));
}

static void test_single_dash_option_is_refused(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"-n", "x"};
    assert_int_equal(parse(&a, 2, argv), -1);
    assert_non_null(strstr(a.err, "--name"));
}

static void test_missing_value_is_a_usage_error(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"--name"};
    assert_int_equal(parse(&a, 1, argv), -1);
    assert_non_null(strstr(a.err, "needs a value"));
}

static void test_value_given_to_a_flag_is_a_usage_error(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"--all=yes"};
    assert_int_equal(parse(&a, 1, argv), -1);
    assert_non_null(strstr(a.err, "takes no value"));
}

static void test_prefix_of_an_option_is_not_that_option(void **state)
{
    (void)state;
    fs_args a;
    const char *argv[] = {"--nam", "x"};
    assert_int_equal(parse(&a, 2, argv), -1);
}

static void test_too_many_arguments_is_an_error_not_an_overflow(void **state)
{
    (void)state;
    static const char *argv[FS_ARGS_MAX + 10];
    for (size_t i = 0; i < FS_ARGS_MAX + 10; i++)
        argv[i] = "x";
    fs_args a;
    assert_int_equal(parse(&a, FS_ARGS_MAX + 10, argv), -1);
    for (size_t i = 0; i < FS_ARGS_MAX + 10; i++)
        argv[i] = "--all";
    assert_int_equal(parse(&a, FS_ARGS_MAX + 10, argv), -1);
}

static void test_strict_integers(void **state)
{
    (void)state;
    long long v = 7;
    assert_int_equal(fs_args_int("42", 1, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(fs_args_int("0", 1, 100, &v), -1);
    assert_int_equal(fs_args_int("101", 1, 100, &v), -1);
    assert_int_equal(fs_args_int("4x", 1, 100, &v), -1);
    assert_int_equal(fs_args_int("", 1, 100, &v), -1);
    assert_int_equal(fs_args_int(" 4", 1, 100, &v), -1);
    assert_int_equal(fs_args_int("+4", 1, 100, &v), -1);
    assert_int_equal(fs_args_int("99999999999999999999", 1, 100, &v), -1);
    assert_int_equal(fs_args_int(NULL, 1, 100, &v), -1);
    assert_int_equal(v, 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_flags_and_positionals_mix),
        cmocka_unit_test(test_repeatable_options_keep_their_order),
        cmocka_unit_test(test_double_dash_ends_options),
        cmocka_unit_test(test_negative_number_is_positional_and_dash_h_is_help),
        cmocka_unit_test(test_json_is_a_flag_unless_an_object_follows),
        cmocka_unit_test(test_unknown_option_is_a_usage_error),
        cmocka_unit_test(test_single_dash_option_is_refused),
        cmocka_unit_test(test_missing_value_is_a_usage_error),
        cmocka_unit_test(test_value_given_to_a_flag_is_a_usage_error),
        cmocka_unit_test(test_prefix_of_an_option_is_not_that_option),
        cmocka_unit_test(test_too_many_arguments_is_an_error_not_an_overflow),
        cmocka_unit_test(test_strict_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
