/*
 * test_server_http.c: the real fieldsync-server binary on 127.0.0.1 with an
 * ephemeral port, driven over HTTP with libcurl and through its admin CLI:
 * enrollment, push/pull round trips and joins, refusals, reassignment,
 * revocation, tombstone gc and resync, malformed/oversized bodies, gzip both
 * ways and zstd answers, the protocol header, and kill -9 in the middle of a
 * push.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "admin.h"
#include "fieldsync.pb-c.h"
#include "itest.h"
#include "srv_test_util.h"

typedef struct fx {
    it_server sv;
    char anna_a[80], anna_b[80], bob[80];
    uint64_t ra, rb, rbob;
} fx;

static void admin_ok(fx *f, const char *const *args)
{
    assert_int_equal(it_admin(&f->sv, NULL, 0, args), 0);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    it_init(&f->sv);
    admin_ok(f, (const char *[]){"user", "add", "anna", "--role", "rep", NULL});
    admin_ok(f, (const char *[]){"user", "add", "bob", "--role", "rep", NULL});
    it_start(&f->sv, NULL);
    it_enroll(&f->sv, "anna", f->anna_a, &f->ra);
    it_enroll(&f->sv, "anna", f->anna_b, &f->rb);
    it_enroll(&f->sv, "bob", f->bob, &f->rbob);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    /* SIGTERM is a clean stop: exit 0 (and, under ASan, no leak reports) */
    int code = it_stop(&f->sv, false);
    it_cleanup(&f->sv);
    assert_int_equal(code, 0);
    free(f);
    return 0;
}

static Fieldsync__PushResponse *push(fx *f, const char *bearer, fs_state *const *st, size_t n)
{
    size_t len;
    uint8_t *body = tu_push_body(st, n, &len);
    it_req rq = {.path = "/v1/push", .bearer = bearer, .body = body, .len = len};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 200);
    Fieldsync__PushResponse *pr = fieldsync__push_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(pr);
    assert_int_equal(pr->n_results, n);
    free(body);
    it_resp_clear(&rs);
    return pr;
}

static Fieldsync__PullResponse *pull_body(fx *f, const char *bearer, uint8_t *body, size_t len)
{
    it_req rq = {.path = "/v1/pull", .bearer = bearer, .body = body, .len = len};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 200);
    Fieldsync__PullResponse *pr = fieldsync__pull_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(pr);
    free(body);
    it_resp_clear(&rs);
    return pr;
}

static Fieldsync__PullResponse *pull(fx *f, const char *bearer, uint64_t cursor)
{
    size_t len;
    uint8_t *body = tu_pull_body(cursor, 0, &len);
    return pull_body(f, bearer, body, len);
}

static int refusal(const Fieldsync__PushResult *r)
{
    return r->outcome_case == FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED ? (int)r->refused->reason : 0;
}

/* Pushes st and joins the server's answer into it, as a device does. */
static void push_ok(fx *f, const char *bearer, fs_state *st)
{
    Fieldsync__PushResponse *pr = push(f, bearer, &st, 1);
    assert_int_equal(refusal(pr->results[0]), 0);
    tu_join_answer(st, pr->results[0]);
    fieldsync__push_response__free_unpacked(pr, NULL);
}

static uint64_t pulled_cursor(fx *f, const char *bearer, uint64_t from)
{
    Fieldsync__PullResponse *pr = pull(f, bearer, from);
    uint64_t c = pr->next_cursor;
    fieldsync__pull_response__free_unpacked(pr, NULL);
    return c;
}

static const char *error_code(const it_resp *rs)
{
    static char code[64];
    code[0] = '\0';
    Fieldsync__ErrorResponse *e = fieldsync__error_response__unpack(NULL, rs->len, rs->body);
    if (e != NULL) {
        snprintf(code, sizeof(code), "%s", e->code ? e->code : "");
        fieldsync__error_response__free_unpacked(e, NULL);
    }
    return code;
}

/* ------------------------------------------------------------------------- */

