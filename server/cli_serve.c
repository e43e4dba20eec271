/*
 * cli_serve.c: `fieldsync-server serve`: reads the listen, TLS and limit
 * options into srv_http_opts and runs the server until a signal stops it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_int.h"
#include "http.h"
#include "serve.h"

/* A whole number from min to max, or -1. */
static long parse_count(const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return end == s || *end != '\0' || errno != 0 || v < min || v > max ? -1 : v;
}

/* Reads an optional count option into *out; false (after the usage message)
 * when it is malformed. */
static bool count_opt(cli *c, unsigned bit, long min, long max, unsigned *out, int *rc)
{
    if (cli_opt(c, bit) == NULL)
        return true;
    long v = parse_count(cli_opt(c, bit), min, max);
    if (v >= 0) {
        *out = (unsigned)v;
        return true;
    }
    char what[96];
    snprintf(what, sizeof(what), "--%s \"%%s\" is not a number from %ld to %ld", cli_opt_name(bit),
             min, max);
    *rc = cli_usage_error(what, cli_opt(c, bit));
    return false;
}

/* The serve options beyond listen and TLS; 0 or the usage error's exit code. */
static int serve_limits(cli *c, srv_http_opts *o)
{
    int rc = 0;
    if (!count_opt(c, O_THREADS, 1, 256, &o->threads, &rc) ||
        !count_opt(c, O_MAXCONN, 1, 1000000, &o->max_connections, &rc) ||
        !count_opt(c, O_MAXCONN_IP, 0, 1000000, &o->max_per_ip, &rc))
        return rc;
    if (cli_opt(c, O_HEADER_TIMEOUT) != NULL) {
        int64_t t = cli_parse_duration(cli_opt(c, O_HEADER_TIMEOUT), 1);
        if (t < 1 || t > 3600)
            return cli_usage_error("--header-timeout \"%s\" is not a duration from 1s to 1h",
                                   cli_opt(c, O_HEADER_TIMEOUT));
        o->header_timeout_s = (unsigned)t;
    }
    if (cli_opt(c, O_CLOCK_SKEW) != NULL &&
        (o->cfg.clock_skew_s = cli_parse_duration(cli_opt(c, O_CLOCK_SKEW), 1)) < 0)
        return cli_usage_error("--clock-skew \"%s\" is not a duration such as 5m or 300",
                               cli_opt(c, O_CLOCK_SKEW));
    if (cli_opt(c, O_BODY) != NULL && (o->cfg.body_limit = cli_parse_size(cli_opt(c, O_BODY))) == 0)
        return cli_usage_error("--body-limit \"%s\" is not a size such as 8MiB or 65536",
                               cli_opt(c, O_BODY));
    if (cli_opt(c, O_BODY_MEMORY) != NULL &&
        (o->body_memory = cli_parse_size(cli_opt(c, O_BODY_MEMORY))) == 0)
        return cli_usage_error("--body-memory \"%s\" is not a size such as 64MiB",
                               cli_opt(c, O_BODY_MEMORY));
    if ((o->cfg.horizon_s = cli_horizon(c)) < 0)
        return cli_usage_error("--horizon-days \"%s\" is not a number of days",
                               cli_opt(c, O_HORIZON));
    return 0;
}

int cli_run_serve(cli *c)
{
    srv_http_opts o;
    srv_http_opts_default(&o);
    if (cli_opt(c, O_LISTEN) != NULL)
        o.listen = cli_opt(c, O_LISTEN);
    o.cert_path = cli_opt(c, O_CERT);
    o.key_path = cli_opt(c, O_KEY);
    int rc = serve_limits(c, &o);
    if (rc != 0)
        return rc;
    if (cli_opt(c, O_DB) == NULL)
        return cli_usage_error("serve needs --db PATH or --db postgresql://...%s", "");
    fs_err err = {0};
    rc = srv_serve(cli_opt(c, O_DB), &o, cli_opt(c, O_PORTFILE), &err);
    return cli_exit_for(rc, &err);
}
