/*
 * table.c: the aligned tables of table.h.
 *
 * Widths are counted in UTF-8 code points, which is right for the Latin,
 * Greek and Cyrillic names a rep's book holds; double-width scripts come out
 * misaligned but never cut inside a character. Truncation takes one column
 * at a time from the widest, so short columns (tiers, dates) stay whole; a
 * column kept whole (ids) is never cut, and when the others cannot shrink any
 * more, the rightmost of them are left out: a cut id is useless, a missing
 * column is only less to read.
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

void fs_table_keep_whole(fs_table *t, size_t col)
{
    if (col < t->ncols)
        t->whole[col] = true;
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

/* The narrowest a column can be made. */
static size_t min_width(const fs_table *t, size_t c, size_t natural)
{
    return t->whole[c] || natural < FS_TABLE_MIN_COL ? natural : FS_TABLE_MIN_COL;
}

/* Width of the shown columns with their separators, each at its width in w. */
static size_t total_width(const fs_table *t, const size_t *w)
{
    size_t total = 0, shown = 0;
    for (size_t c = 0; c < t->ncols; c++)
        if (w[c] > 0) {
            total += w[c];
            shown++;
        }
    return total + (shown > 0 ? 2 * (shown - 1) : 0);
}

/*
 * Column widths for max_width (0: no limit); 0 marks a column left out. First
 * the rightmost columns that can be cut are left out while the table does not
 * fit even with every column at its narrowest (the first such column stays);
 * then the widest column that can be cut loses a character at a time.
 */
static void compute_widths(const fs_table *t, size_t max_width, size_t *w)
{
    size_t narrow[FS_TABLE_MAX_COLS];
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = fs_table_text_width(t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = fs_table_text_width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
        if (w[c] == 0)
            w[c] = 1; /* an empty column still takes its place */
        narrow[c] = min_width(t, c, w[c]);
    }
    if (max_width == 0)
        return;
    for (size_t c = t->ncols; c-- > 0 && total_width(t, narrow) > max_width;) {
        bool first_cuttable = true;
        for (size_t p = 0; p < c; p++)
            first_cuttable &= t->whole[p];
        if (!t->whole[c] && !first_cuttable)
            narrow[c] = w[c] = 0;
    }
    for (;;) {
        size_t widest = t->ncols;
        for (size_t c = 0; c < t->ncols; c++)
            if (w[c] > narrow[c] && (widest == t->ncols || w[c] > w[widest]))
                widest = c;
        if (total_width(t, w) <= max_width || widest == t->ncols)
            return;
        w[widest]--;
    }
}

size_t fs_table_hidden(const fs_table *t, size_t max_width)
{
    size_t w[FS_TABLE_MAX_COLS], n = 0;
    compute_widths(t, max_width, w);
    for (size_t c = 0; c < t->ncols; c++)
        n += w[c] == 0;
    return n;
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

/* A row goes through a memory stream so trailing blanks (empty last cells) can go.
 * Columns of width 0 are left out. */
static int print_row(const fs_table *t, FILE *f, char *const *cells, const size_t *w)
{
    char *line = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&line, &len);
    if (m == NULL)
        return FS_ENOMEM;
    size_t last = t->ncols - 1;
    while (last > 0 && w[last] == 0)
        last--;
    int rc = 0;
    for (size_t c = 0; rc == 0 && c <= last; c++)
        if (w[c] > 0)
            rc = print_cell(m, cells[c], w[c], t->right[c], c == last);
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
