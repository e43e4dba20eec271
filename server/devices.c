/*
 * devices.c: the device names a pull answer carries (protocol.md, "pull",
 * devices), so a device can show who wrote each side of a conflict by name
 * instead of by replica id.
 *
 * The list is every device the server ever enrolled (a record moved by
 * reassign carries writes of other reps' devices, and revoked devices' writes
 * stay in states), ascending by replica id, each with its name and its user's
 * name. Its digest is a BLAKE2b hash of the encoded list, so it changes when a
 * device is enrolled and only then; a device sends back the digest of the list
 * it holds and gets the list again only when it differs.
 */
#include "devices.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync.pb-c.h"

static int by_replica(const void *a, const void *b)
{
    uint64_t x = ((const srv_device *)a)->replica, y = ((const srv_device *)b)->replica;
    return x < y ? -1 : x > y;
}

static char *user_name(const srv_user *users, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (users[i].id == id)
            return (char *)users[i].name;
    return NULL;
}

/* Packs list into a new buffer (*out malloc'd). */
static int pack(const Fieldsync__DeviceList *list, uint8_t **out, size_t *len, fs_err *err)
{
    *len = fieldsync__device_list__get_packed_size(list);
    *out = malloc(*len > 0 ? *len : 1);
    if (*out == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory for the device list");
    fieldsync__device_list__pack(list, *out);
    return 0;
}

/* The DeviceList of devs (sorted here) named by users, digest included. */
static int build(srv_device *devs, size_t ndevs, const srv_user *users, size_t nusers,
                 srv_device_list *out, fs_err *err)
{
    Fieldsync__Device *pb = calloc(ndevs + 1, sizeof(*pb));
    Fieldsync__Device **ptrs = calloc(ndevs + 1, sizeof(*ptrs));
    Fieldsync__DeviceList list = FIELDSYNC__DEVICE_LIST__INIT;
    uint8_t *bare = NULL;
    size_t bare_len = 0;
    int rc = pb == NULL || ptrs == NULL ? fs_err_set(err, FS_ENOMEM, "out of memory") : 0;
    qsort(devs, ndevs, sizeof(*devs), by_replica);
    for (size_t i = 0; rc == 0 && i < ndevs; i++) {
        fieldsync__device__init(&pb[i]);
        pb[i].has_replica = 1;
        pb[i].replica = devs[i].replica;
        pb[i].name = devs[i].name;
        pb[i].user = user_name(users, nusers, devs[i].user_id);
        ptrs[i] = &pb[i];
    }
    list.n_devices = ndevs;
    list.devices = ptrs;
    if (rc == 0)
        rc = pack(&list, &bare, &bare_len, err);
    if (rc == 0) {
        crypto_generichash(out->digest, sizeof(out->digest), bare, bare_len, NULL, 0);
        list.has_digest = 1;
        list.digest.data = out->digest;
        list.digest.len = sizeof(out->digest);
        rc = pack(&list, &out->packed, &out->len, err);
    }
    free(bare);
    free(ptrs);
    free(pb);
    return rc;
}

int srv_device_list_get(srv_storage *s, srv_device_list *out, fs_err *err)
{
    srv_device *devs = NULL;
    srv_user *users = NULL;
    size_t ndevs = 0, nusers = 0;
    memset(out, 0, sizeof(*out));
    int rc = s->ops->device_list(s, 0, &devs, &ndevs, err);
    if (rc == 0)
        rc = s->ops->user_list(s, &users, &nusers, err);
    if (rc == 0)
        rc = build(devs, ndevs, users, nusers, out, err);
    free(devs);
    free(users);
    return rc;
}

bool srv_device_list_known(const srv_device_list *l, const uint8_t *digest, size_t len)
{
    return len == sizeof(l->digest) && sodium_memcmp(l->digest, digest, len) == 0;
}

void srv_device_list_clear(srv_device_list *l)
{
    free(l->packed);
    memset(l, 0, sizeof(*l));
}
