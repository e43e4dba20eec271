/*
 * cli.h: what the parts of the `fieldsync` command line share (main.c wires
 * them): the invocation's settings, the exit codes, the output helpers
 * (output.c) and the command entry points (commands_*.c).
 *
 * Every command is `int fs_cmd_x(fs_cli *, int argc, char **argv)` returning
 * the process exit code; argv holds the arguments after the command's name.
 * Output goes to stdout (tables, or JSON with --json); every error is one
 * sentence on stderr starting with "fieldsync: ".
 */
#ifndef FS_CLI_CLI_H
#define FS_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "args.h"
#include "rpc_client.h"
#include "table.h"

/* Exit codes (docs/cli.md, fieldsync(1)). Stable: append only. */
enum fs_exit {
    FS_EXIT_OK = 0,
    FS_EXIT_ERROR = 1,           /* the daemon refused the request, or a file error */
    FS_EXIT_USAGE = 2,           /* bad command line */
    FS_EXIT_UNREACHABLE = 3,     /* cannot reach fieldsyncd */
    FS_EXIT_LOCKED = 4,          /* the store is locked */
    FS_EXIT_NOT_FOUND = 5,       /* no such record (or entry) */
    FS_EXIT_AUTH = 6,            /* wrong passphrase */
    FS_EXIT_NOT_INITIALIZED = 7, /* no store yet */
    FS_EXIT_NO_SERVER = 8,       /* sync: no server configured */
    FS_EXIT_PARTIAL = 9,         /* import: some rows were rejected */
    FS_EXIT_DAMAGED = 10,        /* check: the store is damaged */
    /* stdout's reader went away (`| head`): stopped quietly, with the status a
     * program killed by SIGPIPE reports (128 + 13) */
    FS_EXIT_PIPE = 141,
};

/* A command's parse helper returns this when the command should go on. */
#define FS_CLI_CONTINUE (-1)

#define FS_CLI_DEFAULT_TIMEOUT_MS 120000

typedef struct fs_cli {
    const char *socket_path; /* --socket, $FIELDSYNC_SOCKET, or the XDG default */
    char *socket_default;    /* storage for the XDG default */
    bool json;               /* --json: results as JSON */
    bool tty;                /* stdout is a terminal */
    size_t width;            /* terminal columns (0: do not truncate) */
    int timeout_ms;
    const char *command; /* "accounts add", for messages and help */
    fs_rpcc *rpc;        /* connected on first call */
} fs_cli;

/* Options every command accepts; append to each option table. */
#define FS_CLI_GLOBAL_OPTS                                                                         \
    {"help", FS_OPT_FLAG, NULL, "show this help"},                                                 \
        {"json", FS_OPT_FLAG, NULL, "print the result as JSON (for scripts)"},                     \
    {                                                                                              \
        "socket", FS_OPT_VALUE, "PATH",                                                            \
            "fieldsyncd's socket (default: $FIELDSYNC_SOCKET, else "                               \
            "$XDG_RUNTIME_DIR/fieldsync/fieldsyncd.sock)"                                          \
    }

/* ---- output.c ---- */

/*
 * Parses argv against opts (which must include FS_CLI_GLOBAL_OPTS) and applies
 * the global options. Returns FS_CLI_CONTINUE, or the exit code to return now:
 * 0 after printing help (usage line, about text, options), 2 after a usage
 * error. npos_min/npos_max bound the positional arguments.
 */
int fs_cli_parse(fs_cli *cli, fs_args *a, const fs_opt *opts, size_t nopts, int argc, char **argv,
                 const char *usage, const char *about, size_t npos_min, size_t npos_max);
