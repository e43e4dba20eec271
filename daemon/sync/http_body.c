/*
 * http_body.c: a request body's gzip (sync_http.h), apart from http.c so that
 * its callers and tests need neither libcurl's handle nor the loop.
 */
#include "sync_http.h"

#include <stdlib.h>

#include "fieldsync/gzip.h"

int fs_http_body_gzip(fs_http_body *body, size_t gzip_min, fs_err *err)
{
    if (body->gzipped || body->len == 0 || body->len < gzip_min)
        return 0;
    uint8_t *z = NULL;
    size_t zlen = 0;
    int rc = fs_gzip_compress(body->bytes, body->len, &z, &zlen, err);
    if (rc != 0)
        return rc;
    free(body->bytes);
    *body = (fs_http_body){.bytes = z, .len = zlen, .gzipped = true};
    return 0;
}
