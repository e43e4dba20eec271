/*
 * test_page.c: the page cipher (crypto/page.c) alone: round trips for every
 * page size, page 1's clear header and database id, and every way a sealed page
 * can be wrong (bit flips in data, nonce, tag, header; other page number, other
 * database id, other key; all zeros) failing without output.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/page.h"
#include "vfs_test_util.h"

static const uint8_t dbid[FS_PAGE_DBID_BYTES] = "0123456789abcdef";

/* A plausible page: SQLite header on page 1, pattern elsewhere, zero reserve. */
static uint8_t *make_page(size_t size, uint32_t pgno)
{
    uint8_t *p = malloc(size);
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(i * 31 + pgno);
    if (pgno == 1) {
        memcpy(p, FS_PAGE1_MAGIC, 16);
        p[16] = (uint8_t)(size >> 8);
        p[17] = (uint8_t)size;
        if (size == 65536)
            p[16] = 0, p[17] = 1;
        p[18] = p[19] = 2;
        p[20] = FS_PAGE_RESERVE_BYTES;
        p[21] = 64, p[22] = 32, p[23] = 32;
    }
    memset(p + size - FS_PAGE_RESERVE_BYTES, 0, FS_PAGE_RESERVE_BYTES);
    return p;
}

static void every_page_size_round_trips(void **state)
{
    (void)state;
    fs_secret *k = vt_key(7);
    for (size_t size = FS_PAGE_MIN_SIZE; size <= FS_PAGE_MAX_SIZE; size *= 2) {
        for (uint32_t pgno = size == 512 ? 2 : 1; pgno <= 3; pgno++) {
            /* (SQLite needs 480 usable bytes: a 512-byte page 1 cannot reserve 40) */
            uint8_t *plain = make_page(size, pgno), *sealed = malloc(size);
            assert_int_equal(fs_page_seal(sealed, plain, size, pgno, dbid, k), 0);
            assert_memory_not_equal(sealed + 24, plain + 24, 64);
            if (pgno == 1) {
                assert_memory_equal(sealed, dbid, 16);
                assert_memory_equal(sealed + 16, plain + 16, 8);
                uint32_t psz, res;
                assert_int_equal(fs_page1_header(sealed, size, &psz, &res), 0);
                assert_int_equal(psz, size);
                assert_int_equal(res, FS_PAGE_RESERVE_BYTES);
            }
            assert_int_equal(fs_page_open(sealed, size, pgno, dbid, k), 0);
            assert_memory_equal(sealed, plain, size);
            free(plain);
            free(sealed);
        }
    }
    fs_secret_free(k);
}

static void two_seals_of_one_page_differ(void **state)
{
    (void)state;
    fs_secret *k = vt_key(7);
    uint8_t *plain = make_page(4096, 5), a[4096], b[4096];
    assert_int_equal(fs_page_seal(a, plain, 4096, 5, dbid, k), 0);
    assert_int_equal(fs_page_seal(b, plain, 4096, 5, dbid, k), 0);
    assert_memory_not_equal(a, b, 4096); /* fresh nonce each time */
    free(plain);
    fs_secret_free(k);
}

/* Seals page pgno, applies damage, expects FS_EAUTH and a zero-filled page. */
static void expect_rejected(uint32_t pgno, size_t flip_at, uint32_t open_pgno,
                            const uint8_t *open_id, uint8_t open_key)
{
    fs_secret *k = vt_key(7), *k2 = vt_key(open_key);
    uint8_t *plain = make_page(4096, pgno), sealed[4096];
    assert_int_equal(fs_page_seal(sealed, plain, 4096, pgno, dbid, k), 0);
    if (flip_at < 4096)
        sealed[flip_at] ^= 0x10;
    assert_int_equal(fs_page_open(sealed, 4096, open_pgno, open_id, k2), FS_EAUTH);
    static const uint8_t zero[4096];
    assert_memory_equal(sealed, zero, 4096);
    free(plain);
    fs_secret_free(k);
    fs_secret_free(k2);
}

static void damaged_or_misplaced_pages_are_rejected(void **state)
{
    (void)state;
    static const uint8_t other_id[FS_PAGE_DBID_BYTES] = "fedcba9876543210";
    expect_rejected(2, 100, 2, dbid, 7);           /* data */
    expect_rejected(2, 4096 - 40 + 3, 2, dbid, 7); /* nonce */
    expect_rejected(2, 4096 - 2, 2, dbid, 7);      /* tag */
    expect_rejected(1, 5, 1, dbid, 7);             /* page 1 database id */
    expect_rejected(1, 20, 1, dbid, 7);            /* page 1 clear header (reserve) */
    expect_rejected(1, 30, 1, dbid, 7);            /* page 1 encrypted part */
    expect_rejected(2, 9999, 3, dbid, 7);          /* other page number */
    expect_rejected(2, 9999, 2, other_id, 7);      /* other database */
    expect_rejected(2, 9999, 2, dbid, 8);          /* other key */
}

static void all_zero_page_is_never_valid(void **state)
{
    (void)state;
    fs_secret *k = vt_key(0);
    static uint8_t page[4096];
    static const uint8_t zero_id[FS_PAGE_DBID_BYTES];
    assert_int_equal(fs_page_open(page, 4096, 2, zero_id, k), FS_EAUTH);
    assert_int_equal(fs_page_open(page, 4096, 1, zero_id, k), FS_EAUTH);
    fs_secret_free(k);
}

static void bad_arguments_are_refused(void **state)
{
    (void)state;
    fs_secret *k = vt_key(7), *short_key = NULL;
    assert_int_equal(fs_secret_from(&short_key, "short", 5, NULL), 0);
    uint8_t *plain = make_page(4096, 2), out[4096];
    assert_int_equal(fs_page_seal(out, plain, 4000, 2, dbid, k), FS_EINVAL);
    assert_int_equal(fs_page_seal(out, plain, 4096, 0, dbid, k), FS_EINVAL);
    assert_int_equal(fs_page_seal(out, plain, 4096, 2, dbid, short_key), FS_EINVAL);
    plain[4095] = 1; /* data in the reserve: sealing would destroy it */
    assert_int_equal(fs_page_seal(out, plain, 4096, 2, dbid, k), FS_EINVAL);
    uint32_t psz, res;
    uint8_t hdr[24] = {0};
    hdr[16] = 0x10; /* 4096 */
    hdr[20] = 255;  /* too little usable space? 4096-255 is fine */
    assert_int_equal(fs_page1_header(hdr, sizeof(hdr), &psz, &res), 0);
    hdr[16] = 0x03; /* 768: not a power of two */
    assert_int_equal(fs_page1_header(hdr, sizeof(hdr), &psz, &res), FS_ECORRUPT);
    hdr[16] = 0x02, hdr[20] = 40; /* 512 - 40 < 480 */
    assert_int_equal(fs_page1_header(hdr, sizeof(hdr), &psz, &res), FS_ECORRUPT);
    assert_int_equal(fs_page1_header(hdr, 10, &psz, &res), FS_ECORRUPT);
    free(plain);
    fs_secret_free(k);
    fs_secret_free(short_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_page_size_round_trips),
        cmocka_unit_test(two_seals_of_one_page_differ),
        cmocka_unit_test(damaged_or_misplaced_pages_are_rejected),
        cmocka_unit_test(all_zero_page_is_never_valid),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
