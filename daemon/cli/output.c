/*
 * output.c: how the CLI talks back: help and usage errors, the one-sentence
 * error on stderr with the exit code that goes with it, JSON and tables on
 * stdout, and the connection to the daemon made on first use.
 */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fields.h"

static void vfail(const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (char *p = msg; *p; p++) /* one line, always */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "fieldsync: %s\n", msg);
}

int fs_cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(fmt, ap);
    va_end(ap);
    return code;
}

int fs_cli_usage(fs_cli *cli, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fs_cli_fail(FS_EXIT_USAGE, "%s (see `fieldsync %s --help`)", msg,
                       cli->command ? cli->command : "");
}

int fs_cli_parse(fs_cli *cli, fs_args *a, const fs_opt *opts, size_t nopts, int argc, char **argv,
                 const char *usage, const char *about, size_t npos_min, size_t npos_max)
{
    if (fs_args_parse(a, opts, nopts, argc, argv) != 0)
        return fs_cli_usage(cli, "%s", a->err);
    int json = fs_args_index(a, "json"); /* add/edit: `--json '{...}'` is fields, not output */
    for (size_t i = 0; json >= 0 && i < a->ngiven; i++)
        if ((int)a->given[i].opt == json && a->given[i].value == NULL)
            cli->json = true;
    if (fs_args_get(a, "socket") != NULL)
        cli->socket_path = fs_args_get(a, "socket");
    if (fs_args_has(a, "help")) {
        printf("usage: fieldsync %s %s\n\n%s\n\noptions:\n", cli->command, usage, about);
        fs_args_print_help(opts, nopts, stdout);
        return FS_EXIT_OK;
    }
    if (a->npos < npos_min)
        return fs_cli_usage(cli, "missing argument: usage is `fieldsync %s %s`", cli->command,
                            usage);
    if (a->npos > npos_max)
        return fs_cli_usage(cli, "unexpected argument \"%.64s\"", a->pos[npos_max]);
    return FS_CLI_CONTINUE;
}

int fs_cli_exit_code(const fs_rpcc_error *e)
{
    switch (e->code) {
    case -32001:
        return FS_EXIT_LOCKED;
    case -32002:
        return FS_EXIT_NOT_FOUND;
    case -32005:
        return FS_EXIT_AUTH;
    case -32006:
        return FS_EXIT_NOT_INITIALIZED;
    case -32008:
        return FS_EXIT_NO_SERVER;
    default:
        return FS_EXIT_ERROR;
    }
}

int fs_cli_report_rpc_error(const fs_rpcc_error *e)
{
    int code = fs_cli_exit_code(e);
    switch (e->code) {
    case -32001:
        return fs_cli_fail(code, "the store is locked: run `fieldsync unlock`");
    case -32006:
        return fs_cli_fail(code, "there is no store yet: run `fieldsync init`");
    case -32012: /* pipeline_rule */
        return fs_cli_fail(code, "%s (`--override REASON` makes the move and records why)",
                           e->message);
    default:
        break;
    }
    const char *msg = e->message[0] ? e->message : "the daemon reported an error";
    if (e->field[0] && strstr(msg, e->field) == NULL)
        return fs_cli_fail(code, "%s: %s", e->field, msg);
    return fs_cli_fail(code, "%s", msg);
}

int fs_cli_check_socket(const fs_cli *cli)
{
    if (cli->socket_path == NULL)
        return fs_cli_fail(FS_EXIT_UNREACHABLE,
                           "cannot find fieldsyncd's socket: XDG_RUNTIME_DIR is not set; give "
                           "--socket PATH or set FIELDSYNC_SOCKET");
    return 0;
}

static int connect_daemon(fs_cli *cli)
{
    if (cli->rpc != NULL)
        return 0;
    int rc = fs_cli_check_socket(cli);
    if (rc != 0)
        return rc;
    fs_err err = {0};
    if (fs_rpcc_connect(&cli->rpc, cli->socket_path, cli->timeout_ms, &err) != 0)
        return fs_cli_fail(FS_EXIT_UNREACHABLE, "%s", fs_err_message(&err));
    return 0;
}

