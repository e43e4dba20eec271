/*
 * bench_sync.h: what the parts of bench_sync share: timing, a device (a store
 * and an engine on a loop, with what its callbacks saw) and the device phases,
 * each run in a child process (see bench_sync.c).
 */
#ifndef BENCH_SYNC_H
#define BENCH_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fieldsync/store.h"
#include "fieldsync/sync.h"
#include "loop.h"

typedef struct dev {
    fs_loop *loop;
    fs_store *st;
    char db[300]; /* its database file */
    fs_sync *sync;
    int enroll_rc;
    unsigned runs;
    fs_sync_result last;
    double push_end; /* when the push phase reported last */
    unsigned push_reqs;
    double run_start, run_end;
    double cpu_start, server_cpu_start; /* cpu_s() of both when the run started */
} dev;

typedef bool (*cond_fn)(void *);

double now_s(void);
void die(const char *what, const fs_err *err) __attribute__((noreturn));
long vm_hwm_kb(void);
/* CPU seconds (user + system) this process has used. */
double cpu_s(void);
/* The same for the server, whose pid the parent passes in FS_BENCH_SERVER_PID
 * (0 when unknown). */
double server_cpu_s(void);
int cmp_double(const void *a, const void *b);

void on_enrolled(void *arg, int code, const fs_err *err);
void dev_open(dev *d, fs_loop *loop, const char *dir, bool encrypted, size_t push_count);
void dev_close(dev *d);
/* Waits (30 s at most) for the store's checkpointer thread to have copied the
 * WAL in, as it does once fieldsyncd is idle: a phase then starts from that
 * state instead of sharing the disk with the last phase's checkpoint. */
void dev_settle(dev *d);
void run_until(fs_loop *loop, cond_fn cond, void *arg);
/* Enrolls and waits for the first run (for a new device: the initial pull). */
void dev_enroll(dev *d, const char *url, const char *code);
/* Starts a run now and waits for it; a failure ends the program. */
void dev_sync(dev *d);
/* The same for a forced full resync. */
void dev_resync(dev *d);
void print_run(const char *what, const dev *d, uint64_t records, double secs);

/* The real fieldsync-server (bench_server.c), 2 threads on 127.0.0.1. */
typedef struct bench_server {
    char dir[128], db[160], url[64];
    pid_t pid;
    unsigned port;
} bench_server;

/* In a child just forked from parent: SIGTERM when the bench ends, even by a
 * signal (Ctrl-C), so that no server outlives it. */
void bench_die_with_parent(pid_t parent);
/* Starts it in a new directory /tmp/NAME-XXXXXX; extra: more serve options
 * (NULL-terminated, or NULL). */
void bench_server_start(bench_server *sv, const char *name, const char *const *extra);
/* Runs an admin command (args NULL-terminated); out (optional) receives the
 * first line it prints. A failure ends the program. */
void bench_server_admin(bench_server *sv, char *out, size_t cap, const char *const *args);
/* SIGTERM, wait, and remove its directory. */
void bench_server_stop(bench_server *sv);

int phase_load(const char *url, const char *code, const char *dir, size_t records);
int phase_device(const char *url, const char *code, const char *dir, const char *loaddir,
                 size_t push, size_t catchup);
int phase_fleet(const char *url, const char *codes_file, const char *dir, size_t n);
/* bench_serverfleet.c: the server-only fleet (--server-fleet) and its drivers. */
int phase_server_fleet(void);
int phase_drive(const char *urls, const char *creds, size_t first, size_t n, const char *out);

#endif
