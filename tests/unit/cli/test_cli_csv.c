/*
 * test_cli_csv.c: the CLI's RFC 4180 reader and writer (daemon/cli/csv.c):
 * quoting, embedded newlines and quotes, CRLF/LF/CR line ends, the BOM, and
 * every kind of malformed row, each reported with its line number while the
 * rows after it are still read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

/* Reads every row of text; each row is joined with '|' into out[i], errors as
 * "!<line>". Returns the number of entries. */
static size_t read_rows(const char *text, size_t len, size_t fields, char out[][256], size_t max)
{
    fs_csv_reader r;
    fs_csv_row row = {0};
    fs_err err;
    size_t n = 0;
    fs_csv_reader_init(&r, text, len);
    r.fields = fields;
    int rc;
    while (n < max && (rc = fs_csv_next(&r, &row, &err)) != 0) {
        if (rc < 0) {
            assert_int_equal(err.code, rc);
            snprintf(out[n++], 256, "!%zu", row.line);
            continue;
        }
        size_t o = (size_t)snprintf(out[n], 256, "%zu:", row.line);
        for (size_t i = 0; i < row.n; i++)
            o += (size_t)snprintf(out[n] + o, 256 - o, "%s%s", i ? "|" : "", row.fields[i]);
        n++;
    }
    fs_csv_row_clear(&row);
    return n;
}

static size_t rows_of(const char *text, char out[][256], size_t max)
{
    return read_rows(text, strlen(text), 0, out, max);
}

/* As rows_of, with the header's field count known. */
static size_t rows_of_n(const char *text, size_t fields, char out[][256], size_t max)
{
    return read_rows(text, strlen(text), fields, out, max);
}

static void test_plain_rows_with_lf_and_crlf(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("a,b,c\r\n1,2,3\nx,y,z", out, 8), 3);
    assert_string_equal(out[0], "1:a|b|c");
    assert_string_equal(out[1], "2:1|2|3");
    assert_string_equal(out[2], "3:x|y|z");
}

static void test_lone_cr_ends_a_line(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("a,b\r1,2\r", out, 8), 2);
    assert_string_equal(out[1], "2:1|2");
}

static void test_quoted_fields_keep_commas_quotes_and_newlines(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\"\nnext,row,x\n", out, 8),
                     2);
    assert_string_equal(out[0], "1:a,b|say \"hi\"|two\nlines");
    assert_string_equal(out[1], "3:next|row|x"); /* the embedded newline counted */
}

static void test_empty_fields_and_trailing_comma(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of(",,\n\"\",x,\n", out, 8), 2);
    assert_string_equal(out[0], "1:||");
    assert_string_equal(out[1], "2:|x|");
}

static void test_bom_and_blank_lines_are_skipped(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("\xEF\xBB\xBFname\n\n\r\nAcme\n\n", out, 8), 2);
    assert_string_equal(out[0], "1:name");
    assert_string_equal(out[1], "4:Acme");
}

static void test_text_after_closing_quote_is_an_error_and_reading_goes_on(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("a,b\n\"x\"y,z\nc,d\n", out, 8), 3);
    assert_string_equal(out[0], "1:a|b");
    assert_string_equal(out[1], "!2");
    assert_string_equal(out[2], "3:c|d");
}

static void test_unterminated_quote_loses_only_its_line(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("a,b\n\"open,z\nc,d\ne,f\n", out, 8), 4);
    assert_string_equal(out[1], "!2");
    assert_string_equal(out[2], "3:c|d");
    assert_string_equal(out[3], "4:e|f");
}

static void test_unterminated_quote_at_end_of_input(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("a\n\"never closed", out, 8), 2);
    assert_string_equal(out[1], "!2");
}

static void test_error_after_multiline_field_names_its_first_line(void **state)
{
    (void)state;
    char out[8][256];
    /* line 2 is read again on its own, and its stray quote reported too */
    assert_int_equal(rows_of("\"one\ntwo\"junk,x\nok\n", out, 8), 3);
    assert_string_equal(out[0], "!1");
    assert_string_equal(out[1], "!2");
    assert_string_equal(out[2], "3:ok");
}

static void test_a_stray_quote_loses_only_its_own_line(void **state)
{
    (void)state;
    char out[8][256];
    /* the quote on line 2 would run to the quote on line 4 and swallow Bolt */
    assert_int_equal(
        rows_of_n("name,city\n\"Acme,Leeds\nBolt,York\nCog,\"Hull\"\nDyn,Derby\n", 2, out, 8), 5);
    assert_string_equal(out[0], "1:name|city");
    assert_string_equal(out[1], "!2");
    assert_string_equal(out[2], "3:Bolt|York");
    assert_string_equal(out[3], "4:Cog|Hull");
    assert_string_equal(out[4], "5:Dyn|Derby");
}

