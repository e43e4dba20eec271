/*
 * zstd.h: zstd bodies on the wire (common/zstd.c). The server compresses its
 * answers with it when the device accepts it (server/encoding.c); the sync
 * client decodes them (daemon/sync/http.c) with the same caps as gzip bodies.
 */
#ifndef FIELDSYNC_ZSTD_H
#define FIELDSYNC_ZSTD_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"

/* The server's level (zstd's fastest regular one) and window (128 KiB): a
 * decoder holds a window and two blocks while it streams, and level 1's own
 * window (512 KiB for a page of 1,000 records) would take 10% off the bytes
 * on the wire for more memory on every device (docs/server.md). */
#define FS_ZSTD_FAST 1
#define FS_ZSTD_WINDOW_LOG 17
/* The largest window a body may need (RFC 9659: 8 MiB for HTTP): a frame
 * asking for more is refused rather than given the memory. */
#define FS_ZSTD_WINDOW_LOG_MAX 23

/* Compresses len bytes at in at FS_ZSTD_FAST into one frame with its content
 * size and checksum, window 2^FS_ZSTD_WINDOW_LOG; *out is malloc'd. */
int fs_zstd_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, fs_err *err);
/* Decompresses a whole body of one or more frames into at most limit bytes
 * (*out malloc'd). A body that decompresses beyond limit is FS_ETOOBIG after
 * at most limit + 1 bytes of output (zip bombs); malformed, truncated or
 * trailing data, a failed checksum or a window over FS_ZSTD_WINDOW_LOG_MAX is
 * FS_ECORRUPT. */
int fs_zstd_decompress(const uint8_t *in, size_t len, size_t limit, uint8_t **out, size_t *out_len,
                       fs_err *err);

#endif
