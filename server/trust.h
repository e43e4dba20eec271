/*
 * trust.h: whose writes a device may push (docs/protocol.md, "Whose writes a
 * device may push").
 *
 * The server joins a pushed state with its copy of the record. The join
 * trusts what the state says about every replica: a forged version vector
 * entry of another device makes the server treat that device's next writes as
 * already seen and drop them; a forged write under another device's id is
 * kept as that device's; a rewritten copy of a known write replaces the value
 * (the join keeps the smaller content); an HLC far in the future wins every
 * later conflict. So before the join, srv_trust_check holds a pushed state to
 * three rules against the server's copy:
 *
 * 1. Other replicas' entries: for every replica that is not the device's own,
 *    the pushed version vector claims no more than the server's copy knows.
 *    With the state's own invariant (its vv covers its dots), this also means
 *    every write the server does not know yet is the device's own.
 * 2. Clocks: a write the server does not know yet carries an HLC at most
 *    clock_skew_s ahead of the server's clock.
 * 3. Known writes: every write both hold is told the same (fs_record_agree).
 *
 * A device owns its replica id and the prior id its store wrote with before
 * it was enrolled, when the server granted it (handler.c). Its own counter
 * may run ahead of the server's copy: those are its new writes.
 */
#ifndef SRV_TRUST_H
#define SRV_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/record.h"
#include "storage.h"

typedef struct srv_trust {
    uint64_t own[2]; /* the device's replica ids (own[1] 0: none) */
    uint64_t now_ms; /* the server's clock */
    int64_t skew_s;  /* how far ahead of it a new write may be dated */
} srv_trust;

/* The rules for dev's pushes at server time now_s, allowing skew_s ahead. */
void srv_trust_init(srv_trust *t, const srv_device *dev, int64_t now_s, int64_t skew_s);

/*
 * Holds pushed to the rules against known (the server's copy of the record,
 * or an empty state when it has none). 0 when pushed may be joined; a
 * positive FIELDSYNC__REFUSAL__REASON__* with why (whylen bytes) saying which
 * write and what the device can do; a negative FS_E* code on failure (err).
 */
int srv_trust_check(const srv_trust *t, const fs_state *known, const fs_state *pushed, char *why,
                    size_t whylen, fs_err *err);

#endif
