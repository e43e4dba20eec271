/*
 * gen_keyfile_seeds.c: writes the seed corpus of fuzz_keyfile into the folder
 * given (tests/fuzz/corpus/fuzz_keyfile/): a passphrase file (fast Argon2id
 * parameters, passphrase FUZZ_KEYFILE_PASS), the same mid-rekey, a raw file,
 * a raw file mid-rekey. The keys are random test keys that guard nothing.
 * Not run by ctest; rerun by hand when the format changes.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fieldsync/keyfile.h"
#include "fuzz_keyfile.h"

static int make(const char *dir, const char *name, int raw, int rekey)
{
    char path[4096];
    fs_keys keys;
    fs_secret *next = NULL;
    fs_err err;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    int rc = raw ? fs_key_create_raw(path, &keys, &err)
                 : fs_key_create(path, FUZZ_KEYFILE_PASS, strlen(FUZZ_KEYFILE_PASS),
                                 fs_kdf_params_fast(), &keys, &err);
    fs_keys_clear(&keys);
    if (rc == 0 && rekey)
        rc = fs_key_begin_rekey(path, raw ? NULL : FUZZ_KEYFILE_PASS,
                                raw ? 0 : strlen(FUZZ_KEYFILE_PASS), &next, &err);
    fs_secret_free(next);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", path, fs_err_message(&err));
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
        return 2;
    }
    /* no .key suffix: .gitignore keeps key files out of the repository, and
     * these seeds are committed */
    int rc = make(argv[1], "passphrase", 0, 0);
    rc |= make(argv[1], "passphrase-rekey", 0, 1);
    rc |= make(argv[1], "raw", 1, 0);
    rc |= make(argv[1], "raw-rekey", 1, 1);
    return rc == 0 ? 0 : 1;
}
