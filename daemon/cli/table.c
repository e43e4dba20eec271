/*
 * table.c: the aligned tables of table.h.
 *
 * Widths are counted in UTF-8 code points, which is right for the Latin,
 * Greek and Cyrillic names a rep's book holds; double-width scripts come out
 * misaligned but never cut inside a character. Truncation takes one column
 * at a time from the widest, so short columns (ids, tiers, dates) stay whole.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "fieldsync/error.h"

static bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t fs_table_text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!is_cont(*p))
            w++;
    return w;
}

char *fs_table_fit(const char *s, size_t width)
{
    size_t total = fs_table_text_width(s);
    bool cut = total > width;
    size_t keep = cut ? (width > 3 ? width - 3 : 0) : total;
    size_t len = strlen(s);
    char *out = malloc(len + 4);
    if (out == NULL)
        return NULL;
    size_t o = 0, cps = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!is_cont(*p)) {
            if (cps == keep)
                break;
            cps++;
        }
        out[o++] = (*p < 0x20 || *p == 0x7F) ? ' ' : (char)*p;
    }
    if (cut)
        for (size_t i = 0; i < 3 && i < width; i++)
            out[o++] = '.';
    out[o] = '\0';
    return out;
}

int fs_table_init(fs_table *t, const char *const *headers, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    if (ncols == 0 || ncols > FS_TABLE_MAX_COLS)
        return FS_EINVAL;
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        t->headers[i] = strdup(headers[i] ? headers[i] : "");
        if (t->headers[i] == NULL) {
            fs_table_clear(t);
            return FS_ENOMEM;
        }
    }
    return 0;
}

void fs_table_clear(fs_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->ncols; i++)
        free(t->headers[i]);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void fs_table_align_right(fs_table *t, size_t col)
{
    if (col < t->ncols)
        t->right[col] = true;
}

int fs_table_add_row(fs_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, sizeof(*c) * cap * t->ncols);
        if (c == NULL)
            return FS_ENOMEM;
        t->cells = c;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        const char *s = cells[i] ? cells[i] : "";
        row[i] = fs_table_fit(s, (size_t)-1); /* sanitised copy */
        if (row[i] == NULL) {
            while (i-- > 0)
                free(row[i]);
            return FS_ENOMEM;
        }
    }
    t->nrows++;
    return 0;
}

/* Column widths, shrunk until the table fits max_width (0: no limit). */
static void compute_widths(const fs_table *t, size_t max_width, size_t *w)
{
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = fs_table_text_width(t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = fs_table_text_width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    if (max_width == 0)
        return;
    for (;;) {
        size_t total = 2 * (t->ncols - 1), widest = 0;
        for (size_t c = 0; c < t->ncols; c++) {
            total += w[c];
            if (w[c] > w[widest])
                widest = c;
        }
        if (total <= max_width || w[widest] <= FS_TABLE_MIN_COL)
            return;
        w[widest]--;
    }
}

static int print_cell(FILE *f, const char *s, size_t width, bool right, bool last)
{
    char *fit = fs_table_fit(s, width);
    if (fit == NULL)
        return FS_ENOMEM;
    size_t pad = width - fs_table_text_width(fit);
    int rc = 0;
    if (right)
        rc |= fprintf(f, "%*s", (int)pad, "") < 0;
    rc |= fputs(fit, f) == EOF && fit[0] != '\0';
    if (!right && !last)
        rc |= fprintf(f, "%*s", (int)pad, "") < 0;
    if (!last)
        rc |= fputs("  ", f) == EOF;
    free(fit);
    return rc ? FS_EIO : 0;
}

/* A row goes through a memory stream so trailing blanks (empty last cells) can go. */
static int print_row(const fs_table *t, FILE *f, char *const *cells, const size_t *w)
{
    char *line = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&line, &len);
    if (m == NULL)
        return FS_ENOMEM;
    int rc = 0;
    for (size_t c = 0; rc == 0 && c < t->ncols; c++)
        rc = print_cell(m, cells[c], w[c], t->right[c], c + 1 == t->ncols);
    if (fclose(m) != 0 && rc == 0)
        rc = FS_ENOMEM;
    while (rc == 0 && len > 0 && line[len - 1] == ' ')
        line[--len] = '\0';
    if (rc == 0 && fprintf(f, "%s\n", line) < 0)
        rc = FS_EIO;
    free(line);
    return rc;
}

int fs_table_print(const fs_table *t, FILE *f, size_t max_width)
{
    size_t w[FS_TABLE_MAX_COLS];
    compute_widths(t, max_width, w);
    int rc = print_row(t, f, t->headers, w);
    for (size_t r = 0; rc == 0 && r < t->nrows; r++)
        rc = print_row(t, f, t->cells + r * t->ncols, w);
    return rc;
}
