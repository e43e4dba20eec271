/*
 * handler_int.h: what the endpoint files share (handler.c, handler_sync.c).
 */
#ifndef SRV_HANDLER_INT_H
#define SRV_HANDLER_INT_H

#include <stdbool.h>

#include "handler.h"

/* 400 unless the request names our protocol version; true when it may go on. */
bool srv_check_protocol(const srv_request *rq, srv_response *rs);

/* Authenticates the bearer token: fills dev and user, or an error response
 * (401 unauthenticated / device_revoked, 503 on storage failure). */
bool srv_authenticate(srv_storage *s, const srv_request *rq, srv_device *dev, srv_user *user,
                      srv_response *rs);

/* The response for a storage failure: 503 busy (retry: FS_EBUSY,
 * FS_ECONFLICT) or 500 internal. */
int srv_storage_failure(srv_response *rs, const fs_err *err);

#endif
