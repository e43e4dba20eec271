/*
 * commands_watch.c: `fieldsync watch`: subscribes to the daemon's
 * notifications (record changes, sync progress, lock state) and prints one
 * line per notification as it arrives, until interrupted or --count are seen.
 * Handy beside the UI shell to see what another client or the sync does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fields.h"

typedef struct watcher {
    fs_cli *cli;
    long long seen;
    int rc; /* non-zero once stdout failed (its reader may have gone) */
} watcher;

static void print_note(void *arg, const char *method, json_t *params)
{
    watcher *w = arg;
    w->seen++;
    if (w->cli->json) {
        json_t *line =
            json_pack("{s:s, s:O}", "method", method, "params", params ? params : json_null());
        if (line != NULL && json_dumpf(line, stdout, JSON_COMPACT) == 0)
            fputc('\n', stdout);
        json_decref(line);
    } else if (strcmp(method, "record.changed") == 0) {
        printf("%s %s %s (%s)\n", json_string_value(json_object_get(params, "kind")),
               json_string_value(json_object_get(params, "id")),
               json_is_true(json_object_get(params, "deleted")) ? "deleted" : "changed",
               json_string_value(json_object_get(params, "origin")));
    } else {
        char *p = fs_json_dump(params, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s %s\n", method, p ? p : "");
        free(p);
    }
    if ((fflush(stdout) != 0 || ferror(stdout)) && w->rc == 0)
        w->rc = fs_cli_output_failed();
}

/* "a,b" -> ["a","b"] */
static json_t *topic_list(const char *csv)
{
    json_t *arr = json_array();
    char *copy = strdup(csv), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(arr, json_string(t));
    free(copy);
    return arr;
}

int fs_cmd_watch(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {{"topics", FS_OPT_VALUE, "T,T",
                                   "record.changed, sync.progress, state.changed (default: all)"},
                                  {"count", FS_OPT_VALUE, "N", "stop after N notifications"},
                                  FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
                          "[--topics T,T] [--count N]",
                          "Prints the daemon's notifications as they come (one line each; JSON "
                          "lines with --json) until interrupted.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    long long count = -1;
    if (fs_args_get(&a, "count") != NULL &&
        fs_args_int(fs_args_get(&a, "count"), 1, 1LL << 40, &count) != 0)
        return fs_cli_usage(cli, "--count must be a positive number");
    json_t *params = NULL, *res;
    if (fs_args_get(&a, "topics") != NULL)
        params = json_pack("{s:o}", "topics", topic_list(fs_args_get(&a, "topics")));
    if ((rc = fs_cli_call(cli, "subscribe", params, &res)) != 0)
        return rc;
    char *topics = fs_json_dump(json_object_get(res, "topics"), JSON_COMPACT);
    fprintf(stderr, "fieldsync: watching %s (Ctrl-C to stop)\n", topics ? topics : "");
    free(topics);
    json_decref(res);
    watcher w = {.cli = cli};
    fs_rpcc_set_notify(cli->rpc, print_note, &w);
    while (w.rc == 0 && (count < 0 || w.seen < count)) {
        fs_err err = {0};
        if (fs_rpcc_wait_notification(cli->rpc, -1, &err) != 0)
            return fs_cli_fail(FS_EXIT_UNREACHABLE, "%s", fs_err_message(&err));
    }
    return w.rc;
}
