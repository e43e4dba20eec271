/*
 * test_sync_faults.c: the sync client when the network and the server fail.
 * Between the engines and the real server sits our fault-injecting proxy
 * (proxy.c): answers reset or truncated mid-body, 503 with Retry-After, a
 * garbage 200, slow links, and the server SIGKILLed in the middle of a large
 * push and of a paged pull, then restarted on the same database and port.
 * Also: refused connections, TLS failure, an oversized answer, an unknown
 * token, the server's disk full. Every case must end in the right state with
 * a reason, and after the fault the devices converge with nothing lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fieldsync/outbox.h"
#include "harness.h"
#include "proxy.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT

typedef struct fx {
    fs_loop *loop;
    h_server sv;
    h_server via; /* the same server, reached through the proxy */
    px *proxy;
    h_device a, b;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    assert_int_equal(fs_loop_new(&f->loop, NULL), 0);
    hs_init(&f->sv);
    hs_add_rep(&f->sv, "ann");
    hs_start(&f->sv, 0);
    f->proxy = px_start(f->sv.port);
    f->via = f->sv;
    snprintf(f->via.url, sizeof(f->via.url), "http://127.0.0.1:%u", px_port(f->proxy));
    fs_sync_opts o = {.no_netwatch = true, .low_speed_s = 5};
    hd_open(&f->a, f->loop, "a", &o);
    hd_open(&f->b, f->loop, "b", &o);
    hd_enroll(&f->a, &f->via, "ann");
    hd_enroll(&f->b, &f->via, "ann");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    hd_destroy(&f->a);
    hd_destroy(&f->b);
    px_stop(f->proxy);
    hs_cleanup(&f->sv);
    fs_loop_free(f->loop);
    free(f);
    return 0;
}

/* n accounts with ~note_bytes of incompressible-ish notes each. */
static void put_many(h_device *d, const char *prefix, int n, size_t note_bytes)
{
    char id[32], *notes = malloc(note_bytes + 1);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < note_bytes; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            notes[j] = (char)('a' + x % 26);
        }
        notes[note_bytes] = '\0';
        snprintf(id, sizeof(id), "%s%05d", prefix, i);
        Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
        a.name = id;
        a.notes = notes;
        assert_int_equal(fs_store_put(d->st, ACCOUNT, id, &a.base, NULL, 0, NULL), 0);
    }
    free(notes);
}

static int count_accounts(h_device *d, const char *prefix, int n)
{
    char id[32];
    int have = 0;
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s%05d", prefix, i);
        have += hd_has(d, ACCOUNT, id);
    }
    return have;
}

static const char *reason(h_device *d)
{
    static fs_sync_status s;
    assert_int_equal(fs_sync_get_status(d->sync, &s, NULL), 0);
    return s.reason;
}

static void test_refused_connection_is_offline_and_keeps_everything(void **state)
{
    fx *f = *state;
    unsigned port = f->sv.port;
    hs_stop(&f->sv, true);
    put_many(&f->a, "r", 10, 50);
    assert_int_equal(hd_sync(&f->a), FS_ENET);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_OFFLINE);
    assert_non_null(strstr(reason(&f->a), "unreachable"));
    assert_int_equal(hd_pending(&f->a), 10);
    hs_start(&f->sv, port);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_pending(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "r", 10), 10);
}

static void test_answer_reset_mid_body_then_converges(void **state)
{
    fx *f = *state;
    put_many(&f->a, "p", 300, 200);
    assert_int_equal(hd_sync(&f->a), 0);
    px_set(f->proxy, PX_RESET_DOWN, 3000, 0, 0);
    assert_int_equal(hd_sync(&f->b), FS_ENET);
    assert_int_equal(px_faults(f->proxy), 1);
    assert_int_equal(fs_sync_get_state(f->b.sync), FS_SYNC_OFFLINE);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "p", 300), 300);
}

/* The largest of the server's database files (the database and its WAL). */
static long long largest_file(const char *db)
{
    char wal[400];
    struct stat a, b;
    snprintf(wal, sizeof(wal), "%s-wal", db);
    long long n = stat(db, &a) == 0 ? (long long)a.st_size : 0;
    long long m = stat(wal, &b) == 0 ? (long long)b.st_size : 0;
    return n > m ? n : m;
}

/* PRAGMA integrity_check of a SQLite database: "ok" when sound. */
static const char *integrity(const char *db)
{
    static char out[512];
    sqlite3 *h = NULL;
    sqlite3_stmt *s = NULL;
    snprintf(out, sizeof(out), "cannot check %s", db);
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(h);
    return out;
}

/* The server's files cannot grow past 64 KiB more (RLIMIT_FSIZE: writes
 * fail with EFBIG, which SQLite reports as an I/O error; a disk that is
 * actually full is 507 storage_full, test_server_storage_sqlite): a push is
 * answered 500 and kept by the device, reads go on, the database stays
 * sound, and once there is room again everything converges. */
