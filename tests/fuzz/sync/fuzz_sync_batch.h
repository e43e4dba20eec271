/*
 * fuzz_sync_batch.h: the pushed batch the PushResponse fuzz target validates
 * answers against, shared with make_seeds so the seeds answer it exactly.
 */
#ifndef FUZZ_SYNC_BATCH_H
#define FUZZ_SYNC_BATCH_H

#include <stdlib.h>

#include "sync_wire.h"

#define FUZZ_BATCH_N 3

/* Accounts a1..a3 written once by replica 7; a3 also by replica 9. */
static inline void fuzz_sync_batch(fs_outbox_batch *b)
{
    static const char *const ids[FUZZ_BATCH_N] = {"a1", "a2", "a3"};
    b->id = 1;
    b->n = FUZZ_BATCH_N;
    b->items = calloc(FUZZ_BATCH_N, sizeof(*b->items));
    for (size_t i = 0; i < FUZZ_BATCH_N; i++) {
        Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
        a.name = (char *)ids[i];
        fs_state_new(&b->items[i].state, FIELDSYNC__RECORD_KIND__ACCOUNT, ids[i], NULL);
        fs_record_write_msg(b->items[i].state, 7, (1000ull + i) << 16, &a.base, NULL, 0, NULL);
        if (i == 2)
            fs_record_write_msg(b->items[i].state, 9, 2000ull << 16, &a.base, NULL, 0, NULL);
        b->items[i].first_seq = b->items[i].last_seq = (int64_t)i + 1;
    }
}

#endif
