/*
 * secret.h: key material in guarded memory.
 *
 * Every key, passphrase-derived key or token lives in an fs_secret: memory from
 * sodium_malloc (guard pages, locked so it is not swapped, canary checked on
 * free) that fs_secret_free wipes. Nothing secret is ever copied to ordinary
 * memory, logged or written in the clear.
 */
#ifndef FIELDSYNC_SECRET_H
#define FIELDSYNC_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"

typedef struct fs_secret {
    uint8_t *bytes; /* sodium_malloc'd, len bytes */
    size_t len;
} fs_secret;

/* Initialises libsodium once; every other fs_secret/fs_key/fs_page call needs it. */
int fs_crypto_init(fs_err *err);

/* A new secret of len bytes, zero-filled. */
int fs_secret_new(fs_secret **out, size_t len, fs_err *err);
/* A new secret of len random bytes. */
int fs_secret_random(fs_secret **out, size_t len, fs_err *err);
/* A new secret holding a copy of len bytes at src. */
int fs_secret_from(fs_secret **out, const void *src, size_t len, fs_err *err);
/* Wipes and frees. NULL is a no-op. */
void fs_secret_free(fs_secret *s);

#endif