static void test_a_row_over_several_lines_with_the_wrong_count_is_a_stray_quote(void **state)
{
    (void)state;
    char out[8][256];
    /* "Acme,Leeds\nBolt,York" would be one field: a row of 1 field, not 2 */
    assert_int_equal(rows_of_n("n,c\n\"Acme,Leeds\nBolt,York\"\nCog,Hull\n", 2, out, 8), 4);
    assert_string_equal(out[1], "!2");
    assert_string_equal(out[2], "!3"); /* York" has a stray quote of its own */
    assert_string_equal(out[3], "4:Cog|Hull");
    /* a real multi-line field with the header's count is data */
    assert_int_equal(rows_of_n("n,c\n\"Unit 4\nDock Lane\",Hull\nCog,Hull\n", 2, out, 8), 3);
    assert_string_equal(out[1], "2:Unit 4\nDock Lane|Hull");
    assert_string_equal(out[2], "4:Cog|Hull");
    /* on one line a short row is a row: the caller reports it */
    assert_int_equal(rows_of_n("n,c\nonly\n", 2, out, 8), 2);
    assert_string_equal(out[1], "2:only");
}

static void test_a_quote_inside_an_unquoted_field_is_an_error(void **state)
{
    (void)state;
    char out[8][256];
    assert_int_equal(rows_of("a,b\nAcme \"Best\" Ltd,x\n\"5\"\" pipe\",y\n", out, 8), 3);
    assert_string_equal(out[1], "!2");
    assert_string_equal(out[2], "3:5\" pipe|y");
}

static void test_nul_byte_is_an_error(void **state)
{
    (void)state;
    char out[8][256];
    static const char text[] = "a,b\nx\0y,z\nc,d\n";
    assert_int_equal(read_rows(text, sizeof(text) - 1, 0, out, 8), 3);
    assert_string_equal(out[1], "!2");
    assert_string_equal(out[2], "3:c|d");
}

static void test_too_many_fields_is_an_error(void **state)
{
    (void)state;
    size_t n = FS_CSV_MAX_FIELDS + 1;
    char *text = malloc(n * 2 + 8);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        text[o++] = 'x';
        text[o++] = i + 1 < n ? ',' : '\n';
    }
    memcpy(text + o, "ok\n", 3);
    o += 3;
    char out[4][256];
    assert_int_equal(read_rows(text, o, 0, out, 4), 2);
    assert_string_equal(out[0], "!1");
    assert_string_equal(out[1], "2:ok");
    free(text);
}

static void test_too_long_field_is_an_error(void **state)
{
    (void)state;
    size_t n = FS_CSV_MAX_FIELD + 10;
    char *text = malloc(n + 8);
    memset(text, 'y', n);
    memcpy(text + n, "\nok\n", 4);
    char out[4][256];
    assert_int_equal(read_rows(text, n + 4, 0, out, 4), 2);
    assert_string_equal(out[0], "!1");
    assert_string_equal(out[1], "2:ok");
    free(text);
}

static void test_empty_input_has_no_rows(void **state)
{
    (void)state;
    char out[2][256];
    assert_int_equal(rows_of("", out, 2), 0);
    assert_int_equal(rows_of("\n\r\n", out, 2), 0);
}

static void test_writer_quotes_only_when_needed_and_round_trips(void **state)
{
    (void)state;
    const char *fields[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "", NULL, " pad"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(fs_csv_write_row(f, fields, 7), 0);
    fclose(f);
    assert_string_equal(buf, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,,\" pad\"\r\n");
    char out[2][256];
    assert_int_equal(read_rows(buf, len, 0, out, 2), 1);
    assert_string_equal(out[0], "1:plain|a,b|say \"hi\"|two\nlines|||"
                                " pad");
    free(buf);
}

/* Random bytes must never crash the reader, and it must always make progress. */
static void test_random_input_never_crashes(void **state)
{
    (void)state;
    static const char alphabet[] = "ab,\"\r\n\0 ";
    uint64_t seed = 42;
    const char *env = getenv("FS_CLI_CSV_ROUNDS");
    int rounds = env ? atoi(env) : 2000;
    for (int round = 0; round < rounds; round++) {
        char text[200];
        size_t n = (size_t)(round % 200);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            text[i] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        char out[256][256];
        size_t rows = read_rows(text, n, 0, out, 256);
        assert_true(rows <= n + 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows_with_lf_and_crlf),
        cmocka_unit_test(test_lone_cr_ends_a_line),
        cmocka_unit_test(test_quoted_fields_keep_commas_quotes_and_newlines),
        cmocka_unit_test(test_empty_fields_and_trailing_comma),
        cmocka_unit_test(test_bom_and_blank_lines_are_skipped),
        cmocka_unit_test(test_text_after_closing_quote_is_an_error_and_reading_goes_on),
        cmocka_unit_test(test_unterminated_quote_loses_only_its_line),
        cmocka_unit_test(test_unterminated_quote_at_end_of_input),
        cmocka_unit_test(test_error_after_multiline_field_names_its_first_line),
        cmocka_unit_test(test_a_stray_quote_loses_only_its_own_line),
        cmocka_unit_test(test_a_row_over_several_lines_with_the_wrong_count_is_a_stray_quote),
        cmocka_unit_test(test_a_quote_inside_an_unquoted_field_is_an_error),
        cmocka_unit_test(test_nul_byte_is_an_error),
        cmocka_unit_test(test_too_many_fields_is_an_error),
        cmocka_unit_test(test_too_long_field_is_an_error),
        cmocka_unit_test(test_empty_input_has_no_rows),
        cmocka_unit_test(test_writer_quotes_only_when_needed_and_round_trips),
        cmocka_unit_test(test_random_input_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
