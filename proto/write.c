/*
 * write.c: local writes and deletes (DESIGN.md "Record model").
 *
 * A write of fields F at replica r makes one event with dot (r, vv[r] + 1) that
 * holds a sibling of every f in F and `alive` = true, and removes every sibling
 * of those fields and of `alive` that the state held: the writer saw them all,
 * so they are superseded. Events left with no live sibling go. A delete is the
 * same with F empty and `alive` = false. The state is changed only on success.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record_internal.h"
#include "wire.h"

static bool in_set(const fs_sib *set, size_t n, uint32_t field)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set[mid].field == field)
            return true;
        if (set[mid].field < field)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* out = old minus its alive sibling and its siblings of the fields in set. */
static int supersede(fs_event *out, const fs_event *old, const fs_sib *set, size_t nset)
{
    fs_sib *s = NULL;
    size_t n = 0, k = 0;
    int rc = fs_event_sibs(old, &s, &n);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!in_set(set, nset, s[i].field))
            s[k++] = s[i];
    *out = (fs_event){.dot = old->dot, .hlc = old->hlc, .alive = FS_ALIVE_NONE};
    rc = fs_event_set_sibs(out, s, k);
    free(s);
    return rc;
}

/* Adds ne (taken over, cleared on every path) to st as a local write. */
static int apply(fs_state *st, fs_event *ne, fs_err *err)
{
    fs_sib *set = NULL;
    size_t nset = 0;
    fs_event *evs = calloc(st->nevents + 1, sizeof(fs_event));
    fs_vv vv;
    fs_vv_init(&vv);
    size_t n = 0, placed_at = SIZE_MAX;
    int rc = FS_ENOMEM;
    if (evs == NULL || fs_vv_copy(&vv, &st->vv) != 0 ||
        fs_vv_set(&vv, ne->dot.replica, ne->dot.counter) != 0)
        goto fail;
    if ((rc = fs_event_sibs(ne, &set, &nset)) != 0)
        goto fail;
    for (size_t i = 0; i < st->nevents; i++) {
        if (placed_at == SIZE_MAX && fs_dot_cmp(ne->dot, st->events[i].dot) < 0) {
            placed_at = n;
            evs[n++] = *ne;
        }
        if ((rc = supersede(&evs[n], &st->events[i], set, nset)) != 0)
            goto fail;
        if (fs_event_empty(&evs[n]))
            fs_event_clear(&evs[n]);
        else
            n++;
    }
    if (placed_at == SIZE_MAX)
        evs[n++] = *ne;
    free(set);
    fs_events_free(st->events, st->nevents);
    fs_vv_clear(&st->vv);
    st->events = evs;
    st->nevents = n;
    st->vv = vv;
    return 0;
fail:
    /* ne may already sit in evs: take it out so it is freed exactly once. */
    if (placed_at != SIZE_MAX)
        evs[placed_at] = (fs_event){.alive = FS_ALIVE_NONE};
    fs_events_free(evs, n);
    fs_event_clear(ne);
    free(set);
    fs_vv_clear(&vv);
    return fs_err_set(err, rc, "cannot write %s %s: %s", fs_kind_name(st->kind), st->id,
                      fs_strerror(rc));
}

static int new_event(fs_event *ne, const fs_state *st, uint64_t replica, uint64_t hlc, int alive,
                     fs_err *err)
{
    *ne = (fs_event){.hlc = hlc, .alive = alive};
    if (replica == 0)
        return fs_err_set(err, FS_EINVAL, "cannot write %s %s: replica id 0 is reserved",
                          fs_kind_name(st->kind), st->id);
    uint64_t c = fs_vv_get(&st->vv, replica);
    if (c == UINT64_MAX)
        return fs_err_set(err, FS_EINVAL,
                          "cannot write %s %s: this replica's counter is exhausted; "
                          "re-enroll the device",
                          fs_kind_name(st->kind), st->id);
    ne->dot = (fs_dot){replica, c + 1};
    return 0;
}

int fs_record_write(fs_state *st, uint64_t replica, uint64_t hlc, const uint8_t *fields,
                    size_t fields_len, const uint32_t *cleared, size_t ncleared, fs_err *err)
{
    fs_event ne;
    const char *why = NULL;
    int rc = new_event(&ne, st, replica, hlc, FS_ALIVE_TRUE, err);
    if (rc != 0)
        return rc;
    const ProtobufCMessageDescriptor *desc = fs_kind_descriptor(st->kind);
    rc = fs_event_set_values(&ne, desc, fields, fields_len, cleared, ncleared, FS_WIRE_STRIP_ID,
                             &why);
    if (rc == FS_ENOMEM)
        return fs_err_set(err, rc, "out of memory writing %s %s", fs_kind_name(st->kind), st->id);
    if (rc != 0)
        return fs_err_set(err, FS_EINVAL, "cannot write %s %s: %s", fs_kind_name(st->kind), st->id,
                          why);
    char limit[FS_ERR_MSG_MAX - 128];
    if (fs_values_check(desc, ne.fields, ne.fields_len, limit, sizeof(limit)) != 0) {
        fs_event_clear(&ne);
        return fs_err_set(err, FS_EINVAL, "cannot write %s %s: %s", fs_kind_name(st->kind), st->id,
                          limit);
    }
    return apply(st, &ne, err);
}

int fs_record_write_msg(fs_state *st, uint64_t replica, uint64_t hlc,
                        const ProtobufCMessage *fields, const uint32_t *cleared, size_t ncleared,
                        fs_err *err)
{
    if (fields == NULL)
        return fs_record_write(st, replica, hlc, NULL, 0, cleared, ncleared, err);
    if (fields->descriptor != fs_kind_descriptor(st->kind))
        return fs_err_set(err, FS_EINVAL, "cannot write %s %s from a %s message",
                          fs_kind_name(st->kind), st->id, fields->descriptor->name);
    size_t n = protobuf_c_message_get_packed_size(fields);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory writing %s %s", fs_kind_name(st->kind),
                          st->id);
    protobuf_c_message_pack(fields, buf);
    int rc = fs_record_write(st, replica, hlc, buf, n, cleared, ncleared, err);
    free(buf);
    return rc;
}

int fs_record_delete(fs_state *st, uint64_t replica, uint64_t hlc, fs_err *err)
{
    fs_event ne;
    int rc = new_event(&ne, st, replica, hlc, FS_ALIVE_FALSE, err);
    if (rc != 0)
        return rc;
    return apply(st, &ne, err);
}
