/*
 * paths.c: where fieldsyncd's files live by default (the XDG base directory
 * spec) and creating their directories with the right owner and mode.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fs_paths_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *p = malloc(la + 1 + lb + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

char *fs_paths_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static bool absolute(const char *p)
{
    return p != NULL && p[0] == '/';
}

/* XDG value when absolute, else $HOME/fallback. */
static int xdg_base(char **out, const char *xdg, const char *home, const char *fallback,
                    const char *what, fs_err *err)
{
    *out = NULL;
    if (absolute(xdg))
        *out = strdup(xdg);
    else if (absolute(home))
        *out = fs_paths_join(home, fallback);
    else
        return fs_err_set(err, FS_EINVAL,
                          "cannot place the %s: neither an absolute XDG directory nor $HOME is "
                          "set; set HOME or give the path in the config file",
                          what);
    return *out != NULL ? 0 : fs_err_set(err, FS_ENOMEM, "out of memory");
}

int fs_paths_data_dir(char **out, const fs_env *env, fs_err *err)
{
    char *base;
    int rc = xdg_base(&base, env->xdg_data_home, env->home, ".local/share", "data directory", err);
    if (rc != 0)
        return rc;
    *out = fs_paths_join(base, "fieldsync");
    free(base);
    return *out != NULL ? 0 : fs_err_set(err, FS_ENOMEM, "out of memory");
}

int fs_paths_config_file(char **out, const fs_env *env, fs_err *err)
{
    char *base;
    int rc = xdg_base(&base, env->xdg_config_home, env->home, ".config", "config file", err);
    if (rc != 0)
        return rc;
    *out = fs_paths_join(base, "fieldsync/fieldsyncd.conf");
    free(base);
    return *out != NULL ? 0 : fs_err_set(err, FS_ENOMEM, "out of memory");
}

int fs_paths_socket(char **out, const fs_env *env, fs_err *err)
{
    *out = NULL;
    if (!absolute(env->xdg_runtime_dir))
        return fs_err_set(err, FS_EINVAL,
                          "XDG_RUNTIME_DIR is not set (no login session?): give the socket "
                          "path with --socket or `socket =` in the config file");
    *out = fs_paths_join(env->xdg_runtime_dir, "fieldsync/fieldsyncd.sock");
    return *out != NULL ? 0 : fs_err_set(err, FS_ENOMEM, "out of memory");
}

static int check_dir(const char *dir, bool private_dir, fs_err *err)
{
    struct stat sb;
    if (lstat(dir, &sb) != 0)
        return fs_err_set(err, FS_EIO, "cannot inspect directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return fs_err_set(err, FS_EINVAL,
                          "%s is not a directory: move it away or choose another "
                          "path",
                          dir);
    if (!private_dir)
        return 0;
    if (sb.st_uid != geteuid())
        return fs_err_set(err, FS_EDENIED,
                          "directory %s belongs to uid %u, not to us (uid %u): refusing to use it",
                          dir, (unsigned)sb.st_uid, (unsigned)geteuid());
    if ((sb.st_mode & 0777) != 0700 && chmod(dir, 0700) != 0)
        return fs_err_set(err, FS_EIO, "cannot make %s private (chmod 0700): %s", dir,
                          strerror(errno));
    return 0;
}

int fs_paths_mkdir(const char *dir, bool private_dir, fs_err *err)
{
    if (dir == NULL || dir[0] == '\0')
        return fs_err_set(err, FS_EINVAL, "empty directory path");
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return check_dir(dir, private_dir, err);
    if (errno != ENOENT)
        return fs_err_set(err, FS_EIO, "cannot create directory %s: %s", dir, strerror(errno));
    char *parent = fs_paths_dirname(dir);
    if (parent == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    int rc = strcmp(parent, dir) == 0 ? fs_err_set(err, FS_EIO, "cannot create %s", dir)
                                      : fs_paths_mkdir(parent, false, err);
    free(parent);
    if (rc != 0)
        return rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fs_err_set(err, FS_EIO, "cannot create directory %s: %s", dir, strerror(errno));
    return check_dir(dir, private_dir, err);
}
