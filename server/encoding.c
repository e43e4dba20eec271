/*
 * encoding.c: which compression an answer gets (from Accept-Encoding); the
 * compressors are common/gzip.c and common/zstd.c.
 */
#include "encoding.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool token_is(const char *p, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

srv_encoding srv_encoding_for(const char *accept_encoding)
{
    double q_gzip = 0.0, q_zstd = 0.0;
    const char *p = accept_encoding != NULL ? accept_encoding : "";
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *tok = p;
        size_t n = strcspn(p, ",; ");
        p += n;
        double q = 1.0;
        size_t item = strcspn(p, ",");
        const char *qs = strstr(p, "q=");
        if (qs != NULL && qs < p + item)
            q = strtod(qs + 2, NULL);
        p += item;
        if (token_is(tok, n, "gzip"))
            q_gzip = q;
        else if (token_is(tok, n, "zstd"))
            q_zstd = q;
    }
    if (q_zstd > 0.0 && q_zstd >= q_gzip)
        return SRV_ENCODING_ZSTD;
    return q_gzip > 0.0 ? SRV_ENCODING_GZIP : SRV_ENCODING_IDENTITY;
}

const char *srv_encoding_name(srv_encoding enc)
{
    switch (enc) {
    case SRV_ENCODING_GZIP:
        return "gzip";
    case SRV_ENCODING_ZSTD:
        return "zstd";
    default:
        return NULL;
    }
}

int srv_encode(srv_encoding enc, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    switch (enc) {
    case SRV_ENCODING_GZIP:
        /* level 1: a fifth more bytes than the default for little more than
         * half its CPU (docs/server.md, "Compression") */
        return fs_gzip_compress_level(in, len, FS_GZIP_FAST, out, out_len, NULL);
    case SRV_ENCODING_ZSTD:
        return fs_zstd_compress(in, len, out, out_len, NULL);
    default:
        return FS_EINVAL;
    }
}
