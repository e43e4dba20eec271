/*
 * fuzz_server.c: the bodies a device sends, through the real handlers against
 * a temporary SQLite storage. Built three times (FUZZ_ENDPOINT 1 enroll,
 * 2 push, 3 pull). Beyond "no crash, no sanitizer report", every answer must
 * be well formed: a known status, and a body that decodes as the message that
 * status promises (PushResponse with one result per pushed state, or an
 * ErrorResponse with a code).
 *
 * The database lives in /dev/shm when it exists: pushes commit with fsync and
 * the fuzzer runs thousands of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fieldsync.pb-c.h"
#include "srv_test_util.h"

static srv_storage *fz_s;
static srv_config fz_cfg;
static int64_t fz_now = 1700000000;
static char fz_bearer[80];

static char fz_dir[256];

/* Answers by status class, printed at exit: a corpus that never reaches 200
 * exercises only the decoder. */
static unsigned long fz_ok, fz_refused;

static void fz_cleanup(void)
{
    fprintf(stderr, "fuzz_server: %lu answered 200, %lu refused as a whole\n", fz_ok, fz_refused);
    tu_storage_free(fz_s, fz_dir);
}

static void fz_setup(void)
{
    struct stat st;
    if (getenv("TMPDIR") == NULL && stat("/dev/shm", &st) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    fz_s = tu_storage_new(fz_dir);
    atexit(fz_cleanup);
    tu_config(&fz_cfg, &fz_now);
    tu_user(fz_s, "mgr", SRV_ROLE_MANAGER, NULL);
    tu_user(fz_s, "anna", SRV_ROLE_REP, "mgr");
    tu_user(fz_s, "bob", SRV_ROLE_REP, NULL);
    uint64_t replica;
    /* the seeds are anna's writes as replica 11 (make_seeds.c): her store's id */
    tu_enroll_prior(fz_s, &fz_cfg, "anna", 11, fz_bearer, &replica);
    /* something to join with and to be refused against */
    char bob[80];
    uint64_t rbob;
    tu_enroll(fz_s, &fz_cfg, "bob", bob, &rbob);
    fs_state *a = tu_account(rbob, "acc-bob", "Kessler");
    size_t len;
    uint8_t *body = tu_push_body(&a, 1, &len);
    srv_response rs = {0};
    tu_call(srv_handle_push, fz_s, &fz_cfg, bob, body, len, &rs);
    srv_response_clear(&rs);
    free(body);
    fs_state_free(a);
    /* the seed corpus's code, so the enroll target reaches 200 once per run */
    uint8_t hash[SRV_HASH_BYTES];
    srv_code_hash("7QKD-M2XA-9F0R-HC3V", hash);
    fz_s->ops->code_add(fz_s, hash, 2, fz_now + 3600, NULL);
}

static void check_error_body(const srv_response *rs)
{
    Fieldsync__ErrorResponse *e = fieldsync__error_response__unpack(NULL, rs->len, rs->body);
    if (e == NULL || e->code == NULL || e->message == NULL)
        abort();
    fieldsync__error_response__free_unpacked(e, NULL);
}

static void check_ok_body(const srv_response *rs, const uint8_t *in, size_t len)
{
#if FUZZ_ENDPOINT == 1
    (void)in;
    (void)len;
    Fieldsync__EnrollResponse *m = fieldsync__enroll_response__unpack(NULL, rs->len, rs->body);
    if (m == NULL || m->token.len != SRV_TOKEN_BYTES)
        abort();
    fieldsync__enroll_response__free_unpacked(m, NULL);
#elif FUZZ_ENDPOINT == 2
    Fieldsync__PushRequest *rq = fieldsync__push_request__unpack(NULL, len, in);
    Fieldsync__PushResponse *m = fieldsync__push_response__unpack(NULL, rs->len, rs->body);
    if (rq == NULL || m == NULL || m->n_results != rq->n_states)
        abort();
    fieldsync__push_response__free_unpacked(m, NULL);
    fieldsync__push_request__free_unpacked(rq, NULL);
#else
    (void)in;
    (void)len;
    Fieldsync__PullResponse *m = fieldsync__pull_response__unpack(NULL, rs->len, rs->body);
    if (m == NULL)
        abort();
    fieldsync__pull_response__free_unpacked(m, NULL);
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_s == NULL)
        fz_setup();
    srv_response rs = {0};
#if FUZZ_ENDPOINT == 1
    int rc = tu_call(srv_handle_enroll, fz_s, &fz_cfg, NULL, data, size, &rs);
#elif FUZZ_ENDPOINT == 2
    int rc = tu_call(srv_handle_push, fz_s, &fz_cfg, fz_bearer, data, size, &rs);
#else
    int rc = tu_call(srv_handle_pull, fz_s, &fz_cfg, fz_bearer, data, size, &rs);
#endif
    if (rc != 0)
        abort();
    if (rs.status == 200) {
        check_ok_body(&rs, data, size);
        fz_ok++;
    } else if (rs.status == 400 || rs.status == 403 || rs.status == 413) {
        check_error_body(&rs);
        fz_refused++;
    } else
        abort(); /* 401, 5xx: the fixture's token and storage never fail */
    srv_response_clear(&rs);
    return 0;
}
