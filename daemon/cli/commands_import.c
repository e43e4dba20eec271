/*
 * commands_import.c: `fieldsync import KIND FILE.csv [--dry-run]`: records from
 * a CSV file whose header row names the fields (as flags or export columns
 * name them: name, industry, street, postal_code, city, phone, tier, ...; an
 * `id` column updates or creates that record). RFC 4180 quoting; CRLF or LF.
 *
 * Every row is checked on its own: a malformed row, a value that does not fit
 * its field, or the daemon refusing the record is reported with its line
 * number and skipped; the good rows are imported one put each. A row without
 * an id updates the record its kind's key finds (import_match.h), so a file
 * imported twice makes no duplicates; --new creates a record for every such
 * row. Errors that concern the whole run (the store locked, the daemon gone)
 * stop the import at once with their own exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "fields.h"
#include "fieldsync/utf8.h"
#include "import_match.h"

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))
#define IMPORT_MAX_BYTES (256u << 20)

typedef struct importer {
    fs_cli *cli;
    const fs_kind_info *kind;
    const char *name; /* the file, for messages */
    fs_fields fields;
    const fs_leaf *col[FS_CSV_MAX_FIELDS]; /* NULL: id column or ignored */
    int id_col;
    size_t ncols;
    bool dry_run;
    fs_import_match *match; /* NULL: every row without an id is a new record */
    size_t imported, updated, rejected, empty;
    json_t *errors; /* [{line, message}] */
} importer;

