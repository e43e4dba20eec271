/*
 * args.c: the table-driven option parser of args.h. It never exits or prints:
 * a bad command line comes back as -1 with one sentence in a.err, and the
 * caller turns that into exit code 2 and a pointer to --help.
 */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_opt(const fs_opt *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int fs_args_index(const fs_args *a, const char *name)
{
    return find_opt(a->opts, a->nopts, name, strlen(name));
}

static int add_given(fs_args *a, size_t opt, const char *value)
{
    if (a->ngiven >= FS_ARGS_MAX) {
        snprintf(a->err, sizeof(a->err), "too many options (at most %d)", FS_ARGS_MAX);
        return -1;
    }
    a->given[a->ngiven].opt = opt;
    a->given[a->ngiven].value = value;
    a->ngiven++;
    return 0;
}

/* One "--name[=value]" at argv[*i]; may consume the next argument. */
static int parse_long(fs_args *a, int argc, char **argv, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    int o = find_opt(a->opts, a->nopts, arg, len);
    if (o < 0) {
        snprintf(a->err, sizeof(a->err), "unknown option --%.*s", (int)(len > 64 ? 64 : len), arg);
        return -1;
    }
    const fs_opt *opt = &a->opts[o];
    if (opt->kind == FS_OPT_FLAG) {
        if (eq != NULL) {
            snprintf(a->err, sizeof(a->err), "option --%s takes no value", opt->name);
            return -1;
        }
        return add_given(a, (size_t)o, NULL);
    }
    if (eq != NULL)
        return add_given(a, (size_t)o, eq + 1);
    if (opt->kind == FS_OPT_OBJECT) {
        if (*i + 1 < argc && argv[*i + 1][0] == '{')
            return add_given(a, (size_t)o, argv[++*i]);
        return add_given(a, (size_t)o, NULL);
    }
    if (*i + 1 >= argc) {
        snprintf(a->err, sizeof(a->err), "option --%s needs a value (%s)", opt->name,
                 opt->metavar ? opt->metavar : "VALUE");
        return -1;
    }
    (*i)++;
    return add_given(a, (size_t)o, argv[*i]);
}

int fs_args_parse(fs_args *a, const fs_opt *opts, size_t nopts, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->opts = opts;
    a->nopts = nopts;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && strncmp(arg, "--", 2) == 0) {
            rc = parse_long(a, argc, argv, &i);
        } else if (!only_pos && strcmp(arg, "-h") == 0 && fs_args_index(a, "help") >= 0) {
            rc = add_given(a, (size_t)fs_args_index(a, "help"), NULL);
        } else if (!only_pos && arg[0] == '-' && arg[1] != '\0' &&
                   !(arg[1] >= '0' && arg[1] <= '9')) {
            snprintf(a->err, sizeof(a->err), "unknown option %.64s (options are spelt --name)",
                     arg);
            rc = -1;
        } else if (a->npos >= FS_ARGS_MAX) {
            snprintf(a->err, sizeof(a->err), "too many arguments");
            rc = -1;
        } else {
            a->pos[a->npos++] = arg;
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

bool fs_args_has(const fs_args *a, const char *name)
{
    return fs_args_count(a, name) > 0;
}

size_t fs_args_count(const fs_args *a, const char *name)
{
    int o = fs_args_index(a, name);
    size_t n = 0;
    for (size_t i = 0; o >= 0 && i < a->ngiven; i++)
        if (a->given[i].opt == (size_t)o)
            n++;
    return n;
}

const char *fs_args_get(const fs_args *a, const char *name)
{
    int o = fs_args_index(a, name);
    const char *v = NULL;
    for (size_t i = 0; o >= 0 && i < a->ngiven; i++)
        if (a->given[i].opt == (size_t)o && a->given[i].value != NULL)
            v = a->given[i].value;
    return v;
}

int fs_args_int(const char *s, long long lo, long long hi, long long *out)
{
    if (s == NULL || *s == '\0' || (*s == ' ' || *s == '\t' || *s == '+'))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

void fs_args_print_help(const fs_opt *opts, size_t nopts, void *file)
{
    FILE *f = file;
    for (size_t i = 0; i < nopts; i++) {
        if (opts[i].help == NULL)
            continue; /* hidden: another entry describes it */
        char left[96];
        if (opts[i].metavar)
            snprintf(left, sizeof(left), "--%s %s", opts[i].name, opts[i].metavar);
        else
            snprintf(left, sizeof(left), "--%s", opts[i].name);
        fprintf(f, "  %-28s %s\n", left, opts[i].help ? opts[i].help : "");
    }
}
