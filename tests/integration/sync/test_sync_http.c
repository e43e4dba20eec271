/*
 * test_sync_http.c: the sync client's HTTP layer (daemon/sync/http.c) against
 * the real fieldsync-server. A pull's answer arrives zstd-encoded and decodes
 * to the states the server sent; the answer limit counts the decoded bytes,
 * so an answer that is small on the wire but over the limit once decoded is
 * refused (a zstd bomb stops there as a gzip one does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fieldsync.pb-c.h"
#include "harness.h"
#include "sync_http.h"
#include "sync_wire.h"

#define ACCOUNTS 300

typedef struct fx {
    fs_loop *loop;
    h_server sv;
    h_device a, b; /* a writes the accounts, b pulls them */
} fx;

/* What one request's callback saw. */
typedef struct answer {
    bool done;
    fs_http_outcome outcome;
    long status;
    char encoding[16];
    size_t len;
    uint64_t bytes_down;
    size_t states; /* of the decoded PullResponse */
} answer;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    assert_int_equal(fs_loop_new(&f->loop, NULL), 0);
    hs_init(&f->sv);
    hs_add_rep(&f->sv, "ann");
    hs_start(&f->sv, 0);
    fs_sync_opts o = {.no_netwatch = true};
    hd_open(&f->a, f->loop, "a", &o);
    hd_open(&f->b, f->loop, "b", &o);
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "ann");
    char id[32];
    for (int i = 0; i < ACCOUNTS; i++) {
        snprintf(id, sizeof(id), "acc-%05d", i);
        hd_put_account(&f->a, id, "Brenner Logistik und Spedition GmbH", "Hamburg");
    }
    assert_int_equal(hd_sync(&f->a), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    hd_destroy(&f->a);
    hd_destroy(&f->b);
    hs_cleanup(&f->sv);
    fs_loop_free(f->loop);
    free(f);
    return 0;
}

static void on_answer(void *arg, const fs_http_resp *r)
{
    answer *a = arg;
    a->done = true;
    a->outcome = r->outcome;
    a->status = r->status;
    snprintf(a->encoding, sizeof(a->encoding), "%s", r->encoding);
    a->len = r->len;
    a->bytes_down = r->bytes_down;
    Fieldsync__PullResponse *pr =
        r->outcome == FS_HTTP_OK ? fieldsync__pull_response__unpack(NULL, r->len, r->body) : NULL;
    if (pr != NULL) {
        a->states = pr->n_states;
        fieldsync__pull_response__free_unpacked(pr, NULL);
    }
}

static bool answered(void *arg)
{
    return ((answer *)arg)->done;
}

/* POSTs a pull from cursor 0 with b's token through a client whose
 * answers are capped at max_response decoded bytes. */
static answer pull_all(fx *f, size_t max_response)
{
    fs_http_opts o = {.connect_timeout_ms = 5000,
                      .low_speed_s = 10,
                      .timeout_s = 30,
                      .max_response = max_response,
                      .gzip_min = 1024};
    fs_http *h;
    fs_secret *token;
    fs_err err;
    uint8_t *body;
    size_t len;
    assert_int_equal(fs_http_new(&h, f->loop, &o, &err), 0);
    assert_int_equal(fs_store_meta_get_secret(f->b.st, FS_META_DEVICE_TOKEN, &token, &err), 0);
    assert_int_equal(fs_sync_encode_pull(&(fs_sync_pull_req){.limit = 1000}, &body, &len, &err), 0);
    answer a = {0};
    assert_int_equal(fs_http_post(h, f->sv.url, "/v1/pull", (fs_http_body){body, len, false}, token,
                                  on_answer, &a, NULL, &err),
                     0);
    assert_true(h_run_until(f->loop, answered, &a, H_DEADLINE_MS));
    fs_secret_free(token);
    fs_http_free(h);
    return a;
}

static void test_pull_answer_arrives_compressed_and_decodes(void **state)
{
    fx *f = *state;
    answer a = pull_all(f, 64u << 20);
    assert_int_equal(a.outcome, FS_HTTP_OK);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.encoding, "zstd");
    assert_int_equal(a.states, ACCOUNTS);
    /* the bytes on the wire are the compressed ones */
    assert_true(a.bytes_down > 0 && a.bytes_down < a.len / 4);
}

static void test_answer_limit_counts_the_decoded_bytes(void **state)
{
    fx *f = *state;
    answer whole = pull_all(f, 64u << 20);
    assert_int_equal(whole.outcome, FS_HTTP_OK);
    /* a limit the wire bytes fit in four times over, one byte short of the
     * decoded answer */
    size_t limit = whole.len - 1;
    assert_true(whole.bytes_down * 4 < limit);
    answer cut = pull_all(f, limit);
    assert_int_equal(cut.outcome, FS_HTTP_TOO_BIG);
    assert_int_equal(cut.states, 0);
    answer exact = pull_all(f, whole.len);
    assert_int_equal(exact.outcome, FS_HTTP_OK);
    assert_string_equal(exact.encoding, "zstd");
    assert_int_equal(exact.states, ACCOUNTS);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_pull_answer_arrives_compressed_and_decodes),
        T(test_answer_limit_counts_the_decoded_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
