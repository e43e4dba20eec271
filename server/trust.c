/*
 * trust.c: whose writes a device may push (see trust.h for the rules and
 * why). Each rule is checked on the pushed state as it arrived, before the
 * join, against the server's copy; the first broken one refuses the state
 * with a message naming the write.
 */
#include "trust.h"

#include <stdbool.h>
#include <stdio.h>

#include "fieldsync.pb-c.h"

static bool owned(const srv_trust *t, uint64_t replica)
{
    return replica == t->own[0] || (t->own[1] != 0 && replica == t->own[1]);
}

void srv_trust_init(srv_trust *t, const srv_device *dev, int64_t now_s, int64_t skew_s)
{
    t->own[0] = dev->replica;
    t->own[1] = dev->prior_replica;
    t->now_ms = (uint64_t)now_s * 1000;
    t->skew_s = skew_s;
}

/* Rule 1: other replicas' version vector entries are no news to the server. */
static int check_others(const srv_trust *t, const fs_state *known, const fs_state *pushed,
                        char *why, size_t whylen)
{
    for (size_t i = 0; i < pushed->vv.n; i++) {
        fs_dot e = pushed->vv.entries[i];
        uint64_t k = fs_vv_get(&known->vv, e.replica);
        if (owned(t, e.replica) || e.counter <= k)
            continue;
        snprintf(why, whylen,
                 "the state claims writes of replica %016llx up to %llu, and the server knows "
                 "%llu of them: a device may only add its own writes (another device's reach the "
                 "server from that device)",
                 (unsigned long long)e.replica, (unsigned long long)e.counter,
                 (unsigned long long)k);
        return FIELDSYNC__REFUSAL__REASON__FOREIGN_WRITE;
    }
    return 0;
}

/* Rule 2: a write the server does not know yet is not dated in its future. */
static int check_clocks(const srv_trust *t, const fs_state *known, const fs_state *pushed,
                        char *why, size_t whylen)
{
    /* the server's clock has whole seconds: allow the rest of this one */
    uint64_t max_ms = t->now_ms + (uint64_t)t->skew_s * 1000 + 999;
    for (size_t i = 0; i < pushed->nevents; i++) {
        const fs_event *e = &pushed->events[i];
        uint64_t wall = fs_hlc_wall_ms(e->hlc);
        if (fs_vv_covers(&known->vv, e->dot) || wall <= max_ms)
            continue;
        snprintf(why, whylen,
                 "write %016llx:%llu is dated %llu s ahead of the server's clock (at most %lld s "
                 "allowed): check this device's clock; the device sends the change again by "
                 "itself once the server's clock has reached it",
                 (unsigned long long)e->dot.replica, (unsigned long long)e->dot.counter,
                 (unsigned long long)((wall - t->now_ms) / 1000), (long long)t->skew_s);
        return FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD;
    }
    return 0;
}

/* Rule 3: a write the server holds comes back as it is. */
static int check_known(const srv_trust *t, const fs_state *known, const fs_state *pushed, char *why,
                       size_t whylen, fs_err *err)
{
    fs_dot d;
    int rc = fs_record_agree(known, pushed, &d, err);
    if (rc != FS_ECONFLICT)
        return rc;
    bool mine = owned(t, d.replica);
    snprintf(why, whylen,
             mine ? "this device's write %016llx:%llu differs from the server's copy of it: was "
                    "the device's store restored from an older backup?"
                  : "write %016llx:%llu differs from the server's copy of it: a write cannot be "
                    "changed once made",
             (unsigned long long)d.replica, (unsigned long long)d.counter);
    return mine ? FIELDSYNC__REFUSAL__REASON__INVALID : FIELDSYNC__REFUSAL__REASON__FOREIGN_WRITE;
}

int srv_trust_check(const srv_trust *t, const fs_state *known, const fs_state *pushed, char *why,
                    size_t whylen, fs_err *err)
{
    int reason = check_others(t, known, pushed, why, whylen);
    if (reason == 0)
        reason = check_clocks(t, known, pushed, why, whylen);
    if (reason == 0)
        reason = check_known(t, known, pushed, why, whylen, err);
    return reason;
}
