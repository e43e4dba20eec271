/*
 * test_vfs_memory.c: SQLite wipes the memory it frees once the VFS is
 * registered (vfs_memory.c). The test puts a recording allocator under SQLite
 * before anything initializes it: every block SQLite frees is searched for a
 * marker the rows carry. While the database is open its page cache holds the
 * marker in the clear (the search can find it); closing the database, as the
 * daemon's lock does, must free every such block already zeroed.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/vfs.h"
#include "vfs_test_util.h"

#define MARKER "QWXZ-row-marker"
#define HDR 32 /* the recording allocator's block header, a multiple of 16 */

static size_t freed_with_marker; /* blocks freed while still holding MARKER */
static size_t live_blocks;

static int holds_marker(const unsigned char *p, size_t n)
{
    size_t m = sizeof(MARKER) - 1;
    for (size_t i = 0; i + m <= n; i++)
        if (p[i] == MARKER[0] && memcmp(p + i, MARKER, m) == 0)
            return 1;
    return 0;
}

/* ---- the recording allocator: malloc with the size in a header, and a list
 * of live blocks so the test can search what SQLite holds */
typedef struct block {
    struct block *next, *prev;
    size_t size;
} block;
static block live = {&live, &live, 0};
_Static_assert(sizeof(block) <= HDR, "the block header fits HDR");

static void *rec_malloc(int n)
{
    block *b = malloc(HDR + (size_t)n);
    if (b == NULL)
        return NULL;
    b->size = (size_t)n;
    b->next = live.next;
    b->prev = &live;
    live.next->prev = b;
    live.next = b;
    live_blocks++;
    return (char *)b + HDR;
}

static void rec_free(void *p)
{
    if (p == NULL)
        return;
    block *b = (block *)((char *)p - HDR);
    freed_with_marker += (size_t)holds_marker(p, b->size);
    b->prev->next = b->next;
    b->next->prev = b->prev;
    live_blocks--;
    free(b);
}

static int rec_size(void *p)
{
    return p != NULL ? (int)((block *)((char *)p - HDR))->size : 0;
}

static void *rec_realloc(void *p, int n)
{
    void *q = rec_malloc(n);
    if (q != NULL && p != NULL) {
        memcpy(q, p, (size_t)(rec_size(p) < n ? rec_size(p) : n));
        rec_free(p);
    }
    return q;
}

static int rec_roundup(int n)
{
    return (n + 7) & ~7;
}

static int rec_init(void *app)
{
    (void)app;
    return SQLITE_OK;
}

static void rec_shutdown(void *app)
{
    (void)app;
}

static size_t live_with_marker(void)
{
    size_t n = 0;
    for (block *b = live.next; b != &live; b = b->next)
        n += (size_t)holds_marker((unsigned char *)b + HDR, b->size);
    return n;
}

static void closing_the_database_leaves_no_row_in_freed_memory(void **state)
{
    (void)state;
    char *dir = vt_tmpdir_new(), *path = vt_path(dir, "t.db");
    fs_secret *key = vt_key(0x42);
    sqlite3 *db = vt_open(path, key);
    vt_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 500) "
                "INSERT INTO t SELECT i, '" MARKER " ' || i || printf('%.300c', 'x') FROM k");
    assert_int_equal(vt_int(db, "SELECT count(*) FROM t WHERE v LIKE '" MARKER "%'"), 500);
    assert_true(live_with_marker() > 0); /* the page cache holds rows in the clear */
    sqlite3_close(db);
    assert_int_equal(live_with_marker(), 0);
    if (freed_with_marker != 0)
        fail_msg("%zu blocks were freed still holding a row", freed_with_marker);
    fs_secret_free(key);
    vt_tmpdir_free(dir);
    free(path);
}

int main(void)
{
    static const sqlite3_mem_methods recording = {
        rec_malloc, rec_free, rec_realloc, rec_size, rec_roundup, rec_init, rec_shutdown, NULL,
    };
    /* under SQLite, before anything initializes it; fs_vfs_register wraps it */
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &recording) != SQLITE_OK ||
        fs_vfs_register(NULL) != 0) {
        fprintf(stderr, "cannot set up SQLite's allocator\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closing_the_database_leaves_no_row_in_freed_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
