/*
 * test_store_records.c: local puts, gets and deletes and the reads built on the
 * projections (lists with keyset pagination, search, follow-ups, what reports read,
 * conflicts) on real data, that every list query runs on an index, and that
 * bad input is refused without leaving anything behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store.h"
#include "store_int.h"
#include "store_test_util.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT
#define VISIT FIELDSYNC__RECORD_KIND__VISIT
#define OPPORTUNITY FIELDSYNC__RECORD_KIND__OPPORTUNITY

typedef struct fixture {
    char *dir;
    fs_store *st;
    uint64_t now_ms;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp();
    f->st = tu_open_plain(f->dir);
    f->now_ms = 1700000000000ull;
    fs_store_set_clock(f->st, tu_clock, &f->now_ms);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fs_store_close(f->st);
    tu_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static Fieldsync__Account *get_account(fs_store *st, const char *id)
{
    ProtobufCMessage *m = NULL;
    fs_err err;
    fs_err_clear(&err);
    int rc = fs_store_get(st, ACCOUNT, id, NULL, &m, &err);
    if (rc != 0)
        fail_msg("get %s: %s", id, fs_err_message(&err));
    return (Fieldsync__Account *)m;
}

static size_t outbox_len(fs_store *st)
{
    size_t n = 0;
    assert_int_equal(fs_outbox_count(st, -1, &n, NULL), 0);
    return n;
}

static void put_then_partial_update_keeps_unwritten_fields(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Hansen Fleet Services", 5, "rep1", "Bremen", "met at fair");
    Fieldsync__Account upd = FIELDSYNC__ACCOUNT__INIT;
    upd.has_tier = 1;
    upd.tier = FIELDSYNC__ACCOUNT__TIER__PROSPECT;
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "a1", &upd.base, NULL, 0, NULL), 0);

    Fieldsync__Account *a = get_account(f->st, "a1");
    assert_string_equal(a->id, "a1");
    assert_string_equal(a->name, "Hansen Fleet Services");
    assert_int_equal(a->tier, FIELDSYNC__ACCOUNT__TIER__PROSPECT);
    assert_string_equal(a->address->city, "Bremen");
    protobuf_c_message_free_unpacked(&a->base, NULL);

    uint32_t cleared[] = {15}; /* notes */
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "a1", NULL, cleared, 1, NULL), 0);
    a = get_account(f->st, "a1");
    assert_null(a->notes);
    assert_string_equal(a->name, "Hansen Fleet Services");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    assert_int_equal(outbox_len(f->st), 1); /* the record's changes wait as one entry */
}

static void delete_hides_record_but_keeps_its_state(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Doomed GmbH", 5, "rep1", NULL, NULL);
    assert_int_equal(fs_store_delete(f->st, ACCOUNT, "a1", NULL), 0);
    fs_state *s = NULL;
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "a1", &s, &m, NULL), 0);
    assert_null(m);
    assert_false(fs_record_alive(s));
    fs_state_free(s);
    assert_int_equal(fs_store_delete(f->st, ACCOUNT, "a1", NULL), FS_ENOTFOUND);
    assert_int_equal(fs_store_delete(f->st, ACCOUNT, "never", NULL), FS_ENOTFOUND);
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "never", &s, NULL, NULL), FS_ENOTFOUND);

    fs_list_query q = {.kind = ACCOUNT};
    fs_list_page page;
    assert_int_equal(fs_store_list(f->st, &q, &page, NULL), 0);
    assert_int_equal(page.n, 0);
    fs_list_page_clear(&page);
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(f->st, "Doomed", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 0);
    fs_search_hits_free(hits, n);

    tu_put_account(f->st, "a1", NULL, 4, NULL, NULL, NULL); /* a write revives it */
    Fieldsync__Account *a = get_account(f->st, "a1");
    assert_non_null(a);
    assert_string_equal(a->name, "Doomed GmbH");
    protobuf_c_message_free_unpacked(&a->base, NULL);
}

static void bad_puts_are_refused_and_leave_nothing(void **state)
{
    fixture *f = *state;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    char longid[FS_STORE_ID_MAX + 2];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    fs_err err;
    assert_int_equal(fs_store_put(f->st, 0, "a", &a.base, NULL, 0, &err), FS_EINVAL);
    assert_int_equal(fs_store_put(f->st, 99, "a", &a.base, NULL, 0, &err), FS_EINVAL);
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "", &a.base, NULL, 0, &err), FS_EINVAL);
    assert_int_equal(fs_store_put(f->st, ACCOUNT, NULL, &a.base, NULL, 0, &err), FS_EINVAL);
    assert_int_equal(fs_store_put(f->st, ACCOUNT, longid, &a.base, NULL, 0, &err), FS_EINVAL);
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "a", &v.base, NULL, 0, &err), FS_EINVAL);
    assert_non_null(strstr(fs_err_message(&err), "not a account"));
    assert_int_equal(outbox_len(f->st), 0);
    assert_int_equal(fs_store_get(f->st, ACCOUNT, "a", NULL, NULL, NULL), FS_ENOTFOUND);
}

