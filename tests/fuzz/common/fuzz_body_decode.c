/*
 * fuzz_body_decode.c: bytes -> the body decoders (common/gzip.c,
 * common/zstd.c). The first byte picks the decoder (its high bit: zstd) and
 * the limit (1 MiB with bit 4, else 2^(low four bits) bytes), the rest is the
 * body. Any input must give the
 * decoded bytes within the limit, FS_ETOOBIG, FS_ECORRUPT or FS_ENOMEM with a
 * message, never a crash or a read past the input (it is copied into a buffer
 * of its exact size).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/gzip.h"
#include "fieldsync/zstd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool zstd = (data[0] & 0x80) != 0;
    size_t limit = (size_t)1 << (data[0] & 0x0f);
    if (data[0] & 0x10)
        limit = (size_t)1 << 20; /* room for what a small body can decode to */
    uint8_t *in = malloc(size - 1 > 0 ? size - 1 : 1);
    memcpy(in, data + 1, size - 1);
    uint8_t *out = NULL;
    size_t n = 0;
    fs_err err = {0};
    int rc = zstd ? fs_zstd_decompress(in, size - 1, limit, &out, &n, &err)
                  : fs_gzip_decompress(in, size - 1, limit, &out, &n, &err);
    if (rc == 0 && (n > limit || (out == NULL && n > 0)))
        abort();
    if (rc != 0 && (out != NULL || err.msg[0] == '\0' ||
                    (rc != FS_ETOOBIG && rc != FS_ECORRUPT && rc != FS_ENOMEM)))
        abort();
    free(out);
    free(in);
    return 0;
}