static void test_server_disk_full_keeps_the_push_pending(void **state)
{
    fx *f = *state;
    unsigned port = f->sv.port;
    hs_stop(&f->sv, false);
    f->sv.file_size_max = largest_file(f->sv.db) + 64 * 1024;
    hs_start(&f->sv, port);
    put_many(&f->a, "d", 300, 2000); /* 600 KB of notes: more than the room */
    assert_int_equal(hd_sync(&f->a), FS_EIO);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_ERROR);
    assert_non_null(strstr(reason(&f->a), "500"));
    assert_int_equal(hd_pending(&f->a), 300);
    assert_int_equal(hd_sync(&f->b), 0); /* reads go on */
    assert_int_equal(count_accounts(&f->b, "d", 300), 0);
    hs_stop(&f->sv, false);
    assert_string_equal(integrity(f->sv.db), "ok"); /* the failed commit left nothing half done */
    f->sv.file_size_max = 0;                        /* room again */
    hs_start(&f->sv, port);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_pending(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "d", 300), 300);
}

static void test_truncated_push_answer_loses_nothing(void **state)
{
    fx *f = *state;
    put_many(&f->a, "t", 200, 200);
    px_set(f->proxy, PX_TRUNCATE_DOWN, 500, 0, 0);
    assert_int_not_equal(hd_sync(&f->a), 0);
    assert_int_equal(px_faults(f->proxy), 1);
    /* the server committed the push, the device never heard: entries stay */
    assert_int_equal(hd_pending(&f->a), 200);
    assert_int_equal(hd_sync(&f->a), 0); /* pushed again: the join changes nothing */
    assert_int_equal(hd_pending(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "t", 200), 200);
    assert_int_equal(hd_conflicts(&f->b), 0);
}

static void test_busy_server_is_retried_after_retry_after(void **state)
{
    fx *f = *state;
    put_many(&f->a, "b", 5, 10);
    px_set(f->proxy, PX_503, 0, 30, 0);
    assert_int_equal(hd_sync(&f->a), FS_EIO);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_ERROR);
    assert_non_null(strstr(reason(&f->a), "503"));
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->a.sync, &s, NULL), 0);
    /* full jitter alone would retry within a second; Retry-After: 30 is the floor */
    assert_true(s.next_attempt >= (int64_t)time(NULL) + 28);
    assert_int_equal(s.pending, 5);
    assert_int_equal(hd_sync(&f->a), 0); /* sync now overrides the wait */
    assert_int_equal(hd_pending(&f->a), 0);
}

static void test_garbage_answer_is_an_error_and_the_batch_returns(void **state)
{
    fx *f = *state;
    put_many(&f->a, "g", 20, 10);
    px_set(f->proxy, PX_GARBAGE_200, 0, 0, 0);
    assert_int_equal(hd_sync(&f->a), FS_ECORRUPT);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_ERROR);
    assert_non_null(strstr(reason(&f->a), "push"));
    size_t pending = 0;
    assert_int_equal(fs_outbox_count(f->a.st, FS_OUTBOX_PENDING, &pending, NULL), 0);
    assert_int_equal(pending, 20);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_pending(&f->a), 0);
}

/* An answer whose body is not in its Content-Encoding: malformed zstd, or an
 * encoding the client never asked for. Either is an error that names it (a
 * name the server chose reaches the reason as printable ASCII only), and the
 * batch waits for the next run. */
static void test_undecodable_answer_is_an_error_and_the_batch_returns(void **state)
{
    fx *f = *state;
    put_many(&f->a, "e", 20, 10);
    static const char *const said[] = {"zstd body is malformed", "(br) is not one asked for",
                                       "(x?[1my) is not one asked for"};
    for (long arg = 0; arg < 3; arg++) {
        px_set(f->proxy, PX_BAD_ENCODING, 0, arg, 0);
        assert_int_equal(hd_sync(&f->a), FS_EIO);
        assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_ERROR);
        assert_non_null(strstr(reason(&f->a), "push"));
        assert_non_null(strstr(reason(&f->a), said[arg]));
        assert_int_equal(hd_pending(&f->a), 20);
    }
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_pending(&f->a), 0);
}

/* A server that answers in gzip, as one without zstd does when the device
 * lists both: the client decodes gzip as well (the proxy rewrites every
 * request to ask for gzip alone). */
static void test_gzip_answers_are_decoded_too(void **state)
{
    fx *f = *state;
    px_set(f->proxy, PX_GZIP_ONLY, 0, 0, 0);
    put_many(&f->a, "z", 300, 200);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "z", 300), 300);
    /* the push and the pull asked for gzip, which the server gives a client
     * that lists nothing else (test_server_http) */
    assert_true(px_faults(f->proxy) >= 2);
}

/* curl's low-speed check averages over its last seconds, so a stall is caught
 * by the request timeout here, set to 2 s for the test. */
