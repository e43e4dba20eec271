/*
 * vv.c: version vectors, replica id -> counter, kept as an array ascending by
 * replica with no zero counters, so that equal vectors are equal arrays and
 * compare and merge are single linear walks.
 */
#include <stdlib.h>
#include <string.h>

#include "fieldsync/record.h"

void fs_vv_init(fs_vv *vv)
{
    vv->entries = NULL;
    vv->n = 0;
    vv->cap = 0;
}

void fs_vv_clear(fs_vv *vv)
{
    if (vv == NULL)
        return;
    free(vv->entries);
    fs_vv_init(vv);
}

/* Index of the first entry with replica >= replica. */
static size_t lower_bound(const fs_vv *vv, uint64_t replica)
{
    size_t lo = 0, hi = vv->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vv->entries[mid].replica < replica)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t fs_vv_get(const fs_vv *vv, uint64_t replica)
{
    size_t i = lower_bound(vv, replica);
    return i < vv->n && vv->entries[i].replica == replica ? vv->entries[i].counter : 0;
}

static int reserve(fs_vv *vv, size_t need)
{
    if (need <= vv->cap)
        return 0;
    size_t cap = vv->cap ? vv->cap * 2 : 4;
    if (cap < need)
        cap = need;
    fs_dot *e = realloc(vv->entries, cap * sizeof(*e));
    if (e == NULL)
        return FS_ENOMEM;
    vv->entries = e;
    vv->cap = cap;
    return 0;
}

int fs_vv_set(fs_vv *vv, uint64_t replica, uint64_t counter)
{
    size_t i = lower_bound(vv, replica);
    bool found = i < vv->n && vv->entries[i].replica == replica;
    if (counter == 0) {
        if (found) {
            memmove(&vv->entries[i], &vv->entries[i + 1], (vv->n - i - 1) * sizeof(fs_dot));
            vv->n--;
        }
        return 0;
    }
    if (found) {
        vv->entries[i].counter = counter;
        return 0;
    }
    if (reserve(vv, vv->n + 1) != 0)
        return FS_ENOMEM;
    memmove(&vv->entries[i + 1], &vv->entries[i], (vv->n - i) * sizeof(fs_dot));
    vv->entries[i] = (fs_dot){replica, counter};
    vv->n++;
    return 0;
}

bool fs_vv_covers(const fs_vv *vv, fs_dot dot)
{
    return fs_vv_get(vv, dot.replica) >= dot.counter;
}

fs_vv_order fs_vv_compare(const fs_vv *a, const fs_vv *b)
{
    bool a_more = false, b_more = false;
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        uint64_t ca = 0, cb = 0;
        if (j >= b->n || (i < a->n && a->entries[i].replica < b->entries[j].replica)) {
            ca = a->entries[i++].counter;
        } else if (i >= a->n || b->entries[j].replica < a->entries[i].replica) {
            cb = b->entries[j++].counter;
        } else {
            ca = a->entries[i++].counter;
            cb = b->entries[j++].counter;
        }
        a_more |= ca > cb;
        b_more |= cb > ca;
    }
    if (a_more && b_more)
        return FS_VV_CONCURRENT;
    if (a_more)
        return FS_VV_AFTER;
    return b_more ? FS_VV_BEFORE : FS_VV_EQUAL;
}

int fs_vv_merge(fs_vv *into, const fs_vv *other)
{
    if (other->n == 0)
        return 0;
    fs_dot *m = malloc((into->n + other->n) * sizeof(*m));
    if (m == NULL)
        return FS_ENOMEM;
    size_t i = 0, j = 0, k = 0;
    while (i < into->n || j < other->n) {
        const fs_dot *x = i < into->n ? &into->entries[i] : NULL;
        const fs_dot *y = j < other->n ? &other->entries[j] : NULL;
        if (y == NULL || (x != NULL && x->replica < y->replica)) {
            m[k++] = *x;
            i++;
        } else if (x == NULL || y->replica < x->replica) {
            m[k++] = *y;
            j++;
        } else {
            m[k++] = (fs_dot){x->replica, x->counter > y->counter ? x->counter : y->counter};
            i++;
            j++;
        }
    }
    free(into->entries);
    into->cap = into->n + other->n;
    into->entries = m;
    into->n = k;
    return 0;
}

int fs_vv_copy(fs_vv *out, const fs_vv *src)
{
    fs_vv_init(out);
    if (src->n == 0)
        return 0;
    out->entries = malloc(src->n * sizeof(fs_dot));
    if (out->entries == NULL)
        return FS_ENOMEM;
    memcpy(out->entries, src->entries, src->n * sizeof(fs_dot));
    out->n = out->cap = src->n;
    return 0;
}
