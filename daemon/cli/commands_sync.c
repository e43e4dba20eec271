/*
 * commands_sync.c: `fieldsync enroll`, `sync` and `resync`. The daemon starts
 * such work and answers at once; the outcome arrives as notifications
 * (docs/socket-api.md "Sync"). So each command subscribes to the sync topic
 * first, starts the work, then waits for sync.done or sync.enrolled, drawing
 * progress on the terminal (or JSON lines with --json) meanwhile.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct waiter {
    fs_cli *cli;
    const char *until; /* the notification that ends the wait */
    json_t *outcome;   /* its params, once seen */
    bool bar;          /* draw a progress line on stderr */
} waiter;

const char *fs_cli_progress(const json_t *p, char *buf, size_t n)
{
    long long records = json_integer_value(json_object_get(p, "records"));
    long long total = json_integer_value(json_object_get(p, "total"));
    const json_t *eta = json_object_get(p, "eta_ms");
    char of[48] = "", left[48] = "";
    if (total > 0)
        snprintf(of, sizeof(of), " of %lld (%lld%%)", total,
                 (records < total ? records : total) * 100 / total);
    if (json_is_integer(eta) && json_integer_value(eta) > 0) {
        long long s = (json_integer_value(eta) + 999) / 1000;
        snprintf(left, sizeof(left), ", about %lldm %02llds left", s / 60, s % 60);
    }
    snprintf(buf, n, "%s: %lld%s records, %.1f MB, %.0f records/s%s",
             json_string_value(json_object_get(p, "phase")), records, of,
             (double)json_integer_value(json_object_get(p, "bytes")) / 1e6,
             json_real_value(json_object_get(p, "rate")), left);
    return buf;
}

static void draw_progress(const json_t *p)
{
    char line[256];
    fprintf(stderr, "\r%s   ", fs_cli_progress(p, line, sizeof(line)));
    fflush(stderr);
}

static void on_note(void *arg, const char *method, json_t *params)
{
    waiter *w = arg;
    if (w->cli->json && strncmp(method, "sync.", 5) == 0) {
        json_t *line = json_pack("{s:s,s:O}", "event", method, "params", params);
        if (line != NULL && json_dumpf(line, stdout, JSON_COMPACT) == 0)
            fputc('\n', stdout);
        fflush(stdout);
        json_decref(line);
    } else if (w->bar && strcmp(method, "sync.progress") == 0) {
        draw_progress(params);
    }
    if (w->outcome == NULL && strcmp(method, w->until) == 0)
        w->outcome = json_incref(params);
}

/* Subscribes, calls method, and waits for w->until. 0 with w->outcome set. */
static int start_and_wait(fs_cli *cli, waiter *w, const char *method, json_t *params)
{
    json_t *res;
    int rc = fs_cli_call(cli, "subscribe", json_pack("{s:[s]}", "topics", "sync.progress"), &res);
    if (rc != 0) {
        json_decref(params);
        return rc;
    }
    json_decref(res);
    fs_rpcc_set_notify(cli->rpc, on_note, w);
    if ((rc = fs_cli_call(cli, method, params, &res)) != 0)
        return rc;
    json_decref(res);
    fs_err err = {0};
    while (w->outcome == NULL)
        if (fs_rpcc_wait_notification(cli->rpc, cli->timeout_ms, &err) != 0) {
            if (w->bar)
                fputc('\n', stderr);
            return fs_cli_fail(FS_EXIT_ERROR, "%s: no answer from the sync client: %s", method,
                               err.msg);
        }
    if (w->bar)
        fputc('\n', stderr);
    return 0;
}

