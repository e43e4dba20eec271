/*
 * zstd.c: zstd compression of the server's answers and their capped
 * decompression by the sync client (zstd.h).
 *
 * A body whose frames declare their sizes is decoded in one pass into a
 * buffer of that size; one that does not is streamed into a buffer that grows
 * up to limit + 1 bytes, as fs_gzip_decompress does, with the window a frame
 * asks for bounded, so a hostile server cannot make a device allocate more
 * than the limit and FS_ZSTD_WINDOW_LOG_MAX for it.
 */
#include "fieldsync/zstd.h"

#include "capped.h"

#include <stdlib.h>
#include <zstd.h>

int fs_zstd_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, fs_err *err)
{
    *out = NULL;
    size_t cap = ZSTD_compressBound(len);
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    uint8_t *buf = malloc(cap);
    if (cx == NULL || buf == NULL) {
        ZSTD_freeCCtx(cx);
        free(buf);
        return fs_err_set(err, FS_ENOMEM, "zstd: out of memory for a %zu-byte body", len);
    }
    size_t n = ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, FS_ZSTD_FAST);
    if (!ZSTD_isError(n))
        n = ZSTD_CCtx_setParameter(cx, ZSTD_c_windowLog, FS_ZSTD_WINDOW_LOG);
    if (!ZSTD_isError(n))
        n = ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(n))
        n = ZSTD_compress2(cx, buf, cap, in, len);
    ZSTD_freeCCtx(cx);
    if (ZSTD_isError(n)) {
        free(buf);
        return fs_err_set(err, FS_EIO, "zstd: compression failed: %s", ZSTD_getErrorName(n));
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* Frames that declare their sizes (the server's): decoded in one pass into
 * a buffer of exactly that size, which is also the window, so the decoder
 * allocates nothing more. A frame whose content is not its declared size
 * fails in libzstd. */
static int decode_declared(ZSTD_DCtx *dx, const uint8_t *in, size_t len, size_t size, uint8_t **out,
                           size_t *n)
{
    uint8_t *buf = malloc(size > 0 ? size : 1);
    if (buf == NULL)
        return FS_ENOMEM;
    *n = ZSTD_decompressDCtx(dx, buf, size, in, len);
    if (ZSTD_isError(*n) || *n != size) {
        free(buf);
        return FS_ECORRUPT;
    }
    *out = buf;
    return 0;
}

/* Frames of unknown size: streamed into a buffer that grows up to limit + 1
 * bytes (one more than allowed proves the body too big), with the window
 * capped. */
static int decode_streamed(ZSTD_DCtx *dx, const uint8_t *in, size_t len, size_t limit,
                           uint8_t **out, size_t *n)
{
    size_t cap = fs_capped_first(len, limit);
    uint8_t *buf = malloc(cap);
    int rc = buf == NULL ? FS_ENOMEM : 0;
    if (rc == 0 &&
        ZSTD_isError(ZSTD_DCtx_setParameter(dx, ZSTD_d_windowLogMax, FS_ZSTD_WINDOW_LOG_MAX)))
        rc = FS_ENOMEM;
    ZSTD_inBuffer src = {in, len, 0};
    ZSTD_outBuffer dst = {buf, cap, 0};
    size_t left = 1; /* 0 once a frame is whole: the body may end there */
    while (rc == 0 && (src.pos < len || left != 0)) {
        if (dst.pos == dst.size) {
            if (cap > limit || (rc = fs_capped_grow(&buf, &cap, limit)) != 0)
                break;
            dst.dst = buf;
            dst.size = cap;
        }
        size_t before = src.pos + dst.pos;
        left = ZSTD_decompressStream(dx, &dst, &src);
        /* an error, or no progress with room to write: a truncated body */
        if (ZSTD_isError(left) || src.pos + dst.pos == before)
            rc = FS_ECORRUPT;
    }
    if (rc == 0 && dst.pos > limit)
        rc = FS_ETOOBIG;
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *n = dst.pos;
    return 0;
}

/* What the body's frames declare in all (skippable frames: 0);
 * ZSTD_CONTENTSIZE_UNKNOWN when one does not say, ZSTD_CONTENTSIZE_ERROR when
 * the body is no sequence of whole frames. */
static unsigned long long declared_size(const uint8_t *in, size_t len)
{
    unsigned long long total = 0;
    if (len == 0)
        return ZSTD_CONTENTSIZE_ERROR; /* a body holds one frame at least */
    while (len > 0) {
        unsigned long long n = ZSTD_getFrameContentSize(in, len);
        size_t frame = ZSTD_findFrameCompressedSize(in, len);
        if (n == ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(frame))
            return ZSTD_CONTENTSIZE_ERROR;
        if (n == ZSTD_CONTENTSIZE_UNKNOWN)
            return ZSTD_CONTENTSIZE_UNKNOWN;
        if (total + n < total)
            return ZSTD_CONTENTSIZE_ERROR;
        total += n;
        in += frame;
        len -= frame;
    }
    return total;
}

int fs_zstd_decompress(const uint8_t *in, size_t len, size_t limit, uint8_t **out, size_t *out_len,
                       fs_err *err)
{
    *out = NULL;
    unsigned long long size = declared_size(in, len);
    if (size == ZSTD_CONTENTSIZE_ERROR)
        return fs_err_set(err, FS_ECORRUPT, "zstd body is malformed or truncated");
    if (size != ZSTD_CONTENTSIZE_UNKNOWN && size > limit)
        return fs_err_set(err, FS_ETOOBIG,
                          "zstd body decompresses beyond the limit of %zu bytes (%llu)", limit,
                          size);
    ZSTD_DCtx *dx = ZSTD_createDCtx();
    if (dx == NULL)
        return fs_err_set(err, FS_ENOMEM, "zstd: out of memory");
    int rc = size != ZSTD_CONTENTSIZE_UNKNOWN
                 ? decode_declared(dx, in, len, (size_t)size, out, out_len)
                 : decode_streamed(dx, in, len, limit, out, out_len);
    ZSTD_freeDCtx(dx);
    if (rc == FS_ETOOBIG)
        return fs_err_set(err, rc, "zstd body decompresses beyond the limit of %zu bytes", limit);
    if (rc == FS_ECORRUPT)
        return fs_err_set(err, rc,
                          "zstd body is malformed, truncated or needs a window over %u MiB",
                          (1u << FS_ZSTD_WINDOW_LOG_MAX) >> 20);
    if (rc != 0)
        return fs_err_set(err, rc, "zstd: out of memory");
    return 0;
}
