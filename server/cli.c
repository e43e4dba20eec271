/*
 * cli.c: fieldsync-server's command line. Parses options (from a config file,
 * then the command line, which wins), picks the command and runs it; the
 * commands are in cli_admin.c and cli_serve.c.
 *
 *   fieldsync-server [--db PATH|postgresql://...] [--config FILE] [--log-level L] COMMAND ...
 *
 * Options may come before or after the command words. Each command accepts
 * only the options listed in its help; anything else is a usage error (exit 2).
 */
#include "cli_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/log.h"
#include "handler.h"
#include "token.h"

static const char *const opt_names[NOPTS] = {
    "db",
    "config",
    "log-level",
    "listen",
    "cert",
    "key",
    "threads",
    "body-limit",
    "horizon-days",
    "port-file",
    "role",
    "manager",
    "ttl",
    "max-connections",
    "max-connections-per-ip",
    "header-timeout",
    "body-memory",
    "clock-skew",
};

typedef struct command {
    const char *words; /* "user add" */
    int nwords;
    int npos_min, npos_max; /* positional arguments after the words */
    unsigned opts;
    int (*run)(cli *c);
    const char *usage;
} command;

static int opt_index(const char *name)
{
    for (int i = 0; i < NOPTS; i++)
        if (strcmp(opt_names[i], name) == 0)
            return i;
    return -1;
}

const char *cli_opt(const cli *c, unsigned bit)
{
    return c->val[__builtin_ctz(bit)];
}

const char *cli_opt_name(unsigned bit)
{
    return opt_names[__builtin_ctz(bit)];
}

int cli_usage_error(const char *fmt, const char *a)
{
    fprintf(stderr, "fieldsync-server: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\nRun `fieldsync-server --help` for the commands.\n");
    return SRV_EXIT_USAGE;
}

int cli_exit_for(int rc, const fs_err *err)
{
    if (rc == 0)
        return SRV_EXIT_OK;
    fprintf(stderr, "fieldsync-server: %s\n", fs_err_message(err));
    switch (rc) {
    case FS_ENOTFOUND:
        return SRV_EXIT_NOTFOUND;
    case FS_EEXIST:
        return SRV_EXIT_EXISTS;
    case FS_EINVAL:
    case FS_EDENIED:
        return SRV_EXIT_USAGE;
    default:
        return SRV_EXIT_ERROR;
    }
}

/* ------------------------------------------------------------------------- */
/* Values */

/* "90", "24h", "30m", "7d", "45s" -> seconds; -1 if malformed. */
int64_t cli_parse_duration(const char *s, int64_t unit_default)
{
    char *end;
    errno = 0;
    long long v = strtoll(s ? s : "", &end, 10);
    if (s == NULL || end == s || v < 0 || errno != 0)
        return -1;
    int64_t unit = unit_default;
    if (*end != '\0') {
        if (end[1] != '\0')
            return -1;
        unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 0;
    }
    if (unit == 0 || v > INT64_MAX / unit)
        return -1;
    return v * unit;
}

/* "8388608", "512K", "8M", "8MiB" -> bytes; 0 if malformed. */
size_t cli_parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s ? s : "", &end, 10);
    if (s == NULL || end == s)
        return 0;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (shift && strcmp(end, "iB") != 0 && strcmp(end, "B") != 0 && *end != '\0')
        return 0;
    if (!shift && *end != '\0')
        return 0;
    return v > (SIZE_MAX >> shift) ? 0 : (size_t)(v << shift);
}

int64_t cli_horizon(cli *c)
{
    return cli_opt(c, O_HORIZON) ? cli_parse_duration(cli_opt(c, O_HORIZON), 86400)
                                 : SRV_HORIZON_DEFAULT_S;
}

/* ------------------------------------------------------------------------- */
/* Parsing */

static int set_opt(cli *c, const char *name, const char *value, int from_config)
{
    int i = opt_index(name);
    if (i < 0)
        return cli_usage_error(from_config ? "unknown setting \"%s\" in the config file"
                                           : "unknown option --%s",
                               name);
    /* the command line wins over the config file */
    if (from_config && (c->seen & (1u << i)))
        return 0;
    c->val[i] = value;
    if (!from_config)
        c->seen |= 1u << i;
    return 0;
}

/* The longest config file read (a longer one is refused, not cut short: its
 * last line read could hold half a value). */
