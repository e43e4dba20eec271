/*
 * table.h: human-readable tables for the CLI (table.c): a header row and
 * aligned columns, separated by two spaces, numbers right-aligned, control
 * characters shown as spaces so one cell is always one line, and, on a
 * terminal, the widest columns truncated ("...") until the table fits. Columns
 * marked whole (ids the next command needs) are never cut: when the table does
 * not fit with every other column at its narrowest, the rightmost other columns
 * are left out instead.
 */
#ifndef FS_CLI_TABLE_H
#define FS_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Narrowest a column is truncated to (with its "..."). */
#define FS_TABLE_MIN_COL 6
#define FS_TABLE_MAX_COLS 16

typedef struct fs_table {
    size_t ncols;
    char *headers[FS_TABLE_MAX_COLS];
    bool right[FS_TABLE_MAX_COLS]; /* right-align (numbers) */
    bool whole[FS_TABLE_MAX_COLS]; /* never cut (ids) */
    char **cells;                  /* nrows * ncols, sanitised copies */
    size_t nrows, cap;
} fs_table;

/* headers: ncols (1..FS_TABLE_MAX_COLS) column titles. 0 or FS_EINVAL/FS_ENOMEM. */
int fs_table_init(fs_table *t, const char *const *headers, size_t ncols);
void fs_table_clear(fs_table *t);
void fs_table_align_right(fs_table *t, size_t col);
/* Never cuts the column's cells (an id to copy into the next command). */
void fs_table_keep_whole(fs_table *t, size_t col);
/* Appends a row of ncols cells (NULL cells print empty); copies them. */
int fs_table_add_row(fs_table *t, const char *const *cells);

/* Prints the table. max_width 0: never truncate (output to a pipe or file). */
int fs_table_print(const fs_table *t, FILE *f, size_t max_width);
/* How many columns fs_table_print leaves out to fit max_width (0: all shown). */
size_t fs_table_hidden(const fs_table *t, size_t max_width);

/* Display width of UTF-8 text, in code points. */
size_t fs_table_text_width(const char *s);
/* Copies s into a new string of at most width code points, ending in "..." when
 * cut; control characters become spaces. */
char *fs_table_fit(const char *s, size_t width);

#endif
