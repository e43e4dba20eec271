/*
 * main.c: fieldsyncd's command line: the process is hardened (no core dumps,
 * SQLite wipes what it frees), flags become config overrides, then the server
 * is configured, started and run. The only place that exits.
 *
 * --init creates the store on first run without a client (tests, unattended
 * setups): the passphrase comes from --passphrase-fd N (read to EOF or newline)
 * or, for tests, the FIELDSYNC_PASSPHRASE environment variable (removed from
 * the environment once read); with neither a raw key file is created.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "fieldsync/secret.h"
#include "fieldsync/vfs.h"
#include "rpc.h"
#include "server.h"

#define FS_PASSPHRASE_MAX 1024

/* A core dump would hold the decrypted page cache, records and keys: the daemon
 * never writes one, whatever its parent allowed (fieldsyncd.service also says
 * LimitCORE=0). Not dumpable also keeps other processes of the user from
 * attaching a debugger or reading /proc/PID/mem. Then SQLite is told to wipe
 * the memory it frees, before anything else initializes it. */
static int harden(void)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        fprintf(stderr, "fieldsyncd: cannot disable core dumps: %s\n", strerror(errno));
        return -1;
    }
    fs_err err = {0};
    if (fs_vfs_register(&err) != 0) {
        fprintf(stderr, "fieldsyncd: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: fieldsyncd [OPTION]...\n"
        "The fieldsync daemon: keeps the rep's encrypted record store and answers the UI\n"
        "and the fieldsync command line on a Unix socket (JSON-RPC, docs/socket-api.md).\n"
        "It stays in the foreground; run it under systemd --user or launchd.\n\n"
        "  -c, --config=FILE       config file (default "
        "$XDG_CONFIG_HOME/fieldsync/fieldsyncd.conf)\n"
        "  -d, --data-dir=DIR      store, key file and lock (default $XDG_DATA_HOME/fieldsync)\n"
        "  -s, --socket=PATH       socket (default $XDG_RUNTIME_DIR/fieldsync/fieldsyncd.sock)\n"
        "  -k, --key-file=FILE     key file (default DATA_DIR/fieldsync.key)\n"
        "  -l, --log-level=LEVEL   error, warn, info (default) or debug\n"
        "      --log-target=T      auto (default), stderr or journal\n"
        "  -o, --set=KEY=VALUE     any config key (see fieldsync.conf(5)); repeatable\n"
        "  -f, --foreground        accepted for compatibility: fieldsyncd never forks\n"
        "      --init              create the store if there is none (passphrase from\n"
        "                          --passphrase-fd; without one: a raw key file)\n"
        "      --passphrase-fd=N   read the --init passphrase from file descriptor N\n"
        "      --print-config      print the resolved settings and exit\n"
        "  -h, --help              this help\n"
        "  -V, --version           the version\n\n"
        "Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the config file.\n"
        "See fieldsyncd(1), fieldsync.conf(5) and docs/daemon.md.\n");
}

typedef struct opts {
    bool init;
    int passphrase_fd;
    bool print_config;
    char *set_storage[FS_MAX_OVERRIDES];
    size_t nset;
} opts;

static int add_override(fs_server *s, const char *key, const char *value)
{
    if (s->noverrides == FS_MAX_OVERRIDES) {
        fprintf(stderr, "fieldsyncd: too many overrides (at most %d)\n", FS_MAX_OVERRIDES);
        return -1;
    }
    s->overrides[s->noverrides++] = (fs_override){key, value};
    return 0;
}

/* --set key=value: split in a copy kept for the process lifetime (SIGHUP re-applies it). */
static int add_set(fs_server *s, opts *o, const char *arg)
{
    char *copy = strdup(arg);
    char *eq = copy != NULL ? strchr(copy, '=') : NULL;
    if (eq == NULL || o->nset == FS_MAX_OVERRIDES) {
        fprintf(stderr, "fieldsyncd: --set wants KEY=VALUE\n");
        free(copy);
        return -1;
    }
    *eq = '\0';
    o->set_storage[o->nset++] = copy;
    return add_override(s, copy, eq + 1);
}