static void test_health_answers_200(void **state)
{
    fx *f = *state;
    it_req rq = {.path = "/v1/health", .method = "GET"};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 200);
    it_resp_clear(&rs);
    rq.path = "/v1/nope";
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 404);
    it_resp_clear(&rs);
}

static int enroll_status(fx *f, const char *code, it_resp *rs)
{
    Fieldsync__EnrollRequest er = FIELDSYNC__ENROLL_REQUEST__INIT;
    er.code = (char *)code;
    uint8_t buf[128];
    it_req rq = {
        .path = "/v1/enroll", .body = buf, .len = fieldsync__enroll_request__pack(&er, buf)};
    it_http(&f->sv, &rq, rs);
    return (int)rs->status;
}

static void test_enroll_good_reused_and_expired_codes(void **state)
{
    fx *f = *state;
    char code[64];
    assert_int_equal(it_admin(&f->sv, code, sizeof(code),
                              (const char *[]){"enroll-code", "anna", "--ttl", "1h", NULL}),
                     0);
    code[strcspn(code, "\n")] = '\0';
    it_resp rs;
    assert_int_equal(enroll_status(f, code, &rs), 200);
    it_resp_clear(&rs);
    assert_int_equal(enroll_status(f, code, &rs), 403);
    assert_string_equal(error_code(&rs), "code_used");
    it_resp_clear(&rs);
    /* a code that expired an hour ago, minted beside the running server */
    srv_storage *s;
    assert_int_equal(srv_sqlite_open(&s, f->sv.db, false, NULL), 0);
    assert_int_equal(srv_admin_enroll_code(s, "anna", (int64_t)time(NULL) - 7200, 3600, code, NULL),
                     0);
    srv_storage_close(s);
    assert_int_equal(enroll_status(f, code, &rs), 403);
    assert_string_equal(error_code(&rs), "code_expired");
    it_resp_clear(&rs);
}

static void test_push_pull_round_trip_and_concurrent_join(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    push_ok(f, f->anna_a, a);
    Fieldsync__PullResponse *pr = pull(f, f->anna_b, 0);
    assert_int_equal(pr->n_states, 1);
    fs_state *b = NULL;
    assert_int_equal(fs_state_from_pb(&b, pr->states[0], NULL), 0);
    assert_string_equal(tu_name(b), "Brenner");
    uint64_t cursor = pr->next_cursor;
    fieldsync__pull_response__free_unpacked(pr, NULL);
    /* both devices edit offline, then sync */
    tu_rename(a, f->ra, "Brenner GmbH");
    tu_rename(b, f->rb, "Brenner AG");
    push_ok(f, f->anna_a, a);
    push_ok(f, f->anna_b, b);
    pr = pull(f, f->anna_a, cursor);
    assert_int_equal(pr->n_states, 1);
    fs_state *j = NULL;
    assert_int_equal(fs_state_from_pb(&j, pr->states[0], NULL), 0);
    assert_int_equal(fs_vv_get(&j->vv, f->ra), 2);
    assert_int_equal(fs_vv_get(&j->vv, f->rb), 1);
    fs_conflict *c;
    size_t nc;
    assert_int_equal(fs_record_conflicts(j, &c, &nc, NULL), 0);
    assert_true(nc >= 1); /* name holds both writes */
    fs_conflicts_free(c, nc);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    fs_state_free(a);
    fs_state_free(b);
    fs_state_free(j);
}

