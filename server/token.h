/*
 * token.h: the secrets a device and the server share, and how the server keeps
 * only their hashes.
 *
 * A device token is 256 random bits; the device sends it as
 * "Authorization: Bearer <64 lowercase hex digits>". An enrollment code is 80
 * random bits written as four groups of four Crockford base32 characters
 * ("7QKD-M2XA-9F0R-HC3V"); case, dashes and spaces are ignored when it is typed
 * back. The database holds only keyed BLAKE2b hashes (crypto_generichash) of
 * both, under different domain keys, so a stolen database yields neither.
 */
#ifndef SRV_TOKEN_H
#define SRV_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"

#define SRV_TOKEN_BYTES 32
#define SRV_TOKEN_HEX_LEN (2 * SRV_TOKEN_BYTES)
#define SRV_HASH_BYTES 32
/* "XXXX-XXXX-XXXX-XXXX" */
#define SRV_CODE_LEN 19
#define SRV_CODE_CHARS 16

/* Initialises libsodium once (thread-safe); everything below needs it. */
int srv_crypto_init(fs_err *err);

/* A new random token. */
void srv_token_mint(uint8_t token[SRV_TOKEN_BYTES]);
void srv_token_hash(const uint8_t token[SRV_TOKEN_BYTES], uint8_t hash[SRV_HASH_BYTES]);
/* Parses an Authorization header value. FS_EINVAL unless it is exactly
 * "Bearer " and 64 lowercase hex digits. */
int srv_token_parse_bearer(const char *header, uint8_t token[SRV_TOKEN_BYTES]);

/* A new random code, NUL-terminated. */
void srv_code_mint(char code[SRV_CODE_LEN + 1]);
/* Hash of a typed code after normalisation; FS_EINVAL if it does not hold
 * exactly 16 base32 characters. */
int srv_code_hash(const char *code, uint8_t hash[SRV_HASH_BYTES]);

/* A new random replica id, never 0. */
uint64_t srv_replica_mint(void);

#endif
