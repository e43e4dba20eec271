/*
 * csv.h: RFC 4180 CSV for the CLI (csv.c): a reader over a buffer that keeps
 * physical line numbers for error messages and can go on after a bad row, and
 * a writer that quotes only where needed. Accepts what spreadsheets produce:
 * CRLF, LF or CR line ends, a UTF-8 byte-order mark, quoted fields with
 * embedded commas, quotes ("") and newlines.
 */
#ifndef FS_CLI_CSV_H
#define FS_CLI_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fieldsync/error.h"

/* Most fields in one row, and longest field, the reader accepts. */
#define FS_CSV_MAX_FIELDS 512
#define FS_CSV_MAX_FIELD (1u << 20)

typedef struct fs_csv_reader {
    const char *buf;
    size_t len;
    size_t pos;
    size_t line;   /* physical line of buf[pos], from 1 */
    size_t fields; /* the header's field count once known (0: any): a row over several
                    * lines with another count is a stray quote */
} fs_csv_reader;

typedef struct fs_csv_row {
    char **fields; /* NUL-terminated copies */
    size_t n;
    size_t line; /* physical line where the row starts */
} fs_csv_row;

void fs_csv_reader_init(fs_csv_reader *r, const char *buf, size_t len);

/*
 * Reads the next row into row (cleared first). Returns 1 for a row, 0 at the end
 * of input, or a negative FS_E* code for a malformed row (FS_ECORRUPT with
 * "line N: ..." in err): the reader has then skipped the first physical line of
 * the bad row only, so the caller may report it and continue with the next
 * line. Blank lines are skipped.
 */
int fs_csv_next(fs_csv_reader *r, fs_csv_row *row, fs_err *err);
void fs_csv_row_clear(fs_csv_row *row);

/* Writes one row, quoting fields that need it, ended by CRLF (RFC 4180). NULL
 * fields are written empty. */
int fs_csv_write_row(FILE *f, const char *const *fields, size_t n);

#endif
