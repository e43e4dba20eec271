/*
 * bench_socket.c: fieldsyncd through its socket, as the UI sees it. Loads a
 * demo book of business (default 100,000 records) straight into an encrypted
 * store, starts the real daemon on it, and prints p50/p99 latency of record.get,
 * record.list (50 rows), record.put and search; the daemon's RSS; its idle
 * wakeups per minute; this disk's write+fsync latency beside put, since put
 * commits with synchronous=FULL; and last the reports' latency.
 *
 * Records are loaded as remote states with fs_store_apply_remote (10,000 per
 * transaction) to keep loading to seconds; they are ordinary records to the
 * daemon. Environment: BENCH_RECORDS (100000), BENCH_OPS (multiplier, 1),
 * BENCH_IDLE_SECONDS (10), FIELDSYNCD (the daemon binary).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fieldsync/demo.h"
#include "fieldsync/store.h"

#define SAMPLE_IDS 4096

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

/* ------------------------------------------------------------------------- */
/* Loading */

typedef struct loader {
    fs_store *st;
    fs_state **batch;
    size_t nbatch;
    size_t total, limit;
    uint64_t hlc;
    char *account_ids[SAMPLE_IDS];
    size_t naccounts;
    char *names[SAMPLE_IDS];
    size_t nnames;
    fs_err err;
} loader;

static int flush_batch(loader *l)
{
    if (l->nbatch == 0)
        return 0;
    int rc = fs_store_apply_remote(l->st, l->batch, l->nbatch, NULL, 0, l->total, NULL, &l->err);
    for (size_t i = 0; i < l->nbatch; i++)
        fs_state_free(l->batch[i]);
    l->nbatch = 0;
    return rc;
}

static void remember(loader *l, fs_kind kind, const ProtobufCMessage *rec, const char *id)
{
    if (kind != FIELDSYNC__RECORD_KIND__ACCOUNT)
        return;
    size_t slot = l->naccounts < SAMPLE_IDS ? l->naccounts++ : (size_t)rand() % SAMPLE_IDS;
    free(l->account_ids[slot]);
    l->account_ids[slot] = strdup(id);
    const Fieldsync__Account *a = (const Fieldsync__Account *)rec;
    if (a->name != NULL && l->nnames < SAMPLE_IDS) {
        char word[32];
        snprintf(word, sizeof(word), "%s", a->name);
        char *sp = strchr(word, ' ');
        if (sp != NULL)
            *sp = '\0';
        l->names[l->nnames++] = strdup(word);
    }
}

static int emit(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *rec)
{
    loader *l = ctx;
    if (l->total >= l->limit)
        return 1; /* enough: stops the generator */
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(rec->descriptor, 1);
    const char *id = *(char *const *)((const char *)rec + f->offset);
    fs_state *s;
    if (id == NULL || fs_state_new(&s, kind, id, &l->err) != 0)
        return -1;
    if (fs_record_write_msg(s, 0x5eedull, ++l->hlc, rec, NULL, 0, &l->err) != 0) {
        fs_state_free(s);
        return -1;
    }
    remember(l, kind, rec, id);
    l->batch[l->nbatch++] = s;
    l->total++;
    if (l->nbatch == FS_STORE_APPLY_MAX)
        return flush_batch(l) == 0 ? 0 : -1;
    return 0;
}

static int load(const char *db, const char *key, loader *l)
{
    if (fs_store_open(&l->st, db, key, NULL, 0, FS_STORE_CREATE, &l->err) != 0)
        return -1;
    l->batch = calloc(FS_STORE_APPLY_MAX, sizeof(*l->batch));
    l->hlc = ((uint64_t)time(NULL) * 1000) << 16;
    fs_demo_opts o = fs_demo_opts_default();
    o.accounts = l->limit / 10 + 1;
    o.owner = "rep1";
    int rc = fs_demo_generate(&o, emit, l, &l->err);
    if (rc == 0 || rc == 1)
        rc = flush_batch(l);
    free(l->batch);
    fs_store_close(l->st);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* The client */

typedef struct client {
    int fd;
    char buf[1 << 20];
    size_t len;
    int next_id;
} client;

static int client_connect(client *c, const char *path)
{
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(a.sun_path))
        return -1;
    memcpy(a.sun_path, path, strlen(path) + 1);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(c->fd);
        return -1;
    }
    c->len = 0;
    return 0;
}

