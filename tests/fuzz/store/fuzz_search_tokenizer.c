/*
 * fuzz_search_tokenizer.c: arbitrary bytes through the search index's
 * tokenizer (store/tokenize.c): indexed as a note, then searched for as a
 * quoted phrase. Whatever the bytes (broken UTF-8, CJK cut mid-character,
 * NULs), both must succeed or fail cleanly, never crash or read outside the
 * text (store tests check what is found; this checks it is safe).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *fuzz_db(void)
{
    static sqlite3 *db;
    if (db == NULL &&
        (sqlite3_open(":memory:", &db) != SQLITE_OK || fs_store_register_search(db, NULL) != 0 ||
         sqlite3_exec(db,
                      "CREATE VIRTUAL TABLE t USING fts5(body, "
                      "tokenize = 'fieldsync remove_diacritics 2')",
                      NULL, NULL, NULL) != SQLITE_OK))
        abort();
    return db;
}

/* Runs sql with text bound as ?1: the row count, or -1 when SQLite refused it. */
static int run(sqlite3 *db, const char *sql, const uint8_t *text, size_t size)
{
    sqlite3_stmt *s = NULL;
    int rows = 0, step;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        abort();
    sqlite3_bind_text(s, 1, (const char *)text, (int)size, SQLITE_STATIC);
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        rows++;
    sqlite3_finalize(s);
    return step == SQLITE_DONE ? rows : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqlite3 *db = fuzz_db();
    if (size > 4096)
        size = 4096;
    if (run(db, "INSERT INTO t(rowid, body) VALUES(1, ?1)", data, size) < 0)
        abort();
    /* the text as one phrase (a query SQLite may refuse: an empty phrase) */
    run(db, "SELECT rowid FROM t WHERE t MATCH '\"' || replace(?1, '\"', '\"\"') || '\"'", data,
        size);
    /* and as a prefix phrase, as the search's words are */
    run(db, "SELECT rowid FROM t WHERE t MATCH '\"' || replace(?1, '\"', '\"\"') || '\"*'", data,
        size);
    if (run(db, "DELETE FROM t", NULL, 0) < 0)
        abort();
    return 0;
}
