/*
 * capped.h: the output buffer of a body's decompression (gzip.c, zstd.c),
 * capped at limit + 1 bytes: one byte more than allowed proves the body too
 * large without decompressing the rest (zip bombs).
 */
#ifndef FS_COMMON_CAPPED_H
#define FS_COMMON_CAPPED_H

#include <stddef.h>
#include <stdint.h>

/* The first size for the output of len compressed bytes: four times them, at
 * least 4 KiB, at most limit + 1. */
size_t fs_capped_first(size_t len, size_t limit);
/* Doubles *cap (at most limit + 1) and reallocates *buf to it; 0 or
 * FS_ENOMEM, with *buf and *cap as they were. */
int fs_capped_grow(uint8_t **buf, size_t *cap, size_t limit);

#endif
