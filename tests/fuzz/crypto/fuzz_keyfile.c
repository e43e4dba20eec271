/*
 * fuzz_keyfile.c: arbitrary bytes as a key file, through the same path
 * fs_key_open takes after reading the file: strict parse, Argon2id with the
 * file's parameters (capped at the fast ones so an iteration stays cheap), and
 * unwrap with a fixed passphrase. Must never crash or read out of bounds: the
 * input is copied into an exactly sized sodium_malloc buffer, whose end is a
 * guard page. When a file does open, encoding its keys again and reopening the
 * result must give the same keys (abort otherwise).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keyfile.h"
#include "keyfile_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fs_kdf_params capped(fs_kdf_params p)
{
    fs_kdf_params fast = fs_kdf_params_fast();
    return p.opslimit > fast.opslimit || p.memlimit > fast.memlimit ? fast : p;
}

static int same_key(const fs_secret *a, const fs_secret *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return a->len == b->len && sodium_memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Encode what was opened, parse and unwrap it again: the keys must survive. */
static void check_round_trip(const fs_key_file *kf, const fs_secret *kek, const fs_keys *keys)
{
    fs_key_layout layout = {.mode = kf->mode, .kdf = kf->kdf};
    memcpy(layout.salt, kf->salt, sizeof(layout.salt));
    fs_secret *bytes = NULL;
    fs_key_file again;
    fs_keys back = {NULL, NULL};
    if (fs_key_encode(&bytes, &layout, kek, keys->dek, keys->next, NULL) != 0 ||
        fs_key_parse(&again, bytes->bytes, bytes->len, "fuzz", NULL) != 0 ||
        fs_key_unwrap(&back, &again, kek, "fuzz", NULL) != 0 || !same_key(back.dek, keys->dek) ||
        !same_key(back.next, keys->next))
        abort();
    fs_keys_clear(&back);
    fs_secret_free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fs_secret *buf = NULL, *kek = NULL;
    fs_keys keys = {NULL, NULL};
    fs_key_file kf;
    if (size > FS_KEY_FILE_MAX_BYTES || fs_secret_from(&buf, data, size, NULL) != 0)
        return 0;
    if (fs_key_parse(&kf, buf->bytes, size, "fuzz", NULL) != 0)
        goto out;
    if (kf.mode == FS_KEY_MODE_PASSPHRASE) {
        kf.kdf = capped(kf.kdf);
        if (fs_key_derive(&kek, FUZZ_KEYFILE_PASS, strlen(FUZZ_KEYFILE_PASS), kf.kdf, kf.salt,
                          "fuzz", NULL) != 0)
            goto out;
    }
    if (fs_key_unwrap(&keys, &kf, kek, "fuzz", NULL) == 0)
        check_round_trip(&kf, kek, &keys);
out:
    fs_keys_clear(&keys);
    fs_secret_free(kek);
    fs_secret_free(buf);
    return 0;
}
