/*
 * pbout.h: a growable output buffer that writes protobuf wire format directly.
 *
 * Push and pull answers are mostly record states the server already holds
 * encoded; writing PushResponse and PullResponse field by field embeds those
 * bytes as they are instead of decoding and re-encoding every state. The
 * buffer's error is sticky: after the first failed allocation every append is
 * a no-op and srv_buf_finish reports FS_ENOMEM, so callers check once.
 */
#ifndef SRV_PBOUT_H
#define SRV_PBOUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed;
} srv_buf;

void srv_buf_varint_field(srv_buf *b, uint32_t field, uint64_t v);
void srv_buf_bytes_field(srv_buf *b, uint32_t field, const void *p, size_t n);
/* A length-delimited field holding another buffer's bytes (a nested message). */
void srv_buf_message_field(srv_buf *b, uint32_t field, const srv_buf *msg);
void srv_buf_reset(srv_buf *b);

/* Hands the bytes over (*out malloc'd, never NULL on success) and empties b;
 * FS_ENOMEM if any append failed. */
int srv_buf_finish(srv_buf *b, uint8_t **out, size_t *len);
void srv_buf_clear(srv_buf *b);

#endif
