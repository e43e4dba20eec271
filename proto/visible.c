/*
 * visible.c: what a state shows: the visible value, whether the record is
 * alive, and the fields in conflict.
 *
 * Every field shows its sibling with the greatest (hlc, replica, counter): the
 * HLC approximates "the latest write", and the dot breaks HLC ties so that
 * every replica picks the same winner. A field with more than one live sibling
 * is a conflict; the losers stay in the state until a write supersedes them.
 */
#include <stdlib.h>
#include <string.h>

#include "record_internal.h"
#include "wire.h"

bool fs_record_alive(const fs_state *st)
{
    for (size_t i = 0; i < st->nevents; i++)
        if (st->events[i].alive == FS_ALIVE_TRUE)
            return true;
    return false;
}

uint64_t fs_record_hlc(const fs_state *st)
{
    uint64_t h = 0;
    for (size_t i = 0; i < st->nevents; i++)
        if (st->events[i].hlc > h)
            h = st->events[i].hlc;
    return h;
}

/* A sibling with the event that holds it. */
typedef struct held {
    fs_sib s;
    const fs_event *ev;
} held;

static int cmp_held(const void *pa, const void *pb)
{
    const held *a = pa, *b = pb;
    if (a->s.field != b->s.field)
        return a->s.field < b->s.field ? -1 : 1;
    return fs_event_order(a->ev, b->ev);
}

/* Every sibling of st (alive excepted), ascending by field then visibility order. */
static int all_siblings(const fs_state *st, held **out, size_t *n)
{
    held *v = NULL;
    size_t cnt = 0, cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < st->nevents; i++) {
        fs_sib *s = NULL;
        size_t ns = 0;
        int rc = fs_event_sibs(&st->events[i], &s, &ns);
        if (rc == 0 && cnt + ns > cap) {
            /* doubling: a hostile state with many events stays linear */
            size_t ncap = cap * 2 > cnt + ns ? cap * 2 : cnt + ns;
            held *nv = realloc(v, ncap * sizeof(*v));
            if (nv == NULL) {
                rc = FS_ENOMEM;
            } else {
                v = nv;
                cap = ncap;
            }
        }
        for (size_t k = 0; rc == 0 && k < ns; k++)
            v[cnt++] = (held){s[k], &st->events[i]};
        free(s);
        if (rc != 0) {
            free(v);
            return rc;
        }
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof(*v), cmp_held);
    *out = v;
    *n = cnt;
    return 0;
}

static int fail(fs_err *err, const fs_state *st, int rc)
{
    if (rc == FS_ENOMEM)
        return fs_err_set(err, rc, "out of memory reading %s %s", fs_kind_name(st->kind), st->id);
    return fs_err_set(err, rc, "%s %s: state is not in canonical form (decode it first)",
                      fs_kind_name(st->kind), st->id);
}

/* The id as field 1 at buf (room for 1 + FS_WIRE_VARINT_MAX + its length);
 * returns the bytes written. Field 1 is the lowest number: it goes first. */
static size_t put_id(uint8_t *buf, const char *id, size_t idlen)
{
    size_t w = 0;
    buf[w++] = (FS_FIELD_ID << 3) | FS_WIRE_LEN;
    w += fs_wire_put_varint(buf + w, idlen);
    memcpy(buf + w, id, idlen);
    return w + idlen;
}

/* For a state of one event whose values are canonical: the id, then those
 * values as they are (each field has that one sibling, and a cleared one
 * no value). */
static int one_event_bytes(const fs_state *st, uint8_t **out, size_t *len, fs_err *err)
{
    const fs_event *ev = &st->events[0];
    size_t idlen = strlen(st->id);
    uint8_t *buf = malloc(1 + FS_WIRE_VARINT_MAX + idlen + ev->fields_len);
    if (buf == NULL)
        return fail(err, st, FS_ENOMEM);
    size_t w = put_id(buf, st->id, idlen);
    if (ev->fields_len > 0)
        memcpy(buf + w, ev->fields, ev->fields_len);
    *out = buf;
    *len = w + ev->fields_len;
    return 0;
}

