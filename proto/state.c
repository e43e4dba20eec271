/*
 * state.c: a record's replicated state as a C value: creation, copy, and the
 * conversions to and from the RecordState message.
 *
 * Decoding is the trust boundary: states come from the network and from disk.
 * Everything a later function relies on is checked here once (known kind, an
 * id, vv without duplicates, every event's dot valid, unique and covered by the
 * state's own vv, sibling values well-formed and parsing as the kind's message,
 * cleared numbers in range and disjoint from the values) and the result is put
 * in canonical form, so two replicas holding the same state hold the same bytes.
 * A device reads its own store's states with fs_state_decode_stored, which
 * skips re-parsing the events' values (record.h says when that is sound).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_internal.h"
#include "wire.h"

static int check_id(const char *id, size_t len, fs_err *err)
{
    if (id == NULL || len == 0)
        return fs_err_set(err, FS_ECORRUPT,
                          "record state has no id: it is damaged or was sent "
                          "by a faulty peer, and was not applied");
    if (len > FS_RECORD_ID_MAX)
        return fs_err_set(err, FS_ECORRUPT,
                          "record id is %zu bytes, longer than the %d allowed: the state was "
                          "not applied",
                          len, FS_RECORD_ID_MAX);
    return 0;
}

int fs_state_new(fs_state **out, fs_kind kind, const char *id, fs_err *err)
{
    *out = NULL;
    if (fs_kind_descriptor(kind) == NULL)
        return fs_err_set(err, FS_EINVAL, "unknown record kind %d", (int)kind);
    if (check_id(id, id ? strlen(id) : 0, err) != 0)
        return fs_err_set(err, FS_EINVAL, "a record needs an id of 1 to %d bytes",
                          FS_RECORD_ID_MAX);
    fs_state *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->id = strdup(id)) == NULL) {
        free(st);
        return fs_err_set(err, FS_ENOMEM, "out of memory creating %s %s", fs_kind_name(kind), id);
    }
    st->kind = kind;
    fs_vv_init(&st->vv);
    *out = st;
    return 0;
}

void fs_state_free(fs_state *st)
{
    if (st == NULL)
        return;
    free(st->id);
    fs_vv_clear(&st->vv);
    fs_events_free(st->events, st->nevents);
    free(st);
}

int fs_state_copy(fs_state **out, const fs_state *src, fs_err *err)
{
    fs_state *st = NULL;
    int rc = fs_state_new(&st, src->kind, src->id, err);
    if (rc != 0)
        return rc;
    if (fs_vv_copy(&st->vv, &src->vv) != 0)
        goto nomem;
    if (src->nevents > 0) {
        st->events = calloc(src->nevents, sizeof(fs_event));
        if (st->events == NULL)
            goto nomem;
    }
    for (size_t i = 0; i < src->nevents; i++) {
        if (fs_event_copy(&st->events[i], &src->events[i]) != 0)
            goto nomem;
        st->nevents++;
    }
    *out = st;
    return 0;
nomem:
    fs_state_free(st);
    return fs_err_set(err, FS_ENOMEM, "out of memory copying %s %s", fs_kind_name(src->kind),
                      src->id);
}

/* ------------------------------------------------------------------------- */
/* From the message */

static int cmp_dot_entry(const void *pa, const void *pb)
{
    return fs_dot_cmp(*(const fs_dot *)pa, *(const fs_dot *)pb);
}

static int cmp_event(const void *pa, const void *pb)
{
    return fs_dot_cmp(((const fs_event *)pa)->dot, ((const fs_event *)pb)->dot);
}

static int corrupt(fs_err *err, const fs_state *st, const char *what)
{
    return fs_err_set(err, FS_ECORRUPT,
                      "record state of %s %s: %s; it is damaged or was sent by a faulty peer, "
                      "and was not applied (a forced resync replaces a damaged local copy)",
                      fs_kind_name(st->kind), st->id, what);
}