int fs_cmd_enroll(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {{"device-name", FS_OPT_VALUE, "NAME",
                                   "how the server lists this device (default: host name)"},
                                  FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv, "URL CODE",
                          "Enrolls this device with a fieldsync server, using the one-time code "
                          "an administrator printed with `fieldsync-server enroll-code USER`. "
                          "The device token is kept in the encrypted store. URL is https://, or "
                          "http:// to a loopback address.",
                          2, 2);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *params = json_pack("{s:s,s:s}", "url", a.pos[0], "code", a.pos[1]);
    if (fs_args_get(&a, "device-name") != NULL)
        json_object_set_new(params, "device_name", json_string(fs_args_get(&a, "device-name")));
    waiter w = {.cli = cli, .until = "sync.enrolled"};
    if ((rc = start_and_wait(cli, &w, "sync.enroll", params)) != 0)
        return rc;
    if (!json_is_true(json_object_get(w.outcome, "ok")))
        rc = fs_cli_fail(FS_EXIT_ERROR, "enrollment failed: %s",
                         json_string_value(json_object_get(w.outcome, "message")));
    else if (!cli->json)
        printf("enrolled with %s; the first sync has started\n", a.pos[0]);
    json_decref(w.outcome);
    return rc;
}

static void print_outcome(const json_t *o)
{
    printf("pushed %lld (%lld refused), pulled %lld (%lld changed), removed %lld; "
           "%lld requests, %.1f KB up, %.1f KB down\n",
           (long long)json_integer_value(json_object_get(o, "pushed")),
           (long long)json_integer_value(json_object_get(o, "refused")),
           (long long)json_integer_value(json_object_get(o, "pulled")),
           (long long)json_integer_value(json_object_get(o, "changed")),
           (long long)json_integer_value(json_object_get(o, "removed")),
           (long long)json_integer_value(json_object_get(o, "requests")),
           (double)json_integer_value(json_object_get(o, "bytes_up")) / 1e3,
           (double)json_integer_value(json_object_get(o, "bytes_down")) / 1e3);
    json_int_t skipped = json_integer_value(json_object_get(o, "skipped"));
    if (skipped > 0)
        printf("skipped %lld record(s) from the server this device cannot store (see the "
               "daemon's log)\n",
               (long long)skipped);
    const json_t *r = json_object_get(o, "report");
    if (r != NULL)
        printf("resync: %lld added, %lld updated, %lld removed, %lld in conflict, %lld kept "
               "local, %lld refused changes undone\n",
               (long long)json_integer_value(json_object_get(r, "added")),
               (long long)json_integer_value(json_object_get(r, "updated")),
               (long long)json_integer_value(json_object_get(r, "removed")),
               (long long)json_integer_value(json_object_get(r, "conflicts")),
               (long long)json_integer_value(json_object_get(r, "kept_local")),
               (long long)json_integer_value(json_object_get(r, "restored")));
}

/* Runs method and waits for its sync.done; the exit code says how it ended. */
static int run_sync(fs_cli *cli, const char *method, json_t *params, bool bar)
{
    waiter w = {.cli = cli, .until = "sync.done", .bar = bar && !cli->json};
    int rc = start_and_wait(cli, &w, method, params);
    if (rc != 0)
        return rc;
    if (!json_is_true(json_object_get(w.outcome, "ok")))
        rc = fs_cli_fail(FS_EXIT_ERROR,
                         "sync failed: %s (it retries by itself; `fieldsync "
                         "status` shows its state)",
                         json_string_value(json_object_get(w.outcome, "message")));
    else if (!cli->json)
        print_outcome(w.outcome);
    json_decref(w.outcome);
    return rc;
}

int fs_cmd_sync(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {{"no-wait", FS_OPT_FLAG, NULL, "start the sync and return"},
                                  FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv, "[--no-wait]",
                          "Pushes pending changes and pulls the server's now, and waits until "
                          "that run has finished.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    if (fs_args_has(&a, "no-wait")) {
        json_t *res;
        if ((rc = fs_cli_call(cli, "sync.now", NULL, &res)) == 0 && cli->json)
            rc = fs_cli_print_json(cli, res);
        else if (rc == 0)
            printf("sync started\n");
        json_decref(res);
        return rc;
    }
    return run_sync(cli, "sync.now", NULL, cli->tty);
}

int fs_cmd_resync(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"full", FS_OPT_FLAG, NULL, "pull everything from the start (the default)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv, "[--full]",
                          "Forced resync: pushes what is pending, pulls everything from the "
                          "server, keeps unsynced local changes and drops records the server no "
                          "longer gives this rep, then prints the counts. Progress (records, "
                          "bytes, rate, ETA) goes to the terminal, or as JSON lines with --json.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    return run_sync(cli, "sync.resync", json_pack("{s:b}", "full", 1), isatty(2));
}
