/*
 * utf8.h: UTF-8 text (common/utf8.c), as the record limits and the socket's JSON
 * need it: strict validation by RFC 3629 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and a repair for text that fails it.
 */
#ifndef FIELDSYNC_UTF8_H
#define FIELDSYNC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the n bytes at s are valid UTF-8 (NUL bytes are valid). */
bool fs_utf8_valid(const char *s, size_t n);

/* A copy of the n bytes at s, NUL-terminated, in which every byte that does not
 * start or belong to a valid sequence is replaced by U+FFFD; *out_len is its
 * length. malloc'd; NULL when out of memory. */
char *fs_utf8_repair(const char *s, size_t n, size_t *out_len);

#endif