static int vv_from_pb(fs_state *st, const Fieldsync__RecordState *pb, fs_err *err)
{
    if (pb->n_vv == 0)
        return 0;
    fs_dot *e = malloc(pb->n_vv * sizeof(*e));
    if (e == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory decoding a record state");
    size_t n = 0;
    for (size_t i = 0; i < pb->n_vv; i++) {
        const Fieldsync__VersionVectorEntry *v = pb->vv[i];
        if (!v->has_replica || v->replica == 0) {
            free(e);
            return corrupt(err, st, "version vector entry without a replica id");
        }
        if (v->counter != 0) /* a zero entry says nothing: canonical form drops it */
            e[n++] = (fs_dot){v->replica, v->counter};
    }
    qsort(e, n, sizeof(*e), cmp_dot_entry);
    for (size_t i = 1; i < n; i++) {
        if (e[i].replica == e[i - 1].replica) {
            free(e);
            return corrupt(err, st, "version vector names a replica twice");
        }
    }
    st->vv.entries = e;
    st->vv.n = st->vv.cap = n;
    return 0;
}

static int event_from_pb(fs_state *st, fs_event *ev, const Fieldsync__Event *pe, unsigned flags,
                         fs_err *err)
{
    const char *why = NULL;
    char what[160];
    ev->dot = (fs_dot){pe->replica, pe->counter};
    ev->hlc = pe->hlc;
    ev->alive = !pe->has_alive ? FS_ALIVE_NONE : pe->alive ? FS_ALIVE_TRUE : FS_ALIVE_FALSE;
    if (!pe->has_replica || pe->replica == 0 || pe->counter == 0)
        return corrupt(err, st, "event without a replica id or counter");
    if (!fs_vv_covers(&st->vv, ev->dot)) {
        snprintf(what, sizeof(what), "event (%016llx, %llu) is not covered by the version vector",
                 (unsigned long long)ev->dot.replica, (unsigned long long)ev->dot.counter);
        return corrupt(err, st, what);
    }
    const uint8_t *f = pe->has_fields ? pe->fields.data : NULL;
    size_t flen = pe->has_fields ? pe->fields.len : 0;
    int rc = fs_event_set_values(ev, fs_kind_descriptor(st->kind), f, flen, pe->cleared,
                                 pe->n_cleared, flags, &why);
    if (rc == FS_ENOMEM)
        return fs_err_set(err, FS_ENOMEM, "out of memory decoding a record state");
    if (rc != 0) {
        snprintf(what, sizeof(what), "event (%016llx, %llu): %s",
                 (unsigned long long)ev->dot.replica, (unsigned long long)ev->dot.counter, why);
        return corrupt(err, st, what);
    }
    return 0;
}

static int events_from_pb(fs_state *st, const Fieldsync__RecordState *pb, unsigned flags,
                          fs_err *err)
{
    if (pb->n_events == 0)
        return 0;
    st->events = calloc(pb->n_events, sizeof(fs_event));
    if (st->events == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory decoding a record state");
    for (size_t i = 0; i < pb->n_events; i++) {
        fs_event *ev = &st->events[st->nevents];
        int rc = event_from_pb(st, ev, pb->events[i], flags, err);
        if (rc != 0) {
            fs_event_clear(ev);
            return rc;
        }
        st->nevents++;
    }
    qsort(st->events, st->nevents, sizeof(fs_event), cmp_event);
    for (size_t i = 1; i < st->nevents; i++)
        if (fs_dot_cmp(st->events[i].dot, st->events[i - 1].dot) == 0)
            return corrupt(err, st, "two events carry the same dot");
    /* Events left with no live sibling are not part of the canonical form. */
    size_t k = 0;
    for (size_t i = 0; i < st->nevents; i++) {
        if (fs_event_empty(&st->events[i]))
            fs_event_clear(&st->events[i]);
        else
            st->events[k++] = st->events[i];
    }
    st->nevents = k;
    return 0;
}

static int state_from_pb(fs_state **out, const Fieldsync__RecordState *pb, unsigned flags,
                         fs_err *err)
{
    *out = NULL;
    if (!pb->has_kind || fs_kind_descriptor((fs_kind)pb->kind) == NULL)
        return fs_err_set(err, FS_ECORRUPT,
                          "record state of unknown kind %d: it may come from a newer version "
                          "of fieldsync; it was not applied (upgrade this device)",
                          pb->has_kind ? (int)pb->kind : 0);
    int rc = check_id(pb->id, pb->id ? strlen(pb->id) : 0, err);
    if (rc != 0)
        return rc;
    fs_state *st = NULL;
    rc = fs_state_new(&st, (fs_kind)pb->kind, pb->id, err);
    if (rc != 0)
        return rc;
    rc = vv_from_pb(st, pb, err);
    if (rc == 0)
        rc = events_from_pb(st, pb, flags, err);
    if (rc != 0) {
        fs_state_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

int fs_state_from_pb(fs_state **out, const Fieldsync__RecordState *pb, fs_err *err)
{
    return state_from_pb(out, pb, 0, err);
}

/* ------------------------------------------------------------------------- */
/* To the message */

/* Storage blocks hold the messages followed by the pointer array that points at
 * them, so that one free releases both. */
int fs_state_to_pb(const fs_state *st, Fieldsync__RecordState *pb,
                   Fieldsync__VersionVectorEntry **vv_storage, Fieldsync__Event **ev_storage,
                   fs_err *err)
{
    size_t nv = st->vv.n, ne = st->nevents;
    Fieldsync__VersionVectorEntry *vs = NULL;
    Fieldsync__Event *es = NULL;
    *vv_storage = NULL;
    *ev_storage = NULL;
    if (nv > 0 && (vs = malloc(nv * (sizeof(*vs) + sizeof(vs)))) == NULL)
        goto nomem;
    if (ne > 0 && (es = malloc(ne * (sizeof(*es) + sizeof(es)))) == NULL)
        goto nomem;
    fieldsync__record_state__init(pb);
    pb->has_kind = true;
    pb->kind = st->kind;
    pb->id = st->id;
    pb->n_vv = nv;
    pb->vv = nv ? (Fieldsync__VersionVectorEntry **)(vs + nv) : NULL;
    for (size_t i = 0; i < nv; i++) {
        fieldsync__version_vector_entry__init(&vs[i]);
        vs[i].has_replica = vs[i].has_counter = true;
        vs[i].replica = st->vv.entries[i].replica;
        vs[i].counter = st->vv.entries[i].counter;
        pb->vv[i] = &vs[i];
    }
    pb->n_events = ne;
    pb->events = ne ? (Fieldsync__Event **)(es + ne) : NULL;
    for (size_t i = 0; i < ne; i++) {
        const fs_event *ev = &st->events[i];
        Fieldsync__Event *pe = &es[i];
        fieldsync__event__init(pe);
        pe->has_replica = pe->has_counter = pe->has_hlc = true;
        pe->replica = ev->dot.replica;
        pe->counter = ev->dot.counter;
        pe->hlc = ev->hlc;
        pe->has_alive = ev->alive != FS_ALIVE_NONE;
        pe->alive = ev->alive == FS_ALIVE_TRUE;
        pe->has_fields = ev->fields_len > 0;
        pe->fields.data = ev->fields;
        pe->fields.len = ev->fields_len;
        pe->n_cleared = ev->ncleared;
        pe->cleared = ev->cleared;
        pb->events[i] = pe;
    }
    *vv_storage = vs;
    *ev_storage = es;
    return 0;
nomem:
    free(vs);
    free(es);
    return fs_err_set(err, FS_ENOMEM, "out of memory encoding %s %s", fs_kind_name(st->kind),
                      st->id);
}

void fs_state_pb_storage_free(Fieldsync__VersionVectorEntry *vv_storage,
                              Fieldsync__Event *ev_storage, size_t nevents)
{
    (void)nevents; /* the event messages borrow everything they point to */
    free(vv_storage);
    free(ev_storage);
}

int fs_state_encode(const fs_state *st, uint8_t **out, size_t *len, fs_err *err)
{
    Fieldsync__RecordState pb;
    Fieldsync__VersionVectorEntry *vs;
    Fieldsync__Event *es;
    *out = NULL;
    *len = 0;
    int rc = fs_state_to_pb(st, &pb, &vs, &es, err);
    if (rc != 0)
        return rc;
    size_t n = fieldsync__record_state__get_packed_size(&pb);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        fs_state_pb_storage_free(vs, es, st->nevents);
        return fs_err_set(err, FS_ENOMEM, "out of memory encoding %s %s", fs_kind_name(st->kind),
                          st->id);
    }
    fieldsync__record_state__pack(&pb, buf);
    fs_state_pb_storage_free(vs, es, st->nevents);
    *out = buf;
    *len = n;
    return 0;
}

/* protobuf-c stops a string at its first NUL byte: an id with one inside would
 * silently become another record's id. Walk the top level to refuse it. */
static int check_top_level(const uint8_t *buf, size_t len, fs_err *err)
{
    size_t pos = 0;
    fs_wire_field f;
    const char *why = NULL;
    int r;
    while ((r = fs_wire_next(buf, len, &pos, &f, &why)) == 1) {
        if (f.number == 2 && f.type == FS_WIRE_LEN && memchr(buf + f.value, 0, f.end - f.value))
            return fs_err_set(err, FS_ECORRUPT,
                              "record state id contains a NUL byte: the state is damaged or "
                              "was sent by a faulty peer, and was not applied");
    }
    if (r < 0)
        return fs_err_set(err, FS_ECORRUPT,
                          "record state is not valid protobuf (%s): it is damaged or was sent "
                          "by a faulty peer, and was not applied",
                          why);
    return 0;
}

static int state_decode(fs_state **out, const uint8_t *buf, size_t len, unsigned flags, fs_err *err)
{
    *out = NULL;
    if (len > FS_STATE_MAX_BYTES)
        return fs_err_set(err, FS_ETOOBIG,
                          "record state of %zu bytes exceeds the %u-byte limit; it was not "
                          "applied",
                          len, (unsigned)FS_STATE_MAX_BYTES);
    int rc = check_top_level(buf, len, err);
    if (rc != 0)
        return rc;
    Fieldsync__RecordState *pb = fieldsync__record_state__unpack(NULL, len, buf);
    if (pb == NULL)
        return fs_err_set(err, FS_ECORRUPT,
                          "record state does not parse as a RecordState message: it is damaged "
                          "or was sent by a faulty peer, and was not applied");
    rc = state_from_pb(out, pb, flags, err);
    fieldsync__record_state__free_unpacked(pb, NULL);
    return rc;
}

int fs_state_decode(fs_state **out, const uint8_t *buf, size_t len, fs_err *err)
{
    return state_decode(out, buf, len, 0, err);
}

int fs_state_decode_stored(fs_state **out, const uint8_t *buf, size_t len, fs_err *err)
{
    return state_decode(out, buf, len, FS_EVENT_STORED, err);
}
