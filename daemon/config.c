/*
 * config.c: fieldsyncd's settings: defaults, `key = value` parsing (the config
 * file and the flags go through the same fs_config_set), and filling unset
 * paths from the XDG environment.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FS_CONFIG_FILE_MAX (256u << 10)

void fs_config_init(fs_config *c)
{
    memset(c, 0, sizeof(*c));
    c->log_level = FS_LOG_INFO;
    c->log_target = FS_CONFIG_LOG_AUTO;
    c->max_clients = FS_CONFIG_DEFAULT_MAX_CLIENTS;
    c->max_line_bytes = FS_CONFIG_DEFAULT_MAX_LINE;
    c->max_output_bytes = FS_CONFIG_DEFAULT_MAX_OUTPUT;
    c->client_timeout_s = FS_CONFIG_DEFAULT_TIMEOUT_S;
    c->sales_cycle_days = FS_CONFIG_DEFAULT_CYCLE_DAYS;
    c->sync_interval_s = FS_CONFIG_DEFAULT_SYNC_INTERVAL_S;
    c->sync_debounce_ms = FS_CONFIG_DEFAULT_SYNC_DEBOUNCE_MS;
    c->cache_kib = FS_CONFIG_DEFAULT_CACHE_KIB;
}

void fs_config_clear(fs_config *c)
{
    if (c == NULL)
        return;
    free(c->data_dir);
    free(c->socket_path);
    free(c->key_file);
    free(c->db_file);
    free(c->server_ca_file);
    fs_config_init(c);
}

static int parse_size(const char *key, const char *value, size_t min, size_t max, size_t *out,
                      fs_err *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    unsigned long long mult = 1;
    if (end != value && (*end == 'k' || *end == 'K'))
        mult = 1024, end++;
    else if (end != value && (*end == 'm' || *end == 'M'))
        mult = 1024 * 1024, end++;
    if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v > max / mult ||
        v * mult < min || v * mult > max)
        return fs_err_set(err, FS_EINVAL, "%s: \"%s\" is not a number between %zu and %zu", key,
                          value, min, max);
    *out = (size_t)(v * mult);
    return 0;
}

static int parse_bool(const char *key, const char *value, bool *out, fs_err *err)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
        *out = true;
    else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
        *out = false;
    else
        return fs_err_set(err, FS_EINVAL, "%s: \"%s\" is not true or false", key, value);
    return 0;
}

static int set_path(char **slot, const char *key, const char *value, fs_err *err)
{
    if (value[0] != '/')
        return fs_err_set(err, FS_EINVAL, "%s: \"%s\" must be an absolute path", key, value);
    char *p = strdup(value);
    if (p == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    free(*slot);
    *slot = p;
    return 0;
}

static int set_log_target(fs_config *c, const char *value, fs_err *err)
{
    if (strcmp(value, "auto") == 0)
        c->log_target = FS_CONFIG_LOG_AUTO;
    else if (strcmp(value, "stderr") == 0)
        c->log_target = FS_CONFIG_LOG_STDERR;
    else if (strcmp(value, "journal") == 0)
        c->log_target = FS_CONFIG_LOG_JOURNAL;
    else
        return fs_err_set(err, FS_EINVAL, "log_target: \"%s\" is not auto, stderr or journal",
                          value);
    return 0;
}

int fs_config_set(fs_config *c, const char *key, const char *value, fs_err *err)
{
    size_t n;
    int rc;
    if (strcmp(key, "data_dir") == 0)
        return set_path(&c->data_dir, key, value, err);
    if (strcmp(key, "socket") == 0)
        return set_path(&c->socket_path, key, value, err);
    if (strcmp(key, "key_file") == 0)
        return set_path(&c->key_file, key, value, err);
    if (strcmp(key, "db_file") == 0)
        return set_path(&c->db_file, key, value, err);
    if (strcmp(key, "log_level") == 0) {
        if (fs_log_level_from_name(value, &c->log_level) != 0)
            return fs_err_set(err, FS_EINVAL, "log_level: \"%s\" is not error, warn, info or debug",
                              value);
        return 0;
    }
    if (strcmp(key, "log_target") == 0)
        return set_log_target(c, value, err);
    if (strcmp(key, "max_clients") == 0)
        return parse_size(key, value, 1, 4096, &c->max_clients, err);
    if (strcmp(key, "max_line_bytes") == 0)
        return parse_size(key, value, 1024, 64u << 20, &c->max_line_bytes, err);
    if (strcmp(key, "max_output_bytes") == 0)
        return parse_size(key, value, 64u << 10, 1u << 30, &c->max_output_bytes, err);
    if (strcmp(key, "client_timeout") == 0) {
        if ((rc = parse_size(key, value, 1, 86400, &n, err)) == 0)
            c->client_timeout_s = (unsigned)n;
        return rc;
    }
    if (strcmp(key, "sales_cycle_days") == 0) {
        if ((rc = parse_size(key, value, 1, 3650, &n, err)) == 0)
            c->sales_cycle_days = (int)n;
        return rc;
    }
    if (strcmp(key, "server_ca_file") == 0)
        return set_path(&c->server_ca_file, key, value, err);
    if (strcmp(key, "sync_interval") == 0) {
        if ((rc = parse_size(key, value, 60, 86400, &n, err)) == 0)
            c->sync_interval_s = (unsigned)n;
        return rc;
    }
    if (strcmp(key, "sync_debounce_ms") == 0) {
        if ((rc = parse_size(key, value, 1, 600000, &n, err)) == 0)
            c->sync_debounce_ms = (unsigned)n;
        return rc;
    }
    if (strcmp(key, "cache_kib") == 0) {
        if ((rc = parse_size(key, value, 256, 1u << 20, &n, err)) == 0)
            c->cache_kib = (unsigned)n;
        return rc;
    }
    if (strcmp(key, "test_fast_kdf") == 0)
        return parse_bool(key, value, &c->fast_kdf, err);
    return fs_err_set(err, FS_EINVAL, "unknown setting \"%s\" (see fieldsync.conf(5))", key);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int parse_line(fs_config *c, char *line, const char *source, int lineno, fs_err *err)
{
    char *hash = strchr(line, '#');
    if (hash != NULL)
        *hash = '\0';
    char *s = trim(line);
    if (*s == '\0')
        return 0;
    char *eq = strchr(s, '=');
    if (eq == NULL)
        return fs_err_set(err, FS_EINVAL, "%s line %d: expected `key = value`", source, lineno);
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (*key == '\0' || *value == '\0')
        return fs_err_set(err, FS_EINVAL, "%s line %d: empty key or value", source, lineno);
    fs_err e = {0};
    int rc = fs_config_set(c, key, value, &e);
    if (rc != 0)
        return fs_err_set(err, rc, "%s line %d: %s", source, lineno, e.msg);
    return 0;
}

int fs_config_parse(fs_config *c, const char *text, size_t len, const char *source, fs_err *err)
{
    char line[FS_CONFIG_LINE_MAX];
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n >= sizeof(line))
            return fs_err_set(err, FS_EINVAL, "%s line %d: longer than %d bytes", source, lineno,
                              FS_CONFIG_LINE_MAX - 1);
        if (memchr(text + pos, '\0', n) != NULL)
            return fs_err_set(err, FS_EINVAL, "%s line %d: NUL byte", source, lineno);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        int rc = parse_line(c, line, source, lineno, err);
        if (rc != 0)
            return rc;
        pos += n + 1;
    }
    return 0;
}

int fs_config_load(fs_config *c, const char *path, fs_err *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return fs_err_set(err, errno == ENOENT ? FS_ENOTFOUND : FS_EIO,
                          "cannot read config file %s: %s", path, strerror(errno));
    char *buf = malloc(FS_CONFIG_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, FS_CONFIG_FILE_MAX + 1, f);
    int rc;
    if (ferror(f))
        rc = fs_err_set(err, FS_EIO, "cannot read config file %s", path);
    else if (n > FS_CONFIG_FILE_MAX)
        rc = fs_err_set(err, FS_ETOOBIG, "config file %s is larger than %u bytes", path,
                        FS_CONFIG_FILE_MAX);
    else
        rc = fs_config_parse(c, buf, n, path, err);
    free(buf);
    fclose(f);
    return rc;
}

fs_env fs_env_current(void)
{
    fs_env e = {
        .home = getenv("HOME"),
        .xdg_data_home = getenv("XDG_DATA_HOME"),
        .xdg_config_home = getenv("XDG_CONFIG_HOME"),
        .xdg_runtime_dir = getenv("XDG_RUNTIME_DIR"),
        .uid = getuid(),
    };
    return e;
}

static int default_in_data_dir(char **slot, const char *data_dir, const char *name, fs_err *err)
{
    if (*slot != NULL)
        return 0;
    *slot = fs_paths_join(data_dir, name);
    return *slot != NULL ? 0 : fs_err_set(err, FS_ENOMEM, "out of memory");
}

int fs_config_resolve(fs_config *c, const fs_env *env, fs_err *err)
{
    int rc;
    if (c->data_dir == NULL && (rc = fs_paths_data_dir(&c->data_dir, env, err)) != 0)
        return rc;
    if (c->socket_path == NULL && (rc = fs_paths_socket(&c->socket_path, env, err)) != 0)
        return rc;
    if ((rc = default_in_data_dir(&c->key_file, c->data_dir, "fieldsync.key", err)) != 0 ||
        (rc = default_in_data_dir(&c->db_file, c->data_dir, "fieldsync.db", err)) != 0)
        return rc;
    if (strlen(c->socket_path) > FS_SOCKET_PATH_MAX)
        return fs_err_set(err, FS_EINVAL,
                          "socket path %s is longer than %d bytes, the limit of a Unix socket "
                          "address: choose a shorter path with --socket",
                          c->socket_path, FS_SOCKET_PATH_MAX);
    return 0;
}
