/*
 * keyfile_format.c: the key file's bytes (keyfile_format.h, docs/keyfile.md).
 *
 * Parsing is strict and bounded: the header is checked field by field before
 * anything else is read, the total length must equal exactly what the header
 * announces, and reserved bytes must be zero, so one file has one meaning.
 * Passphrase mode authenticates the whole header as associated data of each
 * wrapped slot (plus the slot index), so any header change fails unwrapping.
 * Raw mode has no secret to authenticate with; its BLAKE2b checksum only turns
 * accidental damage into a clear error instead of a wrong key.
 */
#include "keyfile_format.h"

#include <sodium.h>
#include <string.h>

_Static_assert(FS_KEY_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(FS_KEY_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(FS_KEY_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(FS_KEY_KEK_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "kek size");
_Static_assert(FS_KEY_ALG_ARGON2ID13 == crypto_pwhash_ALG_ARGON2ID13, "algorithm id");
_Static_assert(FS_KEY_OFF_RESERVED + 16 == FS_KEY_HEADER_BYTES, "header layout");
_Static_assert(FS_KEY_HEADER_BYTES + 2 * FS_KEY_WRAPPED_BYTES <= FS_KEY_FILE_MAX_BYTES, "max");

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static size_t slot_bytes(int mode)
{
    return mode == FS_KEY_MODE_RAW ? FS_DEK_BYTES : FS_KEY_WRAPPED_BYTES;
}

static size_t file_bytes(int mode, bool has_next)
{
    size_t n = FS_KEY_HEADER_BYTES + slot_bytes(mode) * (has_next ? 2 : 1);
    return mode == FS_KEY_MODE_RAW ? n + FS_KEY_SUM_BYTES : n;
}

int fs_key_check_kdf(fs_kdf_params params, const char *name, fs_err *err)
{
    if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > FS_KDF_OPSLIMIT_MAX ||
        params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > FS_KDF_MEMLIMIT_MAX)
        return fs_err_set(err, FS_EINVAL,
                          "Argon2id parameters for %s out of range (opslimit %llu, memlimit %zu; "
                          "allowed %llu..%u and %zu..%zu): use fs_kdf_params_default()",
                          name, (unsigned long long)params.opslimit, params.memlimit,
                          (unsigned long long)crypto_pwhash_OPSLIMIT_MIN, FS_KDF_OPSLIMIT_MAX,
                          (size_t)crypto_pwhash_MEMLIMIT_MIN, FS_KDF_MEMLIMIT_MAX);
    return 0;
}

/* Mode-specific header fields: Argon2id parameters, or all zero in raw mode. */
static int parse_kdf(fs_key_file *out, const uint8_t *h, const char *name, fs_err *err)
{
    uint32_t alg = (uint32_t)get_le(h + FS_KEY_OFF_ALG, 4);
    uint64_t ops = get_le(h + FS_KEY_OFF_OPSLIMIT, 8);
    uint64_t mem = get_le(h + FS_KEY_OFF_MEMLIMIT, 8);
    if (out->mode == FS_KEY_MODE_RAW) {
        if (!all_zero(h + FS_KEY_OFF_ALG, FS_KEY_OFF_RESERVED - FS_KEY_OFF_ALG))
            return fs_err_set(err, FS_ECORRUPT, "raw key file %s has KDF fields set: damaged",
                              name);
        return 0;
    }
    if (alg != FS_KEY_ALG_ARGON2ID13)
        return fs_err_set(err, FS_ECORRUPT, "key file %s names unknown KDF algorithm %u: damaged",
                          name, (unsigned)alg);
    if (mem > FS_KDF_MEMLIMIT_MAX) /* checked before the cast to size_t */
        mem = (uint64_t)FS_KDF_MEMLIMIT_MAX + 1;
    out->kdf.opslimit = ops;
    out->kdf.memlimit = (size_t)mem;
    if (fs_key_check_kdf(out->kdf, name, err) != 0)
        return fs_err_set(err, FS_ECORRUPT,
                          "key file %s asks for out-of-range Argon2id parameters (opslimit "
                          "%llu, memlimit %llu): damaged or not written by fieldsync",
                          name, (unsigned long long)ops,
                          (unsigned long long)get_le(h + FS_KEY_OFF_MEMLIMIT, 8));
    memcpy(out->salt, h + FS_KEY_OFF_SALT, FS_KEY_SALT_BYTES);
    return 0;
}

static int parse_header(fs_key_file *out, const uint8_t *buf, size_t len, const char *name,
                        fs_err *err)
{
    if (len < FS_KEY_MAGIC_BYTES || memcmp(buf, FS_KEY_MAGIC, FS_KEY_MAGIC_BYTES) != 0)
        return fs_err_set(err, FS_ECORRUPT,
                          "%s is not a fieldsync key file (no FSYNCKEY magic): check the path",
                          name);
    if (len < FS_KEY_OFF_VERSION + 2)
        return fs_err_set(err, FS_ECORRUPT, "key file %s is truncated (%zu bytes)", name, len);
    out->version = (unsigned)get_le(buf + FS_KEY_OFF_VERSION, 2);
    if (out->version > FS_KEY_VERSION)
        return fs_err_set(err, FS_EVERSION,
                          "key file %s has format version %u; this build reads up to %u: "
                          "upgrade fieldsync",
                          name, out->version, FS_KEY_VERSION);
    if (out->version == 0)
        return fs_err_set(err, FS_ECORRUPT, "key file %s has format version 0: damaged", name);
    if (len < FS_KEY_HEADER_BYTES)
        return fs_err_set(err, FS_ECORRUPT, "key file %s is truncated (%zu bytes)", name, len);
    out->header = buf;
    out->mode = buf[FS_KEY_OFF_MODE];
    if (out->mode != FS_KEY_MODE_PASSPHRASE && out->mode != FS_KEY_MODE_RAW)
        return fs_err_set(err, FS_ECORRUPT, "key file %s has unknown mode %d: damaged", name,
                          out->mode);
    uint8_t flags = buf[FS_KEY_OFF_FLAGS];
    if ((flags & ~FS_KEY_FLAG_NEXT) != 0)
        return fs_err_set(err, FS_ECORRUPT, "key file %s has unknown flags 0x%02x: damaged", name,
                          flags);
    out->has_next = (flags & FS_KEY_FLAG_NEXT) != 0;
    if (!all_zero(buf + FS_KEY_OFF_RESERVED, FS_KEY_HEADER_BYTES - FS_KEY_OFF_RESERVED))
        return fs_err_set(err, FS_ECORRUPT, "key file %s has reserved bytes set: damaged", name);
    return parse_kdf(out, buf, name, err);
}

int fs_key_parse(fs_key_file *out, const uint8_t *buf, size_t len, const char *name, fs_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = parse_header(out, buf, len, name, err);
    if (rc != 0)
        return rc;
    size_t want = file_bytes(out->mode, out->has_next);
    if (len != want)
        return fs_err_set(err, FS_ECORRUPT, "key file %s is %s (%zu bytes, expected %zu)", name,
                          len < want ? "truncated" : "followed by trailing bytes", len, want);
    size_t sb = slot_bytes(out->mode);
    out->slot[FS_KEY_SLOT_DEK] = buf + FS_KEY_HEADER_BYTES;
    out->slot[FS_KEY_SLOT_NEXT] = out->has_next ? buf + FS_KEY_HEADER_BYTES + sb : NULL;
    if (out->mode == FS_KEY_MODE_RAW) {
        uint8_t sum[FS_KEY_SUM_BYTES];
        crypto_generichash(sum, sizeof(sum), buf, len - FS_KEY_SUM_BYTES, NULL, 0);
        if (sodium_memcmp(sum, buf + len - FS_KEY_SUM_BYTES, FS_KEY_SUM_BYTES) != 0)
            return fs_err_set(err, FS_ECORRUPT, "raw key file %s fails its checksum: damaged",
                              name);
    }
    return 0;
}

int fs_key_derive(fs_secret **kek, const char *passphrase, size_t passphrase_len,
                  fs_kdf_params params, const uint8_t salt[FS_KEY_SALT_BYTES], const char *name,
                  fs_err *err)
{
    *kek = NULL;
    int rc = fs_key_check_kdf(params, name, err);
    if (rc != 0)
        return rc;
    if (passphrase == NULL || passphrase_len > crypto_pwhash_PASSWD_MAX)
        return fs_err_set(err, FS_EINVAL, "key file %s needs a passphrase", name);
    fs_secret *k = NULL;
    rc = fs_secret_new(&k, FS_KEY_KEK_BYTES, err);
    if (rc != 0)
        return rc;
    if (crypto_pwhash(k->bytes, k->len, passphrase, passphrase_len, salt, params.opslimit,
                      params.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        fs_secret_free(k);
        return fs_err_set(err, FS_ENOMEM,
                          "Argon2id for key file %s could not get %zu bytes of memory: free "
                          "memory and retry",
                          name, params.memlimit);
    }
    *kek = k;
    return 0;
}

/* Associated data of a slot: the whole header, then the slot index. */
static void slot_ad(uint8_t ad[FS_KEY_HEADER_BYTES + 1], const uint8_t *header, int slot)
{
    memcpy(ad, header, FS_KEY_HEADER_BYTES);
    ad[FS_KEY_HEADER_BYTES] = (uint8_t)slot;
}

static int open_slot(fs_secret **out, const fs_key_file *kf, int slot, const fs_secret *kek)
{
    int rc = fs_secret_new(out, FS_DEK_BYTES, NULL);
    if (rc != 0)
        return rc;
    const uint8_t *s = kf->slot[slot];
    if (kf->mode == FS_KEY_MODE_RAW) {
        memcpy((*out)->bytes, s, FS_DEK_BYTES);
        return 0;
    }
    uint8_t ad[FS_KEY_HEADER_BYTES + 1];
    slot_ad(ad, kf->header, slot);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (*out)->bytes, NULL, NULL, s + FS_KEY_NONCE_BYTES, FS_DEK_BYTES + FS_KEY_TAG_BYTES, ad,
            sizeof(ad), s, kek->bytes) != 0) {
        fs_secret_free(*out);
        *out = NULL;
        return FS_EAUTH;
    }
    return 0;
}

int fs_key_unwrap(fs_keys *keys, const fs_key_file *kf, const fs_secret *kek, const char *name,
                  fs_err *err)
{
    keys->dek = keys->next = NULL;
    if (kf->mode == FS_KEY_MODE_PASSPHRASE && (kek == NULL || kek->len != FS_KEY_KEK_BYTES))
        return fs_err_set(err, FS_EINVAL, "key file %s needs a passphrase", name);
    int rc = open_slot(&keys->dek, kf, FS_KEY_SLOT_DEK, kek);
    if (rc == FS_EAUTH)
        return fs_err_set(err, FS_EAUTH,
                          "wrong passphrase for key file %s (or the file is damaged): try again",
                          name);
    if (rc == 0 && kf->has_next)
        rc = open_slot(&keys->next, kf, FS_KEY_SLOT_NEXT, kek);
    if (rc == FS_EAUTH) /* the DEK slot opened under the same KEK: this is damage */
        rc = fs_err_set(err, FS_ECORRUPT,
                        "key file %s: the next key of an unfinished rekey is damaged", name);
    else if (rc != 0)
        rc = fs_err_set(err, rc, "cannot allocate locked memory for the keys of %s", name);
    if (rc != 0)
        fs_keys_clear(keys);
    return rc;
}

static void seal_slot(uint8_t *s, const uint8_t *header, int slot, const fs_secret *kek,
                      const fs_secret *key)
{
    uint8_t ad[FS_KEY_HEADER_BYTES + 1];
    slot_ad(ad, header, slot);
    randombytes_buf(s, FS_KEY_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(s + FS_KEY_NONCE_BYTES, NULL, key->bytes,
                                               FS_DEK_BYTES, ad, sizeof(ad), NULL, s, kek->bytes);
}

static void encode_header(uint8_t *h, const fs_key_layout *layout, bool has_next)
{
    memset(h, 0, FS_KEY_HEADER_BYTES);
    memcpy(h, FS_KEY_MAGIC, FS_KEY_MAGIC_BYTES);
    put_le(h + FS_KEY_OFF_VERSION, FS_KEY_VERSION, 2);
    h[FS_KEY_OFF_MODE] = (uint8_t)layout->mode;
    h[FS_KEY_OFF_FLAGS] = has_next ? FS_KEY_FLAG_NEXT : 0;
    if (layout->mode == FS_KEY_MODE_PASSPHRASE) {
        put_le(h + FS_KEY_OFF_ALG, FS_KEY_ALG_ARGON2ID13, 4);
        put_le(h + FS_KEY_OFF_OPSLIMIT, layout->kdf.opslimit, 8);
        put_le(h + FS_KEY_OFF_MEMLIMIT, layout->kdf.memlimit, 8);
        memcpy(h + FS_KEY_OFF_SALT, layout->salt, FS_KEY_SALT_BYTES);
    }
}

int fs_key_encode(fs_secret **out, const fs_key_layout *layout, const fs_secret *kek,
                  const fs_secret *dek, const fs_secret *next, fs_err *err)
{
    *out = NULL;
    bool raw = layout->mode == FS_KEY_MODE_RAW;
    if ((!raw && layout->mode != FS_KEY_MODE_PASSPHRASE) || dek->len != FS_DEK_BYTES ||
        (next != NULL && next->len != FS_DEK_BYTES) ||
        (!raw && (kek == NULL || kek->len != FS_KEY_KEK_BYTES)))
        return fs_err_set(err, FS_EINVAL, "key file encoding: bad mode or key sizes");
    fs_secret *buf = NULL;
    int rc = fs_secret_new(&buf, file_bytes(layout->mode, next != NULL), err);
    if (rc != 0)
        return rc;
    uint8_t *p = buf->bytes;
    encode_header(p, layout, next != NULL);
    const fs_secret *keys[2] = {dek, next};
    for (int i = 0; i < 2 && keys[i] != NULL; i++) {
        uint8_t *s = p + FS_KEY_HEADER_BYTES + (size_t)i * slot_bytes(layout->mode);
        if (raw)
            memcpy(s, keys[i]->bytes, FS_DEK_BYTES);
        else
            seal_slot(s, p, i, kek, keys[i]);
    }
    if (raw)
        crypto_generichash(p + buf->len - FS_KEY_SUM_BYTES, FS_KEY_SUM_BYTES, p,
                           buf->len - FS_KEY_SUM_BYTES, NULL, 0);
    *out = buf;
    return 0;
}
