/*
 * keytest.c: helpers for the key file tests (keytest.h).
 */
#include "keytest.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fieldsync/crash.h"

static void remove_tree(const char *root)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
}

int kt_setup(void **state)
{
    kt_dir *d = calloc(1, sizeof(*d));
    const char *tmp = getenv("TMPDIR");
    snprintf(d->root, sizeof(d->root), "%s/fskeytest.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(d->root) == NULL) {
        free(d);
        return -1;
    }
    snprintf(d->key, sizeof(d->key), "%s/store.key", d->root);
    *state = d;
    return 0;
}

int kt_teardown(void **state)
{
    kt_dir *d = *state;
    remove_tree(d->root);
    free(d);
    return 0;
}

uint8_t *kt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

void kt_write(const char *path, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0600), 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
}

int kt_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (int)(st.st_mode & 07777);
}

void kt_create(const char *path, uint8_t dek[FS_DEK_BYTES])
{
    fs_keys keys;
    fs_err err;
    int rc = fs_key_create(path, KT_PASS, KT_LEN(KT_PASS), fs_kdf_params_fast(), &keys, &err);
    if (rc != 0)
        fail_msg("fs_key_create: %s", fs_err_message(&err));
    memcpy(dek, keys.dek->bytes, FS_DEK_BYTES);
    fs_keys_clear(&keys);
}

int kt_open(const char *path, const char *pass, uint8_t dek[FS_DEK_BYTES],
            uint8_t next[FS_DEK_BYTES], bool *has_next)
{
    fs_keys keys = {NULL, NULL};
    fs_err err;
    fs_err_clear(&err);
    int rc = fs_key_open(path, pass, pass ? strlen(pass) : 0, &keys, &err);
    *has_next = false;
    if (rc != 0) {
        /* a failure leaves no keys and says why */
        assert_null(keys.dek);
        assert_null(keys.next);
        assert_int_equal(err.code, rc);
        assert_true(err.msg[0] != '\0');
        return rc;
    }
    memcpy(dek, keys.dek->bytes, FS_DEK_BYTES);
    if (keys.next != NULL) {
        memcpy(next, keys.next->bytes, FS_DEK_BYTES);
        *has_next = true;
    }
    fs_keys_clear(&keys);
    return 0;
}

int kt_run_with_crash(const char *point, int (*fn)(void *), void *arg)
{
    fflush(NULL); /* nothing buffered is written twice by the child */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv(FS_CRASH_ENV, point, 1);
        _exit(fn(arg) == 0 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}
