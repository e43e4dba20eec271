/*
 * fuzz_record_state.c: fuzz target for fs_state_decode, the decoder that takes
 * record states from the network and the outbox.
 *
 * Every input is decoded; most are rejected, which is fine. An accepted state
 * must then keep the record model's laws, or the target aborts:
 *  - canonical: its encoding decodes and re-encodes to the same bytes;
 *  - join is idempotent (x join x = x), commutative with a fixed valid state f
 *    written by a replica x has never seen, and absorbs its inputs
 *    ((x join f) join x = (x join f) join f = x join f);
 *  - visible bytes always come out; the visible message parses or fails with
 *    FS_ECORRUPT only, and each string field read alone
 *    (fs_record_visible_string) is the message's, and so is each scalar field read from the
 *    visible bytes (fs_record_read_fields, and _nested for a field of a message field);
 *    conflicts are well formed (two or more siblings,
 *    ascending (hlc, replica, counter), fields ascending, one winner marked);
 *  - a local write at a new replica supersedes every sibling of the fields it
 *    writes and of `alive`, and a delete then makes the record invisible.
 * Every input also goes to fs_state_decode_stored (a device's reads of its own
 * store), whose state may be non-canonical: the record functions the store runs
 * on it must fail cleanly or succeed, never touch memory they should not; and
 * on an accepted state's encoding it gives that very state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/record.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_record_state: invariant failed at line %d: %s\n", __LINE__,      \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A value of field 2 (a string in every kind: name or account_id) and of an
 * unknown field 1000, as wire bytes. */
static const uint8_t fuzz_fields[] = {0x12, 0x08, 'a',  'c',  'c',  '-',  '0',  '0',
                                      '0',  '1',  0xc2, 0x3e, 0x03, 0x01, 0x02, 0x03};
#define FUZZ_HLC (1790000000000ull << FS_HLC_LOGICAL_BITS)

/* An encoding, malloc'd; aborts when encoding a decoded state fails. */
static uint8_t *fuzz_encode(const fs_state *st, size_t *len)
{
    uint8_t *buf = NULL;
    FUZZ_CHECK(fs_state_encode(st, &buf, len, NULL) == 0);
    return buf;
}

static bool fuzz_same(const fs_state *a, const fs_state *b)
{
    size_t la, lb;
    uint8_t *ea = fuzz_encode(a, &la), *eb = fuzz_encode(b, &lb);
    bool same = la == lb && memcmp(ea, eb, la) == 0;
    free(ea);
    free(eb);
    return same;
}

/* A replica id the state has never seen. */
static uint64_t fuzz_fresh_replica(const fs_state *st)
{
    uint64_t r = 0x5eed5eed5eed5eedull;
    while (fs_vv_get(&st->vv, r) != 0)
        r = r * 6364136223846793005ull + 1442695040888963407ull;
    return r;
}

static void fuzz_canonical(const fs_state *x)
{
    size_t l1, l2;
    fs_state *y = NULL;
    uint8_t *e1 = fuzz_encode(x, &l1);
    FUZZ_CHECK(fs_state_decode(&y, e1, l1, NULL) == 0);
    uint8_t *e2 = fuzz_encode(y, &l2);
    FUZZ_CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
    fs_state_free(y);
    free(e1);
    free(e2);
}

static void fuzz_joins(const fs_state *x)
{
    fs_state *f = NULL, *xx = NULL, *xf = NULL, *fx = NULL, *again = NULL;
    FUZZ_CHECK(fs_state_new(&f, x->kind, x->id, NULL) == 0);
    FUZZ_CHECK(fs_record_write(f, fuzz_fresh_replica(x), FUZZ_HLC, fuzz_fields, sizeof(fuzz_fields),
                               NULL, 0, NULL) == 0);
    FUZZ_CHECK(fs_record_join(&xx, x, x, NULL) == 0);
    FUZZ_CHECK(fuzz_same(xx, x));
    FUZZ_CHECK(fs_record_join(&xf, x, f, NULL) == 0);
    FUZZ_CHECK(fs_record_join(&fx, f, x, NULL) == 0);
    FUZZ_CHECK(fuzz_same(xf, fx));
    FUZZ_CHECK(fs_record_join(&again, xf, x, NULL) == 0);
    FUZZ_CHECK(fuzz_same(again, xf));
    FUZZ_CHECK(fs_record_join_into(again, f, NULL) == 0);
    FUZZ_CHECK(fuzz_same(again, xf));
    FUZZ_CHECK(fs_record_alive(xf)); /* f's write is concurrent with all of x: alive */
    fs_state_free(f);
    fs_state_free(xx);
    fs_state_free(xf);
    fs_state_free(fx);
    fs_state_free(again);
}

