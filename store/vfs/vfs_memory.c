/*
 * vfs_memory.c: SQLite's heap memory is wiped when it is freed.
 *
 * SQLite keeps decrypted pages (its page cache), rows and statement results in
 * memory it allocates through sqlite3_mem_methods; once freed, a block keeps its
 * plaintext until the allocator reuses it. fs_vfs_register wraps SQLite's
 * default methods before SQLite initializes: a block is zeroed when it is freed,
 * and a resized block is copied to a new one and the old one zeroed (realloc
 * could move it and free the old copy unwiped). Closing a store, as the
 * daemon's lock does, thus leaves none of its pages in the heap. The VFS's own
 * buffers are SQLite memory too.
 */
#include "vfs_internal.h"

#include <string.h>

#include <sodium.h>

static sqlite3_mem_methods base;

static void wiping_free(void *p)
{
    if (p == NULL)
        return;
    sodium_memzero(p, (size_t)base.xSize(p));
    base.xFree(p);
}

/* SQLite calls it with p != NULL and n > 0 (sqlite3Realloc handles the rest). */
static void *wiping_realloc(void *p, int n)
{
    void *q = base.xMalloc(n);
    if (q == NULL)
        return NULL;
    int old = base.xSize(p);
    memcpy(q, p, (size_t)(old < n ? old : n));
    wiping_free(p);
    return q;
}

int fs_vfs_memory_install(void)
{
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &base) != SQLITE_OK)
        return -1;
    sqlite3_mem_methods wiping = base;
    wiping.xFree = wiping_free;
    wiping.xRealloc = wiping_realloc;
    return sqlite3_config(SQLITE_CONFIG_MALLOC, &wiping) == SQLITE_OK ? 0 : -1;
}
