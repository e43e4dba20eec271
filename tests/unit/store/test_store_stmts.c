/*
 * test_store_stmts.c: the statement cache (store/stmts.c). A finished
 * statement is lent again for the same SQL, reset and with no binding left; SQL
 * whose statement is still out gets a private one, so a query run while the
 * same query iterates sees its own rows; SQL at an address that held other SQL
 * gets its own statement, and the same text at another address the cached
 * one; a rekey's reopen leaves the cache
 * holding only statements of the new connection, and the store works after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_int.h"
#include "store_test_util.h"

static const char count_sql[] = "SELECT count(*) FROM records WHERE kind = ?";

static int count_accounts(fs_store *st, sqlite3_stmt **used)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(fs_store_prepare(st, count_sql, &s, NULL), 0);
    sqlite3_bind_int(s, 1, FIELDSYNC__RECORD_KIND__ACCOUNT);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    fs_store_finish(st, s);
    if (used != NULL)
        *used = s;
    return n;
}

static void finished_statement_is_lent_again_reset_and_unbound(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    tu_put_account(st, "acc-1", "Brenner", 1, "rep", "Bramley", "");
    sqlite3_stmt *first = NULL, *second = NULL;
    assert_int_equal(count_accounts(st, &first), 1);
    assert_int_equal(count_accounts(st, &second), 1);
    assert_ptr_equal(first, second); /* cached, not prepared again */
    /* given back with its binding cleared: kind = NULL matches nothing */
    sqlite3_stmt *s = NULL;
    assert_int_equal(fs_store_prepare(st, count_sql, &s, NULL), 0);
    assert_ptr_equal(s, first);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 0);
    fs_store_finish(st, s);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void same_sql_while_lent_gets_a_private_statement(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    tu_put_account(st, "acc-1", "Brenner", 1, "rep", "Bramley", "");
    tu_put_account(st, "acc-2", "Kessler", 2, "rep", "Bramley", "");
    const char *sql = "SELECT id FROM records ORDER BY id";
    sqlite3_stmt *outer = NULL, *inner = NULL;
    assert_int_equal(fs_store_prepare(st, sql, &outer, NULL), 0);
    int rows = 0;
    while (sqlite3_step(outer) == SQLITE_ROW) {
        /* the same query from inside the loop: a second statement from the start */
        assert_int_equal(fs_store_prepare(st, sql, &inner, NULL), 0);
        assert_ptr_not_equal(inner, outer);
        assert_int_equal(sqlite3_step(inner), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(inner, 0), "acc-1");
        fs_store_finish(st, inner); /* finalized: it is not the cached one */
        rows++;
    }
    assert_int_equal(rows, 2);
    fs_store_finish(st, outer);
    /* and the cached one is lent again afterwards */
    sqlite3_stmt *again = NULL;
    assert_int_equal(fs_store_prepare(st, sql, &again, NULL), 0);
    assert_ptr_equal(again, outer);
    fs_store_finish(st, again);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void a_buffer_holding_other_sql_gets_that_sqls_statement(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    fs_store *st = tu_open_plain(dir);
    tu_put_account(st, "acc-1", "Brenner", 1, "rep", "Bramley", "");
    char sql[64];
    sqlite3_stmt *s = NULL, *first = NULL;
    snprintf(sql, sizeof(sql), "SELECT 'first'");
    assert_int_equal(fs_store_prepare(st, sql, &first, NULL), 0);
    fs_store_finish(st, first);
    /* the same buffer, other SQL: found by address, refused by text */
    snprintf(sql, sizeof(sql), "SELECT 'other'");
    assert_int_equal(fs_store_prepare(st, sql, &s, NULL), 0);
    assert_ptr_not_equal(s, first);
    assert_string_equal(sqlite3_sql(s), "SELECT 'other'");
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "other");
    fs_store_finish(st, s);
    /* the first text again from another address: the cached statement */
    assert_int_equal(fs_store_prepare(st, "SELECT 'first'", &s, NULL), 0);
    assert_ptr_equal(s, first);
    fs_store_finish(st, s);
    fs_store_close(st);
    tu_rmdir(dir);
    free(dir);
}

static void rekey_leaves_only_statements_of_the_new_connection(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *db = tu_path(dir, "store.db"), *key = tu_path(dir, "store.key");
    fs_store *st = NULL;
    assert_int_equal(
        fs_store_open(&st, db, key, "old pass", 8, FS_STORE_CREATE | FS_STORE_FAST_KDF, NULL), 0);
    tu_put_account(st, "acc-1", "Brenner", 1, "rep", "Bramley", "");
    assert_int_equal(count_accounts(st, NULL), 1);
    assert_int_equal(fs_store_rekey(st, "old pass", 8, NULL), 0);
    /* whatever the reopen prepared belongs to the new connection */
    for (size_t i = 0; i < FS_STORE_STMTS; i++)
        if (st->stmts[i].stmt != NULL)
            assert_ptr_equal(sqlite3_db_handle(st->stmts[i].stmt), st->db);
    tu_put_account(st, "acc-2", "Kessler", 2, "rep", "Bramley", "");
    assert_int_equal(count_accounts(st, NULL), 2);
    fs_store_close(st);
    free(db);
    free(key);
    tu_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finished_statement_is_lent_again_reset_and_unbound),
        cmocka_unit_test(same_sql_while_lent_gets_a_private_statement),
        cmocka_unit_test(a_buffer_holding_other_sql_gets_that_sqls_statement),
        cmocka_unit_test(rekey_leaves_only_statements_of_the_new_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
