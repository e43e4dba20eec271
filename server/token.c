/*
 * token.c: minting and hashing device tokens, enrollment codes and replica ids
 * (see token.h). Hashes are keyed by a fixed domain key per kind of secret so a
 * token hash can never be confused with a code hash.
 */
#include "token.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

static const uint8_t token_domain[crypto_generichash_KEYBYTES] = "fieldsync-server device token 1";
static const uint8_t code_domain[crypto_generichash_KEYBYTES] = "fieldsync-server enroll code v1";

/* Crockford base32: no I, L, O, U, so a code read aloud is unambiguous. */
static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int srv_crypto_init(fs_err *err)
{
    if (sodium_init() < 0)
        return fs_err_set(err, FS_EIO,
                          "libsodium failed to initialise: check the system's "
                          "random number source");
    return 0;
}

void srv_token_mint(uint8_t token[SRV_TOKEN_BYTES])
{
    randombytes_buf(token, SRV_TOKEN_BYTES);
}

void srv_token_hash(const uint8_t token[SRV_TOKEN_BYTES], uint8_t hash[SRV_HASH_BYTES])
{
    crypto_generichash(hash, SRV_HASH_BYTES, token, SRV_TOKEN_BYTES, token_domain,
                       sizeof(token_domain));
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int srv_token_parse_bearer(const char *header, uint8_t token[SRV_TOKEN_BYTES])
{
    static const char prefix[] = "Bearer ";
    if (header == NULL || strncmp(header, prefix, sizeof(prefix) - 1) != 0)
        return FS_EINVAL;
    const char *hex = header + sizeof(prefix) - 1;
    if (strlen(hex) != SRV_TOKEN_HEX_LEN)
        return FS_EINVAL;
    for (size_t i = 0; i < SRV_TOKEN_BYTES; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            sodium_memzero(token, SRV_TOKEN_BYTES);
            return FS_EINVAL;
        }
        token[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void srv_code_mint(char code[SRV_CODE_LEN + 1])
{
    size_t o = 0;
    for (int i = 0; i < SRV_CODE_CHARS; i++) {
        if (i > 0 && i % 4 == 0)
            code[o++] = '-';
        code[o++] = code_alphabet[randombytes_uniform(32)];
    }
    code[o] = '\0';
}

/* Maps a typed character to the alphabet (Crockford's aliases included); -1 if
 * it is not a code character, 0 for a separator to skip. */
static int code_char(char c, char *out)
{
    if (c == '-' || c == ' ')
        return 0;
    c = (char)toupper((unsigned char)c);
    if (c == 'O')
        c = '0';
    else if (c == 'I' || c == 'L')
        c = '1';
    if (c == '\0' || strchr(code_alphabet, c) == NULL)
        return -1;
    *out = c;
    return 1;
}

int srv_code_hash(const char *code, uint8_t hash[SRV_HASH_BYTES])
{
    char norm[SRV_CODE_CHARS];
    size_t n = 0;
    if (code == NULL)
        return FS_EINVAL;
    for (const char *p = code; *p != '\0'; p++) {
        char c;
        int r = code_char(*p, &c);
        if (r < 0 || (r > 0 && n == SRV_CODE_CHARS))
            return FS_EINVAL;
        if (r > 0)
            norm[n++] = c;
    }
    if (n != SRV_CODE_CHARS)
        return FS_EINVAL;
    crypto_generichash(hash, SRV_HASH_BYTES, (const uint8_t *)norm, n, code_domain,
                       sizeof(code_domain));
    sodium_memzero(norm, sizeof(norm));
    return 0;
}

uint64_t srv_replica_mint(void)
{
    uint64_t r;
    do
        randombytes_buf(&r, sizeof(r));
    while (r == 0);
    return r;
}
