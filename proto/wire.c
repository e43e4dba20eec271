/*
 * wire.c: the protobuf wire-format walker behind the record model (see wire.h).
 *
 * Canonical form is what makes "equal states encode to equal bytes" true for
 * sibling values this build cannot interpret: occurrences are grouped by field
 * number with a stable sort (a repeated field's order is its value) and every
 * tag, varint and length is re-encoded in its shortest form. Payloads of
 * length-delimited fields are opaque and copied as they are.
 */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include "fieldsync/error.h"

int fs_wire_get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    size_t p = *pos;
    for (unsigned i = 0; i < FS_WIRE_VARINT_MAX; i++) {
        if (p >= len)
            return -1;
        uint8_t b = buf[p++];
        /* The tenth byte holds only bit 63: anything more overflows 64 bits. */
        if (i == FS_WIRE_VARINT_MAX - 1 && (b & 0xfe) != 0)
            return -1;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            *pos = p;
            *out = v;
            return 0;
        }
    }
    return -1;
}

size_t fs_wire_put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int fs_wire_next(const uint8_t *buf, size_t len, size_t *pos, fs_wire_field *f, const char **why)
{
    size_t p = *pos;
    uint64_t tag, n;
    if (p >= len)
        return 0;
    f->start = p;
    if (fs_wire_get_varint(buf, len, &p, &tag) != 0) {
        *why = "truncated or overlong tag varint";
        return -1;
    }
    if ((tag >> 3) == 0 || (tag >> 3) > FS_WIRE_MAX_FIELD) {
        *why = "field number out of range (0 or above 2^29-1)";
        return -1;
    }
    f->number = (uint32_t)(tag >> 3);
    f->type = (uint8_t)(tag & 7);
    switch (f->type) {
    case FS_WIRE_VARINT:
        if (fs_wire_get_varint(buf, len, &p, &f->number_value) != 0) {
            *why = "truncated or overlong varint value";
            return -1;
        }
        f->value = p;
        break;
    case FS_WIRE_I64:
    case FS_WIRE_I32: {
        unsigned w = f->type == FS_WIRE_I64 ? 8 : 4;
        if (len - p < w) {
            *why = "truncated fixed-width value";
            return -1;
        }
        f->value = p;
        f->number_value = get_le(buf + p, w);
        p += w;
        break;
    }
    case FS_WIRE_LEN:
        if (fs_wire_get_varint(buf, len, &p, &n) != 0) {
            *why = "truncated or overlong length";
            return -1;
        }
        if (n > len - p) {
            *why = "length runs past the end of the buffer";
            return -1;
        }
        f->value = p;
        f->number_value = n;
        p += (size_t)n;
        break;
    default:
        *why = "unsupported wire type (groups and types 6, 7 are refused)";
        return -1;
    }
    f->end = p;
    *pos = p;
    return 1;
}

/* Minimal re-encoding of one occurrence into out; returns bytes written. */
static size_t put_field(uint8_t *out, const uint8_t *buf, const fs_wire_field *f)
{
    size_t n = fs_wire_put_varint(out, ((uint64_t)f->number << 3) | f->type);
    switch (f->type) {
    case FS_WIRE_VARINT:
        n += fs_wire_put_varint(out + n, f->number_value);
        break;
    case FS_WIRE_LEN:
        n += fs_wire_put_varint(out + n, f->number_value);
        memcpy(out + n, buf + f->value, f->end - f->value);
        n += f->end - f->value;
        break;
    default: /* fixed 32/64-bit: already minimal */
        memcpy(out + n, buf + f->value, f->end - f->value);
        n += f->end - f->value;
        break;
    }
    return n;
}

typedef struct indexed_field {
    fs_wire_field f;
    size_t index;
} indexed_field;

static int cmp_indexed(const void *pa, const void *pb)
{
    const indexed_field *a = pa, *b = pb;
    if (a->f.number != b->f.number)
        return a->f.number < b->f.number ? -1 : 1;
    /* qsort is not stable: the original position keeps each field's order. */
    return a->index < b->index ? -1 : (a->index > b->index);
}

/* Parses every occurrence of buf into a malloc'd array. */
static int collect(const uint8_t *buf, size_t len, unsigned flags, indexed_field **out, size_t *n,
                   const char **why)
{
    indexed_field *v = NULL;
    size_t cnt = 0, cap = 0, pos = 0;
    fs_wire_field f;
    int r;
    while ((r = fs_wire_next(buf, len, &pos, &f, why)) == 1) {
        if (f.number == 1) {
            if (flags & FS_WIRE_STRIP_ID)
                continue;
            *why = "field 1 (id) inside an event";
            r = -1;
            break;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            indexed_field *nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL) {
                free(v);
                return FS_ENOMEM;
            }
            v = nv;
        }
        v[cnt].f = f;
        v[cnt].index = cnt;
        cnt++;
    }
    if (r < 0) {
        free(v);
        return FS_ECORRUPT;
    }
    *out = v;
    *n = cnt;
    return 0;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    for (; v >= 0x80; v >>= 7)
        n++;
    return n;
}

bool fs_wire_canonical(const uint8_t *buf, size_t len)
{
    size_t pos = 0;
    uint32_t prev = 0;
    fs_wire_field f;
    const char *why;
    int r;
    while ((r = fs_wire_next(buf, len, &pos, &f, &why)) == 1) {
        size_t minimal = varint_size(((uint64_t)f.number << 3) | f.type) + (f.end - f.value);
        if (f.type == FS_WIRE_VARINT || f.type == FS_WIRE_LEN)
            minimal += varint_size(f.number_value); /* the value, or the length */
        if (f.number == 1 || f.number < prev || f.end - f.start != minimal)
            return false;
        prev = f.number;
    }
    return r == 0;
}

int fs_wire_canon(const uint8_t *buf, size_t len, unsigned flags, uint8_t **out, size_t *out_len,
                  const char **why)
{
    if (len > 0 && fs_wire_canonical(buf, len)) {
        if ((*out = malloc(len)) == NULL)
            return FS_ENOMEM;
        memcpy(*out, buf, len);
        *out_len = len;
        return 0;
    }
    indexed_field *v = NULL;
    size_t n = 0;
    int rc = collect(buf, len, flags, &v, &n, why);
    if (rc != 0)
        return rc;
    *out = NULL;
    *out_len = 0;
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_indexed);
    /* Re-encoding never grows a field: minimal varints are at most as long. */
    uint8_t *o = malloc(len);
    if (o == NULL) {
        free(v);
        return FS_ENOMEM;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += put_field(o + w, buf, &v[i].f);
    free(v);
    *out = o;
    *out_len = w;
    return 0;
}

int fs_wire_spans(const uint8_t *buf, size_t len, fs_wire_span **out, size_t *n)
{
    fs_wire_span *v = NULL;
    size_t cnt = 0, cap = 0, pos = 0;
    fs_wire_field f;
    const char *why;
    int r;
    while ((r = fs_wire_next(buf, len, &pos, &f, &why)) == 1) {
        if (cnt > 0 && v[cnt - 1].number == f.number) {
            v[cnt - 1].end = f.end;
            continue;
        }
        if (cnt > 0 && v[cnt - 1].number > f.number) {
            r = -1; /* not canonical */
            break;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            fs_wire_span *nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL) {
                free(v);
                return FS_ENOMEM;
            }
            v = nv;
        }
        v[cnt++] = (fs_wire_span){f.number, f.start, f.end};
    }
    if (r < 0) {
        free(v);
        return FS_ECORRUPT;
    }
    *out = v;
    *n = cnt;
    return 0;
}
