/*
 * store_test_util.c: helpers shared by the store's unit tests (see the header).
 */
#include "store_test_util.h"

#include "store_int.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof(tmpl), "%s/fs-store-XXXXXX", base != NULL ? base : "/tmp");
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char *copy = strdup(dir);
    assert_non_null(copy);
    return copy;
}

char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void tu_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = tu_path(dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

void tu_files_make(tu_files *f)
{
    f->dir = tu_mkdtemp();
    f->db = tu_path(f->dir, "store.db");
    f->key = tu_path(f->dir, "store.key");
}

void tu_files_remove(tu_files *f)
{
    tu_rmdir(f->dir);
    free(f->dir);
    free(f->db);
    free(f->key);
    f->dir = f->db = f->key = NULL;
}

uint64_t tu_clock(void *arg)
{
    return *(uint64_t *)arg;
}

fs_store *tu_open_plain(const char *dir)
{
    fs_store *st = NULL;
    fs_err err;
    fs_err_clear(&err);
    char *path = tu_path(dir, "store.db");
    int rc = fs_store_open(&st, path, NULL, NULL, 0, FS_STORE_CREATE, &err);
    if (rc != 0)
        fail_msg("open %s: %s", path, fs_err_message(&err));
    free(path);
    return st;
}

static void put_or_fail(fs_store *st, fs_kind kind, const char *id, const ProtobufCMessage *m)
{
    fs_err err;
    fs_err_clear(&err);
    int rc = fs_store_put(st, kind, id, m, NULL, 0, &err);
    if (rc != 0)
        fail_msg("put %s: %s", id, fs_err_message(&err));
}

fs_state *tu_remote_account(const char *id, const char *name, uint64_t hlc)
{
    fs_state *s = NULL;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = (char *)name;
    a.has_tier = 1;
    a.tier = FIELDSYNC__ACCOUNT__TIER__TARGET;
    assert_int_equal(fs_state_new(&s, FIELDSYNC__RECORD_KIND__ACCOUNT, id, NULL), 0);
    assert_int_equal(fs_record_write_msg(s, TU_REMOTE, hlc, &a.base, NULL, 0, NULL), 0);
    return s;
}

void tu_put_account(fs_store *st, const char *id, const char *name, int tier, const char *owner,
                    const char *city, const char *notes)
{
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    a.name = (char *)name;
    a.has_tier = tier != 0;
    a.tier = (Fieldsync__Account__Tier)tier;
    a.owner = (char *)owner;
    a.notes = (char *)notes;
    if (city != NULL) {
        addr.city = (char *)city;
        a.address = &addr;
    }
    put_or_fail(st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, &a.base);
}

void tu_put_visit(fs_store *st, const char *id, const char *account_id, int64_t planned_at,
                  const char *objective, const char *next_step, const char *next_date, bool done)
{
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    v.account_id = (char *)account_id;
    v.has_planned_at = 1;
    v.planned_at = planned_at;
    v.objective = (char *)objective;
    v.next_step = (char *)next_step;
    v.next_step_date = (char *)next_date;
    v.has_next_step_done = 1;
    v.next_step_done = done;
    put_or_fail(st, FIELDSYNC__RECORD_KIND__VISIT, id, &v.base);
}

void tu_put_opportunity(fs_store *st, const char *id, const char *account_id, int stage,
                        const char *entered, int64_t amount)
{
    Fieldsync__Opportunity o = FIELDSYNC__OPPORTUNITY__INIT;
    Fieldsync__Money m = FIELDSYNC__MONEY__INIT;
    o.account_id = (char *)account_id;
    o.has_stage = 1;
    o.stage = (Fieldsync__Opportunity__Stage)stage;
    o.stage_entered_date = (char *)entered;
    m.has_minor_units = 1;
    m.minor_units = amount;
    m.currency = "EUR";
    o.amount = &m;
    put_or_fail(st, FIELDSYNC__RECORD_KIND__OPPORTUNITY, id, &o.base);
}

bool tu_file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    bool found = false;
    if (size > 0) {
        char *buf = malloc((size_t)size);
        assert_non_null(buf);
        size_t got = fread(buf, 1, (size_t)size, f);
        found = memmem(buf, got, needle, strlen(needle)) != NULL;
        free(buf);
    }
    fclose(f);
    return found;
}

bool tu_dir_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = tu_path(dir, e->d_name);
        found = tu_file_contains(p, needle);
        free(p);
    }
    closedir(d);
    return found;
}

long tu_env_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

int tu_store_setup(void **state)
{
    tu_store_fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp();
    f->st = tu_open_plain(f->dir);
    *state = f;
    return 0;
}

int tu_store_teardown(void **state)
{
    tu_store_fixture *f = *state;
    fs_store_close(f->st);
    tu_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

int tu_synchronous(fs_store *st)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA synchronous", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int level = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return level;
}

uint64_t tu_rnd(uint64_t *rng)
{
    uint64_t z = (*rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
