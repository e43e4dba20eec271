/*
 * test_server_encoding.c: gzip bodies: round trip, the decompressed-size
 * limit (zip bombs), truncated, corrupt and trailing-garbage streams; which
 * encoding an Accept-Encoding value gets, and that each decodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encoding.h"

static void test_gzip_round_trip(void **state)
{
    (void)state;
    uint8_t in[5000];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i % 13);
    uint8_t *z, *out;
    size_t zl, ol;
    assert_int_equal(fs_gzip_compress(in, sizeof(in), &z, &zl, NULL), 0);
    assert_true(zl < sizeof(in));
    assert_int_equal(fs_gzip_decompress(z, zl, sizeof(in), &out, &ol, NULL), 0);
    assert_int_equal(ol, sizeof(in));
    assert_memory_equal(in, out, ol);
    free(out);
    /* one byte less than needed is too big */
    assert_int_equal(fs_gzip_decompress(z, zl, sizeof(in) - 1, &out, &ol, NULL), FS_ETOOBIG);
    free(z);
}

/* The server's level trades bytes for CPU: both levels round trip, and the fast
 * one is not the default in disguise. */
static void test_gzip_levels_round_trip(void **state)
{
    (void)state;
    static const char words[] = "visit notes: agreed the next step with the buyer; ";
    size_t n = 64 * 1024;
    uint8_t *in = malloc(n), *fast, *def, *out;
    size_t fl, dl, ol;
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)(words[(i * 7 + i / 97) % (sizeof(words) - 1)]);
    assert_int_equal(fs_gzip_compress_level(in, n, FS_GZIP_FAST, &fast, &fl, NULL), 0);
    assert_int_equal(fs_gzip_compress(in, n, &def, &dl, NULL), 0);
    assert_true(fl != dl || memcmp(fast, def, fl) != 0);
    assert_int_equal(fs_gzip_decompress(fast, fl, n, &out, &ol, NULL), 0);
    assert_int_equal(ol, n);
    assert_memory_equal(in, out, n);
    free(out);
    assert_int_equal(fs_gzip_compress_level(in, n, 10, &out, &ol, NULL), FS_EINVAL);
    free(fast);
    free(def);
    free(in);
}

static void test_gzip_bomb_stops_at_the_limit(void **state)
{
    (void)state;
    size_t big = 64u << 20;
    uint8_t *zeros = calloc(1, big), *z, *out = NULL;
    size_t zl, ol;
    assert_int_equal(fs_gzip_compress(zeros, big, &z, &zl, NULL), 0);
    free(zeros);
    assert_true(zl < 100000); /* 64 MiB of zeros in under 100 kB */
    assert_int_equal(fs_gzip_decompress(z, zl, 1u << 20, &out, &ol, NULL), FS_ETOOBIG);
    assert_null(out);
    free(z);
}

static void test_gzip_malformed_streams_are_refused(void **state)
{
    (void)state;
    uint8_t in[300] = {1, 2, 3}, *z, *out = NULL;
    size_t zl, ol;
    assert_int_equal(fs_gzip_compress(in, sizeof(in), &z, &zl, NULL), 0);
    assert_int_equal(fs_gzip_decompress(z, zl - 5, 1000, &out, &ol, NULL), FS_ECORRUPT);
    assert_int_equal(fs_gzip_decompress(z, 0, 1000, &out, &ol, NULL), FS_ECORRUPT);
    uint8_t *trail = malloc(zl + 4);
    memcpy(trail, z, zl);
    memcpy(trail + zl, "junk", 4);
    assert_int_equal(fs_gzip_decompress(trail, zl + 4, 1000, &out, &ol, NULL), FS_ECORRUPT);
    z[zl / 2] ^= 0xff;
    assert_int_not_equal(fs_gzip_decompress(z, zl, 1000, &out, &ol, NULL), 0);
    assert_int_equal(fs_gzip_decompress((const uint8_t *)"plain text", 10, 1000, &out, &ol, NULL),
                     FS_ECORRUPT);
    assert_null(out);
    free(trail);
    free(z);
}