static void test_refusals_do_not_fail_the_push(void **state)
{
    fx *f = *state;
    fs_state *mine = tu_account(f->ra, "acc-1", "Brenner");
    push_ok(f, f->anna_a, mine);
    fs_state *batch[3] = {tu_account(f->rbob, "acc-1", "Hijack"),
                          tu_contact(f->rbob, "con-1", "acc-404", "Nobody"),
                          tu_account(f->rbob, "acc-2", "Kessler")};
    Fieldsync__PushResponse *pr = push(f, f->bob, batch, 3);
    assert_int_equal(refusal(pr->results[0]), FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    assert_int_equal(refusal(pr->results[1]), FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY);
    assert_int_equal(refusal(pr->results[2]), 0);
    assert_non_null(pr->results[0]->refused->message);
    fieldsync__push_response__free_unpacked(pr, NULL);
    for (int i = 0; i < 3; i++)
        fs_state_free(batch[i]);
    fs_state_free(mine);
}

static void test_reassignment_moves_records_to_new_rep(void **state)
{
    fx *f = *state;
    fs_state *batch[2] = {tu_account(f->ra, "acc-1", "Brenner"),
                          tu_contact(f->ra, "con-1", "acc-1", "Eva")};
    Fieldsync__PushResponse *pr = push(f, f->anna_a, batch, 2);
    fieldsync__push_response__free_unpacked(pr, NULL);
    uint64_t cursor = pulled_cursor(f, f->anna_b, 0);
    admin_ok(f, (const char *[]){"reassign", "acc-1", "bob", NULL});
    Fieldsync__PullResponse *old = pull(f, f->anna_b, cursor);
    assert_int_equal(old->n_states, 0);
    assert_int_equal(old->n_removals, 2);
    fieldsync__pull_response__free_unpacked(old, NULL);
    Fieldsync__PullResponse *neu = pull(f, f->bob, 0);
    assert_int_equal(neu->n_states, 2);
    fieldsync__pull_response__free_unpacked(neu, NULL);
    assert_int_equal(
        it_admin(&f->sv, NULL, 0, (const char *[]){"reassign", "acc-404", "bob", NULL}), 3);
    fs_state_free(batch[0]);
    fs_state_free(batch[1]);
}

static void test_revoked_device_gets_401(void **state)
{
    fx *f = *state;
    admin_ok(f, (const char *[]){"device", "revoke", "1", NULL});
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    it_req rq = {.path = "/v1/pull", .bearer = f->anna_a, .body = body, .len = len};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 401);
    assert_string_equal(error_code(&rs), "device_revoked");
    it_resp_clear(&rs);
    free(body);
}

static void test_gc_collects_tombstones_and_silent_device_must_resync(void **state)
{
    fx *f = *state;
    fs_state *gone = tu_account(f->ra, "acc-2", "Gone");
    push_ok(f, f->anna_a, gone);
    uint64_t old = pulled_cursor(f, f->anna_b, 0);
    tu_delete(gone, f->ra);
    push_ok(f, f->anna_a, gone);
    uint64_t c = pulled_cursor(f, f->anna_a, old);
    pulled_cursor(f, f->anna_a, c); /* A has now acknowledged the delete */
    /* B falls silent for longer than the horizon */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->sv.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE devices SET last_seen_at = last_seen_at - "
                                  "91 * 86400 WHERE id IN (2, 3)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    char out[256];
    assert_int_equal(it_admin(&f->sv, out, sizeof(out), (const char *[]){"gc", NULL}), 0);
    assert_non_null(strstr(out, "1 tombstone(s)"));
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM records WHERE id = 'acc-2'", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    Fieldsync__PullResponse *pr = pull(f, f->anna_b, old);
    assert_true(pr->resync_required);
    assert_int_equal(pr->n_states, 0);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    fs_state_free(gone);
}

static void test_malformed_and_oversized_bodies_change_nothing(void **state)
{
    fx *f = *state;
    fs_state *a = tu_account(f->ra, "acc-1", "Brenner");
    push_ok(f, f->anna_a, a);
    uint64_t cursor = pulled_cursor(f, f->anna_b, 0);
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01};
    it_req rq = {.path = "/v1/push", .bearer = f->anna_a, .body = junk, .len = sizeof(junk)};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 400);
    assert_string_equal(error_code(&rs), "malformed");
    it_resp_clear(&rs);
    size_t big = (8u << 20) + 1;
    uint8_t *huge = calloc(1, big);
    rq.body = huge;
    rq.len = big;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 413);
    it_resp_clear(&rs);
    /* the same 8 MiB of zeros gzipped is tiny on the wire: still 413 */
    rq.gzip_body = true;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 413);
    it_resp_clear(&rs);
    free(huge);
    rq = (it_req){.path = "/v1/push",
                  .bearer = f->anna_a,
                  .body = junk,
                  .len = 3,
                  .content_type = "application/json"};
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 415);
    it_resp_clear(&rs);
    Fieldsync__PullResponse *pr = pull(f, f->anna_b, cursor);
    assert_int_equal(pr->n_states, 0);
    assert_int_equal(pr->next_cursor, cursor);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    fs_state_free(a);
}

