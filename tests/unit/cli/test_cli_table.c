/*
 * test_cli_table.c: human tables (daemon/cli/table.c): alignment, right-aligned
 * numbers, truncation to the terminal width by the widest column first, ids
 * never cut (other columns left out instead), UTF-8 widths, control characters,
 * and no trailing blanks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/error.h"
#include "table.h"

static char *render(const fs_table *t, size_t width)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(fs_table_print(t, f, width), 0);
    fclose(f);
    return buf;
}

static void make(fs_table *t)
{
    const char *h[] = {"ID", "NAME", "COUNT"};
    assert_int_equal(fs_table_init(t, h, 3), 0);
    const char *r1[] = {"a1", "Acme Hydraulics", "3"};
    const char *r2[] = {"b22", "Bolt", "12"};
    assert_int_equal(fs_table_add_row(t, r1), 0);
    assert_int_equal(fs_table_add_row(t, r2), 0);
}

static void test_columns_align_and_numbers_right_align(void **state)
{
    (void)state;
    fs_table t;
    make(&t);
    fs_table_align_right(&t, 2);
    char *s = render(&t, 0);
    assert_string_equal(s, "ID   NAME             COUNT\n"
                           "a1   Acme Hydraulics      3\n"
                           "b22  Bolt                12\n");
    free(s);
    fs_table_clear(&t);
}

static void test_no_trailing_blanks_with_empty_last_cells(void **state)
{
    (void)state;
    const char *h[] = {"A", "B"};
    fs_table t;
    assert_int_equal(fs_table_init(&t, h, 2), 0);
    const char *r[] = {"x", NULL};
    assert_int_equal(fs_table_add_row(&t, r), 0);
    char *s = render(&t, 0);
    assert_string_equal(s, "A  B\nx\n");
    free(s);
    fs_table_clear(&t);
}

static void test_truncates_the_widest_column_to_fit(void **state)
{
    (void)state;
    fs_table t;
    make(&t);
    char *s = render(&t, 22);
    /* ID (3) + NAME + COUNT (5) + 4 separators = 22: NAME gets 10 */
    assert_string_equal(s, "ID   NAME        COUNT\n"
                           "a1   Acme Hy...  3\n"
                           "b22  Bolt        12\n");
    free(s);
    fs_table_clear(&t);
}

static void test_never_narrower_than_the_minimum(void **state)
{
    (void)state;
    fs_table t;
    make(&t);
    char *s = render(&t, 5);
    char *line = strtok(s, "\n");
    while (line) {
        assert_true(strlen(line) <= 3 + 2 + FS_TABLE_MIN_COL + 2 + FS_TABLE_MIN_COL);
        line = strtok(NULL, "\n");
    }
    free(s);
    fs_table_clear(&t);
}

#define LONG_ID "0123456789abcdef0123456789abcdef"

static void id_table(fs_table *t)
{
    const char *h[] = {"ID", "NAME", "CITY"};
    assert_int_equal(fs_table_init(t, h, 3), 0);
    const char *r[] = {LONG_ID, "Acme Hydraulics", "Bramley"};
    assert_int_equal(fs_table_add_row(t, r), 0);
    fs_table_keep_whole(t, 0);
}

static void test_whole_columns_are_never_cut(void **state)
{
    (void)state;
    fs_table t;
    id_table(&t);
    /* ID 32 + NAME + CITY 7 + 4 separators = 54: NAME gets 11 of its 15 */
    char *s = render(&t, 54);
    assert_string_equal(s, "ID                                NAME         CITY\n" LONG_ID
                           "  Acme Hyd...  Bramley\n");
    free(s);
    assert_int_equal(fs_table_hidden(&t, 54), 0);
    fs_table_clear(&t);
}

