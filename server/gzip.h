/*
 * gzip.h: gzip bodies on the wire (zlib). Responses are compressed when the
 * device accepts gzip; request bodies may arrive compressed and are inflated
 * with a cap on the decompressed size, so a small zip bomb cannot make the
 * server allocate more than the body limit.
 */
#ifndef SRV_GZIP_H
#define SRV_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"

/* Compresses len bytes at in into a malloc'd gzip stream *out. */
int srv_gzip_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, fs_err *err);

/* Inflates one gzip stream. FS_ETOOBIG as soon as the output would exceed
 * limit bytes; FS_ECORRUPT for a malformed, truncated or trailing-garbage
 * stream. *out is malloc'd (NULL for empty output is never returned). */
int srv_gzip_decompress(const uint8_t *in, size_t len, size_t limit, uint8_t **out, size_t *out_len,
                        fs_err *err);

/* True when an Accept-Encoding header value lists gzip with a non-zero q. */
int srv_gzip_accepted(const char *accept_encoding);

#endif
