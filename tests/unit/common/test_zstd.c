/*
 * test_zstd.c: zstd bodies (common/zstd.c). The server's frames: round trip,
 * declared size, checksum, window. Decompression, with frames that declare
 * their size and with frames that do not (streamed): the limit (zip bombs),
 * truncated, corrupt and trailing data, a lying declared size, several
 * frames, and a window over the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* ZSTD_getFrameHeader: what a frame declares (window, checksum) */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "fieldsync/zstd.h"

#define BODY (300u * 1024)

static uint8_t *text(size_t n)
{
    static const char words[] = "visit notes: agreed the next step with the buyer; ";
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(words[(i * 7 + i / 97) % (sizeof(words) - 1)]);
    return p;
}

/* A frame as other encoders may make it: without its content size (as a
 * stream is), with a window of 2^wlog. */
static uint8_t *frame_unsized(const uint8_t *in, size_t n, int wlog, size_t *zl)
{
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    assert_non_null(cx);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cx, ZSTD_c_windowLog, wlog)));
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cx, ZSTD_c_contentSizeFlag, 0)));
    size_t cap = ZSTD_compressBound(n) + 64;
    uint8_t *z = malloc(cap);
    ZSTD_outBuffer out = {z, cap, 0};
    ZSTD_inBuffer src = {in, n, 0};
    assert_int_equal(ZSTD_compressStream2(cx, &out, &src, ZSTD_e_end), 0);
    ZSTD_freeCCtx(cx);
    assert_int_equal(ZSTD_getFrameContentSize(z, out.pos), ZSTD_CONTENTSIZE_UNKNOWN);
    *zl = out.pos;
    return z;
}

static void test_server_frames_round_trip_with_size_checksum_and_small_window(void **state)
{
    (void)state;
    uint8_t *in = text(BODY), *z, *out;
    size_t zl, ol;
    assert_int_equal(fs_zstd_compress(in, BODY, &z, &zl, NULL), 0);
    assert_true(zl < BODY / 4);
    ZSTD_frameHeader fh;
    assert_int_equal(ZSTD_getFrameHeader(&fh, z, zl), 0);
    assert_int_equal(fh.frameContentSize, BODY);
    assert_true(fh.checksumFlag);
    assert_true(fh.windowSize <= (1u << FS_ZSTD_WINDOW_LOG));
    assert_int_equal(fs_zstd_decompress(z, zl, BODY, &out, &ol, NULL), 0);
    assert_int_equal(ol, BODY);
    assert_memory_equal(in, out, BODY);
    free(out);
    /* one byte less than the body is too big, found from the declared size */
    fs_err err;
    assert_int_equal(fs_zstd_decompress(z, zl, BODY - 1, &out, &ol, &err), FS_ETOOBIG);
    assert_null(out);
    assert_non_null(strstr(err.msg, "limit"));
    /* the last four bytes are the content's checksum */
    z[zl - 1] ^= 0x01;
    assert_int_equal(fs_zstd_decompress(z, zl, BODY, &out, &ol, NULL), FS_ECORRUPT);
    assert_null(out);
    free(z);
    /* an empty body is a frame too */
    assert_int_equal(fs_zstd_compress(in, 0, &z, &zl, NULL), 0);
    assert_int_equal(fs_zstd_decompress(z, zl, 10, &out, &ol, NULL), 0);
    assert_int_equal(ol, 0);
    free(out);
    free(z);
    free(in);
}

static void test_unsized_frames_stream_within_the_limit(void **state)
{
    (void)state;
    uint8_t *in = text(BODY), *out;
    size_t zl, ol;
    uint8_t *z = frame_unsized(in, BODY, 17, &zl);
    assert_int_equal(fs_zstd_decompress(z, zl, BODY, &out, &ol, NULL), 0);
    assert_int_equal(ol, BODY);
    assert_memory_equal(in, out, BODY);
    free(out);
    assert_int_equal(fs_zstd_decompress(z, zl, BODY - 1, &out, &ol, NULL), FS_ETOOBIG);
    assert_null(out);
    free(z);
    free(in);
}

/* 64 MiB of zeros is a few kB either way; the declared size stops it before
 * any output, the stream at limit + 1 bytes. */
static void test_bombs_stop_at_the_limit(void **state)
{
    (void)state;
    size_t big = 64u << 20, zl, ol;
    uint8_t *zeros = calloc(1, big), *z, *out = NULL;
    assert_int_equal(fs_zstd_compress(zeros, big, &z, &zl, NULL), 0);
    assert_true(zl < 100000);
    assert_int_equal(fs_zstd_decompress(z, zl, 1u << 20, &out, &ol, NULL), FS_ETOOBIG);
    assert_null(out);
    free(z);
    z = frame_unsized(zeros, big, 17, &zl);
    free(zeros);
    assert_true(zl < 100000);
    assert_int_equal(fs_zstd_decompress(z, zl, 1u << 20, &out, &ol, NULL), FS_ETOOBIG);
    assert_null(out);
    free(z);
}

