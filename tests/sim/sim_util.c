/*
 * sim_util.c: the simulator's small tools: a seeded RNG, a growable byte
 * buffer, and a protobuf wire-format scanner of its own (the checker must not
 * lean on the library's walker, or a bug there would hide itself).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

uint64_t sim_rand(sim_rng *r)
{
    /* splitmix64: seedable, tiny, and every seed gives a usable stream */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t sim_below(sim_rng *r, uint64_t n)
{
    return n == 0 ? 0 : sim_rand(r) % n;
}

bool sim_chance(sim_rng *r, unsigned percent)
{
    return sim_below(r, 100) < percent;
}

static void sim_buf_reserve(sim_buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL) {
        fprintf(stderr, "sim: out of memory\n");
        abort();
    }
    b->p = p;
    b->cap = cap;
}

void sim_buf_put(sim_buf *b, const void *data, size_t n)
{
    if (n == 0)
        return;
    sim_buf_reserve(b, n);
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void sim_buf_varint(sim_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            tmp[n] |= 0x80;
        n++;
    } while (v != 0);
    sim_buf_put(b, tmp, n);
}

void sim_buf_tag(sim_buf *b, uint32_t field, unsigned wire_type)
{
    sim_buf_varint(b, ((uint64_t)field << 3) | wire_type);
}

void sim_buf_lendelim(sim_buf *b, uint32_t field, const void *data, size_t n)
{
    sim_buf_tag(b, field, SIM_WIRE_LEN);
    sim_buf_varint(b, n);
    sim_buf_put(b, data, n);
}

void sim_buf_free(sim_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

uint8_t *sim_memdup(const void *p, size_t n)
{
    uint8_t *out = malloc(n ? n : 1);
    if (out == NULL) {
        fprintf(stderr, "sim: out of memory\n");
        abort();
    }
    if (n)
        memcpy(out, p, n);
    return out;
}

static int sim_read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t c = buf[(*pos)++];
        x |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

int sim_wire_next(const uint8_t *buf, size_t len, size_t *pos, uint32_t *field)
{
    uint64_t key, n;
    if (*pos >= len)
        return 0;
    if (sim_read_varint(buf, len, pos, &key) != 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    *field = (uint32_t)(key >> 3);
    switch (key & 7) {
    case SIM_WIRE_VARINT:
        return sim_read_varint(buf, len, pos, &n) == 0 ? 1 : -1;
    case SIM_WIRE_FIXED64:
        n = 8;
        break;
    case SIM_WIRE_LEN:
        if (sim_read_varint(buf, len, pos, &n) != 0)
            return -1;
        break;
    case SIM_WIRE_FIXED32:
        n = 4;
        break;
    default:
        return -1;
    }
    if (n > len - *pos)
        return -1;
    *pos += (size_t)n;
    return 1;
}

int sim_wire_extract(const uint8_t *buf, size_t len, uint32_t field, sim_buf *out)
{
    size_t pos = 0, start = 0;
    uint32_t f;
    int rc, count = 0;
    while ((rc = sim_wire_next(buf, len, &pos, &f)) == 1) {
        if (f == field) {
            sim_buf_put(out, buf + start, pos - start);
            count++;
        }
        start = pos;
    }
    return rc < 0 ? -1 : count;
}

int sim_wire_fields(const uint8_t *buf, size_t len, uint32_t *out, int max)
{
    size_t pos = 0;
    uint32_t f;
    int rc, n = 0;
    while ((rc = sim_wire_next(buf, len, &pos, &f)) == 1) {
        int i = 0;
        while (i < n && out[i] < f)
            i++;
        if (i < n && out[i] == f)
            continue;
        if (n == max)
            return -1;
        memmove(out + i + 1, out + i, (size_t)(n - i) * sizeof(*out));
        out[i] = f;
        n++;
    }
    return rc < 0 ? -1 : n;
}

static const char *const sim_fail_names[] = {
#define SIM_FAIL_NAME(name, text) text,
    SIM_FAIL_TABLE(SIM_FAIL_NAME)
#undef SIM_FAIL_NAME
};

const char *sim_fail_name(enum sim_fail f)
{
    return (unsigned)f < SIM_FAIL_COUNT ? sim_fail_names[f] : "?";
}

enum sim_fail sim_fail_from_name(const char *name)
{
    for (int i = 0; i < SIM_FAIL_COUNT; i++)
        if (strcmp(sim_fail_names[i], name) == 0)
            return (enum sim_fail)i;
    return SIM_FAIL_COUNT;
}

int sim_fail(sim_world *w, enum sim_fail kind, const char *fmt, ...)
{
    if (w->fail != SIM_OK)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof(w->why), fmt, ap);
    va_end(ap);
    w->fail = kind;
    return -1;
}

int sim_server(const sim_world *w)
{
    return w->nreplicas;
}