/* One call; returns the response (caller decrefs) or NULL. */
static json_t *call(client *c, const char *method, json_t *params)
{
    json_t *req = json_pack("{s:s,s:i,s:s,s:o}", "jsonrpc", "2.0", "id", ++c->next_id, "method",
                            method, "params", params);
    char *line = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    size_t n = strlen(line);
    line[n] = '\n';
    ssize_t w = write(c->fd, line, n + 1);
    free(line);
    if (w != (ssize_t)(n + 1))
        return NULL;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl != NULL) {
            json_t *r = json_loadb(c->buf, (size_t)(nl - c->buf), 0, NULL);
            size_t used = (size_t)(nl - c->buf) + 1;
            memmove(c->buf, nl + 1, c->len - used);
            c->len -= used;
            return r;
        }
        ssize_t got = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (got <= 0)
            return NULL;
        c->len += (size_t)got;
    }
}

/* ------------------------------------------------------------------------- */
/* Figures */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, size_t n, const char *extra)
{
    qsort(t, n, sizeof(double), cmp_double);
    printf("%-28s n=%-6zu p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms%s\n", what, n, t[n / 2],
           t[(n * 99) / 100], t[n - 1], extra ? extra : "");
}

static double p99_of(double *t, size_t n)
{
    qsort(t, n, sizeof(double), cmp_double);
    return t[(n * 99) / 100];
}

static void fsync_latency(const char *dir, double *p50, double *p99)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/fsync-probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char block[4096];
    memset(block, 0xa5, sizeof(block));
    double t[200];
    for (int i = 0; i < 200; i++) {
        double t0 = now_ms();
        if (pwrite(fd, block, sizeof(block), (off_t)(i % 16) * 4096) != 4096 || fsync(fd) != 0)
            perror("fsync probe");
        t[i] = now_ms() - t0;
    }
    close(fd);
    unlink(path);
    qsort(t, 200, sizeof(double), cmp_double);
    *p50 = t[100];
    *p99 = t[198];
}

static long status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
            v = strtol(line + strlen(key) + 1, NULL, 10);
    if (f != NULL)
        fclose(f);
    return v;
}

/* ------------------------------------------------------------------------- */

static pid_t start_daemon(const char *bin, const char *dir, const char *sock)
{
    char data[512], sockarg[600];
    snprintf(data, sizeof(data), "--data-dir=%s", dir);
    snprintf(sockarg, sizeof(sockarg), "--socket=%s", sock);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("HOME", dir, 1);
        setenv("XDG_CONFIG_HOME", dir, 1);
        execl(bin, bin, data, sockarg, "--log-level=warn", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_connect(client *c, const char *sock, pid_t pid)
{
    double deadline = now_ms() + 30000;
    while (now_ms() < deadline) {
        if (client_connect(c, sock) == 0)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        usleep(10000); /* polling the condition "socket answers", with a deadline */
    }
    return -1;
}

typedef struct bench {
    client c;
    loader *l;
    long ops;
} bench;

static void bench_get(bench *b, double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *id = b->l->account_ids[(size_t)rand() % b->l->naccounts];
        double t0 = now_ms();
        json_decref(call(&b->c, "record.get", json_pack("{s:s,s:s}", "kind", "account", "id", id)));
        t[i] = now_ms() - t0;
    }
}

static void bench_list(bench *b, double *t, size_t n)
{
    static const char *tiers[] = {"quoted", "contracted", "opportunity_tier", "prospect", "target"};
    for (size_t i = 0; i < n; i++) {
        json_t *p = i % 2 ? json_pack("{s:s,s:i}", "kind", "account", "limit", 50)
                          : json_pack("{s:s,s:s,s:i}", "kind", "account", "tier", tiers[i % 5],
                                      "limit", 50);
        double t0 = now_ms();
        json_t *r = call(&b->c, "record.list", p);
        t[i] = now_ms() - t0;
        if (json_object_get(r, "error") != NULL && i == 0)
            fprintf(stderr, "bench: record.list failed\n");
        json_decref(r);
    }
}

static void bench_put(bench *b, double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *id = b->l->account_ids[(size_t)rand() % b->l->naccounts];
        char note[64];
        snprintf(note, sizeof(note), "bench note %zu", i);
        json_t *p =
            json_pack("{s:s,s:s,s:{s:s}}", "kind", "account", "id", id, "record", "notes", note);
        double t0 = now_ms();
        json_t *r = call(&b->c, "record.put", p);
        t[i] = now_ms() - t0;
        if (json_object_get(r, "error") != NULL && i == 0)
            fprintf(stderr, "bench: put failed\n");
        json_decref(r);
    }
}

static void bench_search(bench *b, double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *q = b->l->names[(size_t)rand() % b->l->nnames];
        double t0 = now_ms();
        json_decref(call(&b->c, "search", json_pack("{s:s,s:i}", "query", q, "limit", 20)));
        t[i] = now_ms() - t0;
    }
}

/* The weekly review's reports: each a pass over every opportunity (weekly:
 * and over the weeks' visits). */
static void bench_report(bench *b, const char *method, json_t *params, double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double t0 = now_ms();
        json_decref(call(&b->c, method, json_incref(params)));
        t[i] = now_ms() - t0;
    }
    json_decref(params);
}

