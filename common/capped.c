/*
 * capped.c: the capped output buffer of a body's decompression (capped.h).
 */
#include "capped.h"

#include <stdlib.h>

#include "fieldsync/error.h"

size_t fs_capped_first(size_t len, size_t limit)
{
    if (len < 1024)
        return 4096 < limit + 1 ? 4096 : limit + 1;
    return len > (limit + 1) / 4 ? limit + 1 : len * 4;
}

int fs_capped_grow(uint8_t **buf, size_t *cap, size_t limit)
{
    size_t ncap = *cap > (limit + 1) / 2 ? limit + 1 : *cap * 2;
    uint8_t *nb = realloc(*buf, ncap);
    if (nb == NULL)
        return FS_ENOMEM;
    *buf = nb;
    *cap = ncap;
    return 0;
}
