/*
 * atomic_file.c: the two file operations the key file needs (atomic_file.h).
 *
 * The write path is the classic temp + fsync + rename + fsync(dir) sequence; the
 * only subtle part is ordering: the temp file is complete on disk before the
 * rename makes it visible, and the rename is on disk before we report success.
 */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fieldsync/crash.h"

#define PRIVATE_MODE 0600
#define GROUP_OTHER_BITS 0077

static int errno_code(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return FS_ENOTFOUND;
    case EACCES:
    case EPERM:
    case EROFS:
        return FS_EDENIED;
    case EEXIST:
        return FS_EEXIST;
    case ENOMEM:
        return FS_ENOMEM;
    default:
        return FS_EIO;
    }
}

static int read_all(int fd, uint8_t *buf, size_t cap, size_t *got)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return 0;
}

int fs_file_read_private(const char *path, const char *what, size_t max, fs_secret **out,
                         fs_err *err)
{
    fs_secret *tmp = NULL;
    struct stat st;
    size_t got = 0;
    int rc;

    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fs_err_set(err, errno_code(errno), "cannot open %s %s: %s", what, path,
                          strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = fs_err_set(err, FS_EIO, "cannot stat %s %s: %s", what, path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fs_err_set(err, FS_EINVAL, "%s %s is not a regular file", what, path);
        goto fail;
    }
    if ((st.st_mode & GROUP_OTHER_BITS) != 0) {
        rc = fs_err_set(err, FS_EDENIED,
                        "%s %s is accessible to other users (mode %04o): run `chmod 600 %s`", what,
                        path, (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    /* One byte more than allowed, so an oversized file is detected, not cut. */
    rc = fs_secret_new(&tmp, max + 1, err);
    if (rc != 0)
        goto fail;
    if (read_all(fd, tmp->bytes, max + 1, &got) != 0) {
        rc = fs_err_set(err, FS_EIO, "cannot read %s %s: %s", what, path, strerror(errno));
        goto fail;
    }
    if (got > max) {
        rc = fs_err_set(err, FS_ECORRUPT,
                        "%s %s is larger than any valid one (%zu bytes at most): it is "
                        "damaged or not a %s",
                        what, path, max, what);
        goto fail;
    }
    /* Exactly sized, so a parser overrun hits sodium_malloc's guard page. */
    rc = fs_secret_from(out, tmp->bytes, got, err);
fail:
    fs_secret_free(tmp);
    close(fd);
    return rc;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static void crash_at(const char *tag, const char *step)
{
    char name[256];
    snprintf(name, sizeof(name), "%s.%s", tag, step);
    fs_crash_point(name);
}

/* fsync of the directory holding path, so that a rename in it is durable. */
static int sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? strdup(".")
                : slash == path ? strdup("/")
                                : strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Makes tmp visible as path; without replace, never over an existing path. */
static int publish(const char *tmp, const char *path, bool replace)
{
    if (replace)
        return rename(tmp, path);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* File systems without RENAME_NOREPLACE: link refuses an existing name too. */
    if (link(tmp, path) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

/* Creates and fills the temp file; on failure it is removed. */
static int write_temp(const char *tmp, const char *what, const uint8_t *buf, size_t len,
                      const char *tag, fs_err *err)
{
    if (unlink(tmp) != 0 && errno != ENOENT) /* stale from a crash */
        return fs_err_set(err, errno_code(errno), "cannot remove stale %s: %s", tmp,
                          strerror(errno));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, PRIVATE_MODE);
    if (fd < 0)
        return fs_err_set(err, errno_code(errno), "cannot create %s: %s", tmp, strerror(errno));
    size_t half = len / 2;
    int rc = 0;
    if (fchmod(fd, PRIVATE_MODE) != 0 || write_all(fd, buf, half) != 0)
        goto io_fail;
    crash_at(tag, "tmp_partial");
    if (write_all(fd, buf + half, len - half) != 0 || fsync(fd) != 0)
        goto io_fail;
    if (close(fd) != 0) {
        fd = -1;
        goto io_fail;
    }
    crash_at(tag, "tmp_synced");
    return 0;
io_fail:
    rc = fs_err_set(err, errno_code(errno), "cannot write new %s %s: %s", what, tmp,
                    strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

int fs_file_write_atomic(const char *path, const char *what, const uint8_t *buf, size_t len,
                         bool replace, const char *crash_tag, fs_err *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof(".tmp"));
    if (tmp == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory writing %s %s", what, path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof(".tmp"));

    int rc = write_temp(tmp, what, buf, len, crash_tag, err);
    if (rc != 0)
        goto out;
    if (publish(tmp, path, replace) != 0) {
        int e = errno;
        unlink(tmp);
        rc = e == EEXIST ? fs_err_set(err, FS_EEXIST, "%s %s already exists", what, path)
                         : fs_err_set(err, errno_code(e), "cannot rename %s to %s: %s", tmp, path,
                                      strerror(e));
        goto out;
    }
    crash_at(crash_tag, "renamed");
    if (sync_parent_dir(path) != 0) {
        /* The new file is in place; only its durability is in doubt. */
        rc = fs_err_set(err, FS_EIO, "wrote %s %s but could not fsync its directory: %s", what,
                        path, strerror(errno));
        goto out;
    }
    crash_at(crash_tag, "dir_synced");
out:
    free(tmp);
    return rc;
}
