/*
 * owner.c: the server writes an account's territory owner into its `owner`
 * field (see owner.h).
 *
 * A fresh replica id per write, rather than one the server keeps: a server
 * restored from a backup would otherwise mint a dot it already gave to a
 * different write before the backup's loss. Writes are rare (the first push of
 * an account with the wrong owner, a reassignment), so each adds one version
 * vector entry to one account.
 */
#include "owner.h"

#include <string.h>
#include <time.h>

#include "token.h"

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int srv_owner_stamp(fs_state *st, const char *owner, bool *stamped, fs_err *err)
{
    ProtobufCMessage *m = NULL;
    *stamped = false;
    if (st->kind != FIELDSYNC__RECORD_KIND__ACCOUNT || !fs_record_alive(st))
        return 0;
    int rc = fs_record_visible(st, &m, err);
    if (rc != 0)
        return rc;
    const char *shown = ((const Fieldsync__Account *)m)->owner;
    bool same = shown != NULL && strcmp(shown, owner) == 0;
    protobuf_c_message_free_unpacked(m, NULL);
    if (same)
        return 0;
    Fieldsync__Account set = FIELDSYNC__ACCOUNT__INIT;
    set.owner = (char *)owner;
    fs_hlc clock = {.last = fs_record_hlc(st)};
    rc = fs_record_write_msg(st, srv_replica_mint(), fs_hlc_now(&clock, wall_ms()), &set.base, NULL,
                             0, err);
    *stamped = rc == 0;
    return rc;
}