static void test_accept_encoding_chooses_zstd_gzip_or_nothing(void **state)
{
    (void)state;
    assert_int_equal(srv_encoding_for("gzip"), SRV_ENCODING_GZIP);
    assert_int_equal(srv_encoding_for("deflate, gzip"), SRV_ENCODING_GZIP);
    assert_int_equal(srv_encoding_for("br;q=1.0, GZIP;q=0.5"), SRV_ENCODING_GZIP);
    assert_int_equal(srv_encoding_for("zstd, gzip"), SRV_ENCODING_ZSTD);
    assert_int_equal(srv_encoding_for("gzip, ZSTD"), SRV_ENCODING_ZSTD);
    assert_int_equal(srv_encoding_for("deflate, gzip, br, zstd"), SRV_ENCODING_ZSTD);
    assert_int_equal(srv_encoding_for("zstd;q=0.5, gzip"), SRV_ENCODING_GZIP);
    assert_int_equal(srv_encoding_for("zstd;q=0, gzip;q=0.1"), SRV_ENCODING_GZIP);
    assert_int_equal(srv_encoding_for("zstd ; q=0.9 , gzip;q=0.8"), SRV_ENCODING_ZSTD);
    assert_int_equal(srv_encoding_for("gzip;q=0"), SRV_ENCODING_IDENTITY);
    assert_int_equal(srv_encoding_for("zstd;q=0"), SRV_ENCODING_IDENTITY);
    assert_int_equal(srv_encoding_for("deflate, br"), SRV_ENCODING_IDENTITY);
    assert_int_equal(srv_encoding_for("x-gzip2, zstdx"), SRV_ENCODING_IDENTITY);
    assert_int_equal(srv_encoding_for(""), SRV_ENCODING_IDENTITY);
    assert_int_equal(srv_encoding_for(NULL), SRV_ENCODING_IDENTITY);
    assert_string_equal(srv_encoding_name(SRV_ENCODING_ZSTD), "zstd");
    assert_string_equal(srv_encoding_name(SRV_ENCODING_GZIP), "gzip");
    assert_null(srv_encoding_name(SRV_ENCODING_IDENTITY));
}

/* srv_encode gives what the named decoder takes back; identity is not an
 * encoding to apply. (common/zstd.c's frames: tests/unit/common/test_zstd.c.) */
static void test_answers_encode_as_named(void **state)
{
    (void)state;
    static const char words[] = "visit notes: agreed the next step with the buyer; ";
    size_t n = 300 * 1024;
    uint8_t *in = malloc(n), *z, *out;
    size_t zl, ol;
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)(words[(i * 7 + i / 97) % (sizeof(words) - 1)]);
    assert_int_equal(srv_encode(SRV_ENCODING_ZSTD, in, n, &z, &zl), 0);
    assert_true(zl < n / 4);
    assert_int_equal(fs_zstd_decompress(z, zl, n, &out, &ol, NULL), 0);
    assert_int_equal(ol, n);
    assert_memory_equal(in, out, n);
    free(out);
    assert_int_equal(fs_gzip_decompress(z, zl, n, &out, &ol, NULL), FS_ECORRUPT);
    free(z);
    assert_int_equal(srv_encode(SRV_ENCODING_GZIP, in, n, &z, &zl), 0);
    assert_int_equal(fs_gzip_decompress(z, zl, n, &out, &ol, NULL), 0);
    assert_int_equal(ol, n);
    assert_memory_equal(in, out, n);
    free(out);
    free(z);
    assert_int_equal(srv_encode(SRV_ENCODING_IDENTITY, in, n, &z, &zl), FS_EINVAL);
    assert_null(z);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_round_trip),
        cmocka_unit_test(test_gzip_levels_round_trip),
        cmocka_unit_test(test_gzip_bomb_stops_at_the_limit),
        cmocka_unit_test(test_gzip_malformed_streams_are_refused),
        cmocka_unit_test(test_accept_encoding_chooses_zstd_gzip_or_nothing),
        cmocka_unit_test(test_answers_encode_as_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
