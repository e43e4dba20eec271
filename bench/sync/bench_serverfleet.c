/*
 * bench_serverfleet.c: the server on its own (`bench_sync --server-fleet`):
 * D devices push from several driver processes at once, so the figures are
 * the server's, not one client loop's. Per configuration (SQLite, PostgreSQL
 * with 1 and 2 server processes; D = 200 and 1000):
 *   parent  creates the database, one rep per device, and enrolls each device
 *           in-process through the real enroll handler (tokens to a file);
 *           starts the server processes (on PostgreSQL a durable throwaway
 *           cluster from tests/pg/pgcluster.py serve --durable);
 *   drivers BENCH_DRIVERS processes, each holding D / BENCH_DRIVERS devices
 *           on one loop: every round, every device pushes 20 new accounts
 *           (device i to instance i mod N) and the push's latency is kept;
 *   parent  prints pushed records/s and push latency p50/p99 side by side.
 */
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "bench_sync.h"
#include "fieldsync.pb-c.h"
#include "fieldsync/outbox.h"
#include "handler.h"
#include "sync_http.h"
#include "sync_wire.h"

#define BENCH_DRIVERS 4
#define BENCH_ROUNDS 5
#define BENCH_PER_PUSH 20

/* ------------------------------------------------------------------------- */
/* Driver (child): its devices push in rounds */

typedef struct fdev {
    fs_secret *token;
    uint64_t replica, hlc;
    const char *url;
    double sent;
    bool done;
} fdev;

typedef struct driver {
    fdev *devs;
    size_t n;
    FILE *lat;
} driver;

static void on_pushed(void *arg, const fs_http_resp *r)
{
    fdev *d = arg;
    d->done = true;
    d->sent = (r->outcome == FS_HTTP_OK && r->status == 200) ? now_s() - d->sent : -1;
}

static bool all_pushed(void *arg)
{
    driver *dr = arg;
    for (size_t i = 0; i < dr->n; i++)
        if (!dr->devs[i].done)
            return false;
    return true;
}

static uint8_t *push_body(fdev *d, size_t devno, int round, size_t *len)
{
    fs_outbox_batch b = {.items = calloc(BENCH_PER_PUSH, sizeof(fs_outbox_item))};
    fs_err err;
    char id[64];
    for (int k = 0; k < BENCH_PER_PUSH; k++) {
        Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
        snprintf(id, sizeof(id), "sf-%zu-%d-%d", devno, round, k);
        a.name = id;
        if (fs_state_new(&b.items[b.n].state, FIELDSYNC__RECORD_KIND__ACCOUNT, id, &err) != 0 ||
            fs_record_write_msg(b.items[b.n].state, d->replica, ++d->hlc, &a.base, NULL, 0, &err))
            die("building a state", &err);
        b.n++;
    }
    uint8_t *body;
    size_t nsent;
    if (fs_sync_encode_push(&b, 1u << 20, &nsent, &body, len, &err) != 0)
        die("encoding a push", &err);
    fs_outbox_batch_clear(&b);
    return body;
}

