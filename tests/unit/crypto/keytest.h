/*
 * keytest.h: helpers shared by the key file tests: a private temp directory per
 * test, raw file access to inspect and damage key files, and running an
 * operation in a child process that a crash point kills.
 */
#ifndef FIELDSYNC_TEST_KEYTEST_H
#define FIELDSYNC_TEST_KEYTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fieldsync/keyfile.h"

#define KT_PASS "correct horse battery staple"
#define KT_PASS2 "a different passphrase, 2"
#define KT_LEN(s) (sizeof(s) - 1)

typedef struct kt_dir {
    char root[256];
    char key[300]; /* <root>/store.key */
} kt_dir;

/* cmocka setup/teardown: *state becomes a kt_dir with a fresh empty directory. */
int kt_setup(void **state);
int kt_teardown(void **state);

/* Whole file into malloc'd memory (test inspection only); NULL if unreadable. */
uint8_t *kt_read(const char *path, size_t *len);
/* Replaces path with len bytes of buf, mode 0600. */
void kt_write(const char *path, const uint8_t *buf, size_t len);
/* Permission bits of path, or -1 if it does not exist. */
int kt_mode(const char *path);

/* Creates a passphrase key file with fast KDF parameters; copies its DEK. */
void kt_create(const char *path, uint8_t dek[FS_DEK_BYTES]);
/* Opens path; returns the code, copies the keys (has_next says if next was set). */
int kt_open(const char *path, const char *pass, uint8_t dek[FS_DEK_BYTES],
            uint8_t next[FS_DEK_BYTES], bool *has_next);

/* Runs fn(arg) in a child with FIELDSYNC_CRASH_AT=point; returns the wait status.
 * The child exits 0 if fn returned 0, 1 otherwise (a crash point never reached). */
int kt_run_with_crash(const char *point, int (*fn)(void *), void *arg);

#endif
