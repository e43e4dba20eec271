/*
 * inflight.c: the body budget and the one-request-per-device rule (see
 * inflight.h), under one mutex: both are checked and taken together, once per
 * request, so contention is no concern. The devices with a request in
 * progress are a plain array, no longer than the connections allowed.
 */
#include "inflight.h"

#include <pthread.h>
#include <stdlib.h>

struct srv_inflight {
    pthread_mutex_t lock;
    size_t budget, held;
    int64_t *devices; /* devices[0..n) have a request in progress */
    size_t n, cap;
};

int srv_inflight_new(srv_inflight **out, size_t budget, size_t max_requests, fs_err *err)
{
    srv_inflight *f = calloc(1, sizeof(*f));
    if (f == NULL ||
        (f->devices = calloc(max_requests ? max_requests : 1, sizeof(int64_t))) == NULL) {
        free(f);
        return fs_err_set(err, FS_ENOMEM, "out of memory for %zu requests", max_requests);
    }
    pthread_mutex_init(&f->lock, NULL);
    f->budget = budget;
    f->cap = max_requests;
    *out = f;
    return 0;
}

void srv_inflight_free(srv_inflight *f)
{
    if (f == NULL)
        return;
    pthread_mutex_destroy(&f->lock);
    free(f->devices);
    free(f);
}

static size_t find(const srv_inflight *f, int64_t device)
{
    size_t i = 0;
    while (i < f->n && f->devices[i] != device)
        i++;
    return i;
}

srv_inflight_result srv_inflight_take(srv_inflight *f, int64_t device, size_t bytes)
{
    srv_inflight_result r = SRV_INFLIGHT_OK;
    pthread_mutex_lock(&f->lock);
    if (device != 0 && find(f, device) < f->n)
        r = SRV_INFLIGHT_DEVICE_BUSY;
    else if (bytes > f->budget - f->held || (device != 0 && f->n == f->cap))
        r = SRV_INFLIGHT_FULL;
    if (r == SRV_INFLIGHT_OK) {
        f->held += bytes;
        if (device != 0)
            f->devices[f->n++] = device;
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

void srv_inflight_give(srv_inflight *f, int64_t device, size_t bytes)
{
    pthread_mutex_lock(&f->lock);
    f->held -= bytes;
    size_t i = device != 0 ? find(f, device) : f->n;
    if (i < f->n)
        f->devices[i] = f->devices[--f->n];
    pthread_mutex_unlock(&f->lock);
}
