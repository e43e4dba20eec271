/*
 * vfs_keyring.c: how a data key reaches the VFS's xOpen.
 *
 * SQLite gives xOpen only a file name, so a caller puts a guarded copy of its
 * key here, passes the entry's number as the URI parameter "fskey", and drops
 * the entry once the open returned; the main file took its own copy. Entries
 * are numbered from a counter and never reused in a process's life, so a stale
 * URI cannot reach another caller's key. A mutex guards the table: connections
 * may open from several threads.
 */
#include "vfs_internal.h"

#include <pthread.h>
#include <stdlib.h>

#define KEYRING_MAX 64

struct keyring_entry {
    uint64_t id; /* 0: free */
    fs_secret *key;
};

static pthread_mutex_t keyring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keyring_entry keyring[KEYRING_MAX];
static uint64_t keyring_next = 1;

int fs_vfs_keyring_add(const fs_secret *key, uint64_t *id, fs_err *err)
{
    if (key == NULL || key->len != FS_PAGE_KEY_BYTES)
        return fs_err_set(err, FS_EINVAL, "the data key must be %d bytes", FS_PAGE_KEY_BYTES);
    fs_secret *copy = NULL;
    int rc = fs_secret_from(&copy, key->bytes, key->len, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&keyring_lock);
    for (int i = 0; i < KEYRING_MAX; i++) {
        if (keyring[i].id == 0) {
            keyring[i].id = keyring_next++;
            keyring[i].key = copy;
            *id = keyring[i].id;
            pthread_mutex_unlock(&keyring_lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&keyring_lock);
    fs_secret_free(copy);
    return fs_err_set(err, FS_EBUSY, "too many encrypted databases being opened at once");
}

void fs_vfs_keyring_remove(uint64_t id)
{
    fs_secret *key = NULL;
    pthread_mutex_lock(&keyring_lock);
    for (int i = 0; i < KEYRING_MAX && id != 0; i++) {
        if (keyring[i].id == id) {
            key = keyring[i].key;
            keyring[i].id = 0;
            keyring[i].key = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&keyring_lock);
    fs_secret_free(key);
}

fs_secret *fs_vfs_keyring_copy(uint64_t id)
{
    fs_secret *copy = NULL;
    pthread_mutex_lock(&keyring_lock);
    for (int i = 0; i < KEYRING_MAX && id != 0; i++) {
        if (keyring[i].id == id) {
            if (fs_secret_from(&copy, keyring[i].key->bytes, keyring[i].key->len, NULL) != 0)
                copy = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&keyring_lock);
    return copy;
}