static void fuzz_conflicts_well_formed(const fs_state *x)
{
    fs_conflict *c = NULL;
    size_t n = 0;
    FUZZ_CHECK(fs_record_conflicts(x, &c, &n, NULL) == 0);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(c[i].nsiblings >= 2);
        FUZZ_CHECK(i == 0 || c[i - 1].field < c[i].field);
        size_t shown = 0;
        for (size_t k = 0; k < c[i].nsiblings; k++) {
            const fs_sibling *s = &c[i].siblings[k], *p = k ? s - 1 : NULL;
            shown += s->visible;
            FUZZ_CHECK(p == NULL || p->hlc < s->hlc ||
                       (p->hlc == s->hlc &&
                        (p->dot.replica < s->dot.replica ||
                         (p->dot.replica == s->dot.replica && p->dot.counter < s->dot.counter))));
        }
        if (c[i].field != FS_FIELD_ALIVE)
            FUZZ_CHECK(shown == 1 && c[i].siblings[c[i].nsiblings - 1].visible);
    }
    fs_conflicts_free(c, n);
}

/* Each single string field read alone is the visible message's. */
static void fuzz_visible_strings(const fs_state *x, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED ||
            (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->id == 1)
            continue;
        const char *want = *(char *const *)((const char *)m + f->offset);
        char *got = NULL;
        FUZZ_CHECK(fs_record_visible_string(x, f->id, &got, NULL) == 0);
        FUZZ_CHECK((want == NULL) == (got == NULL));
        FUZZ_CHECK(want == NULL || strcmp(want, got) == 0);
        free(got);
    }
}

/* Whether r, read from the wire, is what protobuf-c unpacked into field f of
 * m (a non-repeated string, int64, enum or bool; others pass). */
static bool read_is_unpacked(const fs_field_read *r, const ProtobufCMessage *m,
                             const ProtobufCFieldDescriptor *f)
{
    const char *at = (const char *)m + f->offset;
    bool has = f->quantifier_offset != 0 &&
               *(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *want = *(char *const *)at;
        if (!r->set || want == NULL)
            return !r->set && want == NULL;
        size_t n = strnlen((const char *)r->bytes, r->len);
        return strlen(want) == n && memcmp(want, r->bytes, n) == 0;
    }
    case PROTOBUF_C_TYPE_INT64:
        return r->set == has && (!has || (int64_t)r->number == *(const int64_t *)at);
    case PROTOBUF_C_TYPE_ENUM:
        return r->set == has && (!has || (int32_t)(uint32_t)r->number == *(const int32_t *)at);
    case PROTOBUF_C_TYPE_BOOL:
        return r->set == has && (!has || (r->number != 0) == *(const protobuf_c_boolean *)at);
    default:
        return true;
    }
}

static bool plain_field(const ProtobufCFieldDescriptor *f)
{
    return f->label != PROTOBUF_C_LABEL_REPEATED && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
           f->id != 1;
}

/* Every plain field read from the visible bytes vb is the message's; a field
 * of a plain message field read with fs_record_read_nested too. */
static void fuzz_read_fields(const uint8_t *vb, size_t vl, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        fs_field_read r;
        if (!plain_field(f))
            continue;
        FUZZ_CHECK(fs_record_read_fields(vb, vl, &f->id, 1, &r, NULL) == 0);
        FUZZ_CHECK(read_is_unpacked(&r, m, f));
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)((const char *)m + f->offset);
        const ProtobufCMessageDescriptor *sd = f->descriptor;
        for (unsigned k = 0; k < sd->n_fields; k++) {
            const ProtobufCFieldDescriptor *g = &sd->fields[k];
            int rc = fs_record_read_nested(vb, vl, d, f->id, g->id, &r, NULL);
            if (g->label == PROTOBUF_C_LABEL_REPEATED || (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
                !(g->type == PROTOBUF_C_TYPE_STRING || g->type == PROTOBUF_C_TYPE_INT64 ||
                  g->type == PROTOBUF_C_TYPE_ENUM || g->type == PROTOBUF_C_TYPE_BOOL ||
                  g->type == PROTOBUF_C_TYPE_INT32 || g->type == PROTOBUF_C_TYPE_UINT32 ||
                  g->type == PROTOBUF_C_TYPE_UINT64)) {
                FUZZ_CHECK(rc == FS_EINVAL);
                continue;
            }
            FUZZ_CHECK(rc == 0);
            FUZZ_CHECK(sub != NULL ? read_is_unpacked(&r, sub, g) : !r.set);
            fs_field_read_clear(&r);
        }
    }
}