/* Prints "fieldsync: <message>" (one line) to stderr and returns code. */
int fs_cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error: the message and a pointer to --help; returns FS_EXIT_USAGE. */
int fs_cli_usage(fs_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 0 when the daemon's socket path is known, else the exit code after saying
 * how to give it. */
int fs_cli_check_socket(const fs_cli *cli);
/*
 * Calls method on the daemon (connecting first if needed); params is stolen.
 * 0 with *result, or an exit code after printing the error sentence (locked,
 * not initialized, unreachable ... each with what to do next).
 */
int fs_cli_call(fs_cli *cli, const char *method, json_t *params, json_t **result);
/* As fs_cli_call, but a daemon error is returned in derr, not printed
 * (transport errors are still printed); returns 1 for a daemon error. */
int fs_cli_call_quiet(fs_cli *cli, const char *method, json_t *params, json_t **result,
                      fs_rpcc_error *derr);
/* record.list with params (kept; its cursor is updated): the items of one page,
 * or with all of every page; *next the last next_cursor (null at the end).
 * Both are new references, also on failure (an exit code, error printed). */
int fs_cli_list(fs_cli *cli, json_t *params, bool all, json_t **items, json_t **next);
/* The exit code and printed sentence for a daemon error. */
int fs_cli_report_rpc_error(const fs_rpcc_error *e);
int fs_cli_exit_code(const fs_rpcc_error *e);

/* A write to stdout failed: FS_EXIT_PIPE, quietly, when its reader went away
 * (`| head`), else the error sentence and FS_EXIT_ERROR. Call it right after
 * the failed write (it reads errno); a non-zero return stops the command. */
int fs_cli_output_failed(void);

/* Prints v as JSON to stdout (indented on a terminal) and returns 0. */
int fs_cli_print_json(fs_cli *cli, const json_t *v);
/* Prints the table to stdout, truncated to the terminal's width (saying on
 * stderr when columns had to be left out). */
int fs_cli_print_table(fs_cli *cli, const fs_table *t);
/* Whether a JSON path holds a record id ("id", "*_id"): its table column is
 * kept whole, since the next command needs it. */
bool fs_cli_is_id_path(const char *path);
/* "key: value" lines with aligned values (pairs: 2n strings; NULL values skipped). */
int fs_cli_print_pairs(const char *const *pairs, size_t n);

/* A JSON scalar as text for a table cell (malloc'd; "" for null/absent). */
char *fs_cli_cell(const json_t *v);
/* Unix seconds as "YYYY-MM-DD HH:MM ZONE" in the local time zone ("2026-11-20
 * 10:00 CET": fs_time_parse reads it back) into buf (>= 40 bytes). */
const char *fs_cli_time(long long t, char *buf, size_t n);

/* A sync.progress notification (or sync.status's progress) as one line:
 * "resync: 1200 of 5000 (24%) records, 1.2 MB, 800 records/s, about 0m 05s
 * left" (commands_sync.c). */
const char *fs_cli_progress(const json_t *p, char *buf, size_t n);

/* ---- commands ---- */
int fs_cmd_status(fs_cli *cli, int argc, char **argv);
int fs_cmd_init(fs_cli *cli, int argc, char **argv);
int fs_cmd_unlock(fs_cli *cli, int argc, char **argv);
int fs_cmd_lock(fs_cli *cli, int argc, char **argv);
int fs_cmd_passwd(fs_cli *cli, int argc, char **argv);
int fs_cmd_check(fs_cli *cli, int argc, char **argv);
int fs_cmd_enroll(fs_cli *cli, int argc, char **argv);
int fs_cmd_sync(fs_cli *cli, int argc, char **argv);
int fs_cmd_resync(fs_cli *cli, int argc, char **argv);
int fs_cmd_outbox(fs_cli *cli, int argc, char **argv);
int fs_cmd_conflicts(fs_cli *cli, int argc, char **argv);
/* accounts, contacts, visits, opportunities, transactions: argv[-1] names the kind */
int fs_cmd_records(fs_cli *cli, const char *kind, int argc, char **argv);
int fs_cmd_search(fs_cli *cli, int argc, char **argv);
int fs_cmd_followups(fs_cli *cli, int argc, char **argv);
int fs_cmd_report(fs_cli *cli, int argc, char **argv);
int fs_cmd_export(fs_cli *cli, int argc, char **argv);
int fs_cmd_import(fs_cli *cli, int argc, char **argv);
int fs_cmd_watch(fs_cli *cli, int argc, char **argv);
int fs_cmd_ui(fs_cli *cli, int argc, char **argv);

#endif
