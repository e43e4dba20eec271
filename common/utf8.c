/*
 * utf8.c: UTF-8 validation and repair (see utf8.h). One decoder of a sequence's
 * length serves both: the repair copies what it accepts and writes U+FFFD for
 * each byte it does not.
 */
#include "fieldsync/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid sequence starting at p (n bytes left), or 0. */
static size_t sequence(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0; /* a continuation byte, an overlong lead (c0, c1) or beyond U+10FFFF */
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* beyond U+10FFFF */
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

static bool ascii8(const unsigned char *p)
{
    uint64_t word;
    memcpy(&word, p, sizeof(word));
    return (word & 0x8080808080808080ull) == 0;
}

bool fs_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        /* ASCII eight bytes at a time: pulled pages check every note they carry */
        if (i + 8 <= n && ascii8(p + i)) {
            i += 8;
            continue;
        }
        size_t len = sequence(p + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

char *fs_utf8_repair(const char *s, size_t n, size_t *out_len)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    const unsigned char *p = (const unsigned char *)s;
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(3 * n + 1); /* each byte at most becomes U+FFFD */
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = sequence(p + i, n - i);
        if (len == 0) {
            memcpy(out + o, replacement, 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}
