/*
 * csv.c: the RFC 4180 reader and writer of csv.h.
 *
 * The reader is a small state machine over the whole input buffer. A field
 * that opens with a quote runs to the next lone quote; "" inside it is one
 * quote, and commas and line ends inside it are data. A quote anywhere else in
 * a field is an error (RFC 4180: such a field must be quoted). A malformed row
 * (a stray quote, text after a closing quote, an unterminated quote, a NUL
 * byte, too many or too long fields) is reported with the physical line it
 * starts on, and reading resumes at the line after that one, even when the bad
 * row ran over several lines: a stray quote opening a field swallows the lines
 * after it up to the next quote, and those lines are rows of their own. For
 * the same reason a row that runs over several lines and does not have the
 * header's number of fields (fs_csv_reader.fields) is a stray quote too. So an
 * import reports every bad row on its own line and keeps every good one.
 */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

/* A growable buffer for the field being read. */
typedef struct field_buf {
    char *p;
    size_t n, cap;
} field_buf;

static int field_put(field_buf *b, char c)
{
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return FS_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    b->p[b->n++] = c;
    return 0;
}

void fs_csv_reader_init(fs_csv_reader *r, const char *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->line = 1;
    r->fields = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

void fs_csv_row_clear(fs_csv_row *row)
{
    if (row == NULL)
        return;
    for (size_t i = 0; i < row->n; i++)
        free(row->fields[i]);
    free(row->fields);
    row->fields = NULL;
    row->n = 0;
    row->line = 0;
}

static int row_add(fs_csv_row *row, field_buf *b)
{
    if (row->n >= FS_CSV_MAX_FIELDS)
        return FS_ETOOBIG;
    if ((row->n & (row->n - 1)) == 0) { /* grow at powers of two */
        char **f = realloc(row->fields, sizeof(*f) * (row->n ? row->n * 2 : 1));
        if (f == NULL)
            return FS_ENOMEM;
        row->fields = f;
    }
    char *s = malloc(b->n + 1);
    if (s == NULL)
        return FS_ENOMEM;
    if (b->n > 0)
        memcpy(s, b->p, b->n);
    s[b->n] = '\0';
    row->fields[row->n++] = s;
    b->n = 0;
    return 0;
}

/* Consumes a line end at pos (CRLF, LF or CR); true if there was one. */
static bool eat_newline(fs_csv_reader *r)
{
    if (r->pos >= r->len)
        return false;
    if (r->buf[r->pos] == '\r') {
        r->pos++;
        if (r->pos < r->len && r->buf[r->pos] == '\n')
            r->pos++;
    } else if (r->buf[r->pos] == '\n') {
        r->pos++;
    } else {
        return false;
    }
    r->line++;
    return true;
}

/* After a malformed row: skip to just past the end of the current line. */
static void skip_line(fs_csv_reader *r)
{
    while (r->pos < r->len && !eat_newline(r))
        r->pos++;
}

/* Reads a quoted field starting at the opening quote. */
static const char unterminated[] = "a quoted field is not closed (missing \")";

static int read_quoted(fs_csv_reader *r, field_buf *b, const char **why)
{
    r->pos++; /* opening quote */
    for (;;) {
        if (r->pos >= r->len) {
            *why = unterminated;
            return FS_ECORRUPT;
        }
        char c = r->buf[r->pos];
        if (c == '"') {
            if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
                r->pos += 2;
                if (field_put(b, '"') != 0)
                    return FS_ENOMEM;
                continue;
            }
            r->pos++;
            return 0;
        }
        if (c == '\0') {
            *why = "NUL byte in a field";
            return FS_ECORRUPT;
        }
        if (c == '\r' || c == '\n') {
            /* Keep the line end as data, normalised to \n, and count it. */
            eat_newline(r);
            c = '\n';
        } else {
            r->pos++;
        }
        if (b->n >= FS_CSV_MAX_FIELD) {
            *why = "a field is longer than 1 MiB";
            return FS_ETOOBIG;
        }
        if (field_put(b, c) != 0)
            return FS_ENOMEM;
    }
}

