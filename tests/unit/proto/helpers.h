/*
 * helpers.h: shared by the record model's unit tests: a byte builder for
 * wire-format field values, state shortcuts, and a seeded generator of random
 * write histories over a few replicas.
 */
#ifndef FS_TEST_PROTO_HELPERS_H
#define FS_TEST_PROTO_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/record.h"

/* A growable byte buffer for hand-made wire format. */
typedef struct tb {
    uint8_t data[4096];
    size_t len;
} tb;

void tb_varint_raw(tb *b, uint64_t v);
void tb_tag(tb *b, uint32_t field, unsigned type);
void tb_uint(tb *b, uint32_t field, uint64_t v);
void tb_str(tb *b, uint32_t field, const char *s);
void tb_bytes(tb *b, uint32_t field, const uint8_t *p, size_t n);

/* A new empty account state with id "acc-1" (fails the test on error). */
fs_state *new_account(void);
/* Writes field `field` = string s at replica r (fails the test on error). */
void write_str(fs_state *st, uint64_t replica, uint64_t hlc, uint32_t field, const char *s);
/* Canonical encoding (fails the test on error); free the result. */
uint8_t *encode(const fs_state *st, size_t *len);
/* Asserts a and b encode to the same bytes. */
void assert_same_state(const fs_state *a, const fs_state *b);
/* Join that must succeed. */
fs_state *join(const fs_state *a, const fs_state *b);
/* Encode then decode, asserting success and the same bytes. */
fs_state *roundtrip(const fs_state *st);
/* The visible account (free with protobuf_c_message_free_unpacked). */
Fieldsync__Account *visible_account(const fs_state *st);

/* splitmix64 */
uint64_t rnd(uint64_t *s);

/* Applies one random local write, delete or field clearing of account fields
 * (strings, a repeated field, an unknown field 99) at replica r. */
void random_op(fs_state *st, uint64_t replica, uint64_t hlc, uint64_t *seed);

/* An environment variable as a positive count, or def. */
long env_count(const char *name, long def);

#endif
