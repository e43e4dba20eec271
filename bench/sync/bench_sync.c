/*
 * bench_sync.c: the sync client against the real fieldsync-server on
 * loopback, with generated CRM data (demo.h). Prints, per phase, records/s,
 * HTTP requests and bytes on the wire (curl's size counters: compressed
 * bodies, both ways), and the device's peak RSS.
 *
 *   bench_sync [--records N] [--devices N] [--push N] [--catchup N]
 *
 * The parent only runs the server and its admin commands; every device phase
 * runs in a child process (this program re-executed), so a device's VmHWM is
 * that of a process holding one engine and one store, as fieldsyncd would:
 *   load     a loader device builds ~N generated records (accounts, contacts,
 *            visits with 1 KB notes, opportunities) as states and pushes them
 *            over the protocol (an import: its store is not the subject);
 *   device   a fresh encrypted device: initial pull of everything (peak RSS
 *            read right after it), catch-up after C server-side changes made
 *            by the loader, then P offline changes pushed;
 *   fleet    D devices (one rep each) on one event loop sync at once:
 *            throughput and per-run latency percentiles.
 * --server-fleet measures the server alone instead (bench_serverfleet.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "fieldsync/sync.h"
#include "bench_sync.h"
#include "loop.h"

static const char *self_exe;

/* ------------------------------------------------------------------------- */
/* The server (parent) */

static void code_for(bench_server *sv, const char *user, char *code, size_t cap)
{
    bench_server_admin(sv, code, cap, (const char *const[]){"enroll-code", user, NULL});
}

static void run_child(const char *const *args)
{
    const char *argv[16] = {self_exe};
    int n = 1;
    for (int i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execv(self_exe, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("a device phase failed", NULL);
}

/* The machine's CPU time so far (/proc/stat's first line, in clock ticks):
 * busy (all but idle and iowait) and stolen by the hypervisor for other
 * guests. Zeros where there is no /proc/stat. */
typedef struct host_cpu {
    unsigned long long busy, steal, all;
} host_cpu;

static host_cpu host_cpu_now(void)
{
    unsigned long long v[8] = {0};
    host_cpu h = {0, 0, 0};
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return h;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return h;
    for (int i = 0; i < 8; i++)
        h.all += v[i];
    h.steal = v[7];
    h.busy = h.all - v[3] - v[4];
    return h;
}

/* How busy the machine was between two readings: figures taken on a busy or
 * shared host come out lower, and this line says so. */
static void print_host(const char *what, host_cpu a, host_cpu b)
{
    double all = (double)(b.all - a.all);
    if (all <= 0)
        return;
    printf("%-26s %ld CPUs %5.0f%% busy (all processes), %4.1f%% stolen by the hypervisor\n", what,
           sysconf(_SC_NPROCESSORS_ONLN), 100.0 * (double)(b.busy - a.busy) / all,
           100.0 * (double)(b.steal - a.steal) / all);
}

/* ------------------------------------------------------------------------- */

static size_t arg_size(int argc, char **argv, const char *name, size_t def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return (size_t)strtoull(argv[i + 1], NULL, 10);
    return def;
}

int main(int argc, char **argv)
{
    self_exe = "/proc/self/exe";
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    fs_log_set_level(FS_LOG_WARN);
    if (argc >= 6 && strcmp(argv[1], "load") == 0)
        return phase_load(argv[2], argv[3], argv[4], strtoull(argv[5], NULL, 10));
    if (argc >= 8 && strcmp(argv[1], "device") == 0)
        return phase_device(argv[2], argv[3], argv[4], argv[5], strtoull(argv[6], NULL, 10),
                            strtoull(argv[7], NULL, 10));
    if (argc >= 6 && strcmp(argv[1], "fleet") == 0)
        return phase_fleet(argv[2], argv[3], argv[4], strtoull(argv[5], NULL, 10));
    if (argc >= 7 && strcmp(argv[1], "drive") == 0)
        return phase_drive(argv[2], argv[3], strtoull(argv[4], NULL, 10),
                           strtoull(argv[5], NULL, 10), argv[6]);
    if (argc >= 2 && strcmp(argv[1], "--server-fleet") == 0)
        return phase_server_fleet();

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: bench_sync [--records N] [--devices N] [--push N] [--catchup N]\n"
                   "       bench_sync --server-fleet\n"
                   "Starts fieldsync-server on loopback and measures an initial pull of N\n"
                   "records (100000) into a fresh encrypted device and the search rows\n"
                   "after it, a catch-up (100 server changes), an offline push (10000)\n"
                   "and N devices (200) syncing at once. See docs/sync-client.md.\n"
                   "--server-fleet: only the server, 200 and 1000 devices pushing from\n"
                   "several processes, on SQLite and on PostgreSQL with 1 and 2 instances\n"
                   "(see docs/server.md, \"Benchmark\").\n");
            return 0;
        }
    size_t records = arg_size(argc, argv, "--records", 100000);
    size_t devices = arg_size(argc, argv, "--devices", 200);
    size_t push = arg_size(argc, argv, "--push", 10000);
    size_t catchup = arg_size(argc, argv, "--catchup", 100);
    char code[64], loaddir[200], devdir[200], fleetdir[200], codes[200], nbuf[3][32];
    bench_server sv;
    bench_server_start(&sv, "bench-sync", NULL);
    printf("bench_sync: fieldsync-server at %s (loopback, SQLite, 2 threads)\n", sv.url);
    snprintf(nbuf[0], sizeof(nbuf[0]), "%d", (int)sv.pid);
    setenv("FS_BENCH_SERVER_PID", nbuf[0], 1); /* the device phases read its CPU time */
    bench_server_admin(&sv, NULL, 0,
                       (const char *const[]){"user", "add", "rep", "--role=rep", NULL});
    snprintf(loaddir, sizeof(loaddir), "%s/loader", sv.dir);
    snprintf(devdir, sizeof(devdir), "%s/device", sv.dir);
    snprintf(fleetdir, sizeof(fleetdir), "%s/fleet", sv.dir);
    snprintf(codes, sizeof(codes), "%s/codes", sv.dir);
    snprintf(nbuf[0], sizeof(nbuf[0]), "%zu", records);
    snprintf(nbuf[1], sizeof(nbuf[1]), "%zu", push);
    snprintf(nbuf[2], sizeof(nbuf[2]), "%zu", catchup);
    code_for(&sv, "rep", code, sizeof(code));
    run_child((const char *const[]){"load", sv.url, code, loaddir, nbuf[0], NULL});
    code_for(&sv, "rep", code, sizeof(code));
    host_cpu before = host_cpu_now();
    run_child(
        (const char *const[]){"device", sv.url, code, devdir, loaddir, nbuf[1], nbuf[2], NULL});
    print_host("host in the device phases", before, host_cpu_now());
    if (devices > 0) {
        FILE *f = fopen(codes, "w");
        for (size_t i = 0; f != NULL && i < devices; i++) {
            char user[32];
            snprintf(user, sizeof(user), "f%zu", i);
            bench_server_admin(&sv, NULL, 0,
                               (const char *const[]){"user", "add", user, "--role=rep", NULL});
            code_for(&sv, user, code, sizeof(code));
            fprintf(f, "%s\n", code);
        }
        if (f != NULL)
            fclose(f);
        mkdir(fleetdir, 0700);
        snprintf(nbuf[0], sizeof(nbuf[0]), "%zu", devices);
        run_child((const char *const[]){"fleet", sv.url, codes, fleetdir, nbuf[0], NULL});
    }
    bench_server_stop(&sv);
    return 0;
}