static int read_all(const char *path, char **buf, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
    if (f == NULL)
        return fs_cli_fail(FS_EXIT_ERROR, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    int rc = 0;
    while (b != NULL) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
        if (n == cap) {
            char *g = cap < IMPORT_MAX_BYTES ? realloc(b, cap *= 2) : NULL;
            if (g == NULL) {
                rc = fs_cli_fail(FS_EXIT_ERROR, "%s is larger than %u MiB: split it", path,
                                 IMPORT_MAX_BYTES >> 20);
                break;
            }
            b = g;
        }
    }
    if (b == NULL)
        rc = fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    else if (rc == 0 && ferror(f))
        rc = fs_cli_fail(FS_EXIT_ERROR, "cannot read %s: %s", path, strerror(errno));
    if (f != stdin)
        fclose(f);
    if (rc != 0) {
        free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return 0;
}

static void row_error(importer *im, size_t line, const char *fmt, const char *detail)
{
    char msg[700];
    snprintf(msg, sizeof(msg), fmt, detail);
    im->rejected++;
    json_array_append_new(im->errors,
                          json_pack("{s:I, s:s}", "line", (json_int_t)line, "message", msg));
    if (!im->cli->json)
        fprintf(stderr, "fieldsync: %s line %zu: %s\n", im->name, line, msg);
}

/* Maps the header row to fields. Unknown columns stop the import unless ignored. */
static int map_header(importer *im, const fs_csv_row *h, bool ignore_unknown)
{
    im->id_col = -1;
    im->ncols = h->n;
    for (size_t c = 0; c < h->n; c++) {
        const char *name = h->fields[c];
        while (*name == ' ')
            name++;
        if (strcmp(name, "id") == 0) {
            im->id_col = (int)c;
            continue;
        }
        im->col[c] = fs_fields_find(&im->fields, name);
        if (im->col[c] == NULL && !ignore_unknown && name[0] != '\0')
            return fs_cli_fail(FS_EXIT_USAGE,
                               "%s line %zu: unknown column \"%.64s\" for %s (see `fieldsync "
                               "%s add --help` for the fields, or use --ignore-unknown)",
                               im->name, h->line, name, im->kind->plural, im->kind->plural);
        for (size_t p = 0; im->col[c] != NULL && p < c; p++)
            if (im->col[p] == im->col[c] && im->col[c]->type != FS_LEAF_PHONES)
                return fs_cli_fail(FS_EXIT_USAGE, "%s line %zu: columns %zu and %zu both set %s",
                                   im->name, h->line, p + 1, c + 1, im->col[c]->path);
    }
    return 0;
}

/* The record of one row; -1 (reported) when a cell does not fit its field. Text
 * must be UTF-8 before anything else is read from it (the id column included:
 * an id that cannot travel would otherwise create a record instead). */
static int build_row(importer *im, const fs_csv_row *row, json_t **record)
{
    for (size_t c = 0; c < row->n; c++) {
        bool used = im->col[c] != NULL || (int)c == im->id_col;
        if (used && !fs_utf8_valid(row->fields[c], strlen(row->fields[c]))) {
            char why[64];
            snprintf(why, sizeof(why), "column %zu is not UTF-8 text", c + 1);
            row_error(im, row->line, "%s: save the file as UTF-8", why);
            return -1;
        }
    }
    *record = json_object();
    for (size_t c = 0; c < row->n; c++) {
        const char *cell = row->fields[c];
        if (im->col[c] == NULL || cell[0] == '\0')
            continue;
        json_t *v;
        char why[512];
        if (fs_fields_convert(im->col[c], cell, true, &v, why, sizeof(why)) != 0) {
            row_error(im, row->line, "%s", why);
            json_decref(*record);
            return -1;
        }
        fs_fields_apply(*record, im->col[c], v);
    }
    return 0;
}

/* "matches 2 accounts by name: add an id column to say which" */
static void row_error_n(importer *im, size_t line, size_t n, const char *key)
{
    char msg[256];
    snprintf(msg, sizeof(msg),
             "matches %zu %s by %s: add an id column to say which, or import "
             "with --new",
             n, im->kind->plural, key);
    row_error(im, line, "%s", msg);
}

/* Puts one row's record (stolen): under id, or a new one when id is "". */
static int put_row(importer *im, const fs_csv_row *row, const char *id, json_t *record,
                   bool matched)
{
    json_t *params = json_pack("{s:s, s:O}", "kind", im->kind->name, "record", record), *res;
    if (id[0] != '\0')
        json_object_set_new(params, "id", json_string(id));
    fs_rpcc_error e;
    int rc = fs_cli_call_quiet(im->cli, "record.put", params, &res, &e);
    if (rc == 0) {
        im->imported++;
        im->updated += matched;
        if (id[0] == '\0' && im->match != NULL)
            rc = fs_import_match_add(im->match, json_string_value(json_object_get(res, "id")),
                                     record);
        json_decref(res);
    } else if (rc == 1 && (e.code == -32602 || e.code == -32003)) {
        char msg[700];
        snprintf(msg, sizeof(msg), "%s%s%s", e.field, e.field[0] ? ": " : "", e.message);
        row_error(im, row->line, "%s", msg);
        rc = 0;
    } else if (rc == 1) {
        rc = fs_cli_report_rpc_error(&e);
    } /* else: the daemon is gone, already reported */
    json_decref(record);
    return rc;
}

/* One data row: 0 done (imported or rejected), or an exit code that ends the run. */
static int import_row(importer *im, const fs_csv_row *row)
{
    char buf[96];
    if (row->n != im->ncols) {
        snprintf(buf, sizeof(buf), "%zu fields, but the header has %zu", row->n, im->ncols);
        row_error(im, row->line, "%s", buf);
        return 0;
    }
    json_t *record;
    if (build_row(im, row, &record) != 0)
        return 0;
    const char *id = im->id_col >= 0 ? row->fields[im->id_col] : "";
    if (json_object_size(record) == 0) {
        im->empty++;
        json_decref(record);
        return 0;
    }
    if (im->dry_run) {
        im->imported++;
        json_decref(record);
        return 0;
    }
    size_t matches = 0;
    int rc = id[0] == '\0' && im->match != NULL
                 ? fs_import_match_find(im->match, record, &id, &matches)
                 : 0;
    if (rc != 0 || matches > 1) {
        if (rc == 0)
            row_error_n(im, row->line, matches, fs_import_match_key(im->match));
        json_decref(record);
        return rc;
    }
    id = id != NULL ? id : "";
    return put_row(im, row, id, record, matches == 1);
}

static int import_rows(importer *im, const char *buf, size_t len, bool ignore_unknown)
{
    fs_csv_reader r;
    fs_csv_row row = {0};
    fs_err err = {0};
    fs_csv_reader_init(&r, buf, len);
    int got = fs_csv_next(&r, &row, &err);
    if (got <= 0)
        return fs_cli_fail(FS_EXIT_USAGE, "%s: %s", im->name,
                           got == 0 ? "the file is empty: the first row must name the fields"
                                    : fs_err_message(&err));
    int rc = map_header(im, &row, ignore_unknown);
    r.fields = im->ncols;
    while (rc == 0 && (got = fs_csv_next(&r, &row, &err)) != 0) {
        if (got < 0) {
            /* err says "line N: why"; keep the number as the line of the error */
            row_error(im, row.line, "%s",
                      strchr(err.msg, ':') ? strchr(err.msg, ':') + 2 : fs_err_message(&err));
            continue;
        }
        rc = import_row(im, &row);
    }
    fs_csv_row_clear(&row);
    return rc;
}

static int print_summary(importer *im)
{
    if (im->cli->json) {
        json_t *r = json_pack(
            "{s:s, s:b, s:I, s:I, s:I, s:I, s:O}", "kind", im->kind->name, "dry_run", im->dry_run,
            "imported", (json_int_t)im->imported, "updated", (json_int_t)im->updated, "rejected",
            (json_int_t)im->rejected, "empty", (json_int_t)im->empty, "errors", im->errors);
        int rc = fs_cli_print_json(im->cli, r);
        json_decref(r);
        if (rc != 0)
            return rc;
    } else {
        char updated[64] = "";
        if (im->updated > 0)
            snprintf(updated, sizeof(updated), " (%zu of them updated)", im->updated);
        printf("%s %zu %s%s, %zu %s rejected\n", im->dry_run ? "would import" : "imported",
               im->imported, im->imported == 1 ? im->kind->name : im->kind->plural, updated,
               im->rejected, im->rejected == 1 ? "row" : "rows");
    }
    return im->rejected > 0 ? FS_EXIT_PARTIAL : FS_EXIT_OK;
}

int fs_cmd_import(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"dry-run", FS_OPT_FLAG, NULL, "check every row, import nothing"},
        {"ignore-unknown", FS_OPT_FLAG, NULL, "skip columns that name no field"},
        {"new", FS_OPT_FLAG, NULL,
         "a row without an id is always a new record (default: it updates the one record with "
         "its key: an account's name, a contact's account and name ...)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc =
        fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv, "KIND FILE.csv [--dry-run] [--new]",
                     "Imports records from CSV (e.g. `import accounts leads.csv`). The "
                     "header row names the fields (name, industry, street, postal_code, "
                     "city, phone, website, tier, ...; see `fieldsync accounts add --help`); "
                     "an id column updates that record, and a row without one updates the "
                     "record with the same key (an account's name; a contact's account and "
                     "name; a visit's account and planned time; an opportunity's account "
                     "and title; a transaction's account, date and amount), so importing a "
                     "file twice makes no duplicates. Bad rows are reported by line "
                     "number and skipped (exit code 9); FILE - reads stdin.",
                     2, 2);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    importer *im = calloc(1, sizeof(*im));
    if (im == NULL)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    *im = (importer){.cli = cli, .name = a.pos[1], .dry_run = fs_args_has(&a, "dry-run")};
    im->kind = fs_kind_find(a.pos[0]);
    im->errors = json_array();
    char *buf = NULL;
    size_t len = 0;
    if (im->kind == NULL)
        rc = fs_cli_usage(cli,
                          "unknown kind \"%.32s\" (accounts, contacts, visits, "
                          "opportunities, transactions)",
                          a.pos[0]);
    else
        rc = read_all(a.pos[1], &buf, &len);
    if (rc == 0)
        fs_fields_init(&im->fields, im->kind);
    /* a dry run checks the file alone: it asks the daemon nothing */
    if (rc == 0 && !im->dry_run && !fs_args_has(&a, "new") &&
        (im->match = fs_import_match_new(cli, &im->fields)) == NULL)
        rc = fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    if (rc == 0)
        rc = import_rows(im, buf, len, fs_args_has(&a, "ignore-unknown"));
    if (rc == 0)
        rc = print_summary(im);
    free(buf);
    fs_import_match_free(im->match);
    json_decref(im->errors);
    free(im);
    return rc;
}