int phase_drive(const char *urls, const char *creds, size_t first, size_t n, const char *out)
{
    fs_loop *loop = NULL;
    fs_http *http = NULL;
    fs_err err;
    char line[200], *url_list = strdup(urls), *urlv[8];
    int nurl = 0;
    for (char *u = strtok(url_list, ","); u != NULL && nurl < 8; u = strtok(NULL, ","))
        urlv[nurl++] = u;
    driver dr = {.devs = calloc(n, sizeof(fdev)), .n = n, .lat = fopen(out, "w")};
    FILE *f = fopen(creds, "r");
    fs_http_opts ho = {NULL, 10000, 30, 120, 16u << 20, 1024};
    if (f == NULL || dr.lat == NULL || fs_loop_new(&loop, &err) != 0 ||
        fs_http_new(&http, loop, &ho, &err) != 0)
        die("driver setup", NULL);
    for (size_t i = 0; fgets(line, sizeof(line), f) != NULL && i < first + n; i++) {
        uint8_t tok[32];
        unsigned long long replica;
        char hex[65];
        if (i < first)
            continue;
        fdev *d = &dr.devs[i - first];
        if (sscanf(line, "%64s %llu", hex, &replica) != 2 ||
            sodium_hex2bin(tok, sizeof(tok), hex, 64, NULL, NULL, NULL) != 0 ||
            fs_secret_from(&d->token, tok, sizeof(tok), &err) != 0)
            die("credentials file", NULL);
        d->replica = replica;
        d->hlc = (uint64_t)time(NULL) * 1000 << 16;
        d->url = urlv[(i) % (size_t)nurl];
    }
    fclose(f);
    for (int round = 0; round < BENCH_ROUNDS; round++) {
        for (size_t i = 0; i < n; i++) {
            fdev *d = &dr.devs[i];
            size_t len;
            uint8_t *body = push_body(d, first + i, round, &len);
            d->done = false;
            d->sent = now_s();
            if (fs_http_post(http, d->url, "/v1/push", (fs_http_body){body, len, false}, d->token,
                             on_pushed, d, NULL, &err) != 0)
                die("posting", &err);
        }
        fs_http_kick(http);
        run_until(loop, all_pushed, &dr);
        for (size_t i = 0; i < n; i++)
            fprintf(dr.lat, "%.6f\n", dr.devs[i].sent);
    }
    fclose(dr.lat);
    for (size_t i = 0; i < n; i++)
        fs_secret_free(dr.devs[i].token);
    free(dr.devs);
    free(url_list);
    fs_http_free(http);
    fs_loop_free(loop);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Parent: databases, servers, drivers, figures */

/* Creates n reps and enrolls a device for each through the enroll handler;
 * writes "TOKEN_HEX REPLICA" lines to creds. */
static void enroll_all(const char *db, size_t n, const char *creds)
{
    srv_storage *s;
    srv_config cfg;
    fs_err err;
    char name[32], code[SRV_CODE_LEN + 1], hex[65];
    uint8_t buf[128];
    FILE *f = fopen(creds, "w");
    srv_config_default(&cfg);
    if (f == NULL || srv_crypto_init(&err) != 0 || srv_storage_open(&s, db, true, &err) != 0)
        die("opening the bench database", &err);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "sf%zu", i);
        if (srv_admin_user_add(s, name, SRV_ROLE_REP, NULL, &err) != 0 ||
            srv_admin_enroll_code(s, name, (int64_t)time(NULL), 3600, code, &err) != 0)
            die("adding a rep", &err);
        Fieldsync__EnrollRequest rq = FIELDSYNC__ENROLL_REQUEST__INIT;
        rq.code = code;
        srv_request req = {.protocol = SRV_PROTOCOL_VERSION, .body = buf};
        req.len = fieldsync__enroll_request__pack(&rq, buf);
        srv_response rs = {0};
        Fieldsync__EnrollResponse *er = NULL;
        if (srv_handle_enroll(s, &cfg, &req, &rs) != 0 || rs.status != 200 ||
            (er = fieldsync__enroll_response__unpack(NULL, rs.len, rs.body)) == NULL)
            die("enrolling", NULL);
        sodium_bin2hex(hex, sizeof(hex), er->token.data, er->token.len);
        fprintf(f, "%s %llu\n", hex, (unsigned long long)er->replica_id);
        fieldsync__enroll_response__free_unpacked(er, NULL);
        srv_response_clear(&rs);
    }
    srv_storage_close(s);
    fclose(f);
}

static pid_t spawn(const char *const *argv, int out_fd)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        bench_die_with_parent(parent);
        int null = open("/dev/null", O_RDWR);
        dup2(out_fd >= 0 ? out_fd : null, 1);
        dup2(null, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Starts `serve` on db; returns its pid and fills url. */
static pid_t serve(const char *db, const char *dir, int n, char *url, size_t cap)
{
    char port_file[340];
    unsigned port = 0;
    snprintf(port_file, sizeof(port_file), "%s/port%d", dir, n);
    const char *argv[] = {FS_SERVER_BIN, "--log-level", "error",       "--db",      db,
                          "serve",       "--listen",    "127.0.0.1:0", "--threads", "4",
                          "--port-file", port_file,     NULL};
    pid_t pid = spawn(argv, -1);
    for (double t0 = now_s(); now_s() - t0 < 30;) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL && fscanf(f, "%u", &port) == 1) {
            fclose(f);
            snprintf(url, cap, "http://127.0.0.1:%u", port);
            return pid;
        }
        if (f != NULL)
            fclose(f);
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    die("a server did not start", NULL);
}