#define CONFIG_FILE_MAX (1 << 16)

/* Config file: "key = value" lines; '#' starts a comment, on a line of its
 * own or after a value (as in fieldsyncd's config); keys are the long options. */
static int read_config(cli *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_usage_error("cannot open config file %s", path);
    c->config_text = calloc(1, CONFIG_FILE_MAX + 1);
    size_t n = c->config_text ? fread(c->config_text, 1, CONFIG_FILE_MAX + 1, f) : 0;
    bool unread = c->config_text != NULL && ferror(f);
    fclose(f);
    if (c->config_text == NULL)
        return SRV_EXIT_ERROR;
    if (unread)
        return cli_usage_error("cannot read config file %s", path);
    if (n > CONFIG_FILE_MAX)
        return cli_usage_error("config file %s is over 64 KiB", path);
    c->config_text[n] = '\0';
    for (char *line = strtok(c->config_text, "\n"); line; line = strtok(NULL, "\n")) {
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        line += strspn(line, " \t\r");
        if (*line == '\0') /* blank, or a comment */
            continue;
        char *eq = strchr(line, '=');
        if (eq == NULL)
            return cli_usage_error("config line \"%s\" is not key = value", line);
        char *k_end = eq;
        while (k_end > line && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        *k_end = '\0';
        char *v = eq + 1 + strspn(eq + 1, " \t");
        for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r');
             e--)
            e[-1] = '\0';
        int rc = set_opt(c, line, v, 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int parse_args(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            c->help = 1;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            c->version = 1;
        } else if (strncmp(a, "--", 2) == 0) {
            const char *eq = strchr(a, '=');
            char name[32];
            size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (nl >= sizeof(name))
                return cli_usage_error("unknown option %s", a);
            memcpy(name, a + 2, nl);
            name[nl] = '\0';
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (v == NULL)
                return cli_usage_error("option --%s needs a value", name);
            int rc = set_opt(c, name, v, 0);
            if (rc != 0)
                return rc;
        } else if (c->npos < MAX_POS) {
            c->pos[c->npos++] = a;
        } else {
            return cli_usage_error("too many arguments (at \"%s\")", a);
        }
    }
    if (cli_opt(c, O_CONFIG) != NULL)
        return read_config(c, cli_opt(c, O_CONFIG));
    return 0;
}

static const command commands[] = {
    {"serve", 1, 0, 0,
     O_LISTEN | O_CERT | O_KEY | O_THREADS | O_BODY | O_HORIZON | O_PORTFILE | O_MAXCONN |
         O_MAXCONN_IP | O_HEADER_TIMEOUT | O_BODY_MEMORY | O_CLOCK_SKEW,
     cli_run_serve,
     "serve [--listen ADDR:PORT] [--cert PEM --key PEM] [--threads N] [--body-limit SIZE]\n"
     "      [--horizon-days N] [--port-file FILE] [--max-connections N]\n"
     "      [--max-connections-per-ip N] [--header-timeout 10s] [--body-memory SIZE]\n"
     "      [--clock-skew 5m]\n"
     "  Runs the sync server until SIGINT/SIGTERM. Default --listen 127.0.0.1:8443.\n"
     "  Plain HTTP (no --cert/--key) only on a loopback address. --port-file receives the\n"
     "  bound port (useful with port 0). Defaults: 512 connections, 32 per client address,\n"
     "  10 s for a request's headers, 64MiB of request bodies at once, new writes dated at\n"
     "  most 5 minutes ahead of the server's clock."},
    {"user add", 2, 1, 1, O_ROLE | O_MANAGER, cli_run_user_add,
     "user add NAME --role rep|manager [--manager NAME]\n"
     "  Adds a user (creating the database if needed); a rep may belong to a manager."},
    {"user list", 2, 0, 0, 0, cli_run_user_list, "user list\n  Lists users, roles and managers."},
    {"team add", 2, 2, 2, 0, cli_run_team_add,
     "team add MANAGER REP\n"
     "  Puts REP in MANAGER's team (out of any other); both managers' devices resync."},
    {"team remove", 2, 1, 1, 0, cli_run_team_remove,
     "team remove REP\n  Takes REP out of their manager's team; that manager's devices resync."},
    {"enroll-code", 1, 1, 1, O_TTL, cli_run_enroll_code,
     "enroll-code NAME [--ttl 24h]\n"
     "  Prints a one-time enrollment code for user NAME, valid for --ttl (s, m, h, d)."},
    {"device list", 2, 0, 1, 0, cli_run_device_list,
     "device list [NAME]\n  Lists devices (of user NAME), with last-seen and revocation times."},
    {"device revoke", 2, 1, 1, 0, cli_run_device_revoke,
     "device revoke DEVICE_ID\n  Revokes a device: its requests get 401 device_revoked."},
    {"reassign", 1, 2, 2, 0, cli_run_reassign,
     "reassign ACCOUNT_ID NEW_REP\n"
     "  Moves an account and its records to another rep; the old rep's devices remove them."},
    {"migrate", 1, 1, 1, 0, cli_run_migrate,
     "migrate SQLITE_FILE   (with --db postgresql://...)\n"
     "  Copies a SQLite server database into an empty PostgreSQL database, ids, tokens,\n"
     "  cursors and change numbers included: devices carry on as they were."},
    {"gc", 1, 0, 0, O_HORIZON, cli_run_gc,
     "gc [--horizon-days N]\n"
     "  Collects tombstones every active device has pulled; devices silent longer than the\n"
     "  horizon (default 90 days) must resync."},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(const command *only)
{
    if (only != NULL) {
        printf("usage: fieldsync-server [--db DB] [--config FILE] %s\n", only->usage);
        return;
    }
    printf("usage: fieldsync-server [--db DB] [--config FILE] [--log-level LEVEL] COMMAND\n\n"
           "DB is a SQLite file or a PostgreSQL URI (postgresql://USER@HOST/NAME).\n\n"
           "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %s\n", commands[i].usage);
    printf("\nThe config file holds \"option = value\" lines and # comments (db, listen,\n"
           "cert, key, threads, body-limit, horizon-days, log-level, ...); command-line\n"
           "options win over it.\n"
           "--version prints the version. Exit codes: 0 ok, 1 failed, 2 usage, 3 not found,\n"
           "4 already exists.\n");
}

static const command *find_command(const cli *c)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const command *cmd = &commands[i];
        char words[32];
        snprintf(words, sizeof(words), "%s", cmd->words);
        int matched = 0;
        for (char *w = strtok(words, " "); w != NULL; w = strtok(NULL, " "), matched++)
            if (matched >= c->npos || strcmp(c->pos[matched], w) != 0)
                break;
        if (matched == cmd->nwords)
            return cmd;
    }
    return NULL;
}