/* n accounts acc-0 ... of replica ra, into st. */
static void make_accounts(fx *f, fs_state **st, int n)
{
    char id[16];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "acc-%d", i);
        st[i] = tu_account(f->ra, id, "Brenner Logistik und Spedition");
    }
}

static void test_gzip_both_ways(void **state)
{
    fx *f = *state;
    fs_state *st[20];
    make_accounts(f, st, 20);
    size_t len;
    uint8_t *body = tu_push_body(st, 20, &len);
    it_req rq = {.path = "/v1/push",
                 .bearer = f->anna_a,
                 .body = body,
                 .len = len,
                 .gzip_body = true,
                 .accept_encoding = "gzip"};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 200);
    assert_string_equal(rs.encoding, "gzip");
    Fieldsync__PushResponse *pr = fieldsync__push_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(pr);
    assert_int_equal(pr->n_results, 20);
    fieldsync__push_response__free_unpacked(pr, NULL);
    it_resp_clear(&rs);
    free(body);
    /* a corrupt gzip body is 400, a gzip bomb 413 (see the oversized test) */
    static const uint8_t notgz[] = {0x1f, 0x8b, 0x08, 0, 1, 2, 3};
    it_req bad = {.path = "/v1/push",
                  .bearer = f->anna_a,
                  .body = notgz,
                  .len = sizeof(notgz),
                  .content_encoding = "gzip"};
    it_http(&f->sv, &bad, &rs);
    assert_int_equal(rs.status, 400);
    assert_string_equal(error_code(&rs), "malformed");
    it_resp_clear(&rs);
    /* no Accept-Encoding: plain answer */
    it_resp rb;
    it_http(
        &f->sv,
        &(it_req){.path = "/v1/pull", .bearer = f->anna_b, .body = (const uint8_t *)"", .len = 0},
        &rb);
    assert_int_equal(rb.status, 200);
    assert_string_equal(rb.encoding, "");
    it_resp_clear(&rb);
    for (int i = 0; i < 20; i++)
        fs_state_free(st[i]);
}

/* The same pull asked with each Accept-Encoding: the answer comes in the
 * encoding the request prefers (zstd on a tie) and decodes to the very bytes
 * of the plain answer. */
static void test_answers_come_in_the_preferred_encoding(void **state)
{
    fx *f = *state;
    fs_state *st[40];
    make_accounts(f, st, 40);
    Fieldsync__PushResponse *pushed = push(f, f->anna_a, st, 40);
    fieldsync__push_response__free_unpacked(pushed, NULL);
    static const struct {
        const char *accept, *encoding;
    } cases[] = {
        {"zstd, gzip", "zstd"}, {"gzip, zstd", "zstd"},       {"gzip", "gzip"},
        {"zstd", "zstd"},       {"zstd;q=0.5, gzip", "gzip"}, {"zstd;q=0, gzip", "gzip"},
        {"deflate", ""},
    };
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    it_resp plain;
    it_http(&f->sv, &(it_req){.path = "/v1/pull", .bearer = f->anna_b, .body = body, .len = len},
            &plain);
    assert_int_equal(plain.status, 200);
    assert_string_equal(plain.encoding, "");
    Fieldsync__PullResponse *pr = fieldsync__pull_response__unpack(NULL, plain.len, plain.body);
    assert_non_null(pr);
    assert_int_equal(pr->n_states, 40);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        it_resp rs;
        it_http(&f->sv,
                &(it_req){.path = "/v1/pull",
                          .bearer = f->anna_b,
                          .body = body,
                          .len = len,
                          .accept_encoding = cases[i].accept},
                &rs);
        assert_int_equal(rs.status, 200);
        assert_string_equal(rs.encoding, cases[i].encoding);
        assert_int_equal(rs.len, plain.len);
        assert_memory_equal(rs.body, plain.body, plain.len);
        it_resp_clear(&rs);
    }
    it_resp_clear(&plain);
    free(body);
    for (int i = 0; i < 40; i++)
        fs_state_free(st[i]);
}

