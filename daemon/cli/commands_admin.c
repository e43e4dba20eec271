/*
 * commands_admin.c: the store's life cycle (status, init, unlock, lock,
 * passwd, check) and the sync commands (sync, resync). Passphrases come from the
 * terminal without echo, or from --passphrase-file / --passphrase-fd; they are
 * never accepted as an argument.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "prompt.h"

#define PASS_OPTS(prefix, what)                                                                    \
    {prefix "passphrase-file", FS_OPT_VALUE, "FILE", "read the " what " from FILE's first line"},  \
    {                                                                                              \
        prefix "passphrase-fd", FS_OPT_VALUE, "N", "read the " what " from file descriptor N"      \
    }

/* The passphrase from --<prefix>passphrase-file/-fd, else the terminal (twice
 * when confirm is set). */
static int get_pass(fs_cli *cli, const fs_args *a, const char *prefix, const char *prompt,
                    bool confirm, fs_pass **out)
{
    char fopt[64], dopt[64];
    snprintf(fopt, sizeof(fopt), "%spassphrase-file", prefix);
    snprintf(dopt, sizeof(dopt), "%spassphrase-fd", prefix);
    const char *file = fs_args_get(a, fopt), *fd = fs_args_get(a, dopt);
    fs_err err = {0};
    int rc;
    *out = NULL;
    if (file != NULL && fd != NULL)
        return fs_cli_usage(cli, "give --%s or --%s, not both", fopt, dopt);
    if (file != NULL) {
        rc = fs_pass_from_file(out, file, &err);
    } else if (fd != NULL) {
        long long n;
        if (fs_args_int(fd, 0, 1 << 20, &n) != 0)
            return fs_cli_usage(cli, "--%s needs a file descriptor number", dopt);
        char what[64];
        snprintf(what, sizeof(what), "file descriptor %lld", n);
        rc = fs_pass_from_fd(out, (int)n, what, &err);
    } else {
        rc = fs_pass_prompt(out, prompt, &err);
        if (rc == 0 && confirm) {
            fs_pass *again = NULL;
            rc = fs_pass_prompt(&again, "Repeat it: ", &err);
            if (rc == 0 &&
                (again->len != (*out)->len || memcmp(again->buf, (*out)->buf, again->len) != 0))
                rc = fs_err_set(&err, FS_EINVAL, "the two passphrases differ: nothing changed");
            fs_pass_free(again);
        }
    }
    if (rc == 0)
        return 0;
    fs_pass_free(*out);
    *out = NULL;
    return fs_cli_fail(rc == FS_ENOTFOUND && file == NULL ? FS_EXIT_USAGE : FS_EXIT_ERROR, "%s",
                       fs_err_message(&err));
}

/* The result of a call that had nothing to do (already locked/unlocked). */
static int print_state(fs_cli *cli, const char *state)
{
    if (!cli->json)
        return FS_EXIT_OK;
    json_t *r = json_pack("{s:s}", "state", state);
    int rc = fs_cli_print_json(cli, r);
    json_decref(r);
    return rc;
}

/* Simple commands: parse, call, print JSON or a sentence. */
static int simple_call(fs_cli *cli, const char *method, json_t *params, const char *done)
{
    json_t *res;
    int rc = fs_cli_call(cli, method, params, &res);
    if (rc != 0)
        return rc;
    if (cli->json)
        rc = fs_cli_print_json(cli, res);
    else if (done != NULL)
        printf("%s\n", done);
    json_decref(res);
    return rc;
}

/* A duration as "1 h 02 min", "5 min" or "45 s". */
static const char *duration(long long s, char *buf, size_t n)
{
    if (s >= 3600)
        snprintf(buf, n, "%lld h %02lld min", s / 3600, s / 60 % 60);
    else if (s >= 60)
        snprintf(buf, n, "%lld min", s / 60);
    else
        snprintf(buf, n, "%lld s", s);
    return buf;
}

/* The clock line: this computer's clock against the server's, when more than a
 * minute apart; NULL otherwise. */
