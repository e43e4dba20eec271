/*
 * cli.c: fieldsync-server's command line. Parses options (from a config file,
 * then the command line, which wins), picks the command and runs it; the work
 * itself is in admin.c, http.c and the storage backend.
 *
 *   fieldsync-server [--db PATH|postgresql://...] [--config FILE] [--log-level L] COMMAND ...
 *
 * Options may come before or after the command words. Each command accepts
 * only the options listed in its help; anything else is a usage error (exit 2).
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "http.h"
#include "fieldsync/log.h"
#include "serve.h"

#define MAX_POS 4

/* Option bits: which command accepts which option. */
enum {
    O_DB = 1 << 0,
    O_CONFIG = 1 << 1,
    O_LOG = 1 << 2,
    O_LISTEN = 1 << 3,
    O_CERT = 1 << 4,
    O_KEY = 1 << 5,
    O_THREADS = 1 << 6,
    O_BODY = 1 << 7,
    O_HORIZON = 1 << 8,
    O_PORTFILE = 1 << 9,
    O_ROLE = 1 << 10,
    O_MANAGER = 1 << 11,
    O_TTL = 1 << 12,
    O_MAXCONN = 1 << 13,
    O_MAXCONN_IP = 1 << 14,
    O_HEADER_TIMEOUT = 1 << 15,
    O_BODY_MEMORY = 1 << 16,
    O_CLOCK_SKEW = 1 << 17,
    O_COMMON = O_DB | O_CONFIG | O_LOG,
};

#define NOPTS 18

typedef struct cli {
    const char *val[NOPTS]; /* by option bit index */
    unsigned seen;
    const char *pos[MAX_POS];
    int npos;
    int help;
    int version;
    char *config_text; /* owns the strings config values point into */
} cli;

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

static const char *opt(const cli *c, unsigned bit)
{
    return c->val[__builtin_ctz(bit)];
}

static int usage_error(const char *fmt, const char *a)
{
    fprintf(stderr, "fieldsync-server: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\nRun `fieldsync-server --help` for the commands.\n");
    return SRV_EXIT_USAGE;
}

static int exit_for(int rc, const fs_err *err)
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
static int64_t parse_duration(const char *s, int64_t unit_default)
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
static size_t parse_size(const char *s)
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

/* ------------------------------------------------------------------------- */
/* Parsing */