static void test_protocol_header_is_required(void **state)
{
    fx *f = *state;
    size_t len;
    uint8_t *body = tu_pull_body(0, 0, &len);
    it_req rq = {.path = "/v1/pull", .bearer = f->anna_a, .body = body, .len = len, .protocol = ""};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 400);
    assert_string_equal(error_code(&rs), "protocol_version");
    it_resp_clear(&rs);
    rq.protocol = "2";
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 400);
    Fieldsync__ErrorResponse *e = fieldsync__error_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(e);
    assert_non_null(strstr(e->message, "Fieldsync-Protocol 1"));
    fieldsync__error_response__free_unpacked(e, NULL);
    it_resp_clear(&rs);
    free(body);
}

static void test_kill_9_mid_push_keeps_database_consistent(void **state)
{
    fx *f = *state;
    fs_state *first = tu_account(f->ra, "acc-0", "Before");
    push_ok(f, f->anna_a, first);
    assert_int_equal(it_stop(&f->sv, false), 0);
    /* the server dies inside the next push's transaction, after its 3rd state */
    it_start(&f->sv, "FIELDSYNC_CRASH_AT=server.push.record@3");
    fs_state *batch[5];
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "acc-%d", i + 1);
        batch[i] = tu_account(f->ra, id, "During");
    }
    size_t len;
    uint8_t *body = tu_push_body(batch, 5, &len);
    it_req rq = {.path = "/v1/push", .bearer = f->anna_a, .body = body, .len = len};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_true(rs.failed || rs.status != 200); /* never acknowledged */
    it_resp_clear(&rs);
    assert_true(it_wait_killed(&f->sv, 10000));
    it_start(&f->sv, NULL);
    /* nothing of the interrupted push, everything acknowledged before */
    Fieldsync__PullResponse *pr = pull(f, f->anna_b, 0);
    assert_int_equal(pr->n_states, 1);
    assert_string_equal(pr->states[0]->id, "acc-0");
    fieldsync__pull_response__free_unpacked(pr, NULL);
    /* the device retries and everything lands exactly once */
    Fieldsync__PushResponse *pu = push(f, f->anna_a, batch, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(refusal(pu->results[i]), 0);
    fieldsync__push_response__free_unpacked(pu, NULL);
    pr = pull(f, f->anna_b, 0);
    assert_int_equal(pr->n_states, 6);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->sv.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(body);
    for (int i = 0; i < 5; i++)
        fs_state_free(batch[i]);
    fs_state_free(first);
}

static void test_plain_http_off_loopback_is_refused(void **state)
{
    fx *f = *state;
    char out[64];
    assert_int_equal(it_admin(&f->sv, out, sizeof(out),
                              (const char *[]){"serve", "--listen", "0.0.0.0:0", NULL}),
                     2);
}

static void test_https_with_configured_certificate(void **state)
{
    fx *f = *state;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout '%s/key.pem' -out '%s/cert.pem' -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             f->sv.dir, f->sv.dir);
    if (system(cmd) != 0)
        skip(); /* no openssl command: nothing to make a certificate with */
    char cert[320], key[320];
    snprintf(cert, sizeof(cert), "%s/cert.pem", f->sv.dir);
    snprintf(key, sizeof(key), "%s/key.pem", f->sv.dir);
    assert_int_equal(it_stop(&f->sv, false), 0);
    it_start_args(&f->sv, NULL, (const char *[]){"--cert", cert, "--key", key, NULL});
    snprintf(f->sv.ca, sizeof(f->sv.ca), "%s", cert);
    Fieldsync__PullResponse *pr = pull(f, f->anna_a, 0);
    assert_false(pr->resync_required);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    /* plain HTTP to the TLS port gets nothing useful */
    f->sv.ca[0] = '\0';
    it_req rq = {.path = "/v1/health", .method = "GET"};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_true(rs.failed || rs.status != 200);
    it_resp_clear(&rs);
    /* a key that does not exist stops the start with a clear error */
    assert_int_equal(it_admin(&f->sv, NULL, 0,
                              (const char *[]){"serve", "--listen", "127.0.0.1:0", "--cert", cert,
                                               "--key", "/nonexistent.pem", NULL}),
                     3);
}