int main(void)
{
    const char *bin = getenv("FIELDSYNCD") ? getenv("FIELDSYNCD") : FIELDSYNCD_PATH;
    long records = env_long("BENCH_RECORDS", 100000), ops = env_long("BENCH_OPS", 1);
    long idle_s = env_long("BENCH_IDLE_SECONDS", 10);
    char dir[] = "/var/tmp/bench-socket-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char db[512], key[512], sock[512];
    snprintf(db, sizeof(db), "%s/fieldsync.db", dir);
    snprintf(key, sizeof(key), "%s/fieldsync.key", dir);
    snprintf(sock, sizeof(sock), "%s/fieldsyncd.sock", dir);
    static loader l;
    l.limit = (size_t)records;
    double t0 = now_ms();
    if (load(db, key, &l) != 0) {
        fprintf(stderr, "bench: loading failed: %s\n", fs_err_message(&l.err));
        return 1;
    }
    printf("bench_socket: %zu records loaded into an encrypted store in %.1f s (%s)\n", l.total,
           (now_ms() - t0) / 1000, dir);
    pid_t pid = start_daemon(bin, dir, sock);
    static bench b;
    b.l = &l;
    b.ops = ops;
    if (wait_connect(&b.c, sock, pid) != 0) {
        fprintf(stderr, "bench: the daemon did not come up (%s)\n", bin);
        return 1;
    }
    json_decref(call(&b.c, "status", json_object()));
    long rss_start = status_kb(pid, "VmRSS");
    size_t ng = 2000 * (size_t)ops, nl = 500 * (size_t)ops, np = 500 * (size_t)ops,
           ns = 500 * (size_t)ops;
    double *t = malloc(sizeof(double) * ng);
    double fs50, fs99;
    fsync_latency(dir, &fs50, &fs99);
    bench_get(&b, t, ng);
    double get99 = p99_of(t, ng);
    report("record.get", t, ng, "");
    bench_list(&b, t, nl);
    report("record.list (50 rows)", t, nl, "");
    bench_put(&b, t, np);
    double put99 = p99_of(t, np);
    char extra[128];
    snprintf(extra, sizeof(extra), "   (disk write+fsync 4 KiB: p50 %.3f ms, p99 %.3f ms)", fs50,
             fs99);
    report("record.put", t, np, extra);
    bench_search(&b, t, ns);
    report("search", t, ns, "");
    long rss_busy = status_kb(pid, "VmRSS"), hwm = status_kb(pid, "VmHWM");
    /* idle: a connected client, nothing pending. The daemon checkpoints once,
     * a second after the last write (a one-shot, not periodic): wait until its
     * context switches stop moving for 2 s before measuring. */
    long v0 = status_kb(pid, "voluntary_ctxt_switches");
    for (int quiet = 0, waited = 0; quiet < 4 && waited < 60; waited++) {
        usleep(500000);
        long v = status_kb(pid, "voluntary_ctxt_switches");
        quiet = v == v0 ? quiet + 1 : 0;
        v0 = v;
    }
    sleep((unsigned)idle_s);
    long v1 = status_kb(pid, "voluntary_ctxt_switches");
    long rss_idle = status_kb(pid, "VmRSS");
    double wakeups = (double)(v1 - v0) * 60.0 / (double)idle_s;
    printf("daemon RSS: %ld kB at start, %ld kB after the runs, %ld kB idle, peak %ld kB\n",
           rss_start, rss_busy, rss_idle, hwm);
    printf("idle wakeups: %ld voluntary context switches in %ld s = %.1f per minute\n", v1 - v0,
           idle_s, wakeups);
    printf("targets: get p99 < 1 ms: %s; put p99 < 5 ms: %s; idle RSS < 16 MB: %s; zero idle "
           "wakeups: %s\n",
           get99 < 1 ? "met" : "MISSED", put99 < 5 ? "met" : "MISSED",
           rss_idle < 16 * 1024 ? "met" : "MISSED", v1 == v0 ? "met" : "MISSED");
    /* the reports last: their passes fill the page cache, which the idle RSS
     * above leaves out */
    size_t nr = 20 * (size_t)ops;
    bench_report(&b, "report.pipeline", json_object(), t, nr);
    report("report.pipeline", t, nr, "");
    bench_report(&b, "report.team", json_object(), t, nr);
    report("report.team", t, nr, "");
    bench_report(&b, "report.weekly", json_object(), t, nr);
    report("report.weekly (1 week)", t, nr, "");
    bench_report(&b, "report.weekly", json_pack("{s:i}", "weeks", 12), t, nr);
    report("report.weekly (12 weeks)", t, nr, "");
    printf("daemon RSS after the reports: %ld kB\n", status_kb(pid, "VmRSS"));
    close(b.c.fd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(t);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