static int parse_args(int argc, char **argv, fs_server *s, opts *o, int *exit_now)
{
    enum { OPT_INIT = 256, OPT_PASSFD, OPT_PRINT, OPT_TARGET };
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"data-dir", required_argument, NULL, 'd'},
                                             {"socket", required_argument, NULL, 's'},
                                             {"key-file", required_argument, NULL, 'k'},
                                             {"log-level", required_argument, NULL, 'l'},
                                             {"log-target", required_argument, NULL, OPT_TARGET},
                                             {"set", required_argument, NULL, 'o'},
                                             {"foreground", no_argument, NULL, 'f'},
                                             {"init", no_argument, NULL, OPT_INIT},
                                             {"passphrase-fd", required_argument, NULL, OPT_PASSFD},
                                             {"print-config", no_argument, NULL, OPT_PRINT},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;
    while (rc == 0 && (ch = getopt_long(argc, argv, "c:d:s:k:l:o:fhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            s->config_path = optarg;
            s->config_required = true;
            break;
        case 'd':
            rc = add_override(s, "data_dir", optarg);
            break;
        case 's':
            rc = add_override(s, "socket", optarg);
            break;
        case 'k':
            rc = add_override(s, "key_file", optarg);
            break;
        case 'l':
            rc = add_override(s, "log_level", optarg);
            break;
        case OPT_TARGET:
            rc = add_override(s, "log_target", optarg);
            break;
        case 'o':
            rc = add_set(s, o, optarg);
            break;
        case 'f':
            break;
        case OPT_INIT:
            o->init = true;
            break;
        case OPT_PASSFD:
            o->passphrase_fd = atoi(optarg);
            break;
        case OPT_PRINT:
            o->print_config = true;
            break;
        case 'h':
            usage(stdout);
            *exit_now = 0;
            return 1;
        case 'V':
            printf("fieldsyncd %s\n", FS_DAEMON_VERSION);
            *exit_now = 0;
            return 1;
        default:
            usage(stderr);
            *exit_now = 2;
            return 1;
        }
    }
    if (rc != 0) {
        *exit_now = 2;
        return 1;
    }
    if (optind < argc) {
        fprintf(stderr, "fieldsyncd: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        *exit_now = 2;
        return 1;
    }
    return 0;
}

/* The --init passphrase into guarded memory; *pass NULL when none was given. */
static int read_passphrase(int fd, fs_secret **pass, size_t *len)
{
    fs_err err = {0};
    *pass = NULL;
    *len = 0;
    const char *env = getenv("FIELDSYNC_PASSPHRASE");
    if (fd < 0 && env == NULL)
        return 0;
    if (fs_crypto_init(&err) != 0 || fs_secret_new(pass, FS_PASSPHRASE_MAX, &err) != 0)
        return -1;
    if (fd >= 0) {
        while (*len < FS_PASSPHRASE_MAX) {
            ssize_t n = read(fd, (*pass)->bytes + *len, 1);
            if (n <= 0 || (*pass)->bytes[*len] == '\n')
                break;
            (*len)++;
        }
    } else {
        *len = strlen(env) < FS_PASSPHRASE_MAX ? strlen(env) : FS_PASSPHRASE_MAX;
        memcpy((*pass)->bytes, env, *len);
        unsetenv("FIELDSYNC_PASSPHRASE");
    }
    return *len > 0 ? 0 : -1;
}

static int do_init(fs_server *s, int fd)
{
    if (s->daemon.state != FS_DAEMON_UNINITIALIZED) {
        fs_log(FS_LOG_INFO, "--init: a store exists already; starting with it");
        return 0;
    }
    fs_secret *pass;
    size_t len;
    fs_err err = {0};
    if (read_passphrase(fd, &pass, &len) != 0) {
        fs_secret_free(pass);
        fs_log(FS_LOG_ERROR, "--init: could not read a non-empty passphrase");
        return -1;
    }
    int rc = fs_daemon_create(&s->daemon, pass ? (const char *)pass->bytes : NULL, len, &err);
    fs_secret_free(pass);
    if (rc != 0)
        fs_log(FS_LOG_ERROR, "--init: %s", err.msg);
    return rc;
}

static void print_config(const fs_config *c)
{
    printf("data_dir = %s\nsocket = %s\nkey_file = %s\ndb_file = %s\nlog_level = %s\n"
           "max_clients = %zu\nmax_line_bytes = %zu\nmax_output_bytes = %zu\n"
           "client_timeout = %u\nsales_cycle_days = %d\n",
           c->data_dir, c->socket_path, c->key_file, c->db_file, fs_log_level_name(c->log_level),
           c->max_clients, c->max_line_bytes, c->max_output_bytes, c->client_timeout_s,
           c->sales_cycle_days);
}

int main(int argc, char **argv)
{
    static fs_server s;
    opts o = {.passphrase_fd = -1};
    int exit_now = 0, status = 1;
    char *default_config = NULL;
    fs_err err = {0};
    if (harden() != 0)
        return 1;
    fs_server_init(&s);
    fs_log_set_ident("fieldsyncd");
    fs_rpc_harden_json();
    if (parse_args(argc, argv, &s, &o, &exit_now) != 0) {
        status = exit_now;
        goto done;
    }
    fs_env env = fs_env_current();
    if (s.config_path == NULL && fs_paths_config_file(&default_config, &env, NULL) == 0)
        s.config_path = default_config;
    if (fs_server_configure(&s, &err) != 0) {
        fprintf(stderr, "fieldsyncd: %s\n", err.msg);
        goto done;
    }
    if (o.print_config) {
        print_config(&s.cfg);
        status = 0;
        goto done;
    }
    if (fs_server_start(&s, &err) != 0) {
        fs_log(FS_LOG_ERROR, "cannot start: %s", err.msg);
        goto done;
    }
    if (o.init && do_init(&s, o.passphrase_fd) != 0)
        goto done;
    status = fs_server_run(&s, &err) == 0 ? 0 : 1;
    if (status != 0)
        fs_log(FS_LOG_ERROR, "%s", err.msg);
    else
        fs_log(FS_LOG_INFO, "stopped cleanly");
done:
    fs_server_clear(&s);
    for (size_t i = 0; i < o.nset; i++)
        free(o.set_storage[i]);
    free(default_config);
    return status;
}