static void fuzz_visible(const fs_state *x)
{
    uint8_t *vb = NULL;
    size_t vl = 0;
    ProtobufCMessage *m = NULL;
    FUZZ_CHECK(fs_record_visible_bytes(x, &vb, &vl, NULL) == 0);
    int rc = fs_record_visible(x, &m, NULL);
    FUZZ_CHECK(rc == 0 || rc == FS_ECORRUPT);
    FUZZ_CHECK((rc == 0) == (m != NULL));
    if (m != NULL) {
        fuzz_visible_strings(x, m);
        fuzz_read_fields(vb, vl, m);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    free(vb);
    fuzz_conflicts_well_formed(x);
}

/* The limits hold or are refused with a reason, whatever a decoded state holds. */
static void fuzz_limits(const fs_state *x)
{
    fs_err err;
    fs_err_clear(&err);
    int rc = fs_record_validate(x, &err);
    FUZZ_CHECK(rc == 0 || (rc == FS_EINVAL && err.msg[0] != '\0'));
}

/* A write at a new replica supersedes every sibling of field 2 and of alive. */
static void fuzz_write_supersedes(const fs_state *x)
{
    fs_state *y = NULL;
    fs_conflict *c = NULL;
    size_t n = 0;
    uint64_t r = fuzz_fresh_replica(x);
    FUZZ_CHECK(fs_state_copy(&y, x, NULL) == 0);
    FUZZ_CHECK(fs_record_write(y, r, fs_record_hlc(x) + 1, fuzz_fields, sizeof(fuzz_fields), NULL,
                               0, NULL) == 0);
    FUZZ_CHECK(fs_vv_get(&y->vv, r) == 1);
    FUZZ_CHECK(fs_record_alive(y));
    FUZZ_CHECK(fs_record_conflicts(y, &c, &n, NULL) == 0);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(c[i].field != FS_FIELD_ALIVE && c[i].field != 2 && c[i].field != 1000);
    fs_conflicts_free(c, n);
    FUZZ_CHECK(fs_record_delete(y, r, fs_record_hlc(y) + 1, NULL) == 0);
    FUZZ_CHECK(!fs_record_alive(y));
    FUZZ_CHECK(fs_vv_get(&y->vv, r) == 2);
    fuzz_canonical(y);
    fs_state_free(y);
}

/* The functions the store runs on a state it read (save, projections, search
 * text, conflicts, a join with a pulled state): any outcome but a memory error. */
static void fuzz_stored_reads(const fs_state *y)
{
    fs_state *j = NULL;
    ProtobufCMessage *m = NULL;
    fs_conflict *c = NULL;
    uint8_t *buf = NULL;
    char *text = NULL;
    size_t n = 0;
    if (fs_record_join(&j, y, y, NULL) == 0)
        fs_state_free(j);
    if (fs_record_visible(y, &m, NULL) == 0)
        protobuf_c_message_free_unpacked(m, NULL);
    if (fs_record_visible_string(y, 2, &text, NULL) == 0)
        free(text);
    if (fs_record_visible_bytes(y, &buf, &n, NULL) == 0) {
        const uint32_t listed[] = {2, 3, 5, 10, 17, 19};
        fs_field_read r[6];
        (void)fs_record_read_fields(buf, n, listed, 6, r, NULL);
        if (fs_record_read_nested(buf, n, fs_kind_descriptor(y->kind), 5, 3, r, NULL) == 0)
            fs_field_read_clear(r);
        free(buf);
        buf = NULL;
    }
    if (fs_record_conflicts(y, &c, &n, NULL) == 0)
        fs_conflicts_free(c, n);
    if (fs_state_encode(y, &buf, &n, NULL) == 0)
        free(buf);
    (void)fs_record_alive(y);
    (void)fs_record_hlc(y);
}

static void fuzz_stored(const uint8_t *data, size_t size, const fs_state *x)
{
    fs_state *y = NULL;
    if (fs_state_decode_stored(&y, data, size, NULL) == 0) {
        fuzz_stored_reads(y);
        fs_state_free(y);
    }
    if (x == NULL)
        return;
    size_t len = 0;
    uint8_t *enc = fuzz_encode(x, &len);
    y = NULL;
    FUZZ_CHECK(fs_state_decode_stored(&y, enc, len, NULL) == 0 && fuzz_same(x, y));
    fs_state_free(y);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fs_state *x = NULL;
    fs_err err;
    fs_err_clear(&err);
    if (fs_state_decode(&x, data, size, &err) != 0) {
        FUZZ_CHECK(x == NULL);
        FUZZ_CHECK(err.code < 0 && err.msg[0] != '\0');
        fuzz_stored(data, size, NULL);
        return 0;
    }
    fuzz_stored(data, size, x);
    FUZZ_CHECK(x != NULL && x->id != NULL);
    fuzz_canonical(x);
    fuzz_joins(x);
    fuzz_visible(x);
    fuzz_limits(x);
    fuzz_write_supersedes(x);
    fs_state_free(x);
    return 0;
}