static const char *clock_line(const json_t *sy, char *buf, size_t n)
{
    const json_t *off = json_object_get(sy, "clock_offset_s");
    long long o = json_integer_value(off);
    char d[32];
    if (!json_is_integer(off) || (o >= -60 && o <= 60))
        return NULL;
    if (o < 0)
        snprintf(buf, n,
                 "this computer's clock is %s ahead of the server's (set it right): changes "
                 "dated in the future are refused until the server's clock reaches them",
                 duration(-o, d, sizeof(d)));
    else
        snprintf(buf, n, "this computer's clock is %s behind the server's",
                 duration(o, d, sizeof(d)));
    return buf;
}

/* The changes refused CLOCK_AHEAD and when they go again; NULL when none. */
static const char *clock_wait_line(const json_t *sy, char *buf, size_t n)
{
    long long waiting = json_integer_value(json_object_get(sy, "waiting_for_clock"));
    long long s = json_integer_value(json_object_get(sy, "clock_wait_s"));
    char d[32];
    if (waiting <= 0)
        return NULL;
    if (s > 0)
        snprintf(buf, n,
                 "%lld change(s) dated ahead of the server's clock, sent again by themselves in "
                 "about %s",
                 waiting, duration(s, d, sizeof(d)));
    else
        snprintf(buf, n,
                 "%lld change(s) dated ahead of the server's clock, sent again at the "
                 "next sync",
                 waiting);
    return buf;
}

static void print_status(const json_t *r)
{
    char outbox[128] = "", clients[32] = "", uptime[32] = "", search[64] = "up to date";
    const json_t *ob = json_object_get(r, "outbox");
    const json_t *backlog = json_object_get(r, "search_backlog");
    if (json_integer_value(backlog) > 0)
        snprintf(search, sizeof(search), "indexing, %lld records to go",
                 (long long)json_integer_value(backlog));
    if (ob != NULL)
        snprintf(outbox, sizeof(outbox), "%lld pending, %lld in flight, %lld refused",
                 (long long)json_integer_value(json_object_get(ob, "pending")),
                 (long long)json_integer_value(json_object_get(ob, "in_flight")),
                 (long long)json_integer_value(json_object_get(ob, "refused")));
    snprintf(clients, sizeof(clients), "%lld",
             (long long)json_integer_value(json_object_get(r, "clients")));
    long long up = json_integer_value(json_object_get(r, "uptime_s"));
    snprintf(uptime, sizeof(uptime), "%lldh %02lldm %02llds", up / 3600, up / 60 % 60, up % 60);
    const json_t *sy = json_object_get(r, "sync");
    char sync[FS_ERR_MSG_MAX + 32] = "", last[32] = "never", conflicts[32] = "";
    const char *reason = json_string_value(json_object_get(sy, "reason"));
    snprintf(sync, sizeof(sync), "%s%s%s", json_string_value(json_object_get(sy, "state")),
             reason && *reason ? ": " : "", reason && *reason ? reason : "");
    const char *server = json_string_value(json_object_get(sy, "server"));
    const char *user = json_string_value(json_object_get(sy, "user"));
    if (server != NULL && *server == '\0')
        server = user = NULL; /* not enrolled */
    time_t t = (time_t)json_integer_value(json_object_get(sy, "last_sync"));
    if (t > 0)
        strftime(last, sizeof(last), "%Y-%m-%d %H:%M:%S", localtime(&t));
    snprintf(conflicts, sizeof(conflicts), "%lld",
             (long long)json_integer_value(json_object_get(sy, "conflicts")));
    char progress[256], clock[256], waiting[160];
    const json_t *prog = json_object_get(sy, "progress");
    if (json_is_object(prog))
        fs_cli_progress(prog, progress, sizeof(progress));
    const json_t *pp = json_object_get(r, "passphrase"), *enc = json_object_get(r, "encrypted");
    const char *state = json_string_value(json_object_get(r, "state"));
    bool uninit = state != NULL && strcmp(state, "uninitialized") == 0;
    const char *pairs[] = {
        "state",
        state,
        "version",
        json_string_value(json_object_get(r, "version")),
        "encrypted",
        enc ? (json_is_true(enc) ? "yes" : "no") : NULL,
        "key",
        pp && !uninit ? (json_is_true(pp) ? "passphrase" : "raw key file") : NULL,
        "replica",
        json_string_value(json_object_get(r, "replica")),
        "outbox",
        ob ? outbox : NULL,
        "search",
        backlog ? search : NULL,
        "sync",
        sync,
        "progress",
        json_is_object(prog) ? progress : NULL,
        "access",
        json_is_true(json_object_get(sy, "read_only"))
            ? "read only: the server takes no changes from this user (a manager)"
            : NULL,
        "server",
        server,
        "user",
        user,
        "last sync",
        last,
        "clock",
        clock_line(sy, clock, sizeof(clock)),
        "waiting",
        clock_wait_line(sy, waiting, sizeof(waiting)),
        "conflicts",
        conflicts,
        "data dir",
        json_string_value(json_object_get(r, "data_dir")),
        "socket",
        json_string_value(json_object_get(r, "socket")),
        "clients",
        clients,
        "uptime",
        uptime,
    };
    fs_cli_print_pairs(pairs, sizeof(pairs) / sizeof(pairs[0]) / 2);
}

