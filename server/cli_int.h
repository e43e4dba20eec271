/*
 * cli_int.h: what fieldsync-server's command line shares between its parser
 * (cli.c) and its commands (cli_admin.c, cli_serve.c): the parsed options and
 * the helpers that turn values and errors into messages and exit codes.
 */
#ifndef SRV_CLI_INT_H
#define SRV_CLI_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "fieldsync/error.h"

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

/* The value of option `bit` (NULL when absent) and its long name. */
const char *cli_opt(const cli *c, unsigned bit);
const char *cli_opt_name(unsigned bit);

/* Prints "fieldsync-server: <fmt with a>" and the --help hint; SRV_EXIT_USAGE. */
int cli_usage_error(const char *fmt, const char *a);
/* The exit code for rc, after printing err's message when rc != 0. */
int cli_exit_for(int rc, const fs_err *err);

/* "90", "24h", "30m", "7d", "45s" -> seconds (a bare number counts in
 * unit_default); -1 if malformed. */
int64_t cli_parse_duration(const char *s, int64_t unit_default);
/* "8388608", "512K", "8M", "8MiB" -> bytes; 0 if malformed. */
size_t cli_parse_size(const char *s);
/* --horizon-days, or the default; -1 if malformed. */
int64_t cli_horizon(cli *c);

/* The commands (cli_admin.c, cli_serve.c): each returns the exit code. */
int cli_run_serve(cli *c);
int cli_run_user_add(cli *c);
int cli_run_user_list(cli *c);
int cli_run_team_add(cli *c);
int cli_run_team_remove(cli *c);
int cli_run_migrate(cli *c);
int cli_run_enroll_code(cli *c);
int cli_run_device_list(cli *c);
int cli_run_device_revoke(cli *c);
int cli_run_reassign(cli *c);
int cli_run_gc(cli *c);

#endif
