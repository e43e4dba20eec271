/*
 * framer.c: newline framing with a line cap (see framer.h).
 *
 * The buffer grows geometrically up to max_line + 1 bytes, the most an
 * unfinished valid line can need plus its newline; consumed lines are wiped and
 * compacted away only when more room is needed, so a burst of small requests is
 * split without copying.
 */
#include "framer.h"

#include <stdlib.h>
#include <string.h>

#define FS_FRAMER_MIN_CAP 4096
#define FS_FRAMER_READ_CHUNK 65536

void fs_framer_init(fs_framer *f, size_t max_line)
{
    memset(f, 0, sizeof(*f));
    f->max_line = max_line;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

void fs_framer_clear(fs_framer *f)
{
    if (f->buf != NULL)
        wipe(f->buf, f->cap);
    free(f->buf);
    fs_framer_init(f, f->max_line);
}

static void compact(fs_framer *f)
{
    if (f->start == 0)
        return;
    size_t rest = f->len - f->start;
    memmove(f->buf, f->buf + f->start, rest);
    wipe(f->buf + rest, f->len - rest);
    f->len = rest;
    f->start = 0;
}

int fs_framer_space(fs_framer *f, char **p, size_t *n)
{
    if (f->overflow)
        return FS_ETOOBIG;
    size_t limit = f->max_line + 2; /* the line, '\n', and one byte to see it is too long */
    if (f->len == f->cap)
        compact(f);
    if (f->len == f->cap) {
        if (f->cap >= limit) {
            /* Full of complete lines the caller has not taken yet: not an overflow. */
            if (memchr(f->buf + f->start, '\n', f->len - f->start) != NULL)
                return FS_EBUSY;
            f->overflow = true;
            return FS_ETOOBIG;
        }
        size_t cap = f->cap == 0 ? FS_FRAMER_MIN_CAP : f->cap * 2;
        if (cap > limit)
            cap = limit;
        char *b = malloc(cap); /* not realloc: the old block is wiped before it goes */
        if (b == NULL)
            return FS_ENOMEM;
        if (f->buf != NULL) {
            memcpy(b, f->buf, f->len);
            wipe(f->buf, f->cap);
            free(f->buf);
        }
        f->buf = b;
        f->cap = cap;
    }
    *p = f->buf + f->len;
    *n = f->cap - f->len;
    if (*n > FS_FRAMER_READ_CHUNK)
        *n = FS_FRAMER_READ_CHUNK;
    return 0;
}

void fs_framer_commit(fs_framer *f, size_t n)
{
    f->len += n;
}

int fs_framer_next(fs_framer *f, char **line, size_t *len)
{
    if (f->overflow)
        return FS_ETOOBIG;
    size_t avail = f->len - f->start;
    char *from = f->buf + f->start;
    char *nl = avail > f->scan ? memchr(from + f->scan, '\n', avail - f->scan) : NULL;
    if (nl == NULL) {
        f->scan = avail;
        if (avail > f->max_line) {
            f->overflow = true;
            return FS_ETOOBIG;
        }
        if (avail == 0) {
            f->start = f->len = 0; /* everything consumed: restart at the front */
        }
        return 0;
    }
    size_t n = (size_t)(nl - from);
    f->start += n + 1;
    f->scan = 0;
    if (n > f->max_line) {
        f->overflow = true;
        return FS_ETOOBIG;
    }
    *nl = '\0';
    if (n > 0 && from[n - 1] == '\r')
        from[--n] = '\0';
    *line = from;
    *len = n;
    return 1;
}

bool fs_framer_partial(const fs_framer *f)
{
    return f->len > f->start;
}