int fs_cmd_status(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc =
        fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv, "",
                     "Shows whether the store is locked, the outbox and the sync state.", 0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *res;
    if ((rc = fs_cli_call(cli, "status", NULL, &res)) != 0)
        return rc;
    if (cli->json)
        rc = fs_cli_print_json(cli, res);
    else
        print_status(res);
    json_decref(res);
    return rc;
}

/* The daemon's state ("locked", ...) and whether its key needs a passphrase. */
static int daemon_state(fs_cli *cli, char *state, size_t n, bool *passphrase)
{
    json_t *res;
    int rc = fs_cli_call(cli, "status", NULL, &res);
    if (rc != 0)
        return rc;
    const char *st = json_string_value(json_object_get(res, "state"));
    snprintf(state, n, "%s", st ? st : "");
    *passphrase = !json_is_false(json_object_get(res, "passphrase"));
    json_decref(res);
    return 0;
}

int fs_cmd_init(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        PASS_OPTS("", "new passphrase"),
        {"no-passphrase", FS_OPT_FLAG, NULL,
         "raw key file, for unattended setups (weaker: only file permissions protect it)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
                          "[--passphrase-file FILE | --passphrase-fd N | --no-passphrase]",
                          "Creates the encrypted store and leaves it unlocked. Asks for the new "
                          "passphrase twice.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *params = json_object();
    if (!fs_args_has(&a, "no-passphrase")) {
        fs_pass *p;
        if ((rc = get_pass(cli, &a, "", "New passphrase: ", true, &p)) != 0) {
            json_decref(params);
            return rc;
        }
        json_object_set_new(params, "passphrase", json_stringn(p->buf, p->len));
        fs_pass_free(p);
    } else if (fs_args_has(&a, "passphrase-file") || fs_args_has(&a, "passphrase-fd")) {
        json_decref(params);
        return fs_cli_usage(cli, "--no-passphrase and a passphrase exclude each other");
    }
    json_t *res;
    if ((rc = fs_cli_call(cli, "init", params, &res)) != 0)
        return rc;
    if (cli->json)
        rc = fs_cli_print_json(cli, res);
    else
        printf("store created and unlocked (replica %s)\n",
               json_is_string(json_object_get(res, "replica"))
                   ? json_string_value(json_object_get(res, "replica"))
                   : "?");
    json_decref(res);
    return rc;
}

int fs_cmd_unlock(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {PASS_OPTS("", "passphrase"), FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
                          "[--passphrase-file FILE | --passphrase-fd N]",
                          "Opens the store. Asks for the passphrase on the terminal (three tries) "
                          "unless one of the options gives it.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    char state[32];
    bool needs;
    if ((rc = daemon_state(cli, state, sizeof(state), &needs)) != 0)
        return rc;
    if (strcmp(state, "uninitialized") == 0)
        return fs_cli_fail(FS_EXIT_NOT_INITIALIZED, "there is no store yet: run `fieldsync init`");
    if (strcmp(state, "unlocked") == 0) {
        fprintf(stderr, "fieldsync: the store is already unlocked\n");
        return print_state(cli, "unlocked");
    }
    bool interactive = !fs_args_has(&a, "passphrase-file") && !fs_args_has(&a, "passphrase-fd");
    for (int attempt = 0; attempt < (interactive ? 3 : 1); attempt++) {
        json_t *params = json_object();
        if (needs) {
            fs_pass *p;
            if ((rc = get_pass(cli, &a, "", "Passphrase: ", false, &p)) != 0) {
                json_decref(params);
                return rc;
            }
            json_object_set_new(params, "passphrase", json_stringn(p->buf, p->len));
            fs_pass_free(p);
        }
        rc = simple_call(cli, "unlock", params, "store unlocked");
        if (rc != FS_EXIT_AUTH)
            break;
    }
    return rc;
}

int fs_cmd_lock(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv, "",
                          "Closes the store and wipes its keys from the daemon's memory; record "
                          "commands then answer \"locked\" (exit code 4) until `fieldsync "
                          "unlock`.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *res;
    fs_rpcc_error e;
    rc = fs_cli_call_quiet(cli, "lock", NULL, &res, &e);
    if (rc == 1 && e.code == -32011) { /* already locked: the goal holds */
        fprintf(stderr, "fieldsync: the store is already locked\n");
        return print_state(cli, "locked");
    }
    if (rc == 1)
        return fs_cli_report_rpc_error(&e);
    if (rc != 0)
        return rc;
    rc = cli->json ? fs_cli_print_json(cli, res) : (printf("store locked\n"), 0);
    json_decref(res);
    return rc;
}

int fs_cmd_passwd(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {PASS_OPTS("", "current passphrase"),
                                  PASS_OPTS("new-", "new passphrase"), FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
                          "[--passphrase-file FILE] [--new-passphrase-file FILE]",
                          "Changes the passphrase (the store must be unlocked). The old one "
                          "stops working.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    fs_pass *old = NULL, *new = NULL;
    rc = get_pass(cli, &a, "", "Current passphrase: ", false, &old);
    if (rc == 0)
        rc = get_pass(cli, &a, "new-", "New passphrase: ", true, &new);
    if (rc == 0) {
        json_t *params =
            json_pack("{s:s%, s:s%}", "old", old->buf, old->len, "new", new->buf, new->len);
        rc = simple_call(cli, "change_passphrase", params, "passphrase changed");
    }
    fs_pass_free(old);
    fs_pass_free(new);
    return rc;
}

int fs_cmd_check(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv, "",
                          "Checks the store (it must be unlocked): every page of the database "
                          "must open with its key, and the database must be consistent. Reads "
                          "the whole store; exits with 10 when it is damaged.",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    json_t *res;
    if ((rc = fs_cli_call(cli, "check", NULL, &res)) != 0)
        return rc;
    long long pages = json_integer_value(json_object_get(res, "pages"));
    long long count = json_integer_value(json_object_get(res, "problem_count"));
    const json_t *problems = json_object_get(res, "problems");
    if (cli->json) {
        fs_cli_print_json(cli, res);
    } else if (count == 0) {
        printf("store ok: %lld pages authenticated, integrity check ok\n", pages);
    } else {
        for (size_t i = 0; i < json_array_size(problems); i++) {
            const char *msg = json_string_value(json_array_get(problems, i));
            printf("%s\n", msg != NULL ? msg : "?");
        }
        if ((size_t)count > json_array_size(problems))
            printf("... and %lld more\n", count - (long long)json_array_size(problems));
    }
    json_decref(res);
    if (count == 0)
        return FS_EXIT_OK;
    return fs_cli_fail(FS_EXIT_DAMAGED,
                       "the store is damaged (%lld problems): see DAMAGED STORE in fieldsync(1)",
                       count);
}
