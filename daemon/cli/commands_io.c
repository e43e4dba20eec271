/*
 * commands_io.c: `fieldsync export` (every record, following list cursors, as
 * JSON lines or CSV) and `fieldsync import KIND FILE.csv` (the lists reps get
 * as spreadsheets). CSV columns are the kind's fields as fields.h names them,
 * so an export imports back unchanged. A bad row is reported with its line
 * number and skipped; the good rows are imported.
 *
 * Exports hold customer data taken out of the encrypted store: the file is
 * created mode 0600 and written through a temporary name, so a failed export
 * never leaves a half file under the requested name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "fields.h"

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))

/* ---- export ---- */

typedef struct exporter {
    fs_cli *cli;
    FILE *out;
    bool csv;
    fs_fields fields; /* csv: the kind's columns */
    size_t count;
    bool header_done;
} exporter;

static const char *column_name(const fs_leaf *l, char *buf, size_t n)
{
    snprintf(buf, n, "%s", l->alias[0] ? l->alias : l->path);
    for (char *p = buf; *p; p++)
        if (*p == '-')
            *p = '_';
    return buf;
}

static int write_csv_header(exporter *ex)
{
    const char *cols[FS_FIELDS_MAX + 1];
    char names[FS_FIELDS_MAX][FS_LEAF_NAME_MAX];
    size_t n = 0;
    cols[n++] = "id";
    for (size_t i = 0; i < ex->fields.n; i++)
        if (ex->fields.leaves[i].csv)
            cols[n++] = column_name(&ex->fields.leaves[i], names[i], sizeof(names[i]));
    return fs_csv_write_row(ex->out, cols, n);
}

static int write_item(exporter *ex, const char *kind, const json_t *item)
{
    if (!ex->csv) {
        json_t *line = json_pack("{s:s, s:O, s:O}", "kind", kind, "id", json_object_get(item, "id"),
                                 "record", item);
        int rc = line ? json_dumpf(line, ex->out, JSON_COMPACT) : -1;
        json_decref(line);
        return rc == 0 && fputc('\n', ex->out) != EOF ? 0 : FS_EIO;
    }
    char *cells[FS_FIELDS_MAX + 1];
    size_t n = 0;
    cells[n++] = fs_cli_cell(json_object_get(item, "id"));
    for (size_t i = 0; i < ex->fields.n; i++)
        if (ex->fields.leaves[i].csv)
            cells[n++] = fs_fields_format(&ex->fields.leaves[i], item);
    int rc = fs_csv_write_row(ex->out, (const char *const *)cells, n);
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    return rc;
}

/* A write failed: stdout's reader may have gone (`| head`), else an error. */
static int write_failed(exporter *ex)
{
    if (ex->out == stdout)
        return fs_cli_output_failed();
    return fs_cli_fail(FS_EXIT_ERROR, "cannot write the export: %s", strerror(errno));
}

static int export_kind(exporter *ex, const fs_kind_info *k)
{
    json_t *params = json_pack("{s:s, s:i}", "kind", k->name, "limit", 1000);
    int rc = 0;
    while (rc == 0) {
        json_t *res;
        if ((rc = fs_cli_call(ex->cli, "record.list", json_deep_copy(params), &res)) != 0)
            break;
        size_t i;
        json_t *item;
        if (ex->csv && !ex->header_done) { /* only once the store answered */
            ex->header_done = true;
            if (write_csv_header(ex) != 0)
                rc = write_failed(ex);
        }
        json_array_foreach(json_object_get(res, "items"), i, item)
        {
            if (rc == 0 && write_item(ex, k->name, item) != 0)
                rc = write_failed(ex);
            ex->count++;
        }
        json_t *next = json_object_get(res, "next_cursor");
        bool more = json_is_string(next);
        if (more)
            json_object_set(params, "cursor", next);
        json_decref(res);
        if (!more)
            break;
    }
    json_decref(params);
    return rc;
}

/* Opens FILE's temporary sibling (mode 0600) into ex->out; *tmp gets its name. */
static int open_output(exporter *ex, const char *path, char **tmp)
{
    if (asprintf(tmp, "%s.tmp.XXXXXX", path) < 0)
        return fs_cli_fail(FS_EXIT_ERROR, "out of memory");
    int fd = mkostemp(*tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0 || (ex->out = fdopen(fd, "w")) == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        free(*tmp);
        *tmp = NULL;
        return fs_cli_fail(FS_EXIT_ERROR, "cannot create %s: %s", path, strerror(e));
    }
    return 0;
}

static int finish_output(exporter *ex, const char *path, char *tmp, int rc)
{
    if (tmp == NULL)
        return rc;
    if (rc == 0 && (fflush(ex->out) != 0 || fsync(fileno(ex->out)) != 0))
        rc = fs_cli_fail(FS_EXIT_ERROR, "cannot write %s: %s", path, strerror(errno));
    fclose(ex->out);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = fs_cli_fail(FS_EXIT_ERROR, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int export_parse(fs_cli *cli, fs_args *a, const fs_kind_info **kind, bool *csv)
{
    const char *k = fs_args_get(a, "kind"), *fmt = fs_args_get(a, "format");
    const char *outp = fs_args_get(a, "output");
    *kind = NULL;
    if (k != NULL && (*kind = fs_kind_find(k)) == NULL)
        return fs_cli_usage(cli, "unknown kind \"%.32s\"", k);
    if (fmt == NULL && outp != NULL && strlen(outp) > 4 &&
        strcmp(outp + strlen(outp) - 4, ".csv") == 0)
        fmt = "csv";
    *csv = fmt != NULL && strcmp(fmt, "csv") == 0;
    if (fmt != NULL && !*csv && strcmp(fmt, "jsonl") != 0)
        return fs_cli_usage(cli, "--format must be jsonl or csv");
    if (*csv && *kind == NULL)
        return fs_cli_usage(cli, "CSV holds one kind: give --kind (e.g. --kind accounts)");
    return 0;
}

int fs_cmd_export(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"kind", FS_OPT_VALUE, "KIND", "only this kind (required for csv)"},
        {"format", FS_OPT_VALUE, "jsonl|csv", "JSON lines (default) or CSV"},
        {"output", FS_OPT_VALUE, "FILE", "write to FILE (mode 0600) instead of stdout"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, NOPTS(opts), argc, argv,
                          "[--kind KIND] [--format jsonl|csv] [--output FILE]",
                          "Writes every record (all kinds, or one) as JSON lines "
                          "({\"kind\",\"id\",\"record\"}) or as CSV with one column per field.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    exporter ex = {.cli = cli, .out = stdout};
    const fs_kind_info *kind;
    if ((rc = export_parse(cli, &a, &kind, &ex.csv)) != 0)
        return rc;
    const char *path = fs_args_get(&a, "output");
    char *tmp = NULL;
    if (path != NULL && (rc = open_output(&ex, path, &tmp)) != 0)
        return rc;
    if (ex.csv)
        fs_fields_init(&ex.fields, kind);
    for (size_t i = 0; rc == 0 && i < fs_nkinds; i++)
        if (kind == NULL || kind == &fs_kinds[i])
            rc = export_kind(&ex, &fs_kinds[i]);
    rc = finish_output(&ex, path, tmp, rc);
    if (rc == 0 && path != NULL && !cli->json)
        fprintf(stderr, "fieldsync: exported %zu records to %s\n", ex.count, path);
    return rc;
}
