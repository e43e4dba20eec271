/*
 * log.c: the leveled logger (see log.h). Process-wide state, set up once by
 * main() and read by everyone; a whole line is formatted first and written with
 * one call, so lines from a forked child do not interleave mid-line.
 */
#include "fieldsync/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef FS_HAVE_SYSTEMD
#include <syslog.h>
#include <systemd/sd-journal.h>
#endif

#define FS_LOG_LINE_MAX 2048

static fs_log_level log_level = FS_LOG_INFO;
static fs_log_target log_target = FS_LOG_TARGET_STDERR;
static const char *log_ident = "fieldsync";
static FILE *log_stream;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void fs_log_set_level(fs_log_level level)
{
    if (level >= FS_LOG_ERROR && level <= FS_LOG_DEBUG)
        log_level = level;
}

fs_log_level fs_log_get_level(void)
{
    return log_level;
}

int fs_log_level_from_name(const char *name, fs_log_level *level)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i <= FS_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = (fs_log_level)i;
            return 0;
        }
    }
    if (strcmp(name, "warning") == 0) {
        *level = FS_LOG_WARN;
        return 0;
    }
    return -1;
}

const char *fs_log_level_name(fs_log_level level)
{
    if (level < FS_LOG_ERROR || level > FS_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

void fs_log_set_ident(const char *ident)
{
    log_ident = ident != NULL ? ident : "fieldsync";
}

bool fs_log_journal_available(void)
{
#ifdef FS_HAVE_SYSTEMD
    return true;
#else
    return false;
#endif
}

int fs_log_set_target(fs_log_target target)
{
    if (target == FS_LOG_TARGET_JOURNAL && !fs_log_journal_available()) {
        log_target = FS_LOG_TARGET_STDERR;
        return -1;
    }
    log_target = target;
    return 0;
}

void fs_log_set_stream(FILE *stream)
{
    log_stream = stream;
}

#ifdef FS_HAVE_SYSTEMD
static int journal_priority(fs_log_level level)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    return prio[level];
}
#endif

void fs_log(fs_log_level level, const char *fmt, ...)
{
    if (level > log_level || level < FS_LOG_ERROR)
        return;
    char msg[FS_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
#ifdef FS_HAVE_SYSTEMD
    if (log_target == FS_LOG_TARGET_JOURNAL && log_stream == NULL) {
        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", journal_priority(level),
                        "SYSLOG_IDENTIFIER=%s", log_ident, NULL);
        return;
    }
#endif
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[FS_LOG_LINE_MAX + 128];
    int n = snprintf(line, sizeof(line), "%s %s[%ld] %s: %s\n", stamp, log_ident, (long)getpid(),
                     level_names[level], msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    FILE *out = log_stream != NULL ? log_stream : stderr;
    fwrite(line, 1, (size_t)n, out);
    fflush(out);
}

void fs_log_lib(fs_log_level level, const char *prefix, const char *fmt, va_list ap)
{
    char line[FS_LOG_LINE_MAX];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    fs_log(level, "%s: %s", prefix, line);
}
