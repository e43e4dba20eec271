/*
 * args.h: the CLI's option parser (args.c). Each command declares its options
 * in a table; the parser takes `--name value`, `--name=value`, flags, `-h`,
 * and `--` (everything after it is positional), and keeps every occurrence in
 * command-line order so repeatable options (--set, --clear, --tags) keep theirs.
 * Options and positionals may be mixed. Global options (--socket, --json,
 * --help) are ordinary entries of every table (fs_args_globals).
 */
#ifndef FS_CLI_ARGS_H
#define FS_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum fs_opt_kind {
    FS_OPT_FLAG,   /* no value */
    FS_OPT_VALUE,  /* one value; given twice, the last wins */
    FS_OPT_REPEAT, /* one value per occurrence, all kept */
    FS_OPT_OBJECT, /* a flag, or takes a value when it is "--name=V" or the next
                      argument starts with '{' (`--json` output vs `--json '{...}'`) */
} fs_opt_kind;

typedef struct fs_opt {
    const char *name; /* without the leading "--" */
    fs_opt_kind kind;
    const char *metavar; /* VALUE shown in help, NULL for flags */
    const char *help;
} fs_opt;

typedef struct fs_arg {
    size_t opt;        /* index in the table */
    const char *value; /* borrowed from argv; NULL for flags */
} fs_arg;

#define FS_ARGS_MAX 256
#define FS_ARGS_ERR_MAX 256

typedef struct fs_args {
    const fs_opt *opts;
    size_t nopts;
    fs_arg given[FS_ARGS_MAX];
    size_t ngiven;
    const char *pos[FS_ARGS_MAX];
    size_t npos;
    char err[FS_ARGS_ERR_MAX]; /* the usage error, one sentence */
} fs_args;

/* Parses argv[0..argc) against opts. 0, or -1 with a.err set (unknown option,
 * missing value, value given to a flag, too many arguments). */
int fs_args_parse(fs_args *a, const fs_opt *opts, size_t nopts, int argc, char **argv);

/* Index of the option named name in the table, or -1. */
int fs_args_index(const fs_args *a, const char *name);
/* True if the option was given. */
bool fs_args_has(const fs_args *a, const char *name);
/* The last value given for name, or NULL. */
const char *fs_args_get(const fs_args *a, const char *name);
/* Number of times name was given. */
size_t fs_args_count(const fs_args *a, const char *name);

/* Parses a decimal integer in [lo, hi] strictly (no junk, no overflow). */
int fs_args_int(const char *s, long long lo, long long hi, long long *out);

/* Prints "  --name VALUE   help" lines for the table. */
void fs_args_print_help(const fs_opt *opts, size_t nopts, void *file);

#endif
