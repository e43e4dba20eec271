/*
 * secret.c: guarded key memory (see secret.h). The struct itself and the bytes
 * both come from sodium_malloc, so no part of a secret sits in ordinary heap.
 */
#include "fieldsync/secret.h"

#include <sodium.h>
#include <string.h>

int fs_crypto_init(fs_err *err)
{
    if (sodium_init() < 0)
        return fs_err_set(err, FS_EIO, "libsodium failed to initialise");
    return 0;
}

int fs_secret_new(fs_secret **out, size_t len, fs_err *err)
{
    *out = NULL;
    if (fs_crypto_init(err) != 0)
        return FS_EIO;
    fs_secret *s = sodium_malloc(sizeof(*s));
    if (s == NULL)
        return fs_err_set(err, FS_ENOMEM, "cannot allocate locked memory for a key");
    s->len = len;
    s->bytes = sodium_malloc(len > 0 ? len : 1);
    if (s->bytes == NULL) {
        sodium_free(s);
        return fs_err_set(err, FS_ENOMEM, "cannot allocate locked memory for a key");
    }
    sodium_memzero(s->bytes, len);
    *out = s;
    return 0;
}

int fs_secret_random(fs_secret **out, size_t len, fs_err *err)
{
    int rc = fs_secret_new(out, len, err);
    if (rc == 0)
        randombytes_buf((*out)->bytes, len);
    return rc;
}

int fs_secret_from(fs_secret **out, const void *src, size_t len, fs_err *err)
{
    int rc = fs_secret_new(out, len, err);
    if (rc == 0 && len > 0) /* src may be NULL for an empty secret */
        memcpy((*out)->bytes, src, len);
    return rc;
}

void fs_secret_free(fs_secret *s)
{
    if (s == NULL)
        return;
    sodium_free(s->bytes); /* sodium_free wipes before it unmaps */
    sodium_free(s);
}