int fs_record_visible_bytes(const fs_state *st, uint8_t **out, size_t *len, fs_err *err)
{
    held *v = NULL;
    size_t n = 0, idlen = strlen(st->id);
    *out = NULL;
    *len = 0;
    if (st->nevents == 1 && fs_wire_canonical(st->events[0].fields, st->events[0].fields_len))
        return one_event_bytes(st, out, len, err);
    int rc = all_siblings(st, &v, &n);
    if (rc != 0)
        return fail(err, st, rc);
    size_t total = 1 + FS_WIRE_VARINT_MAX + idlen;
    for (size_t i = 0; i < n; i++)
        total += v[i].s.len;
    uint8_t *buf = malloc(total);
    if (buf == NULL) {
        free(v);
        return fail(err, st, FS_ENOMEM);
    }
    size_t w = put_id(buf, st->id, idlen);
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n || v[i + 1].s.field != v[i].s.field;
        if (last && !v[i].s.cleared) {
            memcpy(buf + w, v[i].s.value, v[i].s.len);
            w += v[i].s.len;
        }
    }
    free(v);
    *out = buf;
    *len = w;
    return 0;
}

int fs_record_visible(const fs_state *st, ProtobufCMessage **out, fs_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = fs_record_visible_bytes(st, &buf, &len, err);
    if (rc != 0)
        return rc;
    /* Unknown fields land in the message's unknown_fields and pack back as they were. */
    *out = protobuf_c_message_unpack(fs_kind_descriptor(st->kind), NULL, len, buf);
    free(buf);
    if (*out == NULL)
        return fs_err_set(err, FS_ECORRUPT,
                          "%s %s: the visible value does not parse; the state is damaged "
                          "(force a resync to repair it)",
                          fs_kind_name(st->kind), st->id);
    return 0;
}

/* Whether ev holds a sibling of field: cleared, or with the field's last
 * occurrence (protobuf's rule for a non-repeated field) in *last. */
static bool event_field(const fs_event *ev, uint32_t field, bool *cleared, fs_wire_field *last)
{
    *cleared = false;
    for (size_t j = 0; j < ev->ncleared; j++)
        if (ev->cleared[j] == field)
            return *cleared = true;
    size_t pos = 0;
    fs_wire_field f;
    const char *why;
    bool found = false;
    while (fs_wire_next(ev->fields, ev->fields_len, &pos, &f, &why) == 1 && f.number <= field) {
        if (f.number == field) {
            *last = f;
            found = true;
        }
    }
    return found;
}

int fs_record_visible_string(const fs_state *st, uint32_t field, char **out, fs_err *err)
{
    const fs_event *win = NULL;
    bool win_cleared = false;
    fs_wire_field win_f = {0};
    *out = NULL;
    for (size_t i = 0; i < st->nevents; i++) {
        bool cleared;
        fs_wire_field f = {0};
        const fs_event *ev = &st->events[i];
        if (event_field(ev, field, &cleared, &f) && (win == NULL || fs_event_order(ev, win) > 0)) {
            win = ev;
            win_cleared = cleared;
            win_f = f;
        }
    }
    if (win == NULL || win_cleared)
        return 0;
    if (win_f.type != FS_WIRE_LEN)
        return fail(err, st, FS_ECORRUPT);
    size_t n = win_f.end - win_f.value;
    if ((*out = malloc(n + 1)) == NULL)
        return fail(err, st, FS_ENOMEM);
    memcpy(*out, win->fields + win_f.value, n);
    (*out)[n] = '\0';
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Conflicts */

static int push_conflict(fs_conflict **c, size_t *n, size_t *cap, uint32_t field, const char *name,
                         fs_sibling *sibs, size_t nsibs)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        fs_conflict *v = realloc(*c, nc * sizeof(**c));
        if (v == NULL)
            return FS_ENOMEM;
        *c = v;
        *cap = nc;
    }
    (*c)[(*n)++] = (fs_conflict){field, name, sibs, nsibs};
    return 0;
}