int fs_cli_call_quiet(fs_cli *cli, const char *method, json_t *params, json_t **result,
                      fs_rpcc_error *derr)
{
    *result = NULL;
    int rc = connect_daemon(cli);
    if (rc != 0) {
        json_decref(params);
        return rc;
    }
    fs_err err = {0};
    rc = fs_rpcc_call(cli->rpc, method, params, result, derr, &err);
    if (rc < 0) {
        fs_rpcc_free(cli->rpc);
        cli->rpc = NULL;
        return fs_cli_fail(FS_EXIT_UNREACHABLE, "%s", fs_err_message(&err));
    }
    return rc;
}

int fs_cli_call(fs_cli *cli, const char *method, json_t *params, json_t **result)
{
    fs_rpcc_error derr;
    int rc = fs_cli_call_quiet(cli, method, params, result, &derr);
    if (rc == 1)
        return fs_cli_report_rpc_error(&derr);
    return rc;
}

int fs_cli_output_failed(void)
{
    int e = errno;
    struct pollfd p = {.fd = STDOUT_FILENO};
    /* a pipe whose reader closed polls POLLERR, whatever errno the write left */
    if (e == EPIPE || (poll(&p, 1, 0) == 1 && (p.revents & POLLERR)))
        return FS_EXIT_PIPE;
    return fs_cli_fail(FS_EXIT_ERROR, "cannot write the output: %s", strerror(e));
}

int fs_cli_list(fs_cli *cli, json_t *params, bool all, json_t **items, json_t **next)
{
    *items = json_array();
    *next = json_null();
    for (;;) {
        json_t *res;
        int rc = fs_cli_call(cli, "record.list", json_deep_copy(params), &res);
        if (rc != 0)
            return rc;
        json_array_extend(*items, json_object_get(res, "items"));
        json_t *nc = json_object_get(res, "next_cursor");
        json_decref(*next);
        *next = json_incref(nc ? nc : json_null());
        json_decref(res);
        if (!all || !json_is_string(*next))
            return 0;
        json_object_set(params, "cursor", *next);
    }
}

int fs_cli_print_json(fs_cli *cli, const json_t *v)
{
    size_t flags = JSON_ENCODE_ANY | (cli->tty ? JSON_INDENT(2) : JSON_COMPACT);
    if (json_dumpf(v, stdout, flags) != 0 || fputc('\n', stdout) == EOF)
        return fs_cli_output_failed();
    return FS_EXIT_OK;
}

int fs_cli_print_table(fs_cli *cli, const fs_table *t)
{
    size_t width = cli->tty ? cli->width : 0;
    if (fs_table_print(t, stdout, width) != 0)
        return fs_cli_output_failed();
    size_t hidden = fs_table_hidden(t, width);
    if (hidden > 0)
        fprintf(stderr,
                "fieldsync: %zu column%s left out to fit %zu columns: a wider terminal, a pipe "
                "or --json shows them\n",
                hidden, hidden == 1 ? "" : "s", width);
    return FS_EXIT_OK;
}

bool fs_cli_is_id_path(const char *path)
{
    size_t n = strlen(path);
    return strcmp(path, "id") == 0 || (n > 3 && strcmp(path + n - 3, "_id") == 0);
}

int fs_cli_print_pairs(const char *const *pairs, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (pairs[2 * i + 1] != NULL && strlen(pairs[2 * i]) > w)
            w = strlen(pairs[2 * i]);
    for (size_t i = 0; i < n; i++) {
        if (pairs[2 * i + 1] == NULL)
            continue;
        char *v = fs_table_fit(pairs[2 * i + 1], (size_t)-1);
        printf("%s:%*s %s\n", pairs[2 * i], (int)(w - strlen(pairs[2 * i])), "", v ? v : "");
        free(v);
    }
    return FS_EXIT_OK;
}

char *fs_cli_cell(const json_t *v)
{
    if (v == NULL || json_is_null(v))
        return strdup("");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_object(v) && json_object_get(v, "minor_units") != NULL)
        return fs_money_format(v);
    char *s = fs_json_dump(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return s ? s : strdup("");
}

const char *fs_cli_time(long long t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm) == 0)
        snprintf(buf, n, "%lld", t);
    return buf;
}
