/*
 * make_seeds.c: writes the seed corpora of the sync client's fuzz targets into
 * tests/fuzz/corpus/fuzz_sync_{enroll,push,pull,error}/ (run by hand when the
 * messages change; the seeds are committed):
 *   fuzz_sync_make_seeds CORPUS_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_sync_batch.h"

static void put(const char *dir, const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n)
        exit(1);
    fclose(f);
}

static void enroll_seeds(const char *dir)
{
    uint8_t token[32], buf[256];
    memset(token, 0x5a, sizeof(token));
    Fieldsync__EnrollResponse m = FIELDSYNC__ENROLL_RESPONSE__INIT;
    m.has_replica_id = 1;
    m.replica_id = 0x1122334455667788ull;
    m.has_token = 1;
    m.token.data = token;
    m.token.len = sizeof(token);
    m.user = "ann";
    m.server_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    put(dir, "fuzz_sync_enroll", "ok", buf, fieldsync__enroll_response__pack(&m, buf));
    m.token.len = 31;
    put(dir, "fuzz_sync_enroll", "short_token", buf, fieldsync__enroll_response__pack(&m, buf));
}

/* A PushResponse answering the first n items; refuse_mask bit i refuses item i. */
static void push_seed(const char *dir, const char *name, const fs_outbox_batch *b, size_t n,
                      unsigned refuse_mask)
{
    Fieldsync__PushResponse m = FIELDSYNC__PUSH_RESPONSE__INIT;
    Fieldsync__PushResult res[FUZZ_BATCH_N], *ptrs[FUZZ_BATCH_N];
    Fieldsync__RecordRef refs[FUZZ_BATCH_N];
    Fieldsync__RecordState pbs[FUZZ_BATCH_N];
    Fieldsync__VersionVectorEntry *vvs[FUZZ_BATCH_N] = {0};
    Fieldsync__Event *evs[FUZZ_BATCH_N] = {0};
    Fieldsync__Refusal refusal = FIELDSYNC__REFUSAL__INIT;
    refusal.has_reason = 1;
    refusal.reason = FIELDSYNC__REFUSAL__REASON__NOT_YOUR_TERRITORY;
    refusal.message = "account a2 belongs to another rep";
    for (size_t i = 0; i < n; i++) {
        fieldsync__push_result__init(&res[i]);
        fieldsync__record_ref__init(&refs[i]);
        fieldsync__record_state__init(&pbs[i]);
        refs[i].has_kind = 1;
        refs[i].kind = b->items[i].state->kind;
        refs[i].id = b->items[i].state->id;
        res[i].ref = &refs[i];
        if (refuse_mask & (1u << i)) {
            res[i].outcome_case = FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED;
            res[i].refused = &refusal;
        } else {
            fs_state_to_pb(b->items[i].state, &pbs[i], &vvs[i], &evs[i], NULL);
            res[i].outcome_case = FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED;
            res[i].joined = &pbs[i];
        }
        ptrs[i] = &res[i];
    }
    m.n_results = n;
    m.results = ptrs;
    size_t len = fieldsync__push_response__get_packed_size(&m);
    uint8_t *buf = malloc(len);
    fieldsync__push_response__pack(&m, buf);
    put(dir, "fuzz_sync_push", name, buf, len);
    free(buf);
    for (size_t i = 0; i < n; i++)
        fs_state_pb_storage_free(vvs[i], evs[i], 0);
}

static void pull_seeds(const char *dir, const fs_outbox_batch *b)
{
    Fieldsync__PullResponse m = FIELDSYNC__PULL_RESPONSE__INIT;
    Fieldsync__RecordState pbs[FUZZ_BATCH_N], *ptrs[FUZZ_BATCH_N];
    Fieldsync__VersionVectorEntry *vvs[FUZZ_BATCH_N] = {0};
    Fieldsync__Event *evs[FUZZ_BATCH_N] = {0};
    Fieldsync__RecordRef rm = FIELDSYNC__RECORD_REF__INIT, *rmp = &rm;
    uint8_t buf[4096];
    for (size_t i = 0; i < FUZZ_BATCH_N; i++) {
        fieldsync__record_state__init(&pbs[i]);
        fs_state_to_pb(b->items[i].state, &pbs[i], &vvs[i], &evs[i], NULL);
        ptrs[i] = &pbs[i];
    }
    m.n_states = FUZZ_BATCH_N;
    m.states = ptrs;
    m.has_next_cursor = 1;
    m.next_cursor = 3;
    m.has_more = 1;
    m.more = 1;
    put(dir, "fuzz_sync_pull", "page", buf, fieldsync__pull_response__pack(&m, buf));
    rm.has_kind = 1;
    rm.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    rm.id = "a2";
    m.n_removals = 1;
    m.removals = &rmp;
    m.more = 0;
    put(dir, "fuzz_sync_pull", "page_removal", buf, fieldsync__pull_response__pack(&m, buf));
    /* a first page from 0 and a last page at once: total, read_only, device names */
    Fieldsync__Device dev = FIELDSYNC__DEVICE__INIT, *devp = &dev;
    Fieldsync__DeviceList list = FIELDSYNC__DEVICE_LIST__INIT;
    uint8_t digest[16] = {0x5a};
    dev.has_replica = 1;
    dev.replica = 0xaa;
    dev.name = "laptop";
    dev.user = "ann";
    list.n_devices = 1;
    list.devices = &devp;
    list.has_digest = 1;
    list.digest.data = digest;
    list.digest.len = sizeof(digest);
    m.has_total = 1;
    m.total = FUZZ_BATCH_N;
    m.has_read_only = 1;
    m.devices = &list;
    put(dir, "fuzz_sync_pull", "page_extras", buf, fieldsync__pull_response__pack(&m, buf));
    m.has_total = 0;
    m.has_read_only = 0;
    m.devices = NULL;
    m.n_removals = 0;
    m.next_cursor = 0;
    m.more = 1;
    m.has_snapshot = 1;
    m.snapshot.data = (uint8_t *)"\x08\x05\x18\x01";
    m.snapshot.len = 4;
    put(dir, "fuzz_sync_pull", "snapshot", buf, fieldsync__pull_response__pack(&m, buf));
    Fieldsync__PullResponse r = FIELDSYNC__PULL_RESPONSE__INIT;
    r.has_resync_required = 1;
    r.resync_required = 1;
    put(dir, "fuzz_sync_pull", "resync", buf, fieldsync__pull_response__pack(&r, buf));
    for (size_t i = 0; i < FUZZ_BATCH_N; i++)
        fs_state_pb_storage_free(vvs[i], evs[i], 0);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *dir = argv[1];
    fs_outbox_batch b = {0};
    fuzz_sync_batch(&b);
    enroll_seeds(dir);
    push_seed(dir, "all_joined", &b, 3, 0);
    push_seed(dir, "one_refused", &b, 3, 2);
    push_seed(dir, "one", &b, 1, 0);
    pull_seeds(dir, &b);
    Fieldsync__ErrorResponse e = FIELDSYNC__ERROR_RESPONSE__INIT;
    uint8_t buf[256];
    e.code = "device_revoked";
    e.message = "the administrator revoked this device: enroll it again";
    put(dir, "fuzz_sync_error", "revoked", buf, fieldsync__error_response__pack(&e, buf));
    e.code = "busy";
    e.message = "the database stayed locked; retry";
    put(dir, "fuzz_sync_error", "busy", buf, fieldsync__error_response__pack(&e, buf));
    fs_outbox_batch_clear(&b);
    return 0;
}
