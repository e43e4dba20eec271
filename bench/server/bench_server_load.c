/*
 * bench_server_load.c: fieldsync-server under hostile load on loopback, and
 * an honest device syncing through it. Prints what the attackers got (how
 * many connections were held, refused at accept or closed at the header
 * deadline; how large bodies were answered), the server's memory before and
 * at its peak (VmRSS, VmHWM from /proc/PID/status), and the honest device's
 * sync latency while the attack runs.
 *
 *   bench_server_load [--half-open N] [--addresses N] [--body-threads N]
 *                     [--body-bytes N] [--seconds S] [--syncs N]
 *                     [--max-connections N] [--max-connections-per-ip N]
 *                     [--header-timeout S] [--body-memory SIZE]
 *
 * The attack lasts --seconds, at least as long as the honest syncs. The
 * server runs with its defaults unless a limit is given. The attackers
 * (attack.c) come from 127.0.0.2 upwards; the honest device, a real sync
 * engine and encrypted store (bench/sync/bench_dev.c), from 127.0.0.1. It
 * starts once the attackers have opened their half-open connections, waits
 * 1.25 header timeouts + 1 s before each sync (so that, like a device syncing
 * every few minutes, it needs a new connection: the server closed the idle
 * one), and writes 10 accounts before it; a sync's latency runs from "sync now"
 * to the first run that succeeds (the engine retries on its own after a
 * failure). The program exits 1 when a sync did not succeed within 60 s.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "attack.h"
#include "bench_sync.h"
#include "fieldsync.pb-c.h"
#include "fieldsync/log.h"

#define SYNC_DEADLINE_S 60
#define MAX_SYNCS 100

typedef struct opts {
    attack_opts a;
    unsigned syncs;
    double seconds;
    const char *limits[9]; /* serve options given on our command line, NULL-terminated */
    int nlimits;
} opts;

/* ------------------------------------------------------------------------- */
/* The server */

/* The server's memory figure key ("VmRSS", "VmHWM") in kB. */
static long server_kb(const bench_server *sv, const char *key)
{
    char path[64], line[256];
    long kb = -1;
    size_t n = strlen(key);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)sv->pid);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kb;
}

/* Enrolls the rogue device over plain HTTP; bearer receives "Bearer <hex>". */
static void rogue_enroll(const bench_server *sv, const char *code, char bearer[80])
{
    Fieldsync__EnrollRequest rq = FIELDSYNC__ENROLL_REQUEST__INIT;
    rq.code = (char *)code;
    uint8_t body[128];
    size_t len = fieldsync__enroll_request__pack(&rq, body);
    char head[256];
    snprintf(head, sizeof(head),
             "POST /v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nFieldsync-Protocol: 1\r\n"
             "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
             len);
    void *resp;
    size_t rlen;
    int status = attack_http(sv->port, "127.0.0.1", head, body, len, &resp, &rlen);
    Fieldsync__EnrollResponse *er =
        status == 200 ? fieldsync__enroll_response__unpack(NULL, rlen, resp) : NULL;
    if (er == NULL || er->token.len != 32)
        die("enrolling the rogue device", NULL);
    strcpy(bearer, "Bearer ");
    for (size_t i = 0; i < 32; i++)
        snprintf(bearer + 7 + 2 * i, 3, "%02x", er->token.data[i]);
    fieldsync__enroll_response__free_unpacked(er, NULL);
    free(resp);
}

/* ------------------------------------------------------------------------- */
/* The honest device */

typedef struct sync_wait {
    dev *d;
    unsigned runs;
    double deadline;
} sync_wait;

static bool synced(void *arg)
{
    sync_wait *w = arg;
    return (w->d->runs > w->runs && w->d->last.code == 0) || now_s() > w->deadline;
}

/* Writes 10 accounts and syncs them; the latency in ms, or -1 when no run
 * succeeded within the deadline. *failed counts the runs that failed first. */
static double honest_sync(dev *d, unsigned round, unsigned *failed)
{
    fs_err err;
    for (int i = 0; i < 10; i++) {
        char id[48];
        snprintf(id, sizeof(id), "honest-%u-%d", round, i);
        Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
        a.name = id;
        if (fs_store_put(d->st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, &a.base, NULL, 0, &err) != 0)
            die("put", &err);
    }
    double t0 = now_s();
    sync_wait w = {d, d->runs, t0 + SYNC_DEADLINE_S};
    if (fs_sync_now(d->sync, &err) != 0)
        die("sync now", &err);
    unsigned before = w.runs;
    run_until(d->loop, synced, &w);
    bool ok = d->runs > before && d->last.code == 0 && d->last.pushed >= 10;
    *failed += d->runs - before - (ok ? 1 : 0);
    return ok ? (now_s() - t0) * 1000 : -1;
}

/* ------------------------------------------------------------------------- */

static void pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static unsigned arg_uint(int argc, char **argv, const char *name, unsigned def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return (unsigned)strtoul(argv[i + 1], NULL, 10);
    return def;
}

