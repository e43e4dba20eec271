/*
 * bench_server.c: the real fieldsync-server for the benchmarks (bench_sync,
 * bench_server_load): serve on 127.0.0.1 with a free port, read from its port
 * file, in a temporary directory; its admin commands; stopping it. A bench
 * that ends in die() stops the server and removes its directory; one killed
 * by a signal still takes the server with it (the directory stays).
 */
#include "bench_sync.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void bench_die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(127);
}

/* Runs fieldsync-server with args; out (optional) receives its stdout. Waits
 * for it and returns its exit code, or (wait_exit false) leaves it running. */
static int run_server(bench_server *sv, char *out, size_t cap, const char *const *args,
                      bool wait_exit)
{
    const char *argv[32] = {FS_SERVER_BIN, "--log-level", "error", "--db", sv->db};
    int n = 5, p[2] = {-1, -1};
    for (int i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (out != NULL && pipe(p) != 0)
        die("pipe", NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        bench_die_with_parent(parent);
        dup2(out != NULL ? p[1] : open("/dev/null", O_WRONLY), 1);
        execv(FS_SERVER_BIN, (char *const *)argv);
        _exit(127);
    }
    if (out != NULL) {
        close(p[1]);
        ssize_t r, got = 0;
        while ((r = read(p[0], out + got, cap - 1 - (size_t)got)) > 0)
            got += r;
        out[got] = '\0';
        close(p[0]);
    }
    if (!wait_exit) {
        sv->pid = pid;
        return 0;
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The server serving now, stopped at exit if die() ends the bench first. */
static bench_server *serving;

static void stop_at_exit(void)
{
    if (serving != NULL)
        bench_server_stop(serving);
}

void bench_server_start(bench_server *sv, const char *name, const char *const *extra)
{
    static bool registered;
    if (!registered && atexit(stop_at_exit) == 0)
        registered = true;
    char port_file[200];
    snprintf(sv->dir, sizeof(sv->dir), "/tmp/%s-XXXXXX", name);
    if (mkdtemp(sv->dir) == NULL)
        die("mkdtemp", NULL);
    snprintf(sv->db, sizeof(sv->db), "%s/server.db", sv->dir);
    snprintf(port_file, sizeof(port_file), "%s/port", sv->dir);
    /* every device of a fleet connects from 127.0.0.1: no per-address cap */
    const char *args[24] = {"serve", "--listen",          "127.0.0.1:0", "--threads",
                            "2",     "--port-file",       port_file,     "--max-connections-per-ip",
                            "1024",  "--max-connections", "1024"};
    for (int i = 0, n = 11; extra != NULL && extra[i] != NULL && n < 23; i++)
        args[n++] = extra[i];
    run_server(sv, NULL, 0, args, false);
    serving = sv;
    for (double t0 = now_s(); now_s() - t0 < 10;) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL && fscanf(f, "%u", &sv->port) == 1) {
            fclose(f);
            snprintf(sv->url, sizeof(sv->url), "http://127.0.0.1:%u", sv->port);
            return;
        }
        if (f != NULL)
            fclose(f);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    die("the server did not start", NULL);
}

void bench_server_admin(bench_server *sv, char *out, size_t cap, const char *const *args)
{
    if (run_server(sv, out, cap, args, true) != 0)
        die(args[0], NULL);
    if (out != NULL)
        out[strcspn(out, "\r\n")] = '\0';
}

void bench_server_stop(bench_server *sv)
{
    serving = NULL;
    kill(sv->pid, SIGTERM);
    waitpid(sv->pid, NULL, 0);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sv->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", sv->dir);
}
