/*
 * prompt.h: passphrases for the CLI (prompt.c): typed on the terminal with echo
 * off, or read from a file or file descriptor for scripts; never taken from
 * argv (visible in ps and shell history). The buffer is locked in memory where
 * the system allows and wiped on free.
 */
#ifndef FS_CLI_PROMPT_H
#define FS_CLI_PROMPT_H

#include <stddef.h>

#include "fieldsync/error.h"

/* Longest passphrase accepted, in bytes. */
#define FS_PASS_MAX 1024

typedef struct fs_pass {
    char *buf; /* NUL-terminated, len bytes */
    size_t len;
} fs_pass;

/* The first line of what fd holds (to a newline or end of file; a trailing
 * "\r\n" or "\n" is dropped). FS_EINVAL when it is empty or too long. */
int fs_pass_from_fd(fs_pass **out, int fd, const char *what, fs_err *err);
/* The first line of the file at path (see fs_pass_from_fd). */
int fs_pass_from_file(fs_pass **out, const char *path, fs_err *err);
/* Prompts on /dev/tty with echo off. FS_ENOTFOUND when there is no terminal;
 * FS_EIO when interrupted (the terminal is restored first). */
int fs_pass_prompt(fs_pass **out, const char *prompt, fs_err *err);
/* Wipes and frees. NULL is a no-op. */
void fs_pass_free(fs_pass *p);

#endif
