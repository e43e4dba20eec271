/*
 * fuzz_page_open.c: arbitrary bytes as a sealed page through the page-open path
 * (crypto/page.c) and page 1's clear header parser: each must give an error or
 * a plaintext page, never crash or read out of bounds.
 *
 * Input: byte 0 selects the page size (512 << (b % 8)), bytes 1-4 the page
 * number (big-endian), the rest is the page (zero-padded or cut to size). The
 * database id is page 1's own first 16 bytes (as the VFS takes it from a new
 * database's page 1) and FUZZ_DBID for other pages.
 * Seeds (tests/fuzz/corpus/fuzz_page_open/) are pages sealed under the fixed test
 * key below by gen_page_seeds.c, so mutations start from valid pages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/page.h"

#define FUZZ_KEY_BYTE 0x5a /* test key: 32 bytes of 0x5a */
#define FUZZ_DBID "fuzz-database-id"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fs_secret *fuzz_key(void)
{
    static fs_secret *key;
    if (key == NULL) {
        uint8_t raw[FS_PAGE_KEY_BYTES];
        memset(raw, FUZZ_KEY_BYTE, sizeof(raw));
        if (fs_secret_from(&key, raw, sizeof(raw), NULL) != 0)
            abort();
    }
    return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    size_t psz = (size_t)FS_PAGE_MIN_SIZE << (data[0] % 8);
    uint32_t pgno =
        (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    data += 5;
    size -= 5;
    uint8_t *page = calloc(1, psz);
    if (page == NULL)
        return 0;
    memcpy(page, data, size < psz ? size : psz);
    uint32_t hdr_psz, reserve;
    if (fs_page1_header(page, size < psz ? size : psz, &hdr_psz, &reserve) == 0 &&
        (!fs_page_size_valid(hdr_psz) || reserve > 255))
        abort();
    uint8_t dbid[FS_PAGE_DBID_BYTES];
    memcpy(dbid, pgno == 1 ? page : (const uint8_t *)FUZZ_DBID, sizeof(dbid));
    int rc = fs_page_open(page, psz, pgno, dbid, fuzz_key());
    if (rc == 0) {
        /* a page that opens has a zero reserve area and, as page 1, the magic */
        for (size_t i = psz - FS_PAGE_RESERVE_BYTES; i < psz; i++)
            if (page[i] != 0)
                abort();
        if (pgno == 1 && memcmp(page, FS_PAGE1_MAGIC, 16) != 0)
            abort();
    } else if (rc != FS_EAUTH && rc != FS_EINVAL) {
        abort();
    }
    free(page);
    return 0;
}