static void test_malformed_bodies_are_refused(void **state)
{
    (void)state;
    uint8_t *in = text(BODY), *out = NULL;
    size_t zl, ul, ol;
    uint8_t *z, *u = frame_unsized(in, BODY, 17, &ul);
    assert_int_equal(fs_zstd_compress(in, BODY, &z, &zl, NULL), 0);
    /* truncated, in either form */
    assert_int_equal(fs_zstd_decompress(z, zl - 5, BODY, &out, &ol, NULL), FS_ECORRUPT);
    assert_int_equal(fs_zstd_decompress(u, ul / 2, BODY, &out, &ol, NULL), FS_ECORRUPT);
    assert_int_equal(fs_zstd_decompress(u, 3, BODY, &out, &ol, NULL), FS_ECORRUPT);
    /* trailing garbage after a whole frame */
    uint8_t *trail = malloc(ul + 4);
    memcpy(trail, u, ul);
    memcpy(trail + ul, "junk", 4);
    assert_int_equal(fs_zstd_decompress(trail, ul + 4, BODY, &out, &ol, NULL), FS_ECORRUPT);
    free(trail);
    /* a flipped byte in the middle of a frame with its checksum */
    z[zl / 2] ^= 0xff;
    assert_int_equal(fs_zstd_decompress(z, zl, BODY, &out, &ol, NULL), FS_ECORRUPT);
    /* not zstd at all, and nothing */
    assert_int_equal(fs_zstd_decompress((const uint8_t *)"plain text", 10, BODY, &out, &ol, NULL),
                     FS_ECORRUPT);
    assert_int_equal(fs_zstd_decompress((const uint8_t *)"", 0, BODY, &out, &ol, NULL),
                     FS_ECORRUPT);
    assert_null(out);
    free(u);
    free(z);
    free(in);
}

/* A frame that declares more than it holds, or less, is refused. */
static void test_lying_declared_size_is_refused(void **state)
{
    (void)state;
    uint8_t *in = text(4096), *z, *out = NULL;
    size_t zl, ol;
    assert_int_equal(fs_zstd_compress(in, 4096, &z, &zl, NULL), 0);
    ZSTD_frameHeader fh;
    assert_int_equal(ZSTD_getFrameHeader(&fh, z, zl), 0);
    assert_int_equal(fh.frameContentSize, 4096);
    /* the size is the header's last two bytes (its descriptor says so), less
     * 256; flipping its low bit declares 4095 or 4097 */
    assert_int_equal(z[4] >> 6, 1);
    z[fh.headerSize - 2] ^= 0x01;
    assert_int_equal(ZSTD_getFrameHeader(&fh, z, zl), 0);
    assert_int_not_equal(fh.frameContentSize, 4096);
    assert_int_equal(fs_zstd_decompress(z, zl, 8192, &out, &ol, NULL), FS_ECORRUPT);
    assert_null(out);
    free(z);
    free(in);
}

/* Bodies may hold several frames: they decode one after the other. */
static void test_several_frames_decode_in_order(void **state)
{
    (void)state;
    uint8_t *a = text(5000), *b = text(7000), *za, *zb, *out;
    size_t al, bl, ol;
    assert_int_equal(fs_zstd_compress(a, 5000, &za, &al, NULL), 0);
    zb = frame_unsized(b, 7000, 17, &bl);
    uint8_t *both = malloc(al + bl);
    memcpy(both, za, al);
    memcpy(both + al, zb, bl);
    assert_int_equal(fs_zstd_decompress(both, al + bl, 12000, &out, &ol, NULL), 0);
    assert_int_equal(ol, 12000);
    assert_memory_equal(out, a, 5000);
    assert_memory_equal(out + 5000, b, 7000);
    free(out);
    assert_int_equal(fs_zstd_decompress(both, al + bl, 11999, &out, &ol, NULL), FS_ETOOBIG);
    free(both);
    free(za);
    free(zb);
    free(a);
    free(b);
}

/* A streamed frame whose window is over the cap is refused, not given the
 * memory; at the cap it decodes. (The encoder fits the window to the input:
 * the body is a little over the cap.) */
static void test_window_over_the_cap_is_refused(void **state)
{
    (void)state;
    size_t n = (1u << FS_ZSTD_WINDOW_LOG_MAX) + 4096, zl, ol;
    uint8_t *in = text(n), *out = NULL;
    uint8_t *z = frame_unsized(in, n, FS_ZSTD_WINDOW_LOG_MAX + 1, &zl);
    ZSTD_frameHeader fh;
    assert_int_equal(ZSTD_getFrameHeader(&fh, z, zl), 0);
    assert_true(fh.windowSize > (1u << FS_ZSTD_WINDOW_LOG_MAX));
    fs_err err;
    assert_int_equal(fs_zstd_decompress(z, zl, n, &out, &ol, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "window"));
    assert_null(out);
    free(z);
    z = frame_unsized(in, n, FS_ZSTD_WINDOW_LOG_MAX, &zl);
    assert_int_equal(fs_zstd_decompress(z, zl, n, &out, &ol, NULL), 0);
    assert_int_equal(ol, n);
    free(out);
    free(z);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_frames_round_trip_with_size_checksum_and_small_window),
        cmocka_unit_test(test_unsized_frames_stream_within_the_limit),
        cmocka_unit_test(test_bombs_stop_at_the_limit),
        cmocka_unit_test(test_malformed_bodies_are_refused),
        cmocka_unit_test(test_lying_declared_size_is_refused),
        cmocka_unit_test(test_several_frames_decode_in_order),
        cmocka_unit_test(test_window_over_the_cap_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
