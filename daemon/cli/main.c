/*
 * main.c: `fieldsync`, the command line of fieldsyncd (docs/cli.md,
 * fieldsync(1)). Reads the options that come before the command (--socket,
 * --json, --timeout, --version, --help), finds the daemon's socket, and hands
 * the rest of argv to the command; it does none of the commands' work.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "fields.h"

#ifndef FS_CLI_VERSION
#define FS_CLI_VERSION "0.0.0"
#endif

typedef struct command {
    const char *name;
    int (*fn)(fs_cli *cli, int argc, char **argv);
    const char *about;
} command;

static const command commands[] = {
    {"status", fs_cmd_status, "the daemon's state, outbox and sync status"},
    {"init", fs_cmd_init, "create the encrypted store (asks for a new passphrase)"},
    {"unlock", fs_cmd_unlock, "open the store with its passphrase"},
    {"lock", fs_cmd_lock, "close the store and wipe its keys from memory"},
    {"passwd", fs_cmd_passwd, "change the store's passphrase"},
    {"check", fs_cmd_check, "check that every page of the store opens with its key"},
    {"search", fs_cmd_search, "full-text search over accounts, contacts and visit notes"},
    {"followups", fs_cmd_followups, "next steps due (by --until DATE, default today)"},
    {"report", fs_cmd_report, "report pipeline|team|weekly: the weekly pipeline review"},
    {"conflicts", fs_cmd_conflicts, "list or resolve fields edited concurrently"},
    {"outbox", fs_cmd_outbox, "local changes waiting for the server"},
    {"enroll", fs_cmd_enroll, "enroll this device with a server (URL and one-time CODE)"},
    {"sync", fs_cmd_sync, "sync with the server now and wait for the result"},
    {"resync", fs_cmd_resync, "forced resync with the server"},
    {"export", fs_cmd_export, "write all records as JSON lines or CSV"},
    {"import", fs_cmd_import, "import records from a CSV file (e.g. a list of accounts)"},
    {"watch", fs_cmd_watch, "print record changes and sync progress as they happen"},
    {"ui", fs_cmd_ui, "serve the web UI on 127.0.0.1 and print its URL"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(void)
{
    printf("usage: fieldsync [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARGS]\n\n"
           "The command line of fieldsyncd, the offline-first sync daemon of a field sales\n"
           "rep's accounts, contacts, visits and opportunities.\n\ncommands:\n");
    for (size_t i = 0; i < fs_nkinds; i++)
        printf("  %-15s list, show, add, edit or rm %s\n", fs_kinds[i].plural, fs_kinds[i].plural);
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-15s %s\n", commands[i].name, commands[i].about);
    printf("\n`fieldsync COMMAND --help` describes a command. Exit codes: 0 ok, 1 error, 2 "
           "usage,\n3 daemon unreachable, 4 locked, 5 not found, 6 wrong passphrase, 7 no "
           "store,\n8 no server configured, 9 import rows rejected, 10 store damaged, 141 "
           "output\npipe closed (see "
           "fieldsync(1)).\n");
}

static void find_socket(fs_cli *cli)
{
    const char *env = getenv("FIELDSYNC_SOCKET");
    if (env != NULL && env[0] != '\0') {
        cli->socket_path = env;
        return;
    }
    const char *rt = getenv("XDG_RUNTIME_DIR");
    if (rt == NULL || rt[0] != '/')
        return;
    if (asprintf(&cli->socket_default, "%s/fieldsync/fieldsyncd.sock", rt) >= 0)
        cli->socket_path = cli->socket_default;
}

static void find_terminal(fs_cli *cli)
{
    cli->tty = isatty(STDOUT_FILENO);
    struct winsize ws;
    if (cli->tty)
        cli->width = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

/* The options before the command; returns the index of the command or -code-1. */
static int global_options(fs_cli *cli, int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        long long v;
        if (strcmp(o, "--version") == 0) {
            printf("fieldsync %s\n", FS_CLI_VERSION);
            return -FS_EXIT_OK - 1;
        } else if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            print_help();
            return -FS_EXIT_OK - 1;
        } else if (strcmp(o, "--json") == 0) {
            cli->json = true;
        } else if (strcmp(o, "--socket") == 0 && i + 1 < argc) {
            cli->socket_path = argv[++i];
        } else if (strncmp(o, "--socket=", 9) == 0) {
            cli->socket_path = o + 9;
        } else if (strcmp(o, "--timeout") == 0 && i + 1 < argc &&
                   fs_args_int(argv[i + 1], 1, 86400, &v) == 0) {
            cli->timeout_ms = (int)v * 1000;
            i++;
        } else {
            fs_cli_fail(FS_EXIT_USAGE,
                        "unknown or incomplete option %.64s before the command "
                        "(see `fieldsync --help`)",
                        o);
            return -FS_EXIT_USAGE - 1;
        }
    }
    return i;
}

static int dispatch(fs_cli *cli, int argc, char **argv)
{
    const char *name = argv[0];
    static char label[64];
    snprintf(label, sizeof(label), "%s", name);
    cli->command = label;
    if (fs_kind_find(name) != NULL && strcmp(name, fs_kind_find(name)->plural) == 0)
        return fs_cmd_records(cli, name, argc - 1, argv + 1);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].fn(cli, argc - 1, argv + 1);
    if (strcmp(name, "help") == 0) {
        print_help();
        return FS_EXIT_OK;
    }
    return fs_cli_fail(FS_EXIT_USAGE, "unknown command \"%.64s\" (see `fieldsync --help`)", name);
}

int main(int argc, char **argv)
{
    fs_cli cli = {.timeout_ms = FS_CLI_DEFAULT_TIMEOUT_MS};
    /* a closed pipe (| head) is a write error, not a kill: fs_cli_output_failed */
    signal(SIGPIPE, SIG_IGN);
    fs_rpcc_wipe_alloc();
    find_socket(&cli);
    find_terminal(&cli);
    const char *t = getenv("FIELDSYNC_TIMEOUT");
    long long secs;
    if (t != NULL && fs_args_int(t, 1, 86400, &secs) == 0)
        cli.timeout_ms = (int)secs * 1000;
    int first = global_options(&cli, argc, argv);
    int rc;
    if (first < 0)
        rc = -first - 1;
    else if (first >= argc)
        rc = fs_cli_fail(FS_EXIT_USAGE, "no command given (see `fieldsync --help`)");
    else
        rc = dispatch(&cli, argc - first, argv + first);
    if (fflush(stdout) != 0 && rc == FS_EXIT_OK)
        rc = fs_cli_output_failed();
    fs_rpcc_free(cli.rpc);
    free(cli.socket_default);
    return rc;
}