typedef struct writer {
    fx *f;
    const char *bearer;
    uint64_t replica;
    fs_state *st;
    int non200;
} writer;

/* Writes per device in the concurrency test; FS_TEST_SCALE=N runs N times more. */
static int writes_per_device(void)
{
    const char *scale = getenv("FS_TEST_SCALE");
    int n = scale ? atoi(scale) : 1;
    return 40 * (n > 0 ? n : 1);
}

/* One device: writes the account repeatedly, pushing after each write and
 * joining the server's answer in, as the daemon's outbox does. */
static void *writer_run(void *arg)
{
    writer *w = arg;
    char name[32];
    for (int i = 0; i < writes_per_device(); i++) {
        snprintf(name, sizeof(name), "name %llu/%d", (unsigned long long)w->replica, i);
        tu_rename(w->st, w->replica, name);
        size_t len;
        uint8_t *body = tu_push_body(&w->st, 1, &len);
        it_req rq = {.path = "/v1/push", .bearer = w->bearer, .body = body, .len = len};
        it_resp rs;
        it_http(&w->f->sv, &rq, &rs);
        free(body);
        Fieldsync__PushResponse *pr =
            rs.status == 200 ? fieldsync__push_response__unpack(NULL, rs.len, rs.body) : NULL;
        if (pr == NULL || pr->n_results != 1 || refusal(pr->results[0]) != 0) {
            w->non200++;
        } else {
            fs_state *j = NULL;
            if (fs_state_from_pb(&j, pr->results[0]->joined, NULL) != 0 ||
                fs_record_join_into(w->st, j, NULL) != 0)
                w->non200++;
            fs_state_free(j);
        }
        if (pr != NULL)
            fieldsync__push_response__free_unpacked(pr, NULL);
        it_resp_clear(&rs);
    }
    return NULL;
}

static void test_concurrent_pushes_from_two_devices_all_land(void **state)
{
    fx *f = *state;
    fs_state *seed = tu_account(f->ra, "acc-1", "Brenner");
    push_ok(f, f->anna_a, seed);
    writer w[2] = {{.f = f, .bearer = f->anna_a, .replica = f->ra},
                   {.f = f, .bearer = f->anna_b, .replica = f->rb}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fs_state_copy(&w[i].st, seed, NULL), 0);
        assert_int_equal(pthread_create(&th[i], NULL, writer_run, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].non200, 0);
    }
    Fieldsync__PullResponse *pr = pull(f, f->bob, 0);
    assert_int_equal(pr->n_states, 0);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    size_t len; /* a full pull: the last write may be anna_a's own */
    uint8_t *body = tu_pull_full_body(0, &len);
    pr = pull_body(f, f->anna_a, body, len);
    assert_int_equal(pr->n_states, 1);
    fs_state *j = NULL;
    assert_int_equal(fs_state_from_pb(&j, pr->states[0], NULL), 0);
    /* every write of both devices was seen by the server */
    assert_int_equal(fs_vv_get(&j->vv, f->ra), writes_per_device() + 1);
    assert_int_equal(fs_vv_get(&j->vv, f->rb), writes_per_device());
    fs_state_free(j);
    fieldsync__pull_response__free_unpacked(pr, NULL);
    for (int i = 0; i < 2; i++)
        fs_state_free(w[i].st);
    fs_state_free(seed);
}

