/*
 * devices.h: the device names a pull answer carries (devices.c).
 */
#ifndef SRV_DEVICES_H
#define SRV_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

#define SRV_DEVICES_DIGEST_LEN 16

typedef struct srv_device_list {
    uint8_t *packed; /* an encoded DeviceList, digest included */
    size_t len;
    uint8_t digest[SRV_DEVICES_DIGEST_LEN];
} srv_device_list;

/* Every device with its name and user's name, ascending by replica id. */
int srv_device_list_get(srv_storage *s, srv_device_list *out, fs_err *err);
/* Whether a device that sent digest already holds this list. */
bool srv_device_list_known(const srv_device_list *l, const uint8_t *digest, size_t len);
void srv_device_list_clear(srv_device_list *l);

#endif
