/*
 * log.h: the server's one logger. Lines go to stderr as
 * "fieldsync-server: LEVEL: message"; a level filter set at startup drops the
 * rest. Callers never pass a token, enrollment code or record body: log ids,
 * counts and reasons only.
 */
#ifndef SRV_LOG_H
#define SRV_LOG_H

typedef enum srv_log_level {
    SRV_LOG_ERROR = 0,
    SRV_LOG_WARN = 1,
    SRV_LOG_INFO = 2,
    SRV_LOG_DEBUG = 3,
} srv_log_level;

/* Lines above level are dropped. Default: SRV_LOG_INFO. */
void srv_log_set_level(srv_log_level level);
/* Parses "error", "warn", "info" or "debug"; -1 for anything else. */
int srv_log_parse_level(const char *name);

void srv_log(srv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