static const char *const names[] = {
    "Alpen Bau",   "bergmann AG", "Carl Cranes", "Delta Dock",   "Elbe Energie", "Fjord Foods",
    "Gamma Glas",  "Hafen Holz",  "Iser Iron",   "Jade Jets",    "Kiel Kabel",   "Lech Logistik",
    "Main Metall", "Neckar Nutz", "Oder Oel",    "Pegnitz Pack", "Quelle Quarz", "Rhein Rohr",
    "Saale Salz",  "Tauber Tech", "Ulm Union",   "Vils Verkehr", "Weser Werft",  "Xanten Xtra"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void fill_accounts(fs_store *st)
{
    char id[16];
    for (size_t i = 0; i < NNAMES; i++) {
        snprintf(id, sizeof(id), "acc%02zu", (NNAMES - i) % NNAMES); /* ids not in name order */
        tu_put_account(st, id, names[i], 1 + (int)(i % 5), i % 2 ? "rep2" : "rep1",
                       i % 3 ? "Hamburg" : "Bremen", NULL);
    }
}

/* Walks all pages of q, checking each page's size and that names ascend. */
static size_t walk_pages(fs_store *st, fs_list_query q, size_t page_size, const char **seen)
{
    size_t total = 0;
    char *cursor = NULL;
    q.limit = page_size;
    for (int guard = 0; guard < 100; guard++) {
        fs_list_page page;
        q.cursor = cursor;
        assert_int_equal(fs_store_list(st, &q, &page, NULL), 0);
        free(cursor);
        cursor = page.next_cursor != NULL ? strdup(page.next_cursor) : NULL;
        assert_true(page.n <= page_size);
        for (size_t i = 0; i < page.n; i++) {
            const Fieldsync__Account *a = (const Fieldsync__Account *)page.items[i].msg;
            seen[total] = strdup(a->name);
            if (total > 0) {
                int cmp = strcasecmp(seen[total - 1], seen[total]);
                assert_true(q.descending ? cmp > 0 : cmp < 0);
            }
            total++;
        }
        fs_list_page_clear(&page);
        if (cursor == NULL)
            return total;
    }
    fail_msg("pagination did not end");
    return 0;
}

static void list_pages_through_every_match_once_in_order(void **state)
{
    fixture *f = *state;
    fill_accounts(f->st);
    const char *seen[NNAMES];
    for (size_t ps = 1; ps <= 7; ps += 3) {
        fs_list_query all = {.kind = ACCOUNT};
        assert_int_equal(walk_pages(f->st, all, ps, seen), NNAMES);
        assert_string_equal(seen[1], "bergmann AG"); /* case-insensitive order */
        for (size_t i = 0; i < NNAMES; i++)
            free((char *)seen[i]);
        all.descending = true;
        assert_int_equal(walk_pages(f->st, all, ps, seen), NNAMES);
        assert_string_equal(seen[0], "Xanten Xtra");
        for (size_t i = 0; i < NNAMES; i++)
            free((char *)seen[i]);
    }
    fs_list_query tier = {.kind = ACCOUNT, .tier = 2, .owner = "rep2"};
    assert_int_equal(walk_pages(f->st, tier, 2, seen), 3); /* i = 1, 11, 21 */
    for (size_t i = 0; i < 3; i++)
        free((char *)seen[i]);
    fs_list_query city = {.kind = ACCOUNT, .city = "bremen"};
    assert_int_equal(walk_pages(f->st, city, 5, seen), NNAMES / 3);
    for (size_t i = 0; i < NNAMES / 3; i++)
        free((char *)seen[i]);
}

static void list_pages_past_long_names_and_any_bytes_in_keys(void **state)
{
    fixture *f = *state;
    char *longest = malloc(FS_RECORD_TEXT_MAX + 1);
    assert_non_null(longest);
    memset(longest, 'M', FS_RECORD_TEXT_MAX);
    longest[FS_RECORD_TEXT_MAX] = '\0';
    char mid[601];
    memset(mid, 'K', 600);
    mid[600] = '\0';
    tu_put_account(f->st,
                   "a\x1f"
                   "1",
                   "A\x1f"
                   "first",
                   1, NULL, NULL, NULL);
    tu_put_account(f->st, "a2", mid, 1, NULL, NULL, NULL); /* a cursor once held 512 bytes */
    tu_put_account(f->st, "a3", longest, 1, NULL, NULL, NULL);
    tu_put_account(f->st, "a4", "Zeta", 1, NULL, NULL, NULL);
    const char *seen[4];
    fs_list_query q = {.kind = ACCOUNT};
    assert_int_equal(walk_pages(f->st, q, 1, seen), 4);
    assert_string_equal(seen[0], "A\x1f"
                                 "first");
    assert_string_equal(seen[3], "Zeta");
    for (size_t i = 0; i < 4; i++)
        free((char *)seen[i]);
    q.descending = true;
    assert_int_equal(walk_pages(f->st, q, 1, seen), 4);
    for (size_t i = 0; i < 4; i++)
        free((char *)seen[i]);
    free(longest);
}

static void damaged_record_is_marked_not_a_failed_page(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Alpen Bau", 1, NULL, NULL, NULL);
    tu_put_account(f->st, "a2", "Berg Bau", 1, NULL, NULL, NULL);
    tu_put_account(f->st, "a3", "Carl Cranes", 1, NULL, NULL, NULL);
    assert_int_equal(sqlite3_exec(f->st->db, "UPDATE records SET state = x'ff' WHERE id = 'a2'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    fs_list_query q = {.kind = ACCOUNT};
    fs_list_page page;
    assert_int_equal(fs_store_list(f->st, &q, &page, NULL), 0);
    assert_int_equal(page.n, 3);
    assert_non_null(page.items[0].msg);
    assert_null(page.items[0].damaged);
    assert_string_equal(page.items[1].id, "a2");
    assert_null(page.items[1].msg);
    assert_non_null(page.items[1].damaged);
    assert_non_null(page.items[2].msg);
    fs_list_page_clear(&page);
}

static void list_refuses_bad_cursor_and_foreign_filters(void **state)
{
    fixture *f = *state;
    fill_accounts(f->st);
    fs_list_page page;
    fs_err err;
    const char *bad[] = {"zz", "00", "7331", "69317865", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fs_list_query q = {.kind = ACCOUNT, .cursor = bad[i]};
        assert_int_equal(fs_store_list(f->st, &q, &page, &err), FS_EINVAL);
        assert_int_equal(page.n, 0);
    }
    fs_list_query q = {.kind = ACCOUNT, .limit = 3};
    fs_list_page first;
    assert_int_equal(fs_store_list(f->st, &q, &first, NULL), 0);
    fs_list_query visits = {.kind = VISIT, .cursor = first.next_cursor}; /* text key, int sort */
    assert_int_equal(fs_store_list(f->st, &visits, &page, &err), FS_EINVAL);
    fs_list_page_clear(&first);
    fs_list_query tier_on_visits = {.kind = VISIT, .tier = 1};
    assert_int_equal(fs_store_list(f->st, &tier_on_visits, &page, &err), FS_EINVAL);
    fs_list_query unknown = {.kind = 42};
    assert_int_equal(fs_store_list(f->st, &unknown, &page, &err), FS_EINVAL);
}

static void visits_list_by_account_in_planned_order(void **state)
{
    fixture *f = *state;
    tu_put_visit(f->st, "v3", "a1", 3000, "third", NULL, NULL, false);
    tu_put_visit(f->st, "v1", "a1", 1000, "first", NULL, NULL, false);
    tu_put_visit(f->st, "v9", "a2", 2000, "other account", NULL, NULL, false);
    tu_put_visit(f->st, "v2", "a1", 2000, "second", NULL, NULL, false);
    fs_list_query q = {.kind = VISIT, .account_id = "a1", .limit = 2};
    fs_list_page page;
    assert_int_equal(fs_store_list(f->st, &q, &page, NULL), 0);
    assert_int_equal(page.n, 2);
    assert_string_equal(page.items[0].id, "v1");
    assert_string_equal(page.items[1].id, "v2");
    q.cursor = page.next_cursor;
    fs_list_page next;
    assert_int_equal(fs_store_list(f->st, &q, &next, NULL), 0);
    assert_int_equal(next.n, 1);
    assert_string_equal(next.items[0].id, "v3");
    assert_null(next.next_cursor);
    fs_list_page_clear(&next);
    fs_list_page_clear(&page);
}

static void contacts_deals_and_transactions_list_per_account(void **state)
{
    fixture *f = *state;
    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    c.account_id = "a1";
    c.name = "zora Ziegler";
    assert_int_equal(
        fs_store_put(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c1", &c.base, NULL, 0, NULL), 0);
    c.name = "Anton Adler";
    assert_int_equal(
        fs_store_put(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c2", &c.base, NULL, 0, NULL), 0);
    c.account_id = "a2";
    assert_int_equal(
        fs_store_put(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c3", &c.base, NULL, 0, NULL), 0);
    Fieldsync__Transaction t = FIELDSYNC__TRANSACTION__INIT;
    Fieldsync__Money m = FIELDSYNC__MONEY__INIT;
    t.account_id = "a1";
    t.amount = &m;
    const char *dates[] = {"2026-02-01", "2025-11-30", "2026-01-15"};
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof(id), "t%d", i);
        t.date = (char *)dates[i];
        assert_int_equal(
            fs_store_put(f->st, FIELDSYNC__RECORD_KIND__TRANSACTION, id, &t.base, NULL, 0, NULL),
            0);
    }
    tu_put_opportunity(f->st, "o1", "a1", 4, "2026-02-10", 1);
    tu_put_opportunity(f->st, "o2", "a2", 4, "2026-01-10", 1);
    tu_put_opportunity(f->st, "o3", "a1", 3, "2026-01-01", 1);

    fs_list_page p;
    fs_list_query qc = {.kind = FIELDSYNC__RECORD_KIND__CONTACT, .account_id = "a1"};
    assert_int_equal(fs_store_list(f->st, &qc, &p, NULL), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].id, "c2");
    assert_string_equal(p.items[1].id, "c1");
    fs_list_page_clear(&p);
    fs_list_query qt = {
        .kind = FIELDSYNC__RECORD_KIND__TRANSACTION, .account_id = "a1", .descending = true};
    assert_int_equal(fs_store_list(f->st, &qt, &p, NULL), 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.items[0].id, "t0");
    assert_string_equal(p.items[2].id, "t1");
    fs_list_page_clear(&p);
    fs_list_query qo = {.kind = OPPORTUNITY, .stage = 4};
    assert_int_equal(fs_store_list(f->st, &qo, &p, NULL), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].id, "o2");
    assert_string_equal(p.items[1].id, "o1");
    fs_list_page_clear(&p);
}

static void search_finds_names_and_notes_by_word_prefix(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Müller Kältetechnik", 3, "rep1", "Köln", NULL);
    tu_put_visit(f->st, "v1", "a1", 1000, "present the refrigeration retrofit",
                 "send quote for compressor", "2026-12-01", false);
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(f->st, "muller", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 1); /* diacritics folded */
    assert_int_equal(hits[0].kind, ACCOUNT);
    assert_string_equal(hits[0].id, "a1");
    assert_non_null(strstr(hits[0].snippet, "[Müller]"));
    fs_search_hits_free(hits, n);

    assert_int_equal(fs_store_search(f->st, "compress quot", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].id, "v1");
    fs_search_hits_free(hits, n);
    /* Punctuation and quotes from a user are words, not syntax. */
    assert_int_equal(fs_store_search(f->st, "O'Brien \"AND ( -x*", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 0);
    fs_search_hits_free(hits, n);
    assert_int_equal(fs_store_search(f->st, "   ", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 0);
    fs_err err;
    assert_int_equal(fs_store_search(f->st, "AND AND (", FS_SEARCH_RAW, 10, &hits, &n, &err),
                     FS_EINVAL);
    assert_non_null(strstr(fs_err_message(&err), "search query"));
    assert_int_equal(
        fs_store_search(f->st, "retro* OR nothing", FS_SEARCH_RAW, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 1);
    fs_search_hits_free(hits, n);
}

/* The ids of the hits of query, in order, joined by ' '. */
static void search_ids(fs_store *st, const char *query, char *out, size_t size)
{
    fs_search_hit *hits = NULL;
    size_t n = 0, o = 0;
    fs_err err;
    if (fs_store_search(st, query, 0, 10, &hits, &n, &err) != 0)
        fail_msg("search %s: %s", query, fs_err_message(&err));
    out[0] = '\0';
    for (size_t i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? " " : "", hits[i].id);
    fs_search_hits_free(hits, n);
}

static void search_finds_cjk_words_inside_sentences(void **state)
{
    fixture *f = *state;
    char ids[256];
    tu_put_account(f->st, "a1", "华东液压机械有限公司", 3, "rep1", "上海", NULL);
    tu_put_visit(f->st, "v1", "a1", 1000, "客户希望在北京建立第二条生产线", NULL, NULL, false);
    tu_put_visit(f->st, "v2", "a1", 2000, "東京で会議の日程を決めた", NULL, NULL, false);
    tu_put_visit(f->st, "v3", "a1", 3000, "서울에서 미팅", NULL, NULL, false);
    tu_put_visit(f->st, "v4", "a1", 4000, "hydraulic press line in Köln", NULL, NULL, false);
    search_ids(f->st, "北京", ids, sizeof(ids)); /* a two-character word mid-sentence */
    assert_string_equal(ids, "v1");
    search_ids(f->st, "液压", ids, sizeof(ids)); /* inside the account's name */
    assert_string_equal(ids, "a1");
    search_ids(f->st, "生产线 北京", ids, sizeof(ids)); /* words in any order: both */
    assert_string_equal(ids, "v1");
    search_ids(f->st, "京", ids, sizeof(ids)); /* one character: wherever it stands */
    assert_true(strcmp(ids, "v1 v2") == 0 || strcmp(ids, "v2 v1") == 0);
    search_ids(f->st, "会議", ids, sizeof(ids));
    assert_string_equal(ids, "v2");
    search_ids(f->st, "서울", ids, sizeof(ids));
    assert_string_equal(ids, "v3");
    search_ids(f->st, "北海", ids, sizeof(ids)); /* both characters, but not together */
    assert_string_equal(ids, "");
    search_ids(f->st, "hydr koln", ids, sizeof(ids)); /* Latin words: prefixes, as before */
    assert_string_equal(ids, "v4");
    /* CJK right after letters of two bytes (ü, é) and of three bytes below
     * U+1000 (Devanagari, lead byte E0), which the tokenizer passes over
     * without decoding */
    tu_put_visit(f->st, "v5", "a1", 5000, "Müller广州café", NULL, NULL, false);
    tu_put_visit(f->st, "v6", "a1", 6000, "ठीक深圳", NULL, NULL, false);
    search_ids(f->st, "广州", ids, sizeof(ids));
    assert_string_equal(ids, "v5");
    search_ids(f->st, "muller cafe", ids, sizeof(ids));
    assert_string_equal(ids, "v5");
    search_ids(f->st, "深圳", ids, sizeof(ids));
    assert_string_equal(ids, "v6");
    search_ids(f->st, "ठीक", ids, sizeof(ids));
    assert_string_equal(ids, "v6");
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(f->st, "北京", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(hits[0].snippet, "[北京]"));
    fs_search_hits_free(hits, n);
}

/* The tokenizer skips ASCII eight bytes at a time: a CJK character is found at
 * every offset from an eight-byte boundary, at the end of the text, and right
 * after a character of two bytes inside an otherwise ASCII word. */
static void search_finds_cjk_at_every_offset(void **state)
{
    fixture *f = *state;
    char ids[64], note[64], id[16];
    tu_put_account(f->st, "a1", "Alder Foods", 3, "rep1", "Leeds", NULL);
    for (int k = 0; k <= 17; k++) {
        snprintf(note, sizeof(note), "%.*s深圳%.*s", k, "abcdefghijklmnopq", 17 - k,
                 "rstuvwxyzabcdefgh");
        snprintf(id, sizeof(id), "v%02d", k);
        tu_put_visit(f->st, id, "a1", 1000 + k, note, NULL, NULL, false);
    }
    tu_put_visit(f->st, "w1", "a1", 2000, "abcdefgé广州 and more", NULL, NULL, false);
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(f->st, "深圳", 0, 50, &hits, &n, NULL), 0);
    assert_int_equal(n, 18);
    bool found[18] = {false};
    for (size_t i = 0; i < n; i++) {
        int k = -1;
        assert_int_equal(sscanf(hits[i].id, "v%d", &k), 1);
        assert_true(k >= 0 && k <= 17 && !found[k]);
        found[k] = true;
    }
    fs_search_hits_free(hits, n);
    search_ids(f->st, "广州", ids, sizeof(ids));
    assert_string_equal(ids, "w1");
    search_ids(f->st, "abcdefge", ids, sizeof(ids)); /* the word before it, diacritic removed */
    assert_string_equal(ids, "w1");
}

static void search_hits_name_their_account(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Alder Foods", 3, "rep1", "Leeds", NULL);
    tu_put_visit(f->st, "v1", "a1", 1000, "quote the chiller", NULL, NULL, false);
    tu_put_visit(f->st, "v2", "a9", 2000, "chiller for an account not here", NULL, NULL, false);
    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    c.account_id = "a1";
    c.name = "Chiller Expert";
    assert_int_equal(
        fs_store_put(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c1", &c.base, NULL, 0, NULL), 0);
    fs_search_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_search(f->st, "chiller", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(hits[i].id, "v2") == 0) {
            assert_string_equal(hits[i].account_id, "a9");
            assert_null(hits[i].account_name);
            continue;
        }
        assert_string_equal(hits[i].account_id, "a1");
        assert_string_equal(hits[i].account_name, "Alder Foods");
        if (strcmp(hits[i].id, "c1") == 0)
            assert_string_equal(hits[i].name, "Chiller Expert");
        else
            assert_null(hits[i].name);
    }
    fs_search_hits_free(hits, n);
    assert_int_equal(fs_store_search(f->st, "alder", 0, 10, &hits, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].account_id, "a1"); /* an account is its own */
    assert_string_equal(hits[0].account_name, "Alder Foods");
    fs_search_hits_free(hits, n);
}

static void followups_due_by_date_exclude_done_and_undated(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Alder Foods", 1, "rep", "Bramley", NULL);
    tu_put_visit(f->st, "v1", "a1", 1, "x", "call back", "2026-03-02", false);
    tu_put_visit(f->st, "v2", "a1", 2, "x", "send quote", "2026-03-01", false);
    tu_put_visit(f->st, "v3", "a2", 3, "x", "bring engineer", "2026-03-05", false);
    tu_put_visit(f->st, "v4", "a2", 4, "x", "done already", "2026-02-01", true);
    tu_put_visit(f->st, "v5", "a2", 5, "x", NULL, NULL, false);
    fs_followup *fu = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_followups_due(f->st, "2026-03-02", 0, &fu, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(fu[0].visit_id, "v2");
    assert_string_equal(fu[0].next_step, "send quote");
    assert_string_equal(fu[1].visit_id, "v1");
    assert_string_equal(fu[1].next_step_date, "2026-03-02");
    assert_string_equal(fu[0].account_name, "Alder Foods");
    fs_followups_free(fu, n);

    Fieldsync__Visit done = FIELDSYNC__VISIT__INIT;
    done.has_next_step_done = 1;
    done.next_step_done = 1;
    assert_int_equal(fs_store_put(f->st, VISIT, "v2", &done.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_store_followups_due(f->st, "2026-12-31", 0, &fu, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(fu[0].visit_id, "v1");
    assert_string_equal(fu[1].visit_id, "v3");
    assert_null(fu[1].account_name); /* a2 is not in the store */
    fs_followups_free(fu, n);
    size_t total = 0;
    assert_int_equal(fs_store_followups_count(f->st, "2026-03-02", &total, NULL), 0);
    assert_int_equal(total, 1);
    assert_int_equal(fs_store_followups_count(f->st, "2026-12-31", &total, NULL), 0);
    assert_int_equal(total, 2);
}

static void put_phones(fs_store *st, fs_kind kind, const char *id, const char *account_id,
                       const char *name, Fieldsync__Phone__Kind k1, const char *n1,
                       Fieldsync__Phone__Kind k2, const char *n2)
{
    Fieldsync__Phone p1 = FIELDSYNC__PHONE__INIT, p2 = FIELDSYNC__PHONE__INIT;
    p1.has_kind = p2.has_kind = 1;
    p1.kind = k1;
    p1.number = (char *)n1;
    p2.kind = k2;
    p2.number = (char *)n2;
    Fieldsync__Phone *phones[] = {&p1, &p2};
    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    ProtobufCMessage *m;
    if (kind == FIELDSYNC__RECORD_KIND__CONTACT) {
        c.account_id = (char *)account_id;
        c.name = (char *)name;
        c.n_phones = 2;
        c.phones = phones;
        m = &c.base;
    } else {
        a.name = (char *)name;
        a.n_phones = 2;
        a.phones = phones;
        m = &a.base;
    }
    assert_int_equal(fs_store_put(st, kind, id, m, NULL, 0, NULL), 0);
}

static void followups_name_the_contact_to_call(void **state)
{
    fixture *f = *state;
    put_phones(f->st, ACCOUNT, "a1", NULL, "Alder Foods", FIELDSYNC__PHONE__KIND__FAX, "fax-a1",
               FIELDSYNC__PHONE__KIND__OFFICE, "office-a1");
    put_phones(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c1", "a1", "Dana Buyer",
               FIELDSYNC__PHONE__KIND__OFFICE, "office-c1", FIELDSYNC__PHONE__KIND__MOBILE,
               "mobile-c1");
    tu_put_visit(f->st, "v1", "a1", 1, "x", "call back", "2026-03-01", false);
    tu_put_visit(f->st, "v2", "a1", 2, "x", "send quote", "2026-03-02", false);
    tu_put_visit(f->st, "v3", "a1", 3, "x", "ask for Kim", "2026-03-03", false);
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    char *with_dana[] = {"c1", "c9"}, *with_kim[] = {"c9"};
    v.n_contact_ids = 2;
    v.contact_ids = with_dana;
    assert_int_equal(fs_store_put(f->st, VISIT, "v1", &v.base, NULL, 0, NULL), 0);
    v.n_contact_ids = 1;
    v.contact_ids = with_kim; /* a contact this store does not hold */
    assert_int_equal(fs_store_put(f->st, VISIT, "v3", &v.base, NULL, 0, NULL), 0);
    fs_followup *fu = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_followups_due(f->st, "2026-03-31", 0, &fu, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_string_equal(fu[0].contact_id, "c1");
    assert_string_equal(fu[0].contact_name, "Dana Buyer");
    assert_string_equal(fu[0].phone, "mobile-c1"); /* a mobile before the office line */
    assert_null(fu[1].contact_id);                 /* no contact: the account's line, no fax */
    assert_null(fu[1].contact_name);
    assert_string_equal(fu[1].phone, "office-a1");
    assert_string_equal(fu[2].contact_id, "c9");
    assert_null(fu[2].contact_name);
    assert_string_equal(fu[2].phone, "office-a1");
    fs_followups_free(fu, n);
}

typedef struct seen {
    char ids[8][8], owners[8][8], names[8][8];
    size_t n, stop_after;
} seen;

static int seen_opportunity(void *ctx, const Fieldsync__Opportunity *o, const char *owner,
                            const char *account_name)
{
    seen *w = ctx;
    snprintf(w->ids[w->n], sizeof(w->ids[0]), "%s", o->id);
    snprintf(w->owners[w->n], sizeof(w->owners[0]), "%s", owner);
    snprintf(w->names[w->n], sizeof(w->names[0]), "%s", account_name ? account_name : "(none)");
    return ++w->n == w->stop_after ? 42 : 0;
}

static int seen_visit(void *ctx, const Fieldsync__Visit *v)
{
    seen *w = ctx;
    snprintf(w->ids[w->n++], sizeof(w->ids[0]), "%s", v->id);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void reports_read_opportunities_with_accounts_visits_by_date_and_the_funnel(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Alder", 0, "rep1", NULL, NULL);
    tu_put_account(f->st, "a2", "Birch", 0, NULL, NULL, NULL); /* names no owner */
    tu_put_opportunity(f->st, "o1", "a1", 2, "2026-01-01", 1000);
    tu_put_opportunity(f->st, "o2", "a2", 3, "2026-02-20", 2000);
    tu_put_opportunity(f->st, "o3", "a9", 4, "2026-02-01", 4000); /* account not here */
    tu_put_opportunity(f->st, "o4", "a1", 4, "2026-02-01", 8000);
    assert_int_equal(fs_store_delete(f->st, OPPORTUNITY, "o4", NULL), 0);
    seen w = {.n = 0};
    assert_int_equal(fs_store_each_opportunity(f->st, seen_opportunity, &w, NULL), 0);
    assert_int_equal(w.n, 3); /* deleted ones are not counted */
    for (size_t i = 0; i < w.n; i++) {
        assert_string_equal(w.owners[i], strcmp(w.ids[i], "o1") == 0 ? "rep1" : "");
        assert_string_equal(w.names[i], strcmp(w.ids[i], "o1") == 0   ? "Alder"
                                        : strcmp(w.ids[i], "o2") == 0 ? "Birch"
                                                                      : "(none)");
    }
    qsort(w.ids, w.n, sizeof(w.ids[0]), by_id);
    assert_string_equal(w.ids[2], "o3");
    /* the callback's answer stops the pass */
    w = (seen){.stop_after = 1};
    assert_int_equal(fs_store_each_opportunity(f->st, seen_opportunity, &w, NULL), 42);
    assert_int_equal(w.n, 1);

    tu_put_visit(f->st, "v1", "a1", 1000, "early", NULL, NULL, false);
    tu_put_visit(f->st, "v2", "a1", 2000, "inside", NULL, NULL, false);
    tu_put_visit(f->st, "v3", "a1", 2999, "inside", NULL, NULL, false);
    tu_put_visit(f->st, "v4", "a1", 3000, "at the end: out", NULL, NULL, false);
    w = (seen){.n = 0};
    assert_int_equal(fs_store_each_visit(f->st, 2000, 3000, seen_visit, &w, NULL), 0);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.ids[0], "v2");
    assert_string_equal(w.ids[1], "v3");

    Fieldsync__Account lead = FIELDSYNC__ACCOUNT__INIT;
    lead.has_funnel_stage = 1;
    lead.funnel_stage = FIELDSYNC__ACCOUNT__FUNNEL_STAGE__LEAD;
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "a1", &lead.base, NULL, 0, NULL), 0);
    size_t funnel[FS_FUNNEL_COUNT];
    assert_int_equal(fs_store_funnel(f->st, funnel, NULL), 0);
    assert_int_equal(funnel[FIELDSYNC__ACCOUNT__FUNNEL_STAGE__LEAD], 1);
    assert_int_equal(funnel[0], 1); /* a2 has no funnel stage */
    assert_int_equal(funnel[FIELDSYNC__ACCOUNT__FUNNEL_STAGE__CONTRACT], 0);
}

static void concurrent_remote_write_is_a_listed_conflict_until_resolved(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Local Name", 3, "rep1", NULL, NULL);
    fs_state *remote = NULL;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = "Remote Name";
    assert_int_equal(fs_state_new(&remote, ACCOUNT, "a1", NULL), 0);
    assert_int_equal(fs_record_write_msg(remote, 777, 5ull << 16, &a.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_store_apply_remote(f->st, &remote, 1, NULL, 0, 1, NULL, NULL), 0);
    fs_state_free(remote);

    fs_ref *refs = NULL;
    size_t n = 0;
    assert_int_equal(fs_store_conflicts(f->st, 0, &refs, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(refs[0].id, "a1");
    fs_refs_free(refs, n);

    Fieldsync__Account pick = FIELDSYNC__ACCOUNT__INIT;
    pick.name = "Chosen Name";
    assert_int_equal(fs_store_put(f->st, ACCOUNT, "a1", &pick.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_store_conflicts(f->st, 0, &refs, &n, NULL), 0);
    assert_int_equal(n, 0);
    fs_refs_free(refs, n);
    Fieldsync__Account *got = get_account(f->st, "a1");
    assert_string_equal(got->name, "Chosen Name");
    protobuf_c_message_free_unpacked(&got->base, NULL);
}

/* Fails if any step of sql's plan scans a table without an index or sorts. */
static void assert_indexed(fs_store *st, const char *sql)
{
    char eqp[2048];
    snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, eqp, -1, &s, NULL), SQLITE_OK);
    int steps = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(s, 3);
        steps++;
        if ((strncmp(d, "SCAN", 4) == 0 && strstr(d, "INDEX") == NULL) ||
            strstr(d, "TEMP B-TREE") != NULL)
            fail_msg("not on an index: \"%s\" in %s", d, sql);
    }
    sqlite3_finalize(s);
    assert_true(steps > 0);
}

static bool visible_record(fs_store *st, fs_kind kind, const char *id)
{
    ProtobufCMessage *m = NULL;
    int rc = fs_store_get(st, kind, id, NULL, &m, NULL);
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    return rc == 0 && m != NULL;
}

static void account_delete_refused_with_children_unless_cascade(void **state)
{
    fixture *f = *state;
    tu_put_account(f->st, "a1", "Alder Foods", 1, "rep", "Bramley", NULL);
    tu_put_account(f->st, "a2", "Birch Ltd", 1, "rep", "Leeds", NULL);
    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    c.account_id = "a1";
    assert_int_equal(
        fs_store_put(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c1", &c.base, NULL, 0, NULL), 0);
    assert_int_equal(
        fs_store_put(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c2", &c.base, NULL, 0, NULL), 0);
    assert_int_equal(fs_store_delete(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c2", NULL), 0);
    c.account_id = "a2";
    assert_int_equal(
        fs_store_put(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c3", &c.base, NULL, 0, NULL), 0);
    tu_put_visit(f->st, "v1", "a1", 1, "x", "call", "2026-03-01", false);
    tu_put_opportunity(f->st, "o1", "a1", 2, "2026-01-01", 1000);
    size_t queued = 0, after = 0;
    assert_int_equal(fs_outbox_count(f->st, -1, &queued, NULL), 0);

    fs_children ch;
    fs_err err;
    assert_int_equal(fs_store_delete_account(f->st, "a1", false, &ch, &err), FS_ECONFLICT);
    assert_non_null(strstr(fs_err_message(&err), "1 contact, 1 visit, 1 opportunity"));
    assert_int_equal(ch.total, 3); /* the deleted contact c2 is not a child any more */
    fs_children_clear(&ch);
    assert_true(visible_record(f->st, ACCOUNT, "a1"));
    assert_int_equal(fs_outbox_count(f->st, -1, &after, NULL), 0);
    assert_int_equal(after, queued); /* refused: nothing written */

    assert_int_equal(fs_store_delete_account(f->st, "a1", true, &ch, NULL), 0);
    assert_int_equal(ch.total, 3);
    assert_int_equal(ch.n[FIELDSYNC__RECORD_KIND__CONTACT], 1);
    assert_int_equal(ch.n[VISIT], 1);
    assert_int_equal(ch.n[OPPORTUNITY], 1);
    assert_string_equal(ch.refs[0].id, "c1");
    fs_children_clear(&ch);
    assert_false(visible_record(f->st, ACCOUNT, "a1"));
    assert_false(visible_record(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c1"));
    assert_false(visible_record(f->st, VISIT, "v1"));
    assert_false(visible_record(f->st, OPPORTUNITY, "o1"));
    assert_true(visible_record(f->st, FIELDSYNC__RECORD_KIND__CONTACT, "c3"));
    /* every delete is queued for the server */
    fs_outbox_batch batch;
    size_t tombstones = 0;
    assert_int_equal(fs_outbox_take(f->st, 100, &batch, NULL), 0);
    for (size_t i = 0; i < batch.n; i++)
        tombstones += !fs_record_alive(batch.items[i].state);
    assert_int_equal(tombstones, 5); /* a1, c1, v1, o1, and c2 deleted before */
    fs_outbox_batch_clear(&batch);

    assert_int_equal(fs_store_delete_account(f->st, "a2", false, NULL, &err), FS_ECONFLICT);
    assert_int_equal(fs_store_delete_account(f->st, "gone", true, NULL, &err), FS_ENOTFOUND);
}

static void every_list_and_report_query_runs_on_an_index(void **state)
{
    fixture *f = *state;
    fill_accounts(f->st); /* ANALYZE-free: plans must hold on a small store too */
    char sql[1024];
    const fs_list_query qs[] = {
        {.kind = ACCOUNT},
        {.kind = ACCOUNT, .tier = 1},
        {.kind = ACCOUNT, .stage = 2, .descending = true},
        {.kind = ACCOUNT, .owner = "rep1", .cursor = "x"},
        {.kind = ACCOUNT, .city = "Bremen"},
        {.kind = FIELDSYNC__RECORD_KIND__CONTACT, .account_id = "a1"},
        {.kind = FIELDSYNC__RECORD_KIND__CONTACT, .cursor = "x"},
        {.kind = VISIT, .account_id = "a1", .cursor = "x"},
        {.kind = VISIT},
        {.kind = OPPORTUNITY, .stage = 4},
        {.kind = OPPORTUNITY, .account_id = "a1"},
        {.kind = FIELDSYNC__RECORD_KIND__TRANSACTION, .account_id = "a1", .descending = true},
    };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        assert_int_equal(fs_store_list_sql(&qs[i], sql, sizeof(sql), NULL), 0);
        assert_indexed(f->st, sql);
    }
    assert_indexed(f->st, fs_store_followups_sql);
    assert_indexed(f->st, fs_store_each_visit_sql);
    assert_indexed(f->st, fs_store_funnel_sql);
    assert_indexed(f->st, fs_store_search_sql);
    assert_indexed(f->st, fs_store_followups_count_sql);
    assert_indexed(f->st, fs_store_conflicts_sql);
}

/* A pulled page queues its new records by their range of rids: a plan on the
 * (kind, id) index read every record of those kinds at every page. */
static void a_pages_search_queue_reads_only_its_range_of_records(void **state)
{
    fixture *f = *state;
    fill_accounts(f->st);
    char eqp[512];
    snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", fs_store_page_search_sql);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, eqp, -1, &s, NULL), SQLITE_OK);
    int steps = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(s, 3);
        if (strstr(d, "records") != NULL && strstr(d, "INTEGER PRIMARY KEY (rowid>?)") == NULL)
            fail_msg("not on the range of rids: \"%s\"", d);
        steps++;
    }
    sqlite3_finalize(s);
    assert_int_equal(steps, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_then_partial_update_keeps_unwritten_fields, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(delete_hides_record_but_keeps_its_state, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_puts_are_refused_and_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(list_pages_through_every_match_once_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_pages_past_long_names_and_any_bytes_in_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(damaged_record_is_marked_not_a_failed_page, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_refuses_bad_cursor_and_foreign_filters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(visits_list_by_account_in_planned_order, setup, teardown),
        cmocka_unit_test_setup_teardown(contacts_deals_and_transactions_list_per_account, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(search_finds_names_and_notes_by_word_prefix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(search_finds_cjk_words_inside_sentences, setup, teardown),
        cmocka_unit_test_setup_teardown(search_finds_cjk_at_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(search_hits_name_their_account, setup, teardown),
        cmocka_unit_test_setup_teardown(followups_due_by_date_exclude_done_and_undated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            reports_read_opportunities_with_accounts_visits_by_date_and_the_funnel, setup,
            teardown),
        cmocka_unit_test_setup_teardown(followups_name_the_contact_to_call, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_remote_write_is_a_listed_conflict_until_resolved,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(account_delete_refused_with_children_unless_cascade, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(every_list_and_report_query_runs_on_an_index, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_pages_search_queue_reads_only_its_range_of_records, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
