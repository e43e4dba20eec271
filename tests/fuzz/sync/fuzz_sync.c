/*
 * fuzz_sync.c: every message the sync client decodes from the server, through
 * the code the engine runs (daemon/sync/wire.c). FUZZ_MSG selects:
 *   1 EnrollResponse: fs_sync_decode_enroll
 *   2 PushResponse: fs_sync_decode_push against a pushed batch of three
 *     accounts, then each accepted joined state joined with what was pushed
 *   3 PullResponse: fs_sync_decode_pull, then the page applied to a temporary
 *     plain store (fs_store_apply_remote, or a resync apply when the first
 *     byte is odd)
 *   4 ErrorResponse: fs_sync_decode_error
 * An input may be rejected; it must never crash, leak or trip a sanitizer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fieldsync/store_resync.h"
#include "fuzz_sync_batch.h"
#include "sync_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if FUZZ_MSG == 1
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init)
        init = fs_crypto_init(NULL) == 0;
    fs_sync_enrollment e;
    if (fs_sync_decode_enroll(data, size, &e, NULL) == 0) {
        if (e.replica == 0 || e.token == NULL || e.token->len != FS_SYNC_TOKEN_BYTES ||
            e.user[0] == '\0')
            abort(); /* accepted what must be refused */
        fs_sync_enrollment_clear(&e);
    }
    return 0;
}
#elif FUZZ_MSG == 2
static void push_one(const uint8_t *data, size_t size, const fs_outbox_batch *batch, size_t nsent)
{
    fs_sync_push_answer a;
    if (fs_sync_decode_push(data, size, batch, nsent, &a, NULL) != 0)
        return;
    if (a.n != nsent)
        abort();
    for (size_t i = 0; i < a.n; i++) {
        fs_state *joined = NULL;
        if (a.results[i].joined == NULL)
            continue;
        if (fs_record_join(&joined, batch->items[i].state, a.results[i].joined, NULL) != 0)
            abort(); /* validated states of the same record always join */
        fs_state_free(joined);
    }
    fs_sync_push_answer_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fs_outbox_batch batch;
    if (batch.items == NULL)
        fuzz_sync_batch(&batch);
    /* the whole batch, and a batch of which only the first item was sent */
    push_one(data, size, &batch, FUZZ_BATCH_N);
    push_one(data, size, &batch, 1);
    return 0;
}
#elif FUZZ_MSG == 3
static fs_store *store;
static char dir[64];

static void cleanup(void)
{
    char cmd[128];
    fs_store_close(store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL) {
        char path[128];
        snprintf(dir, sizeof(dir), "/tmp/fuzz-sync-pull-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(path, sizeof(path), "%s/store.db", dir);
        if (fs_store_open(&store, path, NULL, NULL, 0, FS_STORE_CREATE, NULL) != 0)
            abort();
        atexit(cleanup);
    }
    fs_sync_pull_page p;
    uint64_t cursor = 0;
    fs_store_meta_get_u64(store, FS_META_CURSOR, &cursor, NULL);
    /* from cursor 0 the page answers a pull that begins a snapshot */
    if (fs_sync_decode_pull(data, size, cursor, cursor == 0 ? (const uint8_t *)"" : NULL, 0, &p,
                            NULL) != 0)
        return 0;
    fs_apply_report rep;
    fs_pull_pos pos = {p.next_cursor, p.snapshot, p.snapshot_len};
    if (size > 0 && (data[0] & 1)) {
        fs_store_resync_begin(store, NULL);
        fs_store_resync_apply_pulled(store, p.states, p.nstates, p.removals, p.nremovals, &pos,
                                     NULL, &rep, NULL);
        fs_apply_report_clear(&rep);
        fs_store_resync_finish(store, NULL, NULL, NULL, NULL);
    } else {
        fs_store_apply_pulled(store, p.states, p.nstates, p.removals, p.nremovals, &pos, &rep,
                              NULL);
        fs_apply_report_clear(&rep);
    }
    /* keep the cursor low so later inputs are not refused for moving it back */
    fs_store_meta_set_u64(store, FS_META_CURSOR, 0, NULL);
    fs_sync_pull_page_clear(&p);
    return 0;
}
#elif FUZZ_MSG == 4
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char code[64], msg[256];
    fs_sync_decode_error(data, size, code, sizeof(code), msg, sizeof(msg));
    for (const char *p = code; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            abort(); /* control bytes must never reach a terminal or a log */
    for (const char *p = msg; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            abort();
    return 0;
}
#else
#error "FUZZ_MSG must be 1..4"
#endif