static int set_opt(cli *c, const char *name, const char *value, int from_config)
{
    int i = opt_index(name);
    if (i < 0)
        return usage_error(from_config ? "unknown setting \"%s\" in the config file"
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

/* Config file: "key = value" lines, '#' comments; keys are the long options. */
static int read_config(cli *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return usage_error("cannot open config file %s", path);
    size_t cap = 1 << 16;
    c->config_text = calloc(1, cap + 1);
    size_t n = c->config_text ? fread(c->config_text, 1, cap, f) : 0;
    fclose(f);
    if (c->config_text == NULL)
        return SRV_EXIT_ERROR;
    c->config_text[n] = '\0';
    for (char *line = strtok(c->config_text, "\n"); line; line = strtok(NULL, "\n")) {
        line += strspn(line, " \t");
        if (*line == '#' || *line == '\0')
            continue;
        char *eq = strchr(line, '=');
        if (eq == NULL)
            return usage_error("config line \"%s\" is not key = value", line);
        char *k_end = eq;
        while (k_end > line && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        *k_end = '\0';
        char *v = eq + 1 + strspn(eq + 1, " \t");
        for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\r'); e--)
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
                return usage_error("unknown option %s", a);
            memcpy(name, a + 2, nl);
            name[nl] = '\0';
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (v == NULL)
                return usage_error("option --%s needs a value", name);
            int rc = set_opt(c, name, v, 0);
            if (rc != 0)
                return rc;
        } else if (c->npos < MAX_POS) {
            c->pos[c->npos++] = a;
        } else {
            return usage_error("too many arguments (at \"%s\")", a);
        }
    }
    if (opt(c, O_CONFIG) != NULL)
        return read_config(c, opt(c, O_CONFIG));
    return 0;
}

static int open_db(cli *c, bool create, srv_storage **s, fs_err *err)
{
    const char *db = opt(c, O_DB);
    if (db == NULL)
        return fs_err_set(err, FS_EINVAL,
                          "no database: give --db PATH or --db postgresql://... (or db = ... "
                          "in the config file)");
    return srv_storage_open(s, db, create, err);
}

/* ------------------------------------------------------------------------- */
/* Commands */

static int run_user_add(cli *c)
{
    const char *role = opt(c, O_ROLE);
    if (role == NULL || (strcmp(role, "rep") != 0 && strcmp(role, "manager") != 0))
        return usage_error("user add needs --role rep or --role manager%s", "");
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = open_db(c, true, &s, &err);
    if (rc == 0)
        rc = srv_admin_user_add(s, c->pos[2],
                                strcmp(role, "rep") == 0 ? SRV_ROLE_REP : SRV_ROLE_MANAGER,
                                opt(c, O_MANAGER), &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("added %s %s\n", role, c->pos[2]);
    return exit_for(rc, &err);
}

static int run_user_list(cli *c)
{
    srv_storage *s = NULL;
    srv_user *u = NULL;
    size_t n = 0;
    fs_err err = {0};
    int rc = open_db(c, false, &s, &err);
    if (rc == 0)
        rc = s->ops->user_list(s, &u, &n, &err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *mgr = "";
        for (size_t j = 0; j < n; j++)
            if (u[j].id == u[i].manager_id)
                mgr = u[j].name;
        printf("%-24s %-8s %s\n", u[i].name, u[i].role == SRV_ROLE_REP ? "rep" : "manager", mgr);
    }
    free(u);
    srv_storage_close(s);
    return exit_for(rc, &err);
}

static int run_team_add(cli *c)
{
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_team_set(s, c->pos[3], c->pos[2], &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("%s is in %s's team; the managers' devices pull their teams again\n", c->pos[3],
               c->pos[2]);
    return exit_for(rc, &err);
}

static int run_team_remove(cli *c)
{
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_team_set(s, c->pos[2], NULL, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("%s is in no team\n", c->pos[2]);
    return exit_for(rc, &err);
}

static int run_migrate(cli *c)
{
    srv_storage *from = NULL, *to = NULL;
    fs_err err = {0};
    if (opt(c, O_DB) == NULL || !srv_storage_is_pg(opt(c, O_DB)))
        return usage_error("migrate copies into PostgreSQL: give --db postgresql://...%s", "");
    int rc = srv_sqlite_open(&from, c->pos[1], false, &err);
    if (rc == 0)
        rc = open_db(c, true, &to, &err);
    if (rc == 0)
        rc = srv_admin_migrate(from, to, &err);
    srv_storage_close(from);
    srv_storage_close(to);
    if (rc == 0)
        printf("copied %s into PostgreSQL; serve with --db and the same URI\n", c->pos[1]);
    return exit_for(rc, &err);
}

static int run_enroll_code(cli *c)
{
    int64_t ttl = opt(c, O_TTL) ? parse_duration(opt(c, O_TTL), 3600) : 86400;
    if (ttl <= 0)
        return usage_error("--ttl \"%s\" is not a duration such as 24h, 30m or 7d", opt(c, O_TTL));
    srv_storage *s = NULL;
    fs_err err = {0};
    char code[SRV_CODE_LEN + 1];
    int rc = open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_enroll_code(s, c->pos[1], (int64_t)time(NULL), ttl, code, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("%s\n", code);
    return exit_for(rc, &err);
}

static void print_time(int64_t t)
{
    char buf[32] = "-";
    if (t != 0) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    printf(" %-20s", buf);
}

static int run_device_list(cli *c)
{
    srv_storage *s = NULL;
    srv_device *d = NULL;
    srv_user u = {0};
    size_t n = 0;
    fs_err err = {0};
    int rc = open_db(c, false, &s, &err);
    if (rc == 0 && c->npos > 2)
        rc = s->ops->user_get(s, c->pos[2], &u, &err);
    if (rc == 0)
        rc = s->ops->device_list(s, u.id, &d, &n, &err);
    if (rc == 0)
        printf("%-6s %-16s %-8s %-20s %-20s %-20s %s\n", "ID", "REPLICA", "USER", "ENROLLED",
               "LAST SEEN", "REVOKED", "NAME");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        srv_user du = {0};
        s->ops->user_get_id(s, d[i].user_id, &du, NULL);
        printf("%-6lld %016llx %-8s", (long long)d[i].id, (unsigned long long)d[i].replica,
               du.name);
        print_time(d[i].created_at);
        print_time(d[i].last_seen_at);
        print_time(d[i].revoked_at);
        printf(" %s\n", d[i].name);
    }
    free(d);
    srv_storage_close(s);
    return exit_for(rc, &err);
}

static int run_device_revoke(cli *c)
{
    char *end;
    long long id = strtoll(c->pos[2], &end, 10);
    if (*end != '\0' || id <= 0)
        return usage_error("device id \"%s\" is not a number from `device list`", c->pos[2]);
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_device_revoke(s, id, (int64_t)time(NULL), &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("revoked device %lld: its next request gets 401 device_revoked\n", id);
    return exit_for(rc, &err);
}

static int run_reassign(cli *c)
{
    srv_storage *s = NULL;
    fs_err err = {0};
    size_t moved = 0;
    int rc = open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_reassign(s, c->pos[1], c->pos[2], &moved, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("moved account %s and %zu record(s) to %s\n", c->pos[1], moved ? moved - 1 : 0,
               c->pos[2]);
    return exit_for(rc, &err);
}

static int64_t horizon_of(cli *c)
{
    return opt(c, O_HORIZON) ? parse_duration(opt(c, O_HORIZON), 86400) : SRV_HORIZON_DEFAULT_S;
}

static int run_gc(cli *c)
{
    int64_t horizon = horizon_of(c);
    if (horizon < 0)
        return usage_error("--horizon-days \"%s\" is not a number of days", opt(c, O_HORIZON));
    srv_storage *s = NULL;
    fs_err err = {0};
    srv_gc_report r = {0};
    int rc = open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_gc(s, (int64_t)time(NULL), horizon, &r, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("gc: %zu tombstone(s) and %zu removal(s) collected; %zu territory floor(s) "
               "raised\n",
               r.tombstones, r.removals, r.reps);
    return exit_for(rc, &err);
}

/* A whole number from min to max, or -1. */
static long parse_count(const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return end == s || *end != '\0' || errno != 0 || v < min || v > max ? -1 : v;
}

/* Reads an optional count option into *out; false (after the usage message)
 * when it is malformed. */
static bool count_opt(cli *c, unsigned bit, long min, long max, unsigned *out, int *rc)
{
    if (opt(c, bit) == NULL)
        return true;
    long v = parse_count(opt(c, bit), min, max);
    if (v >= 0) {
        *out = (unsigned)v;
        return true;
    }
    char what[96];
    snprintf(what, sizeof(what), "--%s \"%%s\" is not a number from %ld to %ld",
             opt_names[__builtin_ctz(bit)], min, max);
    *rc = usage_error(what, opt(c, bit));
    return false;
}

/* The serve options beyond listen and TLS; 0 or the usage error's exit code. */
static int serve_limits(cli *c, srv_http_opts *o)
{
    int rc = 0;
    if (!count_opt(c, O_THREADS, 1, 256, &o->threads, &rc) ||
        !count_opt(c, O_MAXCONN, 1, 1000000, &o->max_connections, &rc) ||
        !count_opt(c, O_MAXCONN_IP, 0, 1000000, &o->max_per_ip, &rc))
        return rc;
    if (opt(c, O_HEADER_TIMEOUT) != NULL) {
        int64_t t = parse_duration(opt(c, O_HEADER_TIMEOUT), 1);
        if (t < 1 || t > 3600)
            return usage_error("--header-timeout \"%s\" is not a duration from 1s to 1h",
                               opt(c, O_HEADER_TIMEOUT));
        o->header_timeout_s = (unsigned)t;
    }
    if (opt(c, O_CLOCK_SKEW) != NULL &&
        (o->cfg.clock_skew_s = parse_duration(opt(c, O_CLOCK_SKEW), 1)) < 0)
        return usage_error("--clock-skew \"%s\" is not a duration such as 5m or 300",
                           opt(c, O_CLOCK_SKEW));
    if (opt(c, O_BODY) != NULL && (o->cfg.body_limit = parse_size(opt(c, O_BODY))) == 0)
        return usage_error("--body-limit \"%s\" is not a size such as 8MiB or 65536",
                           opt(c, O_BODY));
    if (opt(c, O_BODY_MEMORY) != NULL && (o->body_memory = parse_size(opt(c, O_BODY_MEMORY))) == 0)
        return usage_error("--body-memory \"%s\" is not a size such as 64MiB",
                           opt(c, O_BODY_MEMORY));
    if ((o->cfg.horizon_s = horizon_of(c)) < 0)
        return usage_error("--horizon-days \"%s\" is not a number of days", opt(c, O_HORIZON));
    return 0;
}

static int run_serve(cli *c)
{
    srv_http_opts o;
    srv_http_opts_default(&o);
    if (opt(c, O_LISTEN) != NULL)
        o.listen = opt(c, O_LISTEN);
    o.cert_path = opt(c, O_CERT);
    o.key_path = opt(c, O_KEY);
    int rc = serve_limits(c, &o);
    if (rc != 0)
        return rc;
    if (opt(c, O_DB) == NULL)
        return usage_error("serve needs --db PATH or --db postgresql://...%s", "");
    fs_err err = {0};
    rc = srv_serve(opt(c, O_DB), &o, opt(c, O_PORTFILE), &err);
    return exit_for(rc, &err);
}

static const command commands[] = {
    {"serve", 1, 0, 0,
     O_LISTEN | O_CERT | O_KEY | O_THREADS | O_BODY | O_HORIZON | O_PORTFILE | O_MAXCONN |
         O_MAXCONN_IP | O_HEADER_TIMEOUT | O_BODY_MEMORY | O_CLOCK_SKEW,
     run_serve,
     "serve [--listen ADDR:PORT] [--cert PEM --key PEM] [--threads N] [--body-limit SIZE]\n"
     "      [--horizon-days N] [--port-file FILE] [--max-connections N]\n"
     "      [--max-connections-per-ip N] [--header-timeout 10s] [--body-memory SIZE]\n"
     "      [--clock-skew 5m]\n"
     "  Runs the sync server until SIGINT/SIGTERM. Default --listen 127.0.0.1:8443.\n"
     "  Plain HTTP (no --cert/--key) only on a loopback address. --port-file receives the\n"
     "  bound port (useful with port 0). Defaults: 512 connections, 32 per client address,\n"
     "  10 s for a request's headers, 64MiB of request bodies at once, new writes dated at\n"
     "  most 5 minutes ahead of the server's clock."},
    {"user add", 2, 1, 1, O_ROLE | O_MANAGER, run_user_add,
     "user add NAME --role rep|manager [--manager NAME]\n"
     "  Adds a user (creating the database if needed); a rep may belong to a manager."},
    {"user list", 2, 0, 0, 0, run_user_list, "user list\n  Lists users, roles and managers."},
    {"team add", 2, 2, 2, 0, run_team_add,
     "team add MANAGER REP\n"
     "  Puts REP in MANAGER's team (out of any other); both managers' devices resync."},
    {"team remove", 2, 1, 1, 0, run_team_remove,
     "team remove REP\n  Takes REP out of their manager's team; that manager's devices resync."},
    {"enroll-code", 1, 1, 1, O_TTL, run_enroll_code,
     "enroll-code NAME [--ttl 24h]\n"
     "  Prints a one-time enrollment code for user NAME, valid for --ttl (s, m, h, d)."},
    {"device list", 2, 0, 1, 0, run_device_list,
     "device list [NAME]\n  Lists devices (of user NAME), with last-seen and revocation times."},
    {"device revoke", 2, 1, 1, 0, run_device_revoke,
     "device revoke DEVICE_ID\n  Revokes a device: its requests get 401 device_revoked."},
    {"reassign", 1, 2, 2, 0, run_reassign,
     "reassign ACCOUNT_ID NEW_REP\n"
     "  Moves an account and its records to another rep; the old rep's devices remove them."},
    {"migrate", 1, 1, 1, 0, run_migrate,
     "migrate SQLITE_FILE   (with --db postgresql://...)\n"
     "  Copies a SQLite server database into an empty PostgreSQL database, ids, tokens,\n"
     "  cursors and change numbers included: devices carry on as they were."},
    {"gc", 1, 0, 0, O_HORIZON, run_gc,
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
    printf("\nThe config file holds \"option = value\" lines (db, listen, cert, key, threads,\n"
           "body-limit, horizon-days, log-level, ...); command-line options win.\n"
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
            rc = usage_error("unknown command \"%s\"", c.pos[0]);
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
        rc = usage_error("option --%s does not apply to this command",
                         opt_names[__builtin_ctz(bad)]);
        goto done;
    }
    if (npos < cmd->npos_min || npos > cmd->npos_max) {
        fprintf(stderr, "usage: fieldsync-server %s\n", cmd->usage);
        rc = SRV_EXIT_USAGE;
        goto done;
    }
    fs_log_level level = FS_LOG_INFO;
    if (opt(&c, O_LOG) != NULL && fs_log_level_from_name(opt(&c, O_LOG), &level) != 0) {
        rc = usage_error("--log-level must be error, warn, info or debug, not \"%s\"",
                         opt(&c, O_LOG));
        goto done;
    }
    fs_log_set_ident("fieldsync-server");
    fs_log_set_level(level);
    fs_err err = {0};
    if (srv_crypto_init(&err) != 0) {
        rc = exit_for(FS_EIO, &err);
        goto done;
    }
    rc = cmd->run(&c);
done:
    free(c.config_text);
    return rc;
}