/* Runs the drivers against urls; prints the configuration's line. */
static void drive_all(const char *what, const char *urls, const char *dir, size_t n)
{
    char creds[340], first[32], count[32], out[BENCH_DRIVERS][340];
    pid_t pids[BENCH_DRIVERS];
    snprintf(creds, sizeof(creds), "%s/creds", dir);
    double t0 = now_s();
    for (int k = 0; k < BENCH_DRIVERS; k++) {
        size_t lo = n * (size_t)k / BENCH_DRIVERS, hi = n * (size_t)(k + 1) / BENCH_DRIVERS;
        snprintf(first, sizeof(first), "%zu", lo);
        snprintf(count, sizeof(count), "%zu", hi - lo);
        snprintf(out[k], sizeof(out[k]), "%s/lat%d", dir, k);
        const char *argv[] = {"/proc/self/exe", "drive", urls, creds, first, count, out[k], NULL};
        pids[k] = spawn(argv, 1);
    }
    for (int k = 0; k < BENCH_DRIVERS; k++) {
        int st;
        waitpid(pids[k], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("a driver failed", NULL);
    }
    double secs = now_s() - t0;
    size_t total = n * BENCH_ROUNDS, got = 0, failed = 0;
    double *lat = calloc(total, sizeof(double)), v;
    for (int k = 0; k < BENCH_DRIVERS; k++) {
        FILE *f = fopen(out[k], "r");
        while (f != NULL && got < total && fscanf(f, "%lf", &v) == 1)
            v < 0 ? (void)failed++ : (void)(lat[got++] = v);
        if (f != NULL)
            fclose(f);
    }
    qsort(lat, got, sizeof(double), cmp_double);
    printf("%-34s %5zu devices %7.2f s %8.0f records/s   push p50 %6.1f ms  p99 %7.1f ms"
           "  %zu failed\n",
           what, n, secs, (double)(got * BENCH_PER_PUSH) / secs, got ? lat[got / 2] * 1e3 : 0,
           got ? lat[(got * 99) / 100] * 1e3 : 0, failed);
    fflush(stdout);
    free(lat);
}

/* tests/pg/pgcluster.py serve --durable: a cluster that fsyncs, like the
 * SQLite file. *in_fd closes to stop it; url receives its database's URI. */
static pid_t cluster_start(int *in_fd, char *url, size_t cap)
{
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        die("pipe", NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", FS_PGCLUSTER, "serve", "--durable", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    if (f == NULL || fgets(url, (int)cap, f) == NULL)
        die("the PostgreSQL cluster did not start (tests/pg/pgcluster.py)", NULL);
    fclose(f);
    url[strcspn(url, "\r\n")] = '\0';
    *in_fd = in[1];
    return pid;
}

/* A new database next to the cluster's: its URI in out. */
static void create_db(const char *base, const char *name, char *out, size_t cap)
{
    char sql[96];
    const char *q = strchr(base, '?');
    PGconn *c = PQconnectdb(base);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    PGresult *r = PQexec(c, sql);
    if (q == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
        die("creating a bench database", NULL);
    PQclear(r);
    PQfinish(c);
    snprintf(out, cap, "postgresql:///%s%s", name, q);
}

int phase_server_fleet(void)
{
    static const size_t sizes[] = {200, 1000};
    char root[] = "/tmp/bench-sf-XXXXXX", base[300], db[400], dir[300], what[64];
    char urls[2][64], url_list[160];
    int stop_fd;
    if (mkdtemp(root) == NULL)
        die("mkdtemp", NULL);
    pid_t cluster = cluster_start(&stop_fd, base, sizeof(base));
    printf("bench_sync --server-fleet: %d driver processes, %d rounds of one %d-account push per "
           "device; servers with 4 threads; PostgreSQL fsyncs (synchronous_commit on)\n",
           BENCH_DRIVERS, BENCH_ROUNDS, BENCH_PER_PUSH);
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
        for (int c = 0; c < 3; c++) {
            int instances = c == 2 ? 2 : 1;
            pid_t pids[2];
            snprintf(dir, sizeof(dir), "%s/c%zu-%d", root, sizes[z], c);
            mkdir(dir, 0700);
            if (c == 0) {
                snprintf(db, sizeof(db), "%s/server.db", dir);
            } else {
                char name[32];
                snprintf(name, sizeof(name), "sf_%zu_%d", sizes[z], c);
                create_db(base, name, db, sizeof(db));
            }
            char creds[320];
            snprintf(creds, sizeof(creds), "%s/creds", dir);
            enroll_all(db, sizes[z], creds);
            for (int i = 0; i < instances; i++)
                pids[i] = serve(db, dir, i, urls[i], sizeof(urls[i]));
            snprintf(url_list, sizeof(url_list), "%s%s%s", urls[0], instances > 1 ? "," : "",
                     instances > 1 ? urls[1] : "");
            snprintf(what, sizeof(what), "server fleet: %s, %d instance%s",
                     c == 0 ? "SQLite" : "PostgreSQL", instances, instances > 1 ? "s" : "");
            drive_all(what, url_list, dir, sizes[z]);
            for (int i = 0; i < instances; i++) {
                kill(pids[i], SIGTERM);
                waitpid(pids[i], NULL, 0);
            }
        }
    close(stop_fd);
    waitpid(cluster, NULL, 0);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : 1;
}
