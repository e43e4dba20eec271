/*
 * agree.c: whether two states agree on the writes both hold (record.h,
 * fs_record_agree).
 *
 * A dot names one write, so replicas holding the same dot hold the same HLC
 * and, for every sibling both still hold, the same value: they may only
 * differ in which siblings a later write has superseded. The join copes with
 * a peer that breaks this (join.c keeps the smaller of two contents, so that
 * the join stays commutative), but then the smaller content wins whoever
 * wrote it: a peer could clear another replica's value under that replica's
 * name. The server refuses such a state before joining it.
 */
#include <stdlib.h>

#include "record_internal.h"

/* Whether two events with the same dot say different things. */
static int events_differ(const fs_event *x, const fs_event *y, bool *differ)
{
    fs_sib *sx = NULL, *sy = NULL;
    size_t nx = 0, ny = 0;
    *differ = x->hlc != y->hlc ||
              (x->alive != FS_ALIVE_NONE && y->alive != FS_ALIVE_NONE && x->alive != y->alive);
    if (*differ)
        return 0;
    int rc = fs_event_sibs(x, &sx, &nx);
    if (rc == 0)
        rc = fs_event_sibs(y, &sy, &ny);
    for (size_t i = 0, j = 0; rc == 0 && i < nx && j < ny && !*differ;) {
        uint32_t fx = sx[i].field, fy = sy[j].field;
        if (fx != fy) { /* one of them superseded this sibling: no disagreement */
            i += fx < fy;
            j += fy < fx;
            continue;
        }
        *differ = fs_sib_cmp_value(&sx[i], &sy[j]) != 0;
        i++;
        j++;
    }
    free(sx);
    free(sy);
    return rc;
}

int fs_record_agree(const fs_state *a, const fs_state *b, fs_dot *dot, fs_err *err)
{
    size_t i = 0, j = 0;
    while (i < a->nevents && j < b->nevents) {
        int c = fs_dot_cmp(a->events[i].dot, b->events[j].dot);
        if (c != 0) {
            i += c < 0;
            j += c > 0;
            continue;
        }
        bool differ = false;
        int rc = events_differ(&a->events[i], &b->events[j], &differ);
        if (rc != 0)
            return fs_err_set(err, rc, "cannot compare %s %s: %s", fs_kind_name(a->kind), a->id,
                              rc == FS_ENOMEM ? "out of memory" : "a state is not canonical");
        if (differ) {
            *dot = a->events[i].dot;
            return FS_ECONFLICT;
        }
        i++;
        j++;
    }
    return 0;
}
