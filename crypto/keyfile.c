/*
 * keyfile.c: the key file API (keyfile.h) over the format (keyfile_format.c)
 * and atomic file writes (atomic_file.c).
 *
 * Every operation that changes the file reads and fully verifies the current
 * file first (the passphrase must open it), builds the complete new file in
 * guarded memory, and replaces the old one with a single atomic rename. So a
 * crash at any step leaves either the old file or the new one, never a mix: the
 * old passphrase (or DEK) works until the rename, the new one after it.
 *
 * Rekey states, as the file shows them (docs/keyfile.md "Rekey"):
 *   DEK only          no rekey, or one that was committed or aborted;
 *   DEK + next DEK    begun: the database may be under either key; the store
 *                     tries the DEK then the next DEK and commits or aborts.
 * begin refuses to replace an existing next DEK: the database may already be
 * under it, and a new one would lose that key.
 */
#include "fieldsync/keyfile.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "keyfile_format.h"

#define WHAT "key file"

fs_kdf_params fs_kdf_params_default(void)
{
    return (fs_kdf_params){crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

fs_kdf_params fs_kdf_params_fast(void)
{
    return (fs_kdf_params){crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

void fs_keys_clear(fs_keys *keys)
{
    if (keys == NULL)
        return;
    fs_secret_free(keys->dek);
    fs_secret_free(keys->next);
    keys->dek = keys->next = NULL;
}

/* An opened key file: its bytes, parsed view, layout, KEK and keys. */
typedef struct loaded {
    fs_secret *bytes;
    fs_key_file kf;
    fs_key_layout layout;
    fs_secret *kek; /* NULL in raw mode */
    fs_keys keys;
} loaded;

static void loaded_clear(loaded *l)
{
    fs_secret_free(l->bytes);
    fs_secret_free(l->kek);
    fs_keys_clear(&l->keys);
    memset(l, 0, sizeof(*l));
}

static int read_parse(loaded *l, const char *path, fs_err *err)
{
    memset(l, 0, sizeof(*l));
    int rc = fs_crypto_init(err);
    if (rc == 0)
        rc = fs_file_read_private(path, WHAT, FS_KEY_FILE_MAX_BYTES, &l->bytes, err);
    if (rc == 0)
        rc = fs_key_parse(&l->kf, l->bytes->bytes, l->bytes->len, path, err);
    if (rc != 0)
        loaded_clear(l);
    return rc;
}

/* Reads, parses, derives the KEK (passphrase mode) and unwraps the keys. A raw
 * file ignores passphrase. */
static int load(loaded *l, const char *path, const char *passphrase, size_t passphrase_len,
                fs_err *err)
{
    int rc = read_parse(l, path, err);
    if (rc != 0)
        return rc;
    l->layout.mode = l->kf.mode;
    l->layout.kdf = l->kf.kdf;
    memcpy(l->layout.salt, l->kf.salt, sizeof(l->layout.salt));
    if (l->kf.mode == FS_KEY_MODE_PASSPHRASE)
        rc = fs_key_derive(&l->kek, passphrase, passphrase_len, l->kf.kdf, l->kf.salt, path, err);
    if (rc == 0)
        rc = fs_key_unwrap(&l->keys, &l->kf, l->kek, path, err);
    if (rc != 0)
        loaded_clear(l);
    return rc;
}

/* Encodes layout + keys and atomically writes them to path. */
static int store(const char *path, const fs_key_layout *layout, const fs_secret *kek,
                 const fs_secret *dek, const fs_secret *next, bool replace, const char *tag,
                 fs_err *err)
{
    fs_secret *bytes = NULL;
    int rc = fs_key_encode(&bytes, layout, kek, dek, next, err);
    if (rc == 0)
        rc = fs_file_write_atomic(path, WHAT, bytes->bytes, bytes->len, replace, tag, err);
    fs_secret_free(bytes);
    return rc;
}

static int check_passphrase(const char *passphrase, size_t len, const char *path, fs_err *err)
{
    if (passphrase == NULL || len == 0)
        return fs_err_set(err, FS_EINVAL, "a passphrase for key file %s must not be empty", path);
    if (len > crypto_pwhash_PASSWD_MAX)
        return fs_err_set(err, FS_EINVAL, "passphrase for key file %s is too long", path);
    return 0;
}

/* Fails early with FS_EEXIST rather than after a slow Argon2id; the no-replace
 * rename still guards against a file appearing meanwhile. */
static int check_absent(const char *path, fs_err *err)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return fs_err_set(err, FS_EEXIST,
                          "key file %s already exists: open it, or move it away first", path);
    if (errno != ENOENT)
        return fs_err_set(err, FS_EIO, "cannot check key file %s: %s", path, strerror(errno));
    return 0;
}

static int create(const char *path, const fs_key_layout *layout, const fs_secret *kek,
                  fs_keys *keys, fs_err *err)
{
    fs_secret *dek = NULL;
    int rc = fs_secret_random(&dek, FS_DEK_BYTES, err);
    if (rc == 0)
        rc = store(path, layout, kek, dek, NULL, false, "key.create", err);
    if (rc != 0) {
        fs_secret_free(dek);
        return rc;
    }
    keys->dek = dek;
    keys->next = NULL;
    return 0;
}

int fs_key_create(const char *path, const char *passphrase, size_t passphrase_len,
                  fs_kdf_params params, fs_keys *keys, fs_err *err)
{
    fs_key_layout layout = {.mode = FS_KEY_MODE_PASSPHRASE, .kdf = params};
    fs_secret *kek = NULL;
    keys->dek = keys->next = NULL;
    int rc = fs_crypto_init(err);
    if (rc == 0)
        rc = check_passphrase(passphrase, passphrase_len, path, err);
    if (rc == 0)
        rc = fs_key_check_kdf(params, path, err);
    if (rc == 0)
        rc = check_absent(path, err);
    if (rc != 0)
        return rc;
    randombytes_buf(layout.salt, sizeof(layout.salt));
    rc = fs_key_derive(&kek, passphrase, passphrase_len, params, layout.salt, path, err);
    if (rc == 0)
        rc = create(path, &layout, kek, keys, err);
    fs_secret_free(kek);
    return rc;
}

int fs_key_create_raw(const char *path, fs_keys *keys, fs_err *err)
{
    fs_key_layout layout = {.mode = FS_KEY_MODE_RAW};
    keys->dek = keys->next = NULL;
    int rc = fs_crypto_init(err);
    if (rc == 0)
        rc = check_absent(path, err);
    if (rc == 0)
        rc = create(path, &layout, NULL, keys, err);
    return rc;
}

int fs_key_needs_passphrase(const char *path, bool *needs, fs_err *err)
{
    loaded l;
    int rc = read_parse(&l, path, err);
    if (rc != 0)
        return rc;
    *needs = l.kf.mode == FS_KEY_MODE_PASSPHRASE;
    loaded_clear(&l);
    return 0;
}

int fs_key_open(const char *path, const char *passphrase, size_t passphrase_len, fs_keys *keys,
                fs_err *err)
{
    loaded l;
    keys->dek = keys->next = NULL;
    int rc = load(&l, path, passphrase, passphrase_len, err);
    if (rc != 0)
        return rc;
    *keys = l.keys; /* ownership moves to the caller */
    l.keys.dek = l.keys.next = NULL;
    loaded_clear(&l);
    return 0;
}

int fs_key_change_passphrase(const char *path, const char *old_pass, size_t old_len,
                             const char *new_pass, size_t new_len, fs_kdf_params params,
                             fs_err *err)
{
    loaded l;
    fs_secret *kek = NULL;
    int rc = check_passphrase(new_pass, new_len, path, err);
    if (rc == 0)
        rc = fs_key_check_kdf(params, path, err);
    if (rc == 0)
        rc = load(&l, path, old_pass, old_len, err);
    if (rc != 0)
        return rc;
    /* A raw file becomes a passphrase file here: its DEK gets wrapped. */
    fs_key_layout layout = {.mode = FS_KEY_MODE_PASSPHRASE, .kdf = params};
    randombytes_buf(layout.salt, sizeof(layout.salt));
    rc = fs_key_derive(&kek, new_pass, new_len, params, layout.salt, path, err);
    if (rc == 0)
        rc = store(path, &layout, kek, l.keys.dek, l.keys.next, true, "key.change_passphrase", err);
    fs_secret_free(kek);
    loaded_clear(&l);
    return rc;
}

int fs_key_begin_rekey(const char *path, const char *passphrase, size_t passphrase_len,
                       fs_secret **next, fs_err *err)
{
    loaded l;
    fs_secret *n = NULL;
    *next = NULL;
    int rc = load(&l, path, passphrase, passphrase_len, err);
    if (rc != 0)
        return rc;
    if (l.keys.next != NULL) {
        rc = fs_err_set(err, FS_ESTATE,
                        "key file %s already holds an unfinished rekey: open the store to "
                        "finish or abort it first",
                        path);
        goto out;
    }
    rc = fs_secret_random(&n, FS_DEK_BYTES, err);
    if (rc == 0)
        rc = store(path, &l.layout, l.kek, l.keys.dek, n, true, "key.begin_rekey", err);
    if (rc == 0) {
        *next = n;
        n = NULL;
    }
out:
    fs_secret_free(n);
    loaded_clear(&l);
    return rc;
}

/* Ends a rekey: the file keeps one key alone, the next DEK on commit, the DEK
 * on abort. */
static int end_rekey(const char *path, const char *passphrase, size_t passphrase_len, bool commit,
                     fs_err *err)
{
    loaded l;
    int rc = load(&l, path, passphrase, passphrase_len, err);
    if (rc != 0)
        return rc;
    if (l.keys.next == NULL)
        rc = fs_err_set(err, FS_ESTATE, "key file %s has no rekey in progress to %s", path,
                        commit ? "commit" : "abort");
    else
        rc = store(path, &l.layout, l.kek, commit ? l.keys.next : l.keys.dek, NULL, true,
                   commit ? "key.commit_rekey" : "key.abort_rekey", err);
    loaded_clear(&l);
    return rc;
}

int fs_key_commit_rekey(const char *path, const char *passphrase, size_t passphrase_len,
                        fs_err *err)
{
    return end_rekey(path, passphrase, passphrase_len, true, err);
}

int fs_key_abort_rekey(const char *path, const char *passphrase, size_t passphrase_len, fs_err *err)
{
    return end_rekey(path, passphrase, passphrase_len, false, err);
}
