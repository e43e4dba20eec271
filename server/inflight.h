/*
 * inflight.h: what the requests in progress hold, and the limits on it: a
 * server-wide budget of request body memory, and one request at a time per
 * device. fieldsyncd sends one request at a time, so a device holding a
 * second one is a stuck retry or a stolen token; without the limit one device
 * could take the whole budget and keep every other device at 503.
 */
#ifndef SRV_INFLIGHT_H
#define SRV_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"

typedef struct srv_inflight srv_inflight;

typedef enum srv_inflight_result {
    SRV_INFLIGHT_OK,
    SRV_INFLIGHT_FULL,        /* the bytes do not fit the budget */
    SRV_INFLIGHT_DEVICE_BUSY, /* the device has a request in progress */
} srv_inflight_result;

/* budget: bytes of bodies at once; max_requests: requests at once (the
 * connection limit). */
int srv_inflight_new(srv_inflight **out, size_t budget, size_t max_requests, fs_err *err);
void srv_inflight_free(srv_inflight *f);

/* Reserves bytes for a request of device (0: none, as for enrollment). */
srv_inflight_result srv_inflight_take(srv_inflight *f, int64_t device, size_t bytes);
/* Hands back what srv_inflight_take reserved. */
void srv_inflight_give(srv_inflight *f, int64_t device, size_t bytes);

#endif
