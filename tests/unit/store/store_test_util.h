/*
 * store_test_util.h: what the store's tests share: a scratch directory per
 * test, a settable clock, record builders, and scanning files for markers.
 */
#ifndef FIELDSYNC_STORE_TEST_UTIL_H
#define FIELDSYNC_STORE_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/store.h"

/* A fresh directory under $TMPDIR (or /tmp): its path, malloc'd; the caller frees it. */
char *tu_mkdtemp(void);
/* Removes dir and every file in it (one level: the store makes no subdirectories). */
void tu_rmdir(const char *dir);
/* dir + "/" + name, malloc'd. */
char *tu_path(const char *dir, const char *name);

/* An encrypted store's files: a fresh temp dir and the paths of the database
 * and its key file in it (neither created). tu_files_remove removes the dir
 * with what is in it and frees the paths. */
typedef struct tu_files {
    char *dir, *db, *key;
} tu_files;
void tu_files_make(tu_files *f);
void tu_files_remove(tu_files *f);

/* A clock for fs_store_set_clock: returns *(uint64_t *)arg. */
uint64_t tu_clock(void *arg);

/* Opens (creating) a plain store at dir/store.db; asserts success. */
fs_store *tu_open_plain(const char *dir);

/* The fixture most store tests share: a plain store in a fresh temp dir.
 * tu_store_setup / tu_store_teardown are cmocka setup and teardown for it. */
typedef struct tu_store_fixture {
    char *dir;
    fs_store *st;
} tu_store_fixture;
int tu_store_setup(void **state);
int tu_store_teardown(void **state);

/* The replica that writes what tests pull, and a state as a pull gives it: an
 * account of tier target named name, written by it at hlc. */
#define TU_REMOTE 0xfeedull
fs_state *tu_remote_account(const char *id, const char *name, uint64_t hlc);
/* Puts an account with the given fields (NULL / 0 = not set); asserts success. */
void tu_put_account(fs_store *st, const char *id, const char *name, int tier, const char *owner,
                    const char *city, const char *notes);
/* Puts a visit; next_date NULL = no next step. */
void tu_put_visit(fs_store *st, const char *id, const char *account_id, int64_t planned_at,
                  const char *objective, const char *next_step, const char *next_date, bool done);
/* Puts an opportunity. */
void tu_put_opportunity(fs_store *st, const char *id, const char *account_id, int stage,
                        const char *entered, int64_t amount);

/* Whether the bytes of needle occur in the file at path. */
bool tu_file_contains(const char *path, const char *needle);
/* Whether needle occurs in any regular file of dir. */
bool tu_dir_contains(const char *dir, const char *needle);

/* The connection's PRAGMA synchronous (2: FULL, every commit flushes the WAL). */
int tu_synchronous(fs_store *st);

/* The value of an integer env var, or def. */
long tu_env_long(const char *name, long def);
/* The next number of a splitmix64 sequence whose state is *rng: the crash
 * tests' reproducible randomness (a seed they print). */
uint64_t tu_rnd(uint64_t *rng);

#endif
