/*
 * page.c: seals and opens one database page with XChaCha20-Poly1305 (page.h).
 *
 * Layout of a sealed page of size S:
 *   page 1:  [dbid 16][header 16..23 clear][ciphertext 24..S-40][nonce 24][tag 16]
 *   page n:  [ciphertext 0..S-40][nonce 24][tag 16]
 * Associated data: "fsp" + version byte, pgno (LE32), dbid, and for page 1 the
 * clear header bytes 16..23. The nonce is random per seal: a page is rewritten
 * many times under one key, and 192-bit random nonces never repeat in practice.
 */
#include "fieldsync/page.h"

#include <sodium.h>
#include <string.h>

#define AD_MAX (4 + 4 + FS_PAGE_DBID_BYTES + 8)

int fs_page_size_valid(size_t size)
{
    return size >= FS_PAGE_MIN_SIZE && size <= FS_PAGE_MAX_SIZE && (size & (size - 1)) == 0;
}

int fs_page1_header(const uint8_t *hdr, size_t len, uint32_t *page_size, uint32_t *reserve)
{
    if (len < FS_PAGE1_CLEAR_BYTES)
        return FS_ECORRUPT;
    uint32_t sz = ((uint32_t)hdr[16] << 8) | hdr[17];
    if (sz == 1)
        sz = 65536;
    uint32_t res = hdr[FS_PAGE1_RESERVE_OFFSET];
    /* SQLite needs at least 480 usable bytes per page */
    if (!fs_page_size_valid(sz) || sz - res < 480)
        return FS_ECORRUPT;
    *page_size = sz;
    *reserve = res;
    return 0;
}

static size_t page_ad(uint8_t ad[AD_MAX], const uint8_t *page, uint32_t pgno,
                      const uint8_t dbid[FS_PAGE_DBID_BYTES])
{
    size_t n = 0;
    ad[n++] = 'f';
    ad[n++] = 's';
    ad[n++] = 'p';
    ad[n++] = FS_PAGE_FORMAT_VERSION;
    for (int i = 0; i < 4; i++)
        ad[n++] = (uint8_t)(pgno >> (8 * i));
    memcpy(ad + n, dbid, FS_PAGE_DBID_BYTES);
    n += FS_PAGE_DBID_BYTES;
    if (pgno == 1) {
        memcpy(ad + n, page + FS_PAGE_DBID_BYTES, FS_PAGE1_CLEAR_BYTES - FS_PAGE_DBID_BYTES);
        n += FS_PAGE1_CLEAR_BYTES - FS_PAGE_DBID_BYTES;
    }
    return n;
}

static int args_valid(size_t page_size, uint32_t pgno, const fs_secret *key)
{
    return fs_page_size_valid(page_size) && pgno >= 1 && key != NULL &&
           key->len == FS_PAGE_KEY_BYTES;
}

int fs_page_seal(uint8_t *out, const uint8_t *in, size_t page_size, uint32_t pgno,
                 const uint8_t dbid[FS_PAGE_DBID_BYTES], const fs_secret *key)
{
    if (!args_valid(page_size, pgno, key))
        goto fail;
    size_t start = pgno == 1 ? FS_PAGE1_CLEAR_BYTES : 0;
    size_t end = page_size - FS_PAGE_RESERVE_BYTES;
    static const uint8_t zero[FS_PAGE_RESERVE_BYTES];
    if (memcmp(in + end, zero, FS_PAGE_RESERVE_BYTES) != 0)
        goto fail;
    if (pgno == 1) {
        memcpy(out, dbid, FS_PAGE_DBID_BYTES);
        memcpy(out + FS_PAGE_DBID_BYTES, in + FS_PAGE_DBID_BYTES,
               FS_PAGE1_CLEAR_BYTES - FS_PAGE_DBID_BYTES);
    }
    uint8_t ad[AD_MAX];
    size_t adlen = page_ad(ad, out, pgno, dbid);
    uint8_t *nonce = out + end;
    uint8_t *tag = nonce + FS_PAGE_NONCE_BYTES;
    randombytes_buf(nonce, FS_PAGE_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        out + start, tag, NULL, in + start, end - start, ad, adlen, NULL, nonce, key->bytes);
    return 0;
fail:
    if (fs_page_size_valid(page_size))
        memset(out, 0, page_size);
    return FS_EINVAL;
}

int fs_page_open(uint8_t *page, size_t page_size, uint32_t pgno,
                 const uint8_t dbid[FS_PAGE_DBID_BYTES], const fs_secret *key)
{
    if (!args_valid(page_size, pgno, key))
        return FS_EINVAL;
    size_t start = pgno == 1 ? FS_PAGE1_CLEAR_BYTES : 0;
    size_t end = page_size - FS_PAGE_RESERVE_BYTES;
    uint8_t ad[AD_MAX];
    size_t adlen = page_ad(ad, page, pgno, dbid);
    const uint8_t *nonce = page + end;
    const uint8_t *tag = nonce + FS_PAGE_NONCE_BYTES;
    if (pgno == 1 && memcmp(page, dbid, FS_PAGE_DBID_BYTES) != 0)
        goto fail;
    /* libsodium checks the tag before it writes any plaintext */
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            page + start, NULL, page + start, end - start, tag, ad, adlen, nonce, key->bytes) != 0)
        goto fail;
    memset(page + end, 0, FS_PAGE_RESERVE_BYTES);
    if (pgno == 1)
        memcpy(page, FS_PAGE1_MAGIC, sizeof(FS_PAGE1_MAGIC)); /* 15 chars + NUL = 16 */
    return 0;
fail:
    memset(page, 0, page_size);
    return FS_EAUTH;
}