int srv_cli_main(int argc, char **argv)
{
    cli c = {0};
    int rc = parse_args(&c, argc, argv);
    const command *cmd = rc == 0 ? find_command(&c) : NULL;
    if (rc != 0)
        goto done;
    if (c.version && !c.help) {
        printf("fieldsync-server %s\n", FS_SERVER_VERSION);
        goto done;
    }
    if (cmd == NULL) {
        if (c.help || c.npos == 0) {
            print_help(NULL);
            rc = c.help ? SRV_EXIT_OK : SRV_EXIT_USAGE;
        } else {
            rc = cli_usage_error("unknown command \"%s\"", c.pos[0]);
        }
        goto done;
    }
    if (c.help) {
        print_help(cmd);
        goto done;
    }
    int npos = c.npos - cmd->nwords;
    unsigned bad = c.seen & ~(cmd->opts | O_COMMON);
    if (bad != 0) {
        rc = cli_usage_error("option --%s does not apply to this command",
                             opt_names[__builtin_ctz(bad)]);
        goto done;
    }
    if (npos < cmd->npos_min || npos > cmd->npos_max) {
        fprintf(stderr, "usage: fieldsync-server %s\n", cmd->usage);
        rc = SRV_EXIT_USAGE;
        goto done;
    }
    fs_log_level level = FS_LOG_INFO;
    if (cli_opt(&c, O_LOG) != NULL && fs_log_level_from_name(cli_opt(&c, O_LOG), &level) != 0) {
        rc = cli_usage_error("--log-level must be error, warn, info or debug, not \"%s\"",
                             cli_opt(&c, O_LOG));
        goto done;
    }
    fs_log_set_ident("fieldsync-server");
    fs_log_set_level(level);
    fs_err err = {0};
    if (srv_crypto_init(&err) != 0) {
        rc = cli_exit_for(FS_EIO, &err);
        goto done;
    }
    rc = cmd->run(&c);
done:
    free(c.config_text);
    return rc;
}
