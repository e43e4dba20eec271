/*
 * gzip.h: gzip bodies on the wire (common/gzip.c), shared by the server and the
 * daemon's sync client: zlib with the gzip wrapper.
 */
#ifndef FIELDSYNC_GZIP_H
#define FIELDSYNC_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"

/* zlib's levels as used here: the device compresses its pushes at the default;
 * the server, which answers every device, at the fastest (docs/server.md). */
#define FS_GZIP_DEFAULT 6
#define FS_GZIP_FAST 1

/* Compresses len bytes at in at FS_GZIP_DEFAULT; *out is malloc'd. */
int fs_gzip_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, fs_err *err);
/* The same at a zlib level (1-9). */
int fs_gzip_compress_level(const uint8_t *in, size_t len, int level, uint8_t **out, size_t *out_len,
                           fs_err *err);
/* Decompresses a whole gzip body into at most limit bytes (*out malloc'd). A body
 * that inflates beyond limit is FS_ETOOBIG after at most limit + 1 bytes of output
 * (zip bombs); malformed, truncated or trailing data is FS_ECORRUPT. */
int fs_gzip_decompress(const uint8_t *in, size_t len, size_t limit, uint8_t **out, size_t *out_len,
                       fs_err *err);

#endif
