/*
 * test_vv.c: version vectors: get/set, coverage, the four orders, merge, copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fieldsync/record.h"

static void vv_of(fs_vv *vv, const uint64_t *pairs, size_t n)
{
    fs_vv_init(vv);
    for (size_t i = 0; i < n; i += 2)
        assert_int_equal(fs_vv_set(vv, pairs[i], pairs[i + 1]), 0);
}

static void test_vv_absent_replica_reads_zero(void **state)
{
    (void)state;
    fs_vv vv;
    fs_vv_init(&vv);
    assert_int_equal(fs_vv_get(&vv, 42), 0);
    fs_vv_clear(&vv);
}

static void test_vv_set_keeps_entries_sorted_by_replica(void **state)
{
    (void)state;
    fs_vv vv;
    vv_of(&vv, (uint64_t[]){9, 1, 3, 2, 7, 3, 1, 4, UINT64_MAX, 5}, 10);
    assert_int_equal(vv.n, 5);
    for (size_t i = 1; i < vv.n; i++)
        assert_true(vv.entries[i - 1].replica < vv.entries[i].replica);
    assert_int_equal(fs_vv_get(&vv, 7), 3);
    assert_int_equal(fs_vv_get(&vv, UINT64_MAX), 5);
    assert_int_equal(fs_vv_set(&vv, 7, 10), 0);
    assert_int_equal(fs_vv_get(&vv, 7), 10);
    assert_int_equal(vv.n, 5);
    fs_vv_clear(&vv);
}

static void test_vv_set_zero_removes_the_entry(void **state)
{
    (void)state;
    fs_vv vv;
    vv_of(&vv, (uint64_t[]){1, 1, 2, 2, 3, 3}, 6);
    assert_int_equal(fs_vv_set(&vv, 2, 0), 0);
    assert_int_equal(vv.n, 2);
    assert_int_equal(fs_vv_get(&vv, 2), 0);
    assert_int_equal(fs_vv_get(&vv, 3), 3);
    assert_int_equal(fs_vv_set(&vv, 99, 0), 0); /* absent: nothing happens */
    assert_int_equal(vv.n, 2);
    fs_vv_clear(&vv);
}

static void test_vv_covers_dots_up_to_its_counter_only(void **state)
{
    (void)state;
    fs_vv vv;
    vv_of(&vv, (uint64_t[]){5, 3}, 2);
    assert_true(fs_vv_covers(&vv, (fs_dot){5, 1}));
    assert_true(fs_vv_covers(&vv, (fs_dot){5, 3}));
    assert_false(fs_vv_covers(&vv, (fs_dot){5, 4}));
    assert_false(fs_vv_covers(&vv, (fs_dot){6, 1}));
    fs_vv_clear(&vv);
}

static void test_vv_compare_gives_equal_before_after_concurrent(void **state)
{
    (void)state;
    fs_vv a, b, c, d, e;
    vv_of(&a, (uint64_t[]){1, 2, 2, 1}, 4);
    vv_of(&b, (uint64_t[]){1, 2, 2, 1}, 4);
    vv_of(&c, (uint64_t[]){1, 3, 2, 1}, 4);
    vv_of(&d, (uint64_t[]){1, 2, 2, 1, 3, 1}, 6); /* a replica a has never seen */
    vv_of(&e, (uint64_t[]){1, 1, 2, 5}, 4);
    assert_int_equal(fs_vv_compare(&a, &b), FS_VV_EQUAL);
    assert_int_equal(fs_vv_compare(&a, &c), FS_VV_BEFORE);
    assert_int_equal(fs_vv_compare(&c, &a), FS_VV_AFTER);
    assert_int_equal(fs_vv_compare(&a, &d), FS_VV_BEFORE);
    assert_int_equal(fs_vv_compare(&d, &a), FS_VV_AFTER);
    assert_int_equal(fs_vv_compare(&c, &e), FS_VV_CONCURRENT);
    assert_int_equal(fs_vv_compare(&e, &c), FS_VV_CONCURRENT);
    assert_int_equal(fs_vv_compare(&c, &d), FS_VV_CONCURRENT);
    fs_vv_clear(&a);
    fs_vv_clear(&b);
    fs_vv_clear(&c);
    fs_vv_clear(&d);
    fs_vv_clear(&e);
}

static void test_vv_compare_empty_vectors(void **state)
{
    (void)state;
    fs_vv a, b;
    fs_vv_init(&a);
    vv_of(&b, (uint64_t[]){4, 1}, 2);
    assert_int_equal(fs_vv_compare(&a, &a), FS_VV_EQUAL);
    assert_int_equal(fs_vv_compare(&a, &b), FS_VV_BEFORE);
    assert_int_equal(fs_vv_compare(&b, &a), FS_VV_AFTER);
    fs_vv_clear(&b);
}

static void test_vv_merge_takes_the_max_of_every_entry(void **state)
{
    (void)state;
    fs_vv a, b, ab, ba;
    vv_of(&a, (uint64_t[]){1, 5, 3, 1, 8, 2}, 6);
    vv_of(&b, (uint64_t[]){1, 2, 2, 7, 8, 9}, 6);
    assert_int_equal(fs_vv_copy(&ab, &a), 0);
    assert_int_equal(fs_vv_merge(&ab, &b), 0);
    assert_int_equal(fs_vv_copy(&ba, &b), 0);
    assert_int_equal(fs_vv_merge(&ba, &a), 0);
    assert_int_equal(ab.n, 4);
    assert_int_equal(fs_vv_get(&ab, 1), 5);
    assert_int_equal(fs_vv_get(&ab, 2), 7);
    assert_int_equal(fs_vv_get(&ab, 3), 1);
    assert_int_equal(fs_vv_get(&ab, 8), 9);
    assert_int_equal(fs_vv_compare(&ab, &ba), FS_VV_EQUAL);
    assert_int_equal(fs_vv_compare(&ab, &a), FS_VV_AFTER);
    /* merge with itself changes nothing; merged vector can still grow */
    assert_int_equal(fs_vv_merge(&ab, &ab), 0);
    assert_int_equal(fs_vv_compare(&ab, &ba), FS_VV_EQUAL);
    assert_int_equal(fs_vv_set(&ab, 0, 1), 0);
    assert_int_equal(fs_vv_get(&ab, 0), 1);
    fs_vv_clear(&a);
    fs_vv_clear(&b);
    fs_vv_clear(&ab);
    fs_vv_clear(&ba);
}

static void test_vv_copy_is_independent_of_its_source(void **state)
{
    (void)state;
    fs_vv a, c;
    vv_of(&a, (uint64_t[]){1, 1}, 2);
    assert_int_equal(fs_vv_copy(&c, &a), 0);
    assert_int_equal(fs_vv_set(&a, 1, 9), 0);
    assert_int_equal(fs_vv_get(&c, 1), 1);
    fs_vv_clear(&a);
    fs_vv_clear(&c);
    fs_vv_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vv_absent_replica_reads_zero),
        cmocka_unit_test(test_vv_set_keeps_entries_sorted_by_replica),
        cmocka_unit_test(test_vv_set_zero_removes_the_entry),
        cmocka_unit_test(test_vv_covers_dots_up_to_its_counter_only),
        cmocka_unit_test(test_vv_compare_gives_equal_before_after_concurrent),
        cmocka_unit_test(test_vv_compare_empty_vectors),
        cmocka_unit_test(test_vv_merge_takes_the_max_of_every_entry),
        cmocka_unit_test(test_vv_copy_is_independent_of_its_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
