/*
 * join.c: the join of two states of one record (DESIGN.md "Record model").
 *
 * vv = max(a.vv, b.vv). A sibling (field f of the event with dot d) of a is
 * kept if b holds the same sibling or b.vv does not cover d; a sibling of b is
 * kept if a.vv does not cover d. So an event only one side holds is kept whole
 * when the other side never saw it, and dropped whole when the other side saw
 * it and superseded it; an event both hold keeps the siblings both still hold.
 *
 * Both sides holding the same sibling with different bytes (or different HLCs
 * for one dot) only happens with a faulty or hostile peer, since a dot names one
 * write. The join must still not depend on argument order, so it keeps the
 * smaller: a clearing before a value, values by bytes, `alive` false before
 * true, the smaller HLC. Each is a min, so commutativity and idempotence hold.
 */
#include <stdlib.h>
#include <string.h>

#include "record_internal.h"

static bool keep(bool in_a, bool in_b, bool a_covers, bool b_covers)
{
    return (in_a && (in_b || !b_covers)) || (in_b && !a_covers);
}

static int join_alive(int a, int b, bool a_covers, bool b_covers)
{
    bool in_a = a != FS_ALIVE_NONE, in_b = b != FS_ALIVE_NONE;
    if (!keep(in_a, in_b, a_covers, b_covers))
        return FS_ALIVE_NONE;
    if (in_a && in_b)
        return a < b ? a : b;
    return in_a ? a : b;
}

/* The sibling lists of x and y (same dot) merged by the keep rule into out. */
static int merge_sibs(const fs_sib *x, size_t nx, const fs_sib *y, size_t ny, bool a_covers,
                      bool b_covers, fs_sib *out, size_t *nout)
{
    size_t i = 0, j = 0, k = 0;
    while (i < nx || j < ny) {
        bool in_a = i < nx && (j >= ny || x[i].field <= y[j].field);
        bool in_b = j < ny && (i >= nx || y[j].field <= x[i].field);
        if (keep(in_a, in_b, a_covers, b_covers)) {
            if (in_a && in_b)
                out[k++] = fs_sib_cmp_value(&x[i], &y[j]) <= 0 ? x[i] : y[j];
            else
                out[k++] = in_a ? x[i] : y[j];
        }
        i += in_a;
        j += in_b;
    }
    *nout = k;
    return 0;
}

static int join_event(fs_event *out, const fs_event *ea, const fs_event *eb, bool a_covers,
                      bool b_covers)
{
    fs_sib *x = NULL, *y = NULL, *m = NULL;
    size_t nx = 0, ny = 0, nm = 0;
    int rc = fs_event_sibs(ea, &x, &nx);
    if (rc == 0)
        rc = fs_event_sibs(eb, &y, &ny);
    if (rc == 0 && nx + ny > 0 && (m = malloc((nx + ny) * sizeof(*m))) == NULL)
        rc = FS_ENOMEM;
    if (rc != 0)
        goto done;
    merge_sibs(x, nx, y, ny, a_covers, b_covers, m, &nm);
    *out = (fs_event){.dot = ea->dot, .hlc = ea->hlc < eb->hlc ? ea->hlc : eb->hlc};
    out->alive = join_alive(ea->alive, eb->alive, a_covers, b_covers);
    rc = fs_event_set_sibs(out, m, nm);
done:
    free(x);
    free(y);
    free(m);
    return rc;
}

/* Appends the join of the events at one dot (ea and/or eb may be NULL) to st. */
static int add_joined(fs_state *st, const fs_event *ea, const fs_event *eb, const fs_vv *va,
                      const fs_vv *vb)
{
    fs_event *ev = &st->events[st->nevents];
    fs_dot d = ea ? ea->dot : eb->dot;
    bool a_covers = fs_vv_covers(va, d), b_covers = fs_vv_covers(vb, d);
    int rc;
    if (ea && eb)
        rc = join_event(ev, ea, eb, a_covers, b_covers);
    else if (ea && !b_covers)
        rc = fs_event_copy(ev, ea);
    else if (eb && !a_covers)
        rc = fs_event_copy(ev, eb);
    else
        return 0; /* the other side saw this event and superseded all of it */
    if (rc != 0)
        return rc;
    if (fs_event_empty(ev))
        fs_event_clear(ev);
    else
        st->nevents++;
    return 0;
}

static int join_events(fs_state *st, const fs_state *a, const fs_state *b)
{
    size_t i = 0, j = 0;
    if (a->nevents + b->nevents == 0)
        return 0;
    st->events = calloc(a->nevents + b->nevents, sizeof(fs_event));
    if (st->events == NULL)
        return FS_ENOMEM;
    while (i < a->nevents || j < b->nevents) {
        int c = i >= a->nevents   ? 1
                : j >= b->nevents ? -1
                                  : fs_dot_cmp(a->events[i].dot, b->events[j].dot);
        const fs_event *ea = c <= 0 ? &a->events[i] : NULL;
        const fs_event *eb = c >= 0 ? &b->events[j] : NULL;
        int rc = add_joined(st, ea, eb, &a->vv, &b->vv);
        if (rc != 0)
            return rc;
        i += c <= 0;
        j += c >= 0;
    }
    return 0;
}

int fs_record_join(fs_state **out, const fs_state *a, const fs_state *b, fs_err *err)
{
    *out = NULL;
    if (a->kind != b->kind || strcmp(a->id, b->id) != 0)
        return fs_err_set(err, FS_EINVAL, "cannot join %s %s with %s %s: not the same record",
                          fs_kind_name(a->kind), a->id, fs_kind_name(b->kind), b->id);
    fs_state *st = NULL;
    int rc = fs_state_new(&st, a->kind, a->id, err);
    if (rc != 0)
        return rc;
    rc = fs_vv_copy(&st->vv, &a->vv);
    if (rc == 0)
        rc = fs_vv_merge(&st->vv, &b->vv);
    if (rc == 0)
        rc = join_events(st, a, b);
    if (rc != 0) {
        fs_state_free(st);
        if (rc == FS_ENOMEM)
            return fs_err_set(err, rc, "out of memory joining %s %s", fs_kind_name(a->kind), a->id);
        return fs_err_set(err, rc, "cannot join %s %s: a state is not in canonical form",
                          fs_kind_name(a->kind), a->id);
    }
    *out = st;
    return 0;
}

int fs_record_join_into(fs_state *into, const fs_state *other, fs_err *err)
{
    fs_state *j = NULL;
    int rc = fs_record_join(&j, into, other, err);
    if (rc != 0)
        return rc;
    fs_state_move(into, j);
    fs_state_free(j);
    return 0;
}
