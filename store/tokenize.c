/*
 * tokenize.c: the search index's FTS5 tokenizer "fieldsync".
 *
 * unicode61 splits text at spaces and punctuation, which is right for the
 * Latin, Greek and Cyrillic words of most books, but Chinese and Japanese put
 * no spaces between words: a whole sentence became one token, and a word
 * inside it could not be found. This tokenizer hands every stretch of text
 * that is not CJK to unicode61 (with the table's arguments: diacritics
 * removed) and makes each CJK character (Han, kana, Hangul) a token of its
 * own. A query is tokenized the same way, and the search's words are quoted
 * phrases (search.c), so "北京" matches the two characters next to each other,
 * anywhere in a sentence, and a single character matches wherever it stands:
 * queries of one or two characters work, with no minimum length. Latin words
 * keep their word and prefix matching.
 *
 * The tokenizer is registered on every connection the store opens, before
 * anything touches the FTS table (schema.c's version 6 moved the table to it),
 * with the function the index's content view reads (search_text.c).
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#define TOKENIZER_NAME "fieldsync"
/* The lowest UTF-8 lead byte of a CJK character (U+1100 is E1 84 80): the
 * bytes below it (ASCII, continuation bytes, two-byte leads, E0) are
 * skipped (next_cjk_lead), and land on the same characters as decoding
 * would. */
#define CJK_LEAD_MIN 0xE1

typedef struct cjk_tokenizer {
    fts5_tokenizer inner; /* unicode61's methods */
    Fts5Tokenizer *words; /* the unicode61 instance for text between CJK characters */
} cjk_tokenizer;

/* Whether code point c is a CJK character: an ideograph, a kana or a Hangul
 * letter (CJK punctuation and the katakana middle dot are separators). */
static bool is_cjk(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x11FF) || (c >= 0x2E80 && c <= 0x2FDF) ||
           (c >= 0x3041 && c <= 0x30FA) || (c >= 0x30FC && c <= 0x31FF) ||
           (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0xA960 && c <= 0xA97F) || (c >= 0xAC00 && c <= 0xD7FF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF66 && c <= 0xFF9F) ||
           (c >= 0x20000 && c <= 0x3FFFF);
}

/* The code point at s[0..n) and its length in bytes (1 for a malformed byte,
 * which then counts as no CJK character). */
static int utf8_next(const unsigned char *s, int n, uint32_t *c)
{
    int len = s[0] < 0x80           ? 1
              : (s[0] >> 5) == 0x6  ? 2
              : (s[0] >> 4) == 0xE  ? 3
              : (s[0] >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || len > n) {
        *c = 0xFFFD;
        return 1;
    }
    *c = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> len));
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *c = 0xFFFD;
            return 1;
        }
        *c = (*c << 6) | (s[i] & 0x3F);
    }
    return len;
}

/* unicode61's tokens of a stretch, moved to the stretch's place in the text. */
typedef struct shifted {
    void *ctx;
    int (*token)(void *ctx, int flags, const char *tok, int n, int start, int end);
    int offset;
} shifted;

static int shift_token(void *arg, int flags, const char *tok, int n, int start, int end)
{
    shifted *s = arg;
    return s->token(s->ctx, flags, tok, n, start + s->offset, end + s->offset);
}

static int words(cjk_tokenizer *t, shifted *sh, int flags, const char *text, int from, int to)
{
    if (to <= from)
        return SQLITE_OK;
    sh->offset = from;
    return t->inner.xTokenize(t->words, sh, flags, text + from, to - from, shift_token);
}

/* The first i' >= i where a CJK character could start (n if none): eight
 * ASCII bytes at a time, the rest one by one. Looking at each byte alone was
 * 12% of tokenizing a note (store.md). */
static int next_cjk_lead(const unsigned char *s, int i, int n)
{
    while (i < n) {
        uint64_t w;
        if (n - i >= (int)sizeof(w)) {
            memcpy(&w, s + i, sizeof(w));
            if ((w & UINT64_C(0x8080808080808080)) == 0) { /* all below 0x80 */
                i += (int)sizeof(w);
                continue;
            }
        }
        if (s[i] >= CJK_LEAD_MIN)
            return i;
        i++;
    }
    return n;
}

static int cjk_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int n,
                        int (*token)(void *, int, const char *, int, int, int))
{
    cjk_tokenizer *t = (cjk_tokenizer *)tok;
    shifted sh = {.ctx = ctx, .token = token};
    const unsigned char *s = (const unsigned char *)text;
    int rc = SQLITE_OK, run = 0, i = 0;
    while (rc == SQLITE_OK && (i = next_cjk_lead(s, i, n)) < n) {
        uint32_t c;
        int len = utf8_next(s + i, n - i, &c);
        if (is_cjk(c)) {
            rc = words(t, &sh, flags, text, run, i);
            if (rc == SQLITE_OK)
                rc = token(ctx, 0, text + i, len, i, i + len);
            run = i + len;
        }
        i += len;
    }
    return rc == SQLITE_OK ? words(t, &sh, flags, text, run, n) : rc;
}

static void cjk_delete(Fts5Tokenizer *tok)
{
    cjk_tokenizer *t = (cjk_tokenizer *)tok;
    if (t != NULL && t->words != NULL)
        t->inner.xDelete(t->words);
    free(t);
}

/* arg is the fts5_api: the table's arguments go to unicode61. */
static int cjk_create(void *arg, const char **argv, int argc, Fts5Tokenizer **out)
{
    fts5_api *api = arg;
    void *inner_ctx = NULL;
    cjk_tokenizer *t = calloc(1, sizeof(*t));
    *out = NULL;
    if (t == NULL)
        return SQLITE_NOMEM;
    int rc = api->xFindTokenizer(api, "unicode61", &inner_ctx, &t->inner);
    if (rc == SQLITE_OK)
        rc = t->inner.xCreate(inner_ctx, argv, argc, &t->words);
    if (rc != SQLITE_OK) {
        free(t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

/* The tokenizer alone. */
static int register_tokenizer(sqlite3 *db, fs_err *err)
{
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(s);
    }
    sqlite3_finalize(s);
    if (api == NULL)
        return fs_err_set(err, FS_EVERSION, "this SQLite has no FTS5: search needs it");
    fts5_tokenizer methods = {cjk_create, cjk_delete, cjk_tokenize};
    int rc = api->xCreateTokenizer(api, TOKENIZER_NAME, api, &methods, NULL);
    return rc == SQLITE_OK ? 0
                           : fs_err_set(err, FS_EIO, "registering the search tokenizer: %s",
                                        sqlite3_errstr(rc));
}

int fs_store_register_search(sqlite3 *db, fs_err *err)
{
    int rc = register_tokenizer(db, err);
    return rc == 0 ? fs_store_register_search_text(db, err) : rc;
}
