/*
 * listener.c: the trust boundary of fieldsyncd: the one-instance lock on the
 * data directory, the Unix socket (0600 in a 0700 directory, a stale socket
 * from a crashed run removed only once our lock is held and nobody answers on
 * it) and the peer's credentials (SO_PEERCRED) that conn.c checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "server.h"

int fs_listener_lock(const char *data_dir, int *lock_fd, fs_err *err)
{
    int rc = fs_paths_mkdir(data_dir, true, err);
    if (rc != 0)
        return rc;
    char *path = fs_paths_join(data_dir, "fieldsyncd.lock");
    if (path == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = fs_err_set(err, FS_EIO, "cannot open lock file %s: %s", path, strerror(errno));
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK
                 ? fs_err_set(err, FS_EBUSY,
                              "another fieldsyncd is already running on %s (lock %s held): stop "
                              "it first, or use another --data-dir",
                              data_dir, path)
                 : fs_err_set(err, FS_EIO, "cannot lock %s: %s", path, strerror(errno));
        close(fd);
        goto done;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n)
        fs_log(FS_LOG_WARN, "could not write the pid into %s", path);
    *lock_fd = fd;
done:
    free(path);
    return rc;
}

static void fill_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof(a->sun_path), "%s", path);
}

/* A socket file left at path: live (someone answers) or stale (removed). */
static int clear_stale(const char *path, fs_err *err)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT
                   ? 0
                   : fs_err_set(err, FS_EIO, "cannot inspect %s: %s", path, strerror(errno));
    if (!S_ISSOCK(sb.st_mode))
        return fs_err_set(err, FS_EEXIST, "%s exists and is not a socket: refusing to replace it",
                          path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fs_err_set(err, FS_EIO, "socket: %s", strerror(errno));
    struct sockaddr_un a;
    fill_addr(&a, path);
    int live = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    if (live)
        return fs_err_set(err, FS_EBUSY,
                          "another daemon is answering on %s: stop it or choose another --socket",
                          path);
    if (unlink(path) != 0 && errno != ENOENT)
        return fs_err_set(err, FS_EIO, "cannot remove stale socket %s: %s", path, strerror(errno));
    fs_log(FS_LOG_INFO, "removed the stale socket %s left by an earlier run", path);
    return 0;
}

/* The socket's directory: created 0700 when missing; our own fieldsync/ directory is
 * kept 0700 and ours. A directory the admin chose (--socket /some/dir/x) is not chmodded. */
static int socket_dir(const char *path, fs_err *err)
{
    char *dir = fs_paths_dirname(path);
    if (dir == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    const char *base = strrchr(dir, '/');
    bool ours = strcmp(base != NULL ? base + 1 : dir, "fieldsync") == 0;
    int rc = fs_paths_mkdir(dir, ours, err);
    free(dir);
    return rc;
}

int fs_listener_open(const char *path, int *out, fs_err *err)
{
    int rc;
    if ((rc = socket_dir(path, err)) != 0 || (rc = clear_stale(path, err)) != 0)
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fs_err_set(err, FS_EIO, "socket: %s", strerror(errno));
    struct sockaddr_un a;
    fill_addr(&a, path);
    mode_t old = umask(0177); /* the socket is born 0600: no window where others can connect */
    int b = bind(fd, (struct sockaddr *)&a, sizeof(a));
    int bind_errno = errno;
    umask(old);
    if (b != 0) {
        close(fd);
        return fs_err_set(err, FS_EIO, "cannot bind %s: %s", path, strerror(bind_errno));
    }
    if (chmod(path, 0600) != 0 || listen(fd, 128) != 0) {
        rc = fs_err_set(err, FS_EIO, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return rc;
    }
    *out = fd;
    return 0;
}

int fs_listener_peer(int fd, uid_t *uid, pid_t *pid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred))
        return FS_EIO;
    *uid = cred.uid;
    *pid = cred.pid;
    return 0;
}
