/*
 * framer.h: splitting a byte stream into newline-terminated lines with a hard
 * cap on line length (framer.c). Pure buffer logic, no I/O, so the limits that
 * protect the daemon from a hostile client are unit-tested on their own.
 *
 * The buffer never holds more than max_line + 1 bytes of one unfinished line:
 * a line that passes max_line is reported as FS_ETOOBIG and the stream is then
 * unusable (the daemon answers with an error and closes the connection).
 */
#ifndef FS_DAEMON_FRAMER_H
#define FS_DAEMON_FRAMER_H

#include <stdbool.h>
#include <stddef.h>

#include "fieldsync/error.h"

typedef struct fs_framer {
    char *buf;
    size_t start; /* first unconsumed byte */
    size_t len;   /* bytes in buf */
    size_t cap;
    size_t scan; /* bytes after start already searched for '\n' */
    size_t max_line;
    bool overflow;
} fs_framer;

void fs_framer_init(fs_framer *f, size_t max_line);
/* Wipes (lines may hold passphrases) and frees the buffer. */
void fs_framer_clear(fs_framer *f);

/* Room to read into: *p and *n (n > 0). FS_EBUSY: the buffer is full of complete
 * lines, take them with fs_framer_next first; FS_ETOOBIG: a line passed the cap;
 * FS_ENOMEM. */
int fs_framer_space(fs_framer *f, char **p, size_t *n);
/* n bytes were written at the space returned by fs_framer_space. */
void fs_framer_commit(fs_framer *f, size_t n);

/*
 * The next complete line: 1 and *line (NUL-terminated in place, without "\n" or
 * "\r\n"), *len; 0 when no complete line is buffered; FS_ETOOBIG when the
 * unfinished line already exceeds max_line. The line stays valid until the next
 * call of any fs_framer function.
 */
int fs_framer_next(fs_framer *f, char **line, size_t *len);

/* Bytes of an unfinished line are buffered. */
bool fs_framer_partial(const fs_framer *f);

#endif