static void test_columns_are_left_out_before_an_id_is_cut(void **state)
{
    (void)state;
    fs_table t;
    id_table(&t);
    /* 32 + 2 + 6 + 2 + 6 = 48 even at the narrowest: CITY goes, NAME is cut */
    char *s = render(&t, 45);
    assert_string_equal(s, "ID                                NAME\n" LONG_ID "  Acme Hyd...\n");
    free(s);
    assert_int_equal(fs_table_hidden(&t, 45), 1);
    /* narrower than the id: the id still prints whole, with the first other column */
    s = render(&t, 20);
    assert_string_equal(s, "ID                                NAME\n" LONG_ID "  Acm...\n");
    free(s);
    assert_int_equal(fs_table_hidden(&t, 0), 0);
    fs_table_clear(&t);
}

static void test_control_characters_become_spaces(void **state)
{
    (void)state;
    const char *h[] = {"NOTE"};
    fs_table t;
    assert_int_equal(fs_table_init(&t, h, 1), 0);
    const char *r[] = {"two\nlines\tand\x1b[31mred"};
    assert_int_equal(fs_table_add_row(&t, r), 0);
    char *s = render(&t, 0);
    assert_string_equal(s, "NOTE\ntwo lines and [31mred\n");
    free(s);
    fs_table_clear(&t);
}

static void test_utf8_width_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(fs_table_text_width("M\xC3\xBCller"), 6); /* Müller */
    char *cut = fs_table_fit("\xC3\x9F\xC3\x9F\xC3\x9F\xC3\x9F\xC3\x9F", 4);
    assert_string_equal(cut, "\xC3\x9F..."); /* never inside a character */
    free(cut);
    const char *h[] = {"NAME", "X"};
    fs_table t;
    assert_int_equal(fs_table_init(&t, h, 2), 0);
    const char *r[] = {"M\xC3\xBCller", "1"};
    assert_int_equal(fs_table_add_row(&t, r), 0);
    char *s = render(&t, 0);
    assert_string_equal(s, "NAME    X\nM\xC3\xBCller  1\n");
    free(s);
    fs_table_clear(&t);
}

static void test_fit_handles_tiny_widths(void **state)
{
    (void)state;
    char *s = fs_table_fit("abcdef", 2);
    assert_string_equal(s, "..");
    free(s);
    s = fs_table_fit("abc", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = fs_table_fit("", 0);
    assert_string_equal(s, "");
    free(s);
}

static void test_bad_column_counts_are_refused(void **state)
{
    (void)state;
    fs_table t;
    const char *h[FS_TABLE_MAX_COLS + 1] = {0};
    assert_int_equal(fs_table_init(&t, h, 0), FS_EINVAL);
    assert_int_equal(fs_table_init(&t, h, FS_TABLE_MAX_COLS + 1), FS_EINVAL);
    fs_table_clear(NULL);
}

static void test_many_rows_grow(void **state)
{
    (void)state;
    const char *h[] = {"N"};
    fs_table t;
    assert_int_equal(fs_table_init(&t, h, 1), 0);
    for (int i = 0; i < 1000; i++) {
        char b[16];
        snprintf(b, sizeof(b), "%d", i);
        const char *r[] = {b};
        assert_int_equal(fs_table_add_row(&t, r), 0);
    }
    assert_int_equal(t.nrows, 1000);
    assert_string_equal(t.cells[999], "999");
    fs_table_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_align_and_numbers_right_align),
        cmocka_unit_test(test_no_trailing_blanks_with_empty_last_cells),
        cmocka_unit_test(test_truncates_the_widest_column_to_fit),
        cmocka_unit_test(test_never_narrower_than_the_minimum),
        cmocka_unit_test(test_whole_columns_are_never_cut),
        cmocka_unit_test(test_columns_are_left_out_before_an_id_is_cut),
        cmocka_unit_test(test_control_characters_become_spaces),
        cmocka_unit_test(test_utf8_width_counts_code_points),
        cmocka_unit_test(test_fit_handles_tiny_widths),
        cmocka_unit_test(test_bad_column_counts_are_refused),
        cmocka_unit_test(test_many_rows_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
