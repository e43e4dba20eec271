/*
 * event.c: one write event of a record state seen as its list of siblings.
 *
 * An event keeps the sibling values of its write as canonical wire bytes plus
 * the list of fields it cleared; write, join, visible and conflicts all work on
 * the merged, field-ordered list of both that fs_event_sibs gives.
 */
#include <stdlib.h>
#include <string.h>

#include "record_internal.h"
#include "wire.h"

int fs_dot_cmp(fs_dot a, fs_dot b)
{
    if (a.replica != b.replica)
        return a.replica < b.replica ? -1 : 1;
    if (a.counter != b.counter)
        return a.counter < b.counter ? -1 : 1;
    return 0;
}

int fs_event_order(const fs_event *a, const fs_event *b)
{
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    return fs_dot_cmp(a->dot, b->dot);
}

void fs_event_clear(fs_event *ev)
{
    free(ev->fields);
    free(ev->cleared);
    memset(ev, 0, sizeof(*ev));
    ev->alive = FS_ALIVE_NONE;
}

/* Malloc'd copies of fields and cleared (NULL when empty); 0 or FS_ENOMEM. */
static int copy_values(const uint8_t *fields, size_t fields_len, const uint32_t *cleared,
                       size_t ncleared, uint8_t **f, uint32_t **c)
{
    *f = fields_len > 0 ? malloc(fields_len) : NULL;
    *c = ncleared > 0 ? malloc(ncleared * sizeof(uint32_t)) : NULL;
    if ((fields_len > 0 && *f == NULL) || (ncleared > 0 && *c == NULL)) {
        free(*f);
        free(*c);
        *f = NULL;
        *c = NULL;
        return FS_ENOMEM;
    }
    if (fields_len > 0)
        memcpy(*f, fields, fields_len);
    if (ncleared > 0)
        memcpy(*c, cleared, ncleared * sizeof(uint32_t));
    return 0;
}

int fs_event_copy(fs_event *dst, const fs_event *src)
{
    *dst = *src;
    int rc = copy_values(src->fields, src->fields_len, src->cleared, src->ncleared, &dst->fields,
                         &dst->cleared);
    if (rc != 0)
        fs_event_clear(dst);
    return rc;
}

bool fs_event_empty(const fs_event *ev)
{
    return ev->alive == FS_ALIVE_NONE && ev->fields_len == 0 && ev->ncleared == 0;
}

int fs_event_sibs(const fs_event *ev, fs_sib **out, size_t *n)
{
    fs_wire_span *spans = NULL;
    size_t nspans = 0;
    *out = NULL;
    *n = 0;
    int rc = fs_wire_spans(ev->fields, ev->fields_len, &spans, &nspans);
    if (rc != 0)
        return rc;
    size_t total = nspans + ev->ncleared;
    if (total == 0) {
        free(spans);
        return 0;
    }
    fs_sib *s = malloc(total * sizeof(*s));
    if (s == NULL) {
        free(spans);
        return FS_ENOMEM;
    }
    size_t i = 0, j = 0, k = 0;
    while (i < nspans || j < ev->ncleared) {
        if (j >= ev->ncleared || (i < nspans && spans[i].number < ev->cleared[j])) {
            s[k++] = (fs_sib){spans[i].number, false, ev->fields + spans[i].start,
                              spans[i].end - spans[i].start};
            i++;
        } else {
            s[k++] = (fs_sib){ev->cleared[j], true, NULL, 0};
            j++;
        }
    }
    free(spans);
    *out = s;
    *n = k;
    return 0;
}

/* ev's values become fields and cleared (malloc'd, owned by ev from here). */
static void event_take(fs_event *ev, uint8_t *fields, size_t fields_len, uint32_t *cleared,
                       size_t ncleared)
{
    free(ev->fields);
    free(ev->cleared);
    ev->fields = fields;
    ev->fields_len = fields_len;
    ev->cleared = cleared;
    ev->ncleared = ncleared;
}