static int cmp_event_ptr(const void *pa, const void *pb)
{
    return fs_event_order(*(const fs_event *const *)pa, *(const fs_event *const *)pb);
}

/* The conflict on `alive`, if there is one: siblings that disagree (an edit
 * concurrent with a delete). Concurrent edits each write alive = true; those
 * siblings agree, so they are no conflict, or edits of different fields would
 * never merge cleanly. Every sibling showing the record's liveness counts as
 * visible: any true sibling makes the record visible. */
static int alive_conflict(const fs_state *st, fs_conflict **c, size_t *n, size_t *cap)
{
    const fs_event **evs = malloc((st->nevents ? st->nevents : 1) * sizeof(*evs));
    size_t k = 0;
    if (evs == NULL)
        return FS_ENOMEM;
    bool seen[2] = {false, false};
    for (size_t i = 0; i < st->nevents; i++)
        if (st->events[i].alive != FS_ALIVE_NONE) {
            seen[st->events[i].alive == FS_ALIVE_TRUE] = true;
            evs[k++] = &st->events[i];
        }
    int rc = 0;
    if (seen[0] && seen[1]) {
        qsort(evs, k, sizeof(*evs), cmp_event_ptr);
        int shown = fs_record_alive(st) ? FS_ALIVE_TRUE : FS_ALIVE_FALSE;
        fs_sibling *s = calloc(k, sizeof(*s));
        if (s == NULL) {
            free(evs);
            return FS_ENOMEM;
        }
        for (size_t i = 0; i < k; i++)
            s[i] = (fs_sibling){.dot = evs[i]->dot,
                                .hlc = evs[i]->hlc,
                                .alive = evs[i]->alive,
                                .visible = evs[i]->alive == shown};
        if ((rc = push_conflict(c, n, cap, FS_FIELD_ALIVE, "alive", s, k)) != 0)
            free(s);
    }
    free(evs);
    return rc;
}

static int field_conflict(const fs_state *st, const held *v, size_t k, fs_conflict **c, size_t *n,
                          size_t *cap)
{
    fs_sibling *s = calloc(k, sizeof(*s));
    if (s == NULL)
        return FS_ENOMEM;
    for (size_t i = 0; i < k; i++)
        s[i] = (fs_sibling){.dot = v[i].ev->dot,
                            .hlc = v[i].ev->hlc,
                            .cleared = v[i].s.cleared,
                            .alive = FS_ALIVE_NONE,
                            .value = v[i].s.value,
                            .value_len = v[i].s.len,
                            .visible = i + 1 == k};
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(fs_kind_descriptor(st->kind), v[0].s.field);
    int rc = push_conflict(c, n, cap, v[0].s.field, fd ? fd->name : NULL, s, k);
    if (rc != 0)
        free(s);
    return rc;
}

int fs_record_conflicts(const fs_state *st, fs_conflict **out, size_t *nout, fs_err *err)
{
    fs_conflict *c = NULL;
    size_t n = 0, cap = 0, nv = 0;
    held *v = NULL;
    *out = NULL;
    *nout = 0;
    if (st->nevents <= 1)
        return 0; /* one write holds one sibling of a field at most: none to choose from */
    int rc = alive_conflict(st, &c, &n, &cap);
    if (rc == 0)
        rc = all_siblings(st, &v, &nv);
    for (size_t i = 0; rc == 0 && i < nv;) {
        size_t k = 1;
        while (i + k < nv && v[i + k].s.field == v[i].s.field)
            k++;
        if (k > 1)
            rc = field_conflict(st, &v[i], k, &c, &n, &cap);
        i += k;
    }
    free(v);
    if (rc != 0) {
        fs_conflicts_free(c, n);
        return fail(err, st, rc);
    }
    *out = c;
    *nout = n;
    return 0;
}

void fs_conflicts_free(fs_conflict *c, size_t n)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(c[i].siblings);
    free(c);
}
