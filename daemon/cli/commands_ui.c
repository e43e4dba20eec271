/*
 * commands_ui.c: `fieldsync ui`: starts the local web UI (daemon/ui/, see
 * docs/ui.md) on 127.0.0.1, prints its URL with this start's token, and
 * serves until Ctrl-C or SIGTERM.
 *
 * --open hands the page to the desktop's browser through xdg-open, but never
 * the URL itself: a program's arguments are visible to every local user (ps),
 * so the token goes into a file only the rep can read
 * ($XDG_RUNTIME_DIR/fieldsync/ui-PORT.html, which forwards to the URL) and
 * xdg-open gets that file's name. The file is removed when the UI stops.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "fieldsync/log.h"
#include "ui.h"

extern char **environ;

/* Writes the forwarding page for url at path (mode 0600, a new file). */
static int write_opener(const char *path, const char *url)
{
    unlink(path); /* a stale one from a start that was killed */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fs_cli_fail(FS_EXIT_ERROR, "cannot create %s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return fs_cli_fail(FS_EXIT_ERROR, "cannot write %s: %s", path, strerror(errno));
    }
    fprintf(f,
            "<!doctype html><html><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"refresh\" content=\"0;url=%s\"><title>fieldsync</title></head>"
            "<body><a href=\"%s\">Open fieldsync</a></body></html>\n",
            url, url);
    if (fclose(f) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

/* The opener file's path under $XDG_RUNTIME_DIR/fieldsync (made 0700 if absent). */
static int opener_path(uint16_t port, char *buf, size_t n)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    if (rt == NULL || rt[0] != '/')
        return fs_cli_fail(FS_EXIT_ERROR, "--open needs XDG_RUNTIME_DIR (a private directory for "
                                          "the file that carries the token): open the printed "
                                          "URL by hand instead");
    snprintf(buf, n, "%s/fieldsync", rt);
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return fs_cli_fail(FS_EXIT_ERROR, "cannot create %s: %s", buf, strerror(errno));
    snprintf(buf, n, "%s/fieldsync/ui-%u.html", rt, (unsigned)port);
    return 0;
}

/* Starts xdg-open on the opener file; it is reaped on SIGCHLD. */
static int open_browser(const char *file)
{
    char *argv[] = {"xdg-open", (char *)file, NULL};
    /* the browser gets the signals this process blocks or ignores back */
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    pid_t pid;
    int rc = posix_spawnp(&pid, "xdg-open", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return fs_cli_fail(FS_EXIT_ERROR,
                           "cannot run xdg-open (%s): open the printed URL in your browser",
                           strerror(rc));
    return 0;
}

/* Serves until SIGINT, SIGTERM or SIGHUP; reaps xdg-open on the way. */
static void serve(const sigset_t *set)
{
    for (;;) {
        int sig;
        if (sigwait(set, &sig) != 0)
            return;
        if (sig != SIGCHLD)
            return;
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
}

static int run_ui(fs_cli *cli, long long port, bool open)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    /* before the server's threads exist, so they inherit the mask */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    fs_log_set_ident("fieldsync ui");
    fs_ui_opts o = {
        .socket_path = cli->socket_path, .port = (uint16_t)port, .timeout_ms = cli->timeout_ms};
    fs_ui *ui = NULL;
    fs_err err = {0};
    if (fs_ui_start(&ui, &o, &err) != 0)
        return fs_cli_fail(FS_EXIT_ERROR, "%s", fs_err_message(&err));
    printf("%s\n", fs_ui_url(ui));
    fflush(stdout);
    fprintf(stderr, "fieldsync: the UI is at the URL above (for this start only; keep it to "
                    "yourself); Ctrl-C stops it\n");
    char file[512] = "";
    int rc = 0;
    if (open && (rc = opener_path(fs_ui_port(ui), file, sizeof(file))) == 0 &&
        (rc = write_opener(file, fs_ui_url(ui))) == 0)
        rc = open_browser(file);
    if (rc == 0)
        serve(&set);
    fs_ui_stop(ui);
    if (file[0] != '\0')
        unlink(file);
    if (rc == 0)
        fprintf(stderr, "fieldsync: UI stopped\n");
    return rc;
}

int fs_cmd_ui(fs_cli *cli, int argc, char **argv)
{
    static const fs_opt opts[] = {
        {"port", FS_OPT_VALUE, "N", "listen on 127.0.0.1:N (default 0: any free port)"},
        {"open", FS_OPT_FLAG, NULL, "open the page in the desktop's browser (xdg-open)"},
        FS_CLI_GLOBAL_OPTS};
    fs_args a;
    int rc = fs_cli_parse(cli, &a, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
                          "[--port N] [--open]",
                          "Serves the web UI on 127.0.0.1 and prints its URL, which carries a "
                          "token made for this start. Open it in a browser on this machine; "
                          "Ctrl-C stops the UI (the daemon keeps running).",
                          0, 0);
    if (rc != FS_CLI_CONTINUE)
        return rc;
    long long port = 0;
    if (fs_args_get(&a, "port") != NULL && fs_args_int(fs_args_get(&a, "port"), 0, 65535, &port))
        return fs_cli_usage(cli, "--port must be a number 0..65535");
    if ((rc = fs_cli_check_socket(cli)) != 0)
        return rc;
    return run_ui(cli, port, fs_args_has(&a, "open"));
}
