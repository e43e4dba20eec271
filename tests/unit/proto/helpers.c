/*
 * helpers.c: see helpers.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

void tb_varint_raw(tb *b, uint64_t v)
{
    while (v >= 0x80) {
        assert_true(b->len < sizeof(b->data));
        b->data[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    assert_true(b->len < sizeof(b->data));
    b->data[b->len++] = (uint8_t)v;
}

void tb_tag(tb *b, uint32_t field, unsigned type)
{
    tb_varint_raw(b, ((uint64_t)field << 3) | type);
}

void tb_uint(tb *b, uint32_t field, uint64_t v)
{
    tb_tag(b, field, 0);
    tb_varint_raw(b, v);
}

void tb_bytes(tb *b, uint32_t field, const uint8_t *p, size_t n)
{
    tb_tag(b, field, 2);
    tb_varint_raw(b, n);
    assert_true(b->len + n <= sizeof(b->data));
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void tb_str(tb *b, uint32_t field, const char *s)
{
    tb_bytes(b, field, (const uint8_t *)s, strlen(s));
}

fs_state *new_account(void)
{
    fs_state *st = NULL;
    fs_err err;
    assert_int_equal(fs_state_new(&st, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-1", &err), 0);
    return st;
}

void write_str(fs_state *st, uint64_t replica, uint64_t hlc, uint32_t field, const char *s)
{
    tb b = {.len = 0};
    tb_str(&b, field, s);
    fs_err err;
    int rc = fs_record_write(st, replica, hlc, b.data, b.len, NULL, 0, &err);
    if (rc != 0)
        fail_msg("write failed: %s", err.msg);
}

uint8_t *encode(const fs_state *st, size_t *len)
{
    uint8_t *out = NULL;
    fs_err err;
    int rc = fs_state_encode(st, &out, len, &err);
    if (rc != 0)
        fail_msg("encode failed: %s", err.msg);
    return out;
}

void assert_same_state(const fs_state *a, const fs_state *b)
{
    size_t la, lb;
    uint8_t *ea = encode(a, &la), *eb = encode(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ea, eb, la);
    free(ea);
    free(eb);
}

fs_state *join(const fs_state *a, const fs_state *b)
{
    fs_state *j = NULL;
    fs_err err;
    int rc = fs_record_join(&j, a, b, &err);
    if (rc != 0)
        fail_msg("join failed: %s", err.msg);
    return j;
}

fs_state *roundtrip(const fs_state *st)
{
    size_t len;
    uint8_t *buf = encode(st, &len);
    fs_state *out = NULL;
    fs_err err;
    int rc = fs_state_decode(&out, buf, len, &err);
    if (rc != 0)
        fail_msg("decode failed: %s", err.msg);
    free(buf);
    assert_same_state(st, out);
    return out;
}

Fieldsync__Account *visible_account(const fs_state *st)
{
    ProtobufCMessage *m = NULL;
    fs_err err;
    int rc = fs_record_visible(st, &m, &err);
    if (rc != 0)
        fail_msg("visible failed: %s", err.msg);
    assert_ptr_equal(m->descriptor, &fieldsync__account__descriptor);
    return (Fieldsync__Account *)m;
}

uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fields the generator touches: name, industry, website (strings), tags
 * (repeated string), and 99, a field this build does not know. */
static const uint32_t gen_fields[] = {2, 3, 7, 16, 99};
#define NGEN (sizeof(gen_fields) / sizeof(gen_fields[0]))

void random_op(fs_state *st, uint64_t replica, uint64_t hlc, uint64_t *seed)
{
    fs_err err;
    uint64_t pick = rnd(seed) % 10;
    if (pick == 0) {
        assert_int_equal(fs_record_delete(st, replica, hlc, &err), 0);
        return;
    }
    tb b = {.len = 0};
    uint32_t cleared[NGEN];
    size_t ncleared = 0;
    for (size_t i = 0; i < NGEN; i++) {
        uint64_t r = rnd(seed) % 5;
        char val[32];
        snprintf(val, sizeof(val), "v%llu", (unsigned long long)(rnd(seed) % 1000));
        if (r == 0) {
            cleared[ncleared++] = gen_fields[i];
        } else if (r == 1) {
            tb_str(&b, gen_fields[i], val);
            if (gen_fields[i] == 16) /* a second tag: repeated values travel as one */
                tb_str(&b, gen_fields[i], "second");
        }
    }
    int rc = fs_record_write(st, replica, hlc, b.data, b.len, cleared, ncleared, &err);
    if (rc != 0)
        fail_msg("random write failed: %s", err.msg);
}

long env_count(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? n : def;
}