static void test_slow_link_still_syncs_and_a_stalled_one_times_out(void **state)
{
    fx *f = *state;
    put_many(&f->a, "s", 50, 100);
    px_set(f->proxy, PX_DELAY, 0, 20, 0);
    assert_int_equal(hd_sync(&f->a), 0);
    hd_close(&f->b);
    f->b.opts.request_timeout_s = 2;
    hd_reopen(&f->b);
    px_set(f->proxy, PX_DELAY, 0, 2500, 0);
    assert_int_equal(hd_sync(&f->b), FS_ENET);
    assert_int_equal(fs_sync_get_state(f->b.sync), FS_SYNC_OFFLINE);
    px_set(f->proxy, PX_PASS, 0, 0, 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "s", 50), 50);
}

static void test_server_killed_during_a_large_push_then_converges(void **state)
{
    fx *f = *state;
    int n = (int)(getenv("FS_SYNC_FAULT_RECORDS") ? atoi(getenv("FS_SYNC_FAULT_RECORDS")) : 3000);
    hd_close(&f->a);
    f->a.opts.push_count = (size_t)n;
    f->a.opts.push_bytes = 64u << 20;
    hd_reopen(&f->a);
    put_many(&f->a, "k", n, 300);
    unsigned port = f->sv.port;
    px_set(f->proxy, PX_KILL_UP, 100000, 0, f->sv.pid);
    assert_int_not_equal(hd_sync(&f->a), 0);
    assert_int_equal(px_faults(f->proxy), 1);
    assert_int_equal(hd_pending(&f->a), (size_t)n);
    hs_stop(&f->sv, true); /* reap the killed process */
    hs_start(&f->sv, port);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_pending(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "k", n), n);
}

static void test_server_killed_during_a_paged_pull_then_converges(void **state)
{
    fx *f = *state;
    int n = 3000;
    put_many(&f->a, "q", n, 300);
    assert_int_equal(hd_sync(&f->a), 0);
    hd_close(&f->b);
    f->b.opts.pull_limit = 200;
    hd_reopen(&f->b);
    unsigned port = f->sv.port;
    px_set(f->proxy, PX_KILL_DOWN, 250000, 0, f->sv.pid);
    assert_int_not_equal(hd_sync(&f->b), 0);
    assert_int_equal(px_faults(f->proxy), 1);
    int partial = count_accounts(&f->b, "q", n);
    assert_true(partial < n); /* killed part-way: pages before it are kept */
    hs_stop(&f->sv, true);
    hs_start(&f->sv, port);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(count_accounts(&f->b, "q", n), n);
}

static void test_tls_failure_is_an_error_naming_tls(void **state)
{
    fx *f = *state;
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", f->sv.port); /* a plain HTTP server */
    assert_int_equal(fs_store_meta_set(f->a.st, FS_META_SERVER_URL, url, strlen(url), NULL), 0);
    hd_close(&f->a);
    hd_reopen(&f->a);
    assert_int_equal(hd_sync(&f->a), FS_EIO);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_ERROR);
    assert_non_null(strstr(reason(&f->a), "TLS"));
}

static void test_oversized_answer_is_refused(void **state)
{
    fx *f = *state;
    put_many(&f->a, "o", 50, 500);
    assert_int_equal(hd_sync(&f->a), 0);
    hd_close(&f->b);
    f->b.opts.max_response = 4096;
    hd_reopen(&f->b);
    assert_int_equal(hd_sync(&f->b), FS_EIO);
    assert_non_null(strstr(reason(&f->b), "limit"));
    assert_int_equal(count_accounts(&f->b, "o", 50), 0);
}

static void test_unknown_token_stops_like_a_revocation(void **state)
{
    fx *f = *state;
    uint8_t junk[32];
    memset(junk, 7, sizeof(junk));
    assert_int_equal(fs_store_meta_set(f->a.st, FS_META_DEVICE_TOKEN, junk, sizeof(junk), NULL), 0);
    assert_int_not_equal(hd_sync(&f->a), 0);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_REVOKED);
    assert_non_null(strstr(reason(&f->a), "enroll"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_refused_connection_is_offline_and_keeps_everything),
        T(test_answer_reset_mid_body_then_converges),
        T(test_server_disk_full_keeps_the_push_pending),
        T(test_truncated_push_answer_loses_nothing),
        T(test_busy_server_is_retried_after_retry_after),
        T(test_garbage_answer_is_an_error_and_the_batch_returns),
        T(test_undecodable_answer_is_an_error_and_the_batch_returns),
        T(test_gzip_answers_are_decoded_too),
        T(test_slow_link_still_syncs_and_a_stalled_one_times_out),
        T(test_server_killed_during_a_large_push_then_converges),
        T(test_server_killed_during_a_paged_pull_then_converges),
        T(test_tls_failure_is_an_error_naming_tls),
        T(test_oversized_answer_is_refused),
        T(test_unknown_token_stops_like_a_revocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