static void parse(opts *o, int argc, char **argv)
{
    static const char *const limits[] = {"--max-connections", "--max-connections-per-ip",
                                         "--header-timeout", "--body-memory"};
    o->a.half_open = arg_uint(argc, argv, "--half-open", 1100);
    o->a.addresses = arg_uint(argc, argv, "--addresses", 8);
    o->a.body_threads = arg_uint(argc, argv, "--body-threads", 16);
    o->a.body_bytes = arg_uint(argc, argv, "--body-bytes", 8u << 20);
    o->a.header_timeout_s = arg_uint(argc, argv, "--header-timeout", 10);
    o->syncs = arg_uint(argc, argv, "--syncs", 5);
    if (o->syncs > MAX_SYNCS)
        o->syncs = MAX_SYNCS;
    o->seconds = arg_uint(argc, argv, "--seconds", 0);
    for (int i = 1; i + 1 < argc; i++)
        for (size_t j = 0; j < sizeof(limits) / sizeof(limits[0]); j++)
            if (strcmp(argv[i], limits[j]) == 0 && o->nlimits < 8) {
                o->limits[o->nlimits++] = argv[i];
                o->limits[o->nlimits++] = argv[i + 1];
            }
}

static void print_figures(const opts *o, const attack_figures *f, long rss0, long hwm, double *lat,
                          unsigned ok, unsigned failed_runs)
{
    printf("half-open: %u wanted at once from %u addresses for %.0f s: opened %lu, at most %lu "
           "open for over 1 s at once (held, or queued for accept); closed at accept %lu, at the "
           "header deadline %lu, otherwise %lu\n",
           o->a.half_open, o->a.addresses, o->seconds, f->opened, f->held_peak, f->closed_at_accept,
           f->closed_at_deadline, f->closed_other);
    printf("bodies without a token: %lu pushes of %.1f MiB: 401 before the body %lu, other "
           "status %lu, no answer %lu\n",
           f->anon[3], (double)o->a.body_bytes / (1 << 20), f->anon[0], f->anon[1], f->anon[2]);
    printf("bodies with a device token: %lu pushes: 413 %lu, 429 (device busy) %lu, 503 busy %lu, "
           "other status %lu, no answer %lu\n",
           f->rogue[5], f->rogue[0], f->rogue[1], f->rogue[2], f->rogue[3], f->rogue[4]);
    printf("server RSS: before %.1f MB, peak %.1f MB (VmHWM)\n", rss0 / 1024.0, hwm / 1024.0);
    qsort(lat, ok, sizeof(*lat), cmp_double);
    if (ok > 0)
        printf("honest device: %u of %u syncs ok during the attack; latency min %.0f ms, median "
               "%.0f ms, max %.0f ms; %u failed runs retried\n",
               ok, o->syncs, lat[0], lat[ok / 2], lat[ok - 1], failed_runs);
    else
        printf("honest device: 0 of %u syncs ok during the attack\n", o->syncs);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: bench_server_load [--half-open N] [--addresses N] [--body-threads N]\n"
                   "  [--body-bytes N] [--seconds S] [--syncs N] [--max-connections N]\n"
                   "  [--max-connections-per-ip N] [--header-timeout S] [--body-memory SIZE]\n"
                   "Runs fieldsync-server on loopback under half-open connections and large\n"
                   "bodies, syncs an honest device through it, and prints what was held,\n"
                   "refused and closed, the server's RSS and the honest sync latency.\n");
            return 0;
        }
    opts o = {0};
    parse(&o, argc, argv);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    fs_log_set_level(FS_LOG_ERROR);
    bench_server sv;
    o.limits[o.nlimits] = NULL;
    bench_server_start(&sv, "bench-server-load", o.limits);
    char code[64], bearer[80], devdir[200];
    bench_server_admin(&sv, NULL, 0, (const char *[]){"user", "add", "rep", "--role", "rep", NULL});
    bench_server_admin(&sv, NULL, 0,
                       (const char *[]){"user", "add", "rogue", "--role", "rep", NULL});
    printf("bench_server_load: fieldsync-server at %s (2 threads", sv.url);
    for (int i = 0; i < o.nlimits; i += 2)
        printf(", %s %s", o.limits[i], o.limits[i + 1]);
    printf(")\n");
    fs_loop *loop;
    if (fs_loop_new(&loop, NULL) != 0)
        die("loop", NULL);
    dev d;
    snprintf(devdir, sizeof(devdir), "%s/device", sv.dir);
    dev_open(&d, loop, devdir, true, 0);
    bench_server_admin(&sv, code, sizeof(code), (const char *[]){"enroll-code", "rep", NULL});
    dev_enroll(&d, sv.url, code);
    bench_server_admin(&sv, code, sizeof(code), (const char *[]){"enroll-code", "rogue", NULL});
    rogue_enroll(&sv, code, bearer);
    long rss0 = server_kb(&sv, "VmRSS");

    o.a.port = sv.port;
    o.a.bearer = bearer;
    double start = now_s();
    attack *a = attack_start(&o.a);
    attack_figures f;
    do { /* the honest device syncs once every half-open connection is in place */
        pause_s(0.05);
        attack_figures_get(a, &f);
    } while (f.opened < o.a.half_open && now_s() - start < 10);
    double lat[MAX_SYNCS];
    unsigned ok = 0, failed_runs = 0;
    for (unsigned i = 0; i < o.syncs; i++) {
        /* as a device syncing every few minutes would: on a new connection,
         * its last one closed by the server's header deadline meanwhile */
        pause_s(o.a.header_timeout_s * 1.25 + 1);
        double ms = honest_sync(&d, i, &failed_runs);
        if (ms >= 0)
            lat[ok++] = ms;
    }
    if (now_s() - start < o.seconds) /* the attack runs its full length */
        pause_s(o.seconds - (now_s() - start));
    o.seconds = now_s() - start;
    attack_stop(a, &f);
    long hwm = server_kb(&sv, "VmHWM");
    print_figures(&o, &f, rss0, hwm, lat, ok, failed_runs);

    dev_close(&d);
    fs_loop_free(loop);
    bench_server_stop(&sv);
    return ok == o.syncs ? 0 : 1;
}
