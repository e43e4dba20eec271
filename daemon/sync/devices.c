/*
 * devices.c: the names of the server's devices (PullResponse.devices,
 * protocol.md "pull"). The list is kept in the store's sync_meta exactly as
 * the server sent it, re-encoded after validation (wire.c); its digest goes
 * back with every pull so the server sends it again only when it changed.
 * The daemon looks a replica id up here to say which device wrote a value.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#include "fieldsync.pb-c.h"

struct fs_device_names {
    Fieldsync__DeviceList *list;
};

static Fieldsync__DeviceList *load(fs_store *st, fs_err *err, int *rc)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    Fieldsync__DeviceList *l = NULL;
    *rc = fs_store_meta_get(st, FS_META_DEVICES, &blob, &len, err);
    if (*rc == FS_ENOTFOUND)
        *rc = 0; /* never sent: no names */
    else if (*rc == 0 && (l = fieldsync__device_list__unpack(NULL, len, blob)) == NULL)
        *rc = 0; /* unreadable (an older format): asked for again, as if absent */
    free(blob);
    return l;
}

int fs_sync_devices_digest(fs_store *st, uint8_t *digest, size_t size, size_t *len, fs_err *err)
{
    int rc;
    Fieldsync__DeviceList *l = load(st, err, &rc);
    *len = 0;
    if (l != NULL && l->has_digest && l->digest.len <= size) {
        memcpy(digest, l->digest.data, l->digest.len);
        *len = l->digest.len;
    }
    if (l != NULL)
        fieldsync__device_list__free_unpacked(l, NULL);
    return rc;
}

int fs_device_names_load(fs_store *st, fs_device_names **out, fs_err *err)
{
    int rc;
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return fs_err_set(err, FS_ENOMEM, "reading device names: out of memory");
    (*out)->list = load(st, err, &rc);
    if (rc != 0) {
        fs_device_names_free(*out);
        *out = NULL;
    }
    return rc;
}

const char *fs_device_names_get(const fs_device_names *d, uint64_t replica, const char **user)
{
    for (size_t i = 0; d != NULL && d->list != NULL && i < d->list->n_devices; i++) {
        const Fieldsync__Device *dev = d->list->devices[i];
        if (dev->replica == replica) {
            if (user != NULL)
                *user = dev->user;
            return dev->name;
        }
    }
    if (user != NULL)
        *user = NULL;
    return NULL;
}

void fs_device_names_free(fs_device_names *d)
{
    if (d == NULL)
        return;
    if (d->list != NULL)
        fieldsync__device_list__free_unpacked(d->list, NULL);
    free(d);
}
