/*
 * config.h: fieldsyncd's settings (config.c) and where its files live (paths.c).
 *
 * Precedence, lowest first: built-in defaults, the config file (`key = value`
 * lines), command-line flags. Flags are applied as the same key/value pairs as
 * file lines (fs_config_set), so a flag and a config key can never disagree on
 * meaning. Paths left unset are filled from the XDG base directories by
 * fs_config_resolve. Keys are documented in docs/daemon.md and fieldsync.conf(5).
 */
#ifndef FS_DAEMON_CONFIG_H
#define FS_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fieldsync/error.h"
#include "fieldsync/log.h"

typedef enum fs_log_target_choice {
    FS_CONFIG_LOG_AUTO = 0, /* journal when started by systemd with no tty, else stderr */
    FS_CONFIG_LOG_STDERR = 1,
    FS_CONFIG_LOG_JOURNAL = 2,
} fs_log_target_choice;

typedef struct fs_config {
    char *data_dir;    /* store database + key file + lock file */
    char *socket_path; /* the Unix socket */
    char *key_file;    /* default <data_dir>/fieldsync.key */
    char *db_file;     /* default <data_dir>/fieldsync.db */
    fs_log_level log_level;
    fs_log_target_choice log_target;
    size_t max_clients;
    size_t max_line_bytes;
    size_t max_output_bytes;
    unsigned client_timeout_s; /* a partial line older than this drops the client */
    int sales_cycle_days;      /* report.pipeline and report.team default */
    char *server_ca_file;      /* extra CA (PEM) to trust for the sync server, or NULL */
    unsigned sync_interval_s;  /* periodic sync while enrolled */
    unsigned sync_debounce_ms; /* sync this long after the last local change */
    unsigned cache_kib;        /* SQLite page cache of the open store */
    bool fast_kdf;             /* tests only: minimal Argon2id for new key files */
} fs_config;

#define FS_CONFIG_DEFAULT_MAX_CLIENTS 64
#define FS_CONFIG_DEFAULT_MAX_LINE (1u << 20)
#define FS_CONFIG_DEFAULT_MAX_OUTPUT (8u << 20)
#define FS_CONFIG_DEFAULT_TIMEOUT_S 30
#define FS_CONFIG_DEFAULT_CYCLE_DAYS 28
#define FS_CONFIG_DEFAULT_SYNC_INTERVAL_S 900
#define FS_CONFIG_DEFAULT_CACHE_KIB 8192
#define FS_CONFIG_DEFAULT_SYNC_DEBOUNCE_MS 2000
#define FS_CONFIG_LINE_MAX 4096
#define FS_SOCKET_PATH_MAX 107 /* sizeof(sun_path) - 1 */

void fs_config_init(fs_config *c);
void fs_config_clear(fs_config *c);

/* Sets one key from its text value (a file line or a flag). Unknown keys and bad
 * values are FS_EINVAL with a message naming the key. */
int fs_config_set(fs_config *c, const char *key, const char *value, fs_err *err);

/* Parses `key = value` lines; '#' starts a comment; blank lines are skipped.
 * source names the text in messages ("fieldsyncd.conf line 4: ..."). */
int fs_config_parse(fs_config *c, const char *text, size_t len, const char *source, fs_err *err);

/* Reads and parses the file at path. A missing file is FS_ENOTFOUND. */
int fs_config_load(fs_config *c, const char *path, fs_err *err);

/* Environment the defaults come from (values may be NULL). */
typedef struct fs_env {
    const char *home;
    const char *xdg_data_home;
    const char *xdg_config_home;
    const char *xdg_runtime_dir;
    uid_t uid;
} fs_env;

/* The process environment. */
fs_env fs_env_current(void);

/* Fills unset paths: data_dir, socket_path, key_file, db_file. Checks that the
 * socket path fits a sockaddr_un. */
int fs_config_resolve(fs_config *c, const fs_env *env, fs_err *err);

/* ---- paths.c ---- */

/* XDG base directories (absolute only: a relative XDG_* value is ignored, as the
 * spec says). The results are malloc'd. */
int fs_paths_data_dir(char **out, const fs_env *env, fs_err *err);
int fs_paths_config_file(char **out, const fs_env *env, fs_err *err);
int fs_paths_socket(char **out, const fs_env *env, fs_err *err);
/* a + "/" + b, malloc'd, or NULL when out of memory. */
char *fs_paths_join(const char *a, const char *b);
/* Creates dir and missing parents (parents 0700 as created); dir itself must end up
 * a directory owned by us, and gets mode 0700 when private is set. */
int fs_paths_mkdir(const char *dir, bool private_dir, fs_err *err);
/* The directory part of path, malloc'd ("." when none). */
char *fs_paths_dirname(const char *path);

#endif