static void test_cli_config_file_help_and_exit_codes(void **state)
{
    fx *f = *state;
    char conf[320], line[400], out[512];
    snprintf(conf, sizeof(conf), "%s/server.conf", f->sv.dir);
    FILE *fp = fopen(conf, "w");
    assert_non_null(fp);
    /* a tab and a comment after a value, a CRLF line, a blank line with a CR */
    fprintf(fp, "# test config\ndb = %s\t# the test's\nlog-level = warn\r\n\r\n", f->sv.db);
    fclose(fp);
    /* the database comes from the file alone */
    it_server nodb = f->sv;
    nodb.db[0] = '\0';
    snprintf(line, sizeof(line), "%s", conf);
    assert_int_equal(
        it_admin(&nodb, out, sizeof(out), (const char *[]){"--config", line, "user", "list", NULL}),
        0);
    assert_non_null(strstr(out, "anna"));
    /* the command line wins over the file: this database does not exist */
    it_server other = f->sv;
    snprintf(other.db, sizeof(other.db), "%s/missing.db", f->sv.dir);
    assert_int_equal(
        it_admin(&other, NULL, 0, (const char *[]){"--config", line, "user", "list", NULL}), 3);
    assert_int_equal(
        it_admin(&f->sv, NULL, 0, (const char *[]){"user", "add", "anna", "--role", "rep", NULL}),
        4);
    assert_int_equal(
        it_admin(&f->sv, NULL, 0, (const char *[]){"user", "add", "x", "--role", "boss", NULL}), 2);
    assert_int_equal(it_admin(&f->sv, NULL, 0, (const char *[]){"enroll-code", "nobody", NULL}), 3);
    assert_int_equal(
        it_admin(&f->sv, NULL, 0, (const char *[]){"enroll-code", "anna", "--ttl", "soon", NULL}),
        2);
    assert_int_equal(it_admin(&f->sv, NULL, 0, (const char *[]){"gc", "--ttl", "1h", NULL}), 2);
    assert_int_equal(it_admin(&f->sv, NULL, 0, (const char *[]){"frobnicate", NULL}), 2);
    assert_int_equal(
        it_admin(&f->sv, out, sizeof(out), (const char *[]){"reassign", "--help", NULL}), 0);
    assert_non_null(strstr(out, "reassign ACCOUNT_ID NEW_REP"));
    assert_int_equal(it_admin(&f->sv, out, sizeof(out), (const char *[]){"--version", NULL}), 0);
    assert_non_null(strstr(out, "fieldsync-server 0."));
    /* over 64 KiB: refused, not cut short after its first lines */
    fp = fopen(conf, "a");
    for (int i = 0; i < 1100; i++)
        fprintf(fp, "# %060d\n", i);
    fclose(fp);
    assert_int_equal(
        it_admin(&nodb, NULL, 0, (const char *[]){"--config", line, "user", "list", NULL}), 2);
    fp = fopen(conf, "w");
    fprintf(fp, "db = %s\ncolour = blue\n", f->sv.db);
    fclose(fp);
    assert_int_equal(
        it_admin(&nodb, NULL, 0, (const char *[]){"--config", line, "user", "list", NULL}), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_health_answers_200),
        T(test_enroll_good_reused_and_expired_codes),
        T(test_push_pull_round_trip_and_concurrent_join),
        T(test_refusals_do_not_fail_the_push),
        T(test_reassignment_moves_records_to_new_rep),
        T(test_revoked_device_gets_401),
        T(test_gc_collects_tombstones_and_silent_device_must_resync),
        T(test_malformed_and_oversized_bodies_change_nothing),
        T(test_gzip_both_ways),
        T(test_answers_come_in_the_preferred_encoding),
        T(test_protocol_header_is_required),
        T(test_kill_9_mid_push_keeps_database_consistent),
        T(test_plain_http_off_loopback_is_refused),
        T(test_https_with_configured_certificate),
        T(test_concurrent_pushes_from_two_devices_all_land),
        T(test_cli_config_file_help_and_exit_codes),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