static int read_unquoted(fs_csv_reader *r, field_buf *b, const char **why)
{
    while (r->pos < r->len) {
        char c = r->buf[r->pos];
        if (c == ',' || c == '\r' || c == '\n')
            return 0;
        if (c == '\0') {
            *why = "NUL byte in a field";
            return FS_ECORRUPT;
        }
        if (c == '"') {
            *why = "a quote inside a field that does not start with one (quote the whole field "
                   "and double the quote: \"5\"\" pipe\")";
            return FS_ECORRUPT;
        }
        if (b->n >= FS_CSV_MAX_FIELD) {
            *why = "a field is longer than 1 MiB";
            return FS_ETOOBIG;
        }
        if (field_put(b, c) != 0)
            return FS_ENOMEM;
        r->pos++;
    }
    return 0;
}

/* Reads one row's fields; on failure *why says what went wrong. */
static int read_row(fs_csv_reader *r, fs_csv_row *row, field_buf *b, const char **why)
{
    for (;;) {
        int rc = (r->pos < r->len && r->buf[r->pos] == '"') ? read_quoted(r, b, why)
                                                            : read_unquoted(r, b, why);
        if (rc != 0)
            return rc;
        if ((rc = row_add(row, b)) != 0) {
            if (rc == FS_ETOOBIG)
                *why = "more than 512 fields";
            return rc;
        }
        if (r->pos >= r->len || eat_newline(r))
            return 0;
        if (r->buf[r->pos] != ',') {
            *why = "text after the closing quote of a field (a quote inside a quoted field "
                   "must be doubled: \"\")";
            return FS_ECORRUPT;
        }
        r->pos++;
    }
}

/* The last physical line of the row just read (its line end is consumed). */
static size_t last_line(const fs_csv_reader *r, size_t start)
{
    bool ended = r->pos > start && (r->buf[r->pos - 1] == '\n' || r->buf[r->pos - 1] == '\r');
    return r->line - (ended ? 1 : 0);
}

int fs_csv_next(fs_csv_reader *r, fs_csv_row *row, fs_err *err)
{
    fs_csv_row_clear(row);
    while (eat_newline(r)) /* blank lines */
        ;
    if (r->pos >= r->len)
        return 0;
    size_t line = r->line, start = r->pos;
    row->line = line;
    field_buf b = {0};
    const char *why = NULL;
    int rc = read_row(r, row, &b, &why);
    free(b.p);
    size_t last = rc == 0 ? last_line(r, start) : r->line;
    if (rc == 0 && (r->fields == 0 || row->n == r->fields || last == line))
        return 1; /* a short or long row on one line is the caller's to report */
    fs_csv_row_clear(row);
    row->line = line;
    if (rc == FS_ENOMEM)
        return fs_err_set(err, rc, "out of memory reading CSV line %zu", line);
    /* Only this physical line is lost: the lines a stray quote ran over are
     * read again as rows of their own. */
    r->pos = start;
    r->line = line;
    skip_line(r);
    if (last != line)
        return fs_err_set(err, FS_ECORRUPT,
                          "line %zu: a quote opens a field that runs %s (a stray quote? a "
                          "field holding a quote must be quoted whole, the quote doubled: "
                          "\"5\"\" pipe\")",
                          line,
                          why == unterminated ? "to the end of the file" : "over the next lines");
    return fs_err_set(err, rc, "line %zu: %s", line, why);
}

static bool needs_quotes(const char *s)
{
    if (s[0] == '\0')
        return false;
    if (s[0] == ' ' || s[strlen(s) - 1] == ' ')
        return true;
    return strpbrk(s, ",\"\r\n") != NULL;
}

int fs_csv_write_row(FILE *f, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = fields[i] ? fields[i] : "";
        if (i > 0 && fputc(',', f) == EOF)
            return FS_EIO;
        if (!needs_quotes(s)) {
            if (fputs(s, f) == EOF && s[0] != '\0')
                return FS_EIO;
            continue;
        }
        if (fputc('"', f) == EOF)
            return FS_EIO;
        for (const char *p = s; *p; p++) {
            if (*p == '"' && fputc('"', f) == EOF)
                return FS_EIO;
            if (fputc(*p, f) == EOF)
                return FS_EIO;
        }
        if (fputc('"', f) == EOF)
            return FS_EIO;
    }
    return fputs("\r\n", f) == EOF ? FS_EIO : 0;
}
