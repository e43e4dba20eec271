/*
 * gzip.c: zlib deflate/inflate with the gzip wrapper (windowBits 15 + 16), for
 * the server's and the sync client's bodies (gzip.h).
 */
#include "fieldsync/gzip.h"

#include "capped.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int fs_gzip_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, fs_err *err)
{
    return fs_gzip_compress_level(in, len, FS_GZIP_DEFAULT, out, out_len, err);
}

int fs_gzip_compress_level(const uint8_t *in, size_t len, int level, uint8_t **out, size_t *out_len,
                           fs_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    *out = NULL;
    if (level < 1 || level > 9)
        return fs_err_set(err, FS_EINVAL, "gzip: no compression level %d (1-9)", level);
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return fs_err_set(err, FS_ENOMEM, "gzip: cannot start the compressor");
    size_t cap = deflateBound(&zs, (uLong)len);
    uint8_t *buf = malloc(cap > 0 ? cap : 1);
    if (buf == NULL) {
        deflateEnd(&zs);
        return fs_err_set(err, FS_ENOMEM, "gzip: out of memory for a %zu-byte body", len);
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(buf);
        return fs_err_set(err, FS_EIO, "gzip: compression failed");
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int fs_gzip_decompress(const uint8_t *in, size_t len, size_t limit, uint8_t **out, size_t *out_len,
                       fs_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    *out = NULL;
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return fs_err_set(err, FS_ENOMEM, "gzip: cannot start the decompressor");
    /* output capped at limit + 1 bytes (capped.h) */
    size_t cap = fs_capped_first(len, limit);
    uint8_t *buf = malloc(cap);
    int rc = buf == NULL ? FS_ENOMEM : 0;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    while (rc == 0) {
        if (zs.total_out == cap && (cap > limit || (rc = fs_capped_grow(&buf, &cap, limit)) != 0))
            break;
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        int zr = inflate(&zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && zs.avail_out == 0))
            rc = FS_ECORRUPT;
    }
    size_t n = zs.total_out;
    int trailing = zs.avail_in != 0;
    inflateEnd(&zs);
    if (rc == 0 && n > limit)
        rc = FS_ETOOBIG;
    else if (rc == 0 && trailing)
        rc = FS_ECORRUPT;
    if (rc != 0) {
        free(buf);
        if (rc == FS_ETOOBIG)
            return fs_err_set(err, rc, "gzip body inflates beyond the limit of %zu bytes", limit);
        if (rc == FS_ECORRUPT)
            return fs_err_set(err, rc, "gzip body is malformed or truncated");
        return fs_err_set(err, rc, "gzip: out of memory");
    }
    *out = buf;
    *out_len = n;
    return 0;
}
