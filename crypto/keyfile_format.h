/*
 * keyfile_format.h (private to crypto/, and used by the key file tests and fuzz
 * target): the key file's byte layout and the pure functions over it: parse,
 * derive the KEK, unwrap, encode. No I/O here; keyfile.c does the files.
 * The layout is documented byte by byte in docs/keyfile.md.
 */
#ifndef FIELDSYNC_CRYPTO_KEYFILE_FORMAT_H
#define FIELDSYNC_CRYPTO_KEYFILE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/keyfile.h"
#include "fieldsync/secret.h"

#define FS_KEY_MAGIC "FSYNCKEY"
#define FS_KEY_MAGIC_BYTES 8
#define FS_KEY_VERSION 1

/* Header offsets (all integers little-endian). */
#define FS_KEY_OFF_VERSION 8   /* u16 */
#define FS_KEY_OFF_MODE 10     /* u8 */
#define FS_KEY_OFF_FLAGS 11    /* u8 */
#define FS_KEY_OFF_ALG 12      /* u32 */
#define FS_KEY_OFF_OPSLIMIT 16 /* u64 */
#define FS_KEY_OFF_MEMLIMIT 24 /* u64 */
#define FS_KEY_OFF_SALT 32     /* FS_KEY_SALT_BYTES */
#define FS_KEY_OFF_RESERVED 48 /* 16 zero bytes */
#define FS_KEY_HEADER_BYTES 64

#define FS_KEY_MODE_PASSPHRASE 1
#define FS_KEY_MODE_RAW 2
#define FS_KEY_FLAG_NEXT 0x01 /* a next DEK follows the DEK (rekey in progress) */
#define FS_KEY_ALG_ARGON2ID13 2

#define FS_KEY_SALT_BYTES 16  /* crypto_pwhash_SALTBYTES */
#define FS_KEY_NONCE_BYTES 24 /* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES */
#define FS_KEY_TAG_BYTES 16   /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define FS_KEY_KEK_BYTES 32   /* crypto_aead_xchacha20poly1305_ietf_KEYBYTES */
/* A wrapped slot: nonce, then the sealed DEK with its tag. */
#define FS_KEY_WRAPPED_BYTES (FS_KEY_NONCE_BYTES + FS_DEK_BYTES + FS_KEY_TAG_BYTES)
/* Raw mode ends with a BLAKE2b-256 checksum of every byte before it. */
#define FS_KEY_SUM_BYTES 32
/* No valid file is larger; reads stop here. */
#define FS_KEY_FILE_MAX_BYTES 512

/* Slot indexes, bound into each slot's associated data so slots cannot swap. */
#define FS_KEY_SLOT_DEK 0
#define FS_KEY_SLOT_NEXT 1

/* A parsed key file. Pointers borrow from the parsed buffer. */
typedef struct fs_key_file {
    unsigned version;
    int mode; /* FS_KEY_MODE_* */
    bool has_next;
    fs_kdf_params kdf; /* zero in raw mode */
    uint8_t salt[FS_KEY_SALT_BYTES];
    const uint8_t *header;  /* FS_KEY_HEADER_BYTES */
    const uint8_t *slot[2]; /* wrapped (or, raw mode, plain) DEK and next DEK */
} fs_key_file;

/*
 * Strictly parses len bytes of buf. Every malformed, truncated, oversized or
 * inconsistent input gives FS_ECORRUPT, a newer format FS_EVERSION, with name
 * (the file) in the message; a raw file's checksum is verified here. Never reads
 * outside buf[0..len).
 */
int fs_key_parse(fs_key_file *out, const uint8_t *buf, size_t len, const char *name, fs_err *err);

/* FS_EINVAL unless params are within [crypto_pwhash MIN, FS_KDF_*_MAX]. */
int fs_key_check_kdf(fs_kdf_params params, const char *name, fs_err *err);

/* Argon2id(passphrase, salt, params) -> a new KEK in guarded memory. */
int fs_key_derive(fs_secret **kek, const char *passphrase, size_t passphrase_len,
                  fs_kdf_params params, const uint8_t salt[FS_KEY_SALT_BYTES], const char *name,
                  fs_err *err);

/* The DEK (and next DEK) of a parsed file; kek is NULL in raw mode. A DEK slot
 * that fails authentication gives FS_EAUTH; keys is left empty on failure. */
int fs_key_unwrap(fs_keys *keys, const fs_key_file *kf, const fs_secret *kek, const char *name,
                  fs_err *err);

/* What to encode: mode, and for passphrase mode its kdf and salt. */
typedef struct fs_key_layout {
    int mode;
    fs_kdf_params kdf;
    uint8_t salt[FS_KEY_SALT_BYTES];
} fs_key_layout;

/* The file bytes for dek (and next, may be NULL), wrapped under kek with fresh
 * nonces (kek NULL in raw mode). Raw files hold keys, so *out is a secret. */
int fs_key_encode(fs_secret **out, const fs_key_layout *layout, const fs_secret *kek,
                  const fs_secret *dek, const fs_secret *next, fs_err *err);

#endif
