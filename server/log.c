/*
 * log.c: the leveled stderr logger (see log.h). One fprintf per line under
 * stdio's own lock, so lines from pool threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int log_level = SRV_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void srv_log_set_level(srv_log_level level)
{
    atomic_store(&log_level, (int)level);
}

int srv_log_parse_level(const char *name)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (name != NULL && strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void srv_log(srv_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fieldsync-server: %s: %s\n", level_names[level], line);
}
