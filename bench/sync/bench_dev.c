/*
 * bench_dev.c: timing and device helpers of bench_sync: a store and an engine
 * on a loop, enrolled and synced by running the loop until a condition holds.
 */
#include "bench_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void die(const char *what, const fs_err *err)
{
    fprintf(stderr, "bench_sync: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb;
}

double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double server_cpu_s(void)
{
    const char *pid = getenv("FS_BENCH_SERVER_PID");
    char path[64], buf[1024];
    unsigned long utime = 0, stime = 0;
    if (pid == NULL)
        return 0;
    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    /* fields 14 and 15 (utime, stime) follow the command name's closing paren */
    const char *p = strrchr(buf, ')');
    if (p == NULL ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------------------- */
/* Devices (children) */

static void on_done(void *arg, const fs_sync_result *r)
{
    dev *d = arg;
    d->last = *r;
    d->runs++;
    d->run_end = now_s();
    if (r->code != 0)
        fprintf(stderr, "bench_sync: run failed: %s\n", r->message);
}

static void on_progress(void *arg, const fs_sync_progress *p)
{
    dev *d = arg;
    if (strcmp(p->phase, "push") == 0) {
        d->push_end = now_s();
        d->push_reqs++;
    }
}

void on_enrolled(void *arg, int code, const fs_err *err)
{
    dev *d = arg;
    d->enroll_rc = code;
    if (code != 0)
        fprintf(stderr, "bench_sync: enroll: %s\n", err->msg);
}

/* Whether SQLite's WAL index says every frame is in the database file: mxFrame
 * (offset 16 of the -shm file, native byte order) equals nBackfill (offset 96). */
static bool wal_checkpointed(const char *db)
{
    char shm[320];
    uint32_t hdr[25];
    snprintf(shm, sizeof(shm), "%s-shm", db);
    FILE *f = fopen(shm, "rb");
    if (f == NULL)
        return true; /* no WAL index: nothing in a WAL */
    bool read = fread(hdr, sizeof(hdr), 1, f) == 1;
    fclose(f);
    return !read || hdr[16 / 4] == hdr[96 / 4];
}

void dev_settle(dev *d)
{
    double deadline = now_s() + 30.0;
    while (!wal_checkpointed(d->db) && now_s() < deadline) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL); /* polling a condition, with a deadline */
    }
}

void dev_open(dev *d, fs_loop *loop, const char *dir, bool encrypted, size_t push_count)
{
    char key[300];
    fs_err err;
    memset(d, 0, sizeof(*d));
    d->loop = loop;
    mkdir(dir, 0700);
    snprintf(d->db, sizeof(d->db), "%s/store.db", dir);
    snprintf(key, sizeof(key), "%s/store.key", dir);
    if (fs_store_open(&d->st, d->db, encrypted ? key : NULL, encrypted ? "bench" : NULL,
                      encrypted ? 5 : 0, FS_STORE_CREATE | FS_STORE_FAST_KDF, &err) != 0)
        die("opening a store", &err);
    /* as fieldsyncd sets its store up (daemon/state.c): checkpoints and FTS
     * merges wait for idle time, and the page cache is the default's */
    if (fs_store_defer_maintenance(d->st, true, &err) != 0 ||
        fs_store_set_cache_kib(d->st, FS_CONFIG_DEFAULT_CACHE_KIB, &err) != 0)
        die("configuring a store", &err);
    fs_sync_opts o = {.no_netwatch = true, .push_count = push_count};
    fs_sync_callbacks cb = {NULL, on_progress, NULL, on_done, d};
    if (fs_sync_new(&d->sync, loop, d->st, &o, &cb, &err) != 0)
        die("starting the engine", &err);
}

void dev_close(dev *d)
{
    fs_sync_free(d->sync);
    fs_store_close(d->st);
}

typedef struct waiter {
    cond_fn cond;
    void *arg;
} waiter;

static bool hook(fs_loop *loop, void *arg)
{
    waiter *w = arg;
    if (w->cond(w->arg))
        fs_loop_stop(loop);
    return false;
}

void run_until(fs_loop *loop, cond_fn cond, void *arg)
{
    waiter w = {cond, arg};
    if (cond(arg))
        return;
    fs_loop_set_before_sleep(loop, hook, &w);
    fs_loop_run(loop, NULL);
    fs_loop_set_before_sleep(loop, NULL, NULL);
}

static bool enrolled_and_ran(void *arg)
{
    dev *d = arg;
    return d->enroll_rc != 1 && (d->enroll_rc != 0 || d->runs > 0);
}

void dev_enroll(dev *d, const char *url, const char *code)
{
    fs_err err;
    d->enroll_rc = 1;
    d->cpu_start = cpu_s();
    d->server_cpu_start = server_cpu_s();
    if (fs_sync_enroll(d->sync, url, code, "bench", on_enrolled, d, &err) != 0)
        die("enroll", &err);
    run_until(d->loop, enrolled_and_ran, d);
    if (d->enroll_rc != 0 || d->last.code != 0)
        die("enrollment or first sync failed", NULL);
}

typedef struct runs_wait {
    dev *d;
    unsigned runs;
} runs_wait;

static bool ran(void *arg)
{
    runs_wait *w = arg;
    return w->d->runs > w->runs;
}

static void dev_run(dev *d, bool full_resync)
{
    fs_err err;
    runs_wait w = {d, d->runs};
    d->run_start = now_s();
    d->cpu_start = cpu_s();
    d->server_cpu_start = server_cpu_s();
    d->push_end = 0;
    d->push_reqs = 0;
    if ((full_resync ? fs_sync_resync(d->sync, true, &err) : fs_sync_now(d->sync, &err)) != 0)
        die(full_resync ? "resync" : "sync now", &err);
    run_until(d->loop, ran, &w);
    if (d->last.code != 0)
        die("a sync run failed", NULL);
}

void dev_sync(dev *d)
{
    dev_run(d, false);
}

void dev_resync(dev *d)
{
    dev_run(d, true);
}

void print_run(const char *what, const dev *d, uint64_t records, double secs)
{
    printf("%-26s %8llu records %8.2f s %10.0f records/s %5llu requests %8.2f MB up %8.2f MB "
           "down (%.2f s waiting for answers, %.2f s in the store; CPU %.2f s device, %.2f s "
           "server)\n",
           what, (unsigned long long)records, secs, secs > 0 ? (double)records / secs : 0,
           (unsigned long long)d->last.requests, (double)d->last.bytes_up / 1e6,
           (double)d->last.bytes_down / 1e6, (double)d->last.wait_ms / 1000.0,
           (double)d->last.store_ms / 1000.0, cpu_s() - d->cpu_start,
           server_cpu_s() - d->server_cpu_start);
}
