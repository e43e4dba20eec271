/*
 * gzip.c: gzip request bodies (a large push compresses 3-6x) and, for tests,
 * the inverse. Responses are decompressed by libcurl (CURLOPT_ACCEPT_ENCODING),
 * with the size cap applied to what it hands over, so a compressed bomb stops
 * at the cap.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <zlib.h>

/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
#define GZIP_WINDOW (15 + 16)

int fs_sync_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, fs_err *err)
{
    z_stream z = {0};
    *out = NULL;
    if (deflateInit2(&z, 6, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return fs_err_set(err, FS_ENOMEM, "compressing a request: zlib init failed");
    uLong cap = deflateBound(&z, (uLong)len);
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        deflateEnd(&z);
        return fs_err_set(err, FS_ENOMEM, "compressing a request: out of memory");
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zrc = deflate(&z, Z_FINISH);
    size_t produced = z.total_out;
    deflateEnd(&z);
    if (zrc != Z_STREAM_END) {
        free(buf);
        return fs_err_set(err, FS_EIO, "compressing a request: zlib error %d", zrc);
    }
    *out = buf;
    *out_len = produced;
    return 0;
}

int fs_sync_gunzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len,
                   fs_err *err)
{
    z_stream z = {0};
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    int zrc = Z_OK;
    *out = NULL;
    if (inflateInit2(&z, GZIP_WINDOW) != Z_OK)
        return fs_err_set(err, FS_ENOMEM, "decompressing: zlib init failed");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    for (;;) {
        if (n == cap) {
            if (cap > max) /* max + 1 bytes came out: over the limit */
                break;
            size_t next = cap == 0 ? len * 4 + 64 : cap * 2;
            next = next > max + 1 ? max + 1 : next;
            uint8_t *grown = realloc(buf, next);
            if (grown == NULL) {
                zrc = Z_MEM_ERROR;
                break;
            }
            buf = grown;
            cap = next;
        }
        z.next_out = buf + n;
        z.avail_out = (uInt)(cap - n);
        zrc = inflate(&z, Z_NO_FLUSH);
        n = z.total_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc != Z_OK && !(zrc == Z_BUF_ERROR && n == cap))
            break;
    }
    inflateEnd(&z);
    if (zrc == Z_STREAM_END && n <= max) {
        *out = buf;
        *out_len = n;
        return 0;
    }
    free(buf);
    if (n > max)
        return fs_err_set(err, FS_ETOOBIG, "decompressed body is over %zu bytes", max);
    return fs_err_set(err, FS_ECORRUPT, "body is not valid gzip (zlib %d)", zrc);
}