int fs_event_set_sibs(fs_event *ev, const fs_sib *sibs, size_t n)
{
    size_t bytes = 0, ncleared = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += sibs[i].cleared ? 0 : sibs[i].len;
        ncleared += sibs[i].cleared;
    }
    uint8_t *fields = bytes ? malloc(bytes) : NULL;
    uint32_t *cleared = ncleared ? malloc(ncleared * sizeof(uint32_t)) : NULL;
    if ((bytes && fields == NULL) || (ncleared && cleared == NULL)) {
        free(fields);
        free(cleared);
        return FS_ENOMEM;
    }
    size_t w = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        if (sibs[i].cleared) {
            cleared[c++] = sibs[i].field;
        } else {
            memcpy(fields + w, sibs[i].value, sibs[i].len);
            w += sibs[i].len;
        }
    }
    event_take(ev, fields, bytes, cleared, ncleared);
    return 0;
}

int fs_sib_cmp_value(const fs_sib *a, const fs_sib *b)
{
    if (a->cleared || b->cleared)
        return (int)b->cleared - (int)a->cleared;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->value, b->value, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : (a->len > b->len);
}

void fs_events_free(fs_event *ev, size_t n)
{
    if (ev == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        fs_event_clear(&ev[i]);
    free(ev);
}

void fs_state_move(fs_state *dst, fs_state *src)
{
    free(dst->id);
    fs_vv_clear(&dst->vv);
    fs_events_free(dst->events, dst->nevents);
    *dst = *src;
    src->id = NULL;
    fs_vv_init(&src->vv);
    src->events = NULL;
    src->nevents = 0;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : (a > b);
}

/* Sorted, deduplicated copy of cleared, each number a field other than id. */
static int canon_cleared(const uint32_t *in, size_t n, uint32_t **out, size_t *nout,
                         const char **why)
{
    *out = NULL;
    *nout = 0;
    if (n == 0)
        return 0;
    uint32_t *c = malloc(n * sizeof(*c));
    if (c == NULL)
        return FS_ENOMEM;
    memcpy(c, in, n * sizeof(*c));
    qsort(c, n, sizeof(*c), cmp_u32);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i] <= FS_FIELD_ID || c[i] > FS_WIRE_MAX_FIELD) {
            free(c);
            *why = "cleared field number out of range (must be 2 .. 2^29-1)";
            return FS_ECORRUPT;
        }
        if (k == 0 || c[k - 1] != c[i])
            c[k++] = c[i];
    }
    *out = c;
    *nout = k;
    return 0;
}

static bool overlaps(const uint8_t *fields, size_t len, const uint32_t *cleared, size_t n)
{
    size_t pos = 0, j = 0;
    fs_wire_field f;
    const char *why;
    while (j < n && fs_wire_next(fields, len, &pos, &f, &why) == 1) {
        while (j < n && cleared[j] < f.number)
            j++;
        if (j < n && cleared[j] == f.number)
            return true;
    }
    return false;
}

/* A stored state's values, canonical since this program encoded them: copied. */
static int set_stored(fs_event *ev, const uint8_t *fields, size_t fields_len,
                      const uint32_t *cleared, size_t ncleared)
{
    uint8_t *f;
    uint32_t *c;
    if (copy_values(fields, fields_len, cleared, ncleared, &f, &c) != 0)
        return FS_ENOMEM;
    event_take(ev, f, fields_len, c, ncleared);
    return 0;
}

int fs_event_set_values(fs_event *ev, const ProtobufCMessageDescriptor *desc, const uint8_t *fields,
                        size_t fields_len, const uint32_t *cleared, size_t ncleared, unsigned flags,
                        const char **why)
{
    uint8_t *f = NULL;
    uint32_t *c = NULL;
    size_t flen = 0, nc = 0;
    if (flags & FS_EVENT_STORED)
        return set_stored(ev, fields, fields_len, cleared, ncleared);
    int rc = fs_wire_canon(fields, fields_len, flags, &f, &flen, why);
    if (rc != 0)
        return rc;
    /* Values of known fields must parse as the kind's message, or the visible
     * value could never be built again: a hostile peer could poison a record
     * forever. fs_wire_parses answers as protobuf-c's unpack would. */
    if (!fs_wire_parses(desc, f, flen)) {
        *why = "a field value does not parse as the record kind's message (wrong type)";
        rc = FS_ECORRUPT;
        goto fail;
    }
    rc = canon_cleared(cleared, ncleared, &c, &nc, why);
    if (rc != 0)
        goto fail;
    if (overlaps(f, flen, c, nc)) {
        *why = "a field is both set and cleared by the same write";
        rc = FS_ECORRUPT;
        goto fail;
    }
    event_take(ev, f, flen, c, nc);
    return 0;
fail:
    free(f);
    free(c);
    return rc;
}
