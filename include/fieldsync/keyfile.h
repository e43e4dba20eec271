/*
 * keyfile.h: the key file that guards the data key (DEK) of an encrypted store.
 *
 * Passphrase mode: Argon2id (crypto_pwhash, parameters stored in the file)
 * derives a key-encryption key (KEK) that wraps the random 256-bit DEK with
 * XChaCha20-Poly1305. Raw mode (unattended service setups and tests): the file
 * holds the DEK itself, protected only by file permissions; documented as weaker.
 *
 * The file may also hold a second, "next" DEK during a rekey, so that a crash
 * between re-encrypting the database and committing the new key never leaves a
 * database that no key opens. Every write is atomic (temp file, fsync, rename,
 * fsync of the directory) and leaves the file mode 0600. Format: docs/keyfile.md.
 */
#ifndef FIELDSYNC_KEYFILE_H
#define FIELDSYNC_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/secret.h"

#define FS_DEK_BYTES 32

typedef struct fs_kdf_params {
    uint64_t opslimit;
    size_t memlimit;
} fs_kdf_params;

/* Upper bounds a key file may ask for (4x crypto_pwhash's SENSITIVE opslimit,
 * its SENSITIVE memlimit of 1 GiB): a damaged or hostile file cannot make
 * fs_key_open spend more. fs_key_create refuses parameters outside
 * [crypto_pwhash_*_MIN, these] with FS_EINVAL; fs_key_open with FS_ECORRUPT. */
#define FS_KDF_OPSLIMIT_MAX 16u
#define FS_KDF_MEMLIMIT_MAX ((size_t)1 << 30)

/* crypto_pwhash's MODERATE limits: the default for a rep's passphrase. */
fs_kdf_params fs_kdf_params_default(void);
/* crypto_pwhash's MIN limits: for tests only. */
fs_kdf_params fs_kdf_params_fast(void);

/* The DEKs a key file yields. next is NULL unless a rekey is in progress. */
typedef struct fs_keys {
    fs_secret *dek;
    fs_secret *next;
} fs_keys;

void fs_keys_clear(fs_keys *keys);

/* Creates a passphrase key file at path with a new random DEK (FS_EEXIST if the
 * file exists). keys receives the DEK. */
int fs_key_create(const char *path, const char *passphrase, size_t passphrase_len,
                  fs_kdf_params params, fs_keys *keys, fs_err *err);
/* Creates a raw key file (no passphrase) at path with a new random DEK. */
int fs_key_create_raw(const char *path, fs_keys *keys, fs_err *err);

/* True if the file at path needs a passphrase (false for a raw key file). */
int fs_key_needs_passphrase(const char *path, bool *needs, fs_err *err);

/* Opens the key file: passphrase may be NULL for a raw file. A wrong passphrase
 * gives FS_EAUTH; a malformed file FS_ECORRUPT; a newer format FS_EVERSION. */
int fs_key_open(const char *path, const char *passphrase, size_t passphrase_len, fs_keys *keys,
                fs_err *err);

/* Rewraps the DEK (and next DEK) under a new passphrase: the old passphrase
 * works until the rename, the new one after it. */
int fs_key_change_passphrase(const char *path, const char *old_pass, size_t old_len,
                             const char *new_pass, size_t new_len, fs_kdf_params params,
                             fs_err *err);

/* Rekey, step 1: store a new random next DEK beside the current one; returns it. */
int fs_key_begin_rekey(const char *path, const char *passphrase, size_t passphrase_len,
                       fs_secret **next, fs_err *err);
/* Rekey, last step: the next DEK becomes the DEK; the old one is gone. */
int fs_key_commit_rekey(const char *path, const char *passphrase, size_t passphrase_len,
                        fs_err *err);
/* Drops an unfinished rekey's next DEK (the database was not swapped). */
int fs_key_abort_rekey(const char *path, const char *passphrase, size_t passphrase_len,
                       fs_err *err);

#endif
