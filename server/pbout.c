/*
 * pbout.c: protobuf wire-format writer (see pbout.h). Only the two wire types
 * the sync messages need: varint (0) and length-delimited (2).
 */
#include "pbout.h"

#include <stdlib.h>
#include <string.h>

#include "fieldsync/error.h"

static int reserve(srv_buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap * 2 : 256;
    while (ncap < b->len + more)
        ncap *= 2;
    uint8_t *nd = realloc(b->data, ncap);
    if (nd == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = nd;
    b->cap = ncap;
    return 0;
}

static void put_varint(srv_buf *b, uint64_t v)
{
    if (reserve(b, 10) != 0)
        return;
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        b->data[b->len++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
}

void srv_buf_varint_field(srv_buf *b, uint32_t field, uint64_t v)
{
    put_varint(b, (uint64_t)field << 3 | 0);
    put_varint(b, v);
}

void srv_buf_bytes_field(srv_buf *b, uint32_t field, const void *p, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    if (reserve(b, n) != 0)
        return;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void srv_buf_message_field(srv_buf *b, uint32_t field, const srv_buf *msg)
{
    if (msg->failed) {
        b->failed = 1;
        return;
    }
    srv_buf_bytes_field(b, field, msg->data, msg->len);
}

void srv_buf_reset(srv_buf *b)
{
    b->len = 0;
}

int srv_buf_finish(srv_buf *b, uint8_t **out, size_t *len)
{
    if (!b->failed && b->data == NULL)
        reserve(b, 1);
    if (b->failed) {
        srv_buf_clear(b);
        return FS_ENOMEM;
    }
    *out = b->data;
    *len = b->len;
    memset(b, 0, sizeof(*b));
    return 0;
}

void srv_buf_clear(srv_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}
