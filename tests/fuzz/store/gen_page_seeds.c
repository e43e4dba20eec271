/*
 * gen_page_seeds.c: writes the seed corpus of fuzz_page_open: pages 1-3 sealed
 * under the fuzz test key at page sizes 512 and 1024, plus a page-1 header and
 * an all-zero page. Run once by hand: gen_page_seeds <corpus dir>.
 */
#include <stdio.h>
#include <string.h>

#include "fieldsync/page.h"

static int write_seed(const char *dir, const char *name, uint8_t sel, uint32_t pgno,
                      const uint8_t *page, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    uint8_t hdr[5] = {sel, (uint8_t)(pgno >> 24), (uint8_t)(pgno >> 16), (uint8_t)(pgno >> 8),
                      (uint8_t)pgno};
    int ok = fwrite(hdr, 1, 5, f) == 5 && fwrite(page, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    uint8_t raw[FS_PAGE_KEY_BYTES], plain[1024], sealed[1024], id[FS_PAGE_DBID_BYTES];
    memset(raw, 0x5a, sizeof(raw));
    memcpy(id, "fuzz-database-id", sizeof(id));
    fs_secret *key = NULL;
    if (fs_secret_from(&key, raw, sizeof(raw), NULL) != 0)
        return 1;
    for (int s = 0; s < 2; s++) {
        size_t psz = 512u << s;
        for (uint32_t pgno = 1; pgno <= 3; pgno++) {
            for (size_t i = 0; i < psz; i++)
                plain[i] = (uint8_t)(i * 7 + pgno);
            memset(plain + psz - FS_PAGE_RESERVE_BYTES, 0, FS_PAGE_RESERVE_BYTES);
            if (pgno == 1) {
                memcpy(plain, FS_PAGE1_MAGIC, 16);
                plain[16] = (uint8_t)(psz >> 8), plain[17] = 0, plain[18] = plain[19] = 2;
                plain[20] = s == 0 ? 32 : FS_PAGE_RESERVE_BYTES; /* 512: 480 usable max */
                plain[21] = 64, plain[22] = 32, plain[23] = 32;
            }
            if (fs_page_seal(sealed, plain, psz, pgno, id, key) != 0)
                return 1;
            char name[64];
            snprintf(name, sizeof(name), "sealed-%zu-p%u", psz, pgno);
            if (write_seed(argv[1], name, (uint8_t)s, pgno, sealed, psz) != 0)
                return 1;
        }
    }
    memset(plain, 0, sizeof(plain));
    if (write_seed(argv[1], "zero-1024-p2", 1, 2, plain, 1024) != 0)
        return 1;
    fs_secret_free(key);
    return 0;
}
