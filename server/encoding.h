/*
 * encoding.h: how bodies travel compressed. An answer is compressed with
 * zstd or gzip, whichever the device's Accept-Encoding prefers (zstd on a
 * tie: a third of gzip's CPU on both sides, and fewer bytes); request bodies
 * may arrive gzip'd and are inflated with a cap on the decompressed size
 * (fs_gzip_decompress), so a small zip bomb cannot make the server allocate
 * more than the body limit.
 */
#ifndef SRV_ENCODING_H
#define SRV_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/gzip.h"
#include "fieldsync/zstd.h"

typedef enum srv_encoding {
    SRV_ENCODING_IDENTITY = 0,
    SRV_ENCODING_GZIP,
    SRV_ENCODING_ZSTD,
} srv_encoding;

/* The encoding of an answer to a request with this Accept-Encoding value
 * (NULL: none): of zstd and gzip, the one listed with the higher q (zstd on
 * a tie); identity when neither is listed with a q above 0. */
srv_encoding srv_encoding_for(const char *accept_encoding);

/* The Content-Encoding token ("zstd", "gzip"); NULL for identity. */
const char *srv_encoding_name(srv_encoding enc);

/* Compresses len bytes at in with enc (not identity) into *out (malloc'd);
 * 0, or FS_EINVAL / FS_ENOMEM / FS_EIO with *out NULL. */
int srv_encode(srv_encoding enc, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

#endif
