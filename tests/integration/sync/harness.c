/*
 * harness.c: the real server process and in-process devices for the sync
 * client's integration tests (see harness.h).
 */
#include "harness.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "fieldsync/store_resync.h"

#define PASS "correct horse battery staple"

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void tmpdir(char *out, size_t size, const char *what)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, size, "%s/fs-sync-%s-XXXXXX", tmp ? tmp : "/tmp", what);
    assert_non_null(mkdtemp(out));
}

static void rm_rf(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* ------------------------------------------------------------------------- */
/* Server */

void hs_init(h_server *sv)
{
    memset(sv, 0, sizeof(*sv));
    tmpdir(sv->dir, sizeof(sv->dir), "server");
    snprintf(sv->db, sizeof(sv->db), "%s/server.db", sv->dir);
}

static pid_t spawn(h_server *sv, const char *const *args, int out_fd)
{
    const char *argv[40] = {FS_SERVER_BIN, "--log-level", "error", "--db", sv->db};
    int n = 5;
    for (int i = 0; args[i] != NULL && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (out_fd >= 0)
            dup2(out_fd, 1);
        if (sv->file_size_max > 0) { /* files that cannot grow: writes past it fail (EFBIG) */
            struct rlimit full = {(rlim_t)sv->file_size_max, (rlim_t)sv->file_size_max};
            signal(SIGXFSZ, SIG_IGN);
            if (setrlimit(RLIMIT_FSIZE, &full) != 0)
                _exit(126);
        }
        execv(FS_SERVER_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int hs_admin(h_server *sv, char *out, size_t cap, ...)
{
    const char *args[32];
    int n = 0;
    va_list ap;
    va_start(ap, cap);
    for (const char *a; n < 31 && (a = va_arg(ap, const char *)) != NULL;)
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = spawn(sv, args, p[1]);
    close(p[1]);
    size_t got = 0;
    char sink[256];
    ssize_t r;
    while ((r = read(p[0], out && got + 1 < cap ? out + got : sink,
                     out && got + 1 < cap ? cap - 1 - got : sizeof(sink))) > 0)
        if (out && got + 1 < cap)
            got += (size_t)r;
    close(p[0]);
    if (out != NULL)
        out[got] = '\0';
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void start(h_server *sv, unsigned port, bool tls)
{
    char port_file[320], listen[64];
    snprintf(port_file, sizeof(port_file), "%s/port", sv->dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
    unlink(port_file);
    const char *args[16] = {"serve", "--listen",    listen,   "--threads",
                            "2",     "--port-file", port_file};
    size_t n = 7;
    if (sv->clock_skew != NULL) {
        args[n++] = "--clock-skew";
        args[n++] = sv->clock_skew;
    }
    if (tls) {
        args[n++] = "--cert";
        args[n++] = sv->cert;
        args[n++] = "--key";
        args[n++] = sv->key;
    }
    for (int tries = 0; tries < 50; tries++) {
        sv->pid = spawn(sv, args, -1);
        for (int waited = 0; waited < H_DEADLINE_MS; waited += 5) {
            FILE *f = fopen(port_file, "r");
            if (f != NULL) {
                int ok = fscanf(f, "%u", &sv->port) == 1;
                fclose(f);
                if (ok) {
                    snprintf(sv->url, sizeof(sv->url), "%s://127.0.0.1:%u", tls ? "https" : "http",
                             sv->port);
                    return;
                }
            }
            if (waitpid(sv->pid, NULL, WNOHANG) == sv->pid)
                break; /* the port may still be held by the killed one: try again */
            nap_ms(5);
        }
        sv->pid = 0;
        nap_ms(100);
    }
    fail_msg("fieldsync-server did not start on port %u", port);
}

void hs_start(h_server *sv, unsigned port)
{
    start(sv, port, false);
}

bool hs_start_tls(h_server *sv)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout '%s/key.pem' -out '%s/cert.pem' -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             sv->dir, sv->dir);
    if (system(cmd) != 0)
        return false;
    snprintf(sv->cert, sizeof(sv->cert), "%s/cert.pem", sv->dir);
    snprintf(sv->key, sizeof(sv->key), "%s/key.pem", sv->dir);
    start(sv, 0, true);
    return true;
}

void hs_stop(h_server *sv, bool hard)
{
    if (sv->pid <= 0)
        return;
    kill(sv->pid, hard ? SIGKILL : SIGTERM);
    waitpid(sv->pid, NULL, 0);
    sv->pid = 0;
}

void hs_cleanup(h_server *sv)
{
    hs_stop(sv, true);
    rm_rf(sv->dir);
}

void hs_add_rep(h_server *sv, const char *user)
{
    assert_int_equal(hs_admin(sv, NULL, 0, "user", "add", user, "--role", "rep", NULL), 0);
}

const char *hs_code(h_server *sv, const char *user)
{
    static char out[128];
    assert_int_equal(hs_admin(sv, out, sizeof(out), "enroll-code", user, NULL), 0);
    out[strcspn(out, "\r\n")] = '\0';
    return out;
}

long hs_device_id(h_server *sv, uint64_t replica)
{
    char out[8192], hex[32];
    assert_int_equal(hs_admin(sv, out, sizeof(out), "device", "list", NULL), 0);
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)replica);
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        long id;
        char rep[64];
        if (sscanf(line, "%ld %63s", &id, rep) == 2 && strcmp(rep, hex) == 0)
            return id;
    }
    return -1;
}

/* ------------------------------------------------------------------------- */
/* Loop */

typedef struct until {
    bool (*cond)(void *);
    void *arg;
    bool timed_out;
} until;

static bool until_hook(fs_loop *loop, void *arg)
{
    until *u = arg;
    if (u->cond(u->arg))
        fs_loop_stop(loop);
    return false;
}

static void until_deadline(fs_loop *loop, void *arg)
{
    until *u = arg;
    u->timed_out = true;
    fs_loop_stop(loop);
}

bool h_run_until(fs_loop *loop, bool (*cond)(void *), void *arg, int deadline_ms)
{
    until u = {cond, arg, false};
    fs_timer *t = NULL;
    if (cond(arg))
        return true;
    assert_int_equal(
        fs_loop_timer_add(loop, fs_loop_now_ms() + deadline_ms, until_deadline, &u, &t, NULL), 0);
    fs_loop_set_before_sleep(loop, until_hook, &u);
    assert_int_equal(fs_loop_run(loop, NULL), 0);
    fs_loop_set_before_sleep(loop, NULL, NULL);
    if (!u.timed_out)
        fs_loop_timer_del(loop, t);
    return cond(arg);
}

/* ------------------------------------------------------------------------- */
/* Devices */

static void on_state(void *arg, fs_sync_state state, const char *reason)
{
    (void)state;
    (void)reason;
    ((h_device *)arg)->state_changes++;
}

static void on_progress(void *arg, const fs_sync_progress *p)
{
    (void)p;
    ((h_device *)arg)->progress_calls++;
}

static void on_record(void *arg, fs_kind kind, const char *id, bool removed)
{
    (void)kind;
    (void)id;
    h_device *d = arg;
    d->remote_changes++;
    d->removals += removed;
}

static void on_done(void *arg, const fs_sync_result *r)
{
    h_device *d = arg;
    d->last = *r;
    snprintf(d->last_msg, sizeof(d->last_msg), "%s", r->message ? r->message : "");
    d->last.message = d->last_msg;
    d->runs++;
}

static void start_engine(h_device *d)
{
    fs_sync_callbacks cb = {on_state, on_progress, on_record, on_done, d};
    fs_err err;
    if (fs_sync_new(&d->sync, d->loop, d->st, &d->opts, &cb, &err) != 0)
        fail_msg("%s: %s", d->name, err.msg);
}

void hd_open(h_device *d, fs_loop *loop, const char *name, const fs_sync_opts *opts)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    tmpdir(d->dir, sizeof(d->dir), name);
    snprintf(d->db, sizeof(d->db), "%s/store.db", d->dir);
    snprintf(d->key, sizeof(d->key), "%s/store.key", d->dir);
    d->loop = loop;
    if (opts != NULL)
        d->opts = *opts;
    else
        d->opts.no_netwatch = true;
    d->opts.device_name = d->name;
    fs_err err;
    if (fs_store_open(&d->st, d->db, d->key, PASS, strlen(PASS),
                      FS_STORE_CREATE | FS_STORE_FAST_KDF, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
    start_engine(d);
}

void hd_close(h_device *d)
{
    fs_sync_free(d->sync);
    d->sync = NULL;
    fs_store_close(d->st);
    d->st = NULL;
}

void hd_reopen(h_device *d)
{
    fs_err err;
    if (fs_store_open(&d->st, d->db, d->key, PASS, strlen(PASS), 0, &err) != 0)
        fail_msg("%s: %s", d->name, err.msg);
    start_engine(d);
}

void hd_destroy(h_device *d)
{
    hd_close(d);
    rm_rf(d->dir);
}

static void on_enrolled(void *arg, int code, const fs_err *err)
{
    h_device *d = arg;
    d->enroll_rc = code;
    snprintf(d->enroll_msg, sizeof(d->enroll_msg), "%s", code ? err->msg : "");
}

static bool enrolled(void *arg)
{
    h_device *d = arg;
    return d->enroll_rc != 1 && (d->enroll_rc != 0 || d->runs > 0);
}

void hd_enroll(h_device *d, h_server *sv, const char *user)
{
    fs_err err;
    d->enroll_rc = 1;
    unsigned runs = d->runs;
    if (fs_sync_enroll(d->sync, sv->url, hs_code(sv, user), NULL, on_enrolled, d, &err) != 0)
        fail_msg("%s: enroll: %s", d->name, err.msg);
    d->runs = 0;
    assert_true(h_run_until(d->loop, enrolled, d, H_DEADLINE_MS));
    if (d->enroll_rc != 0)
        fail_msg("%s: enroll: %s", d->name, d->enroll_msg);
    d->runs += runs;
}

static bool enroll_answered(void *arg)
{
    return ((h_device *)arg)->enroll_rc != 1;
}

void hd_enroll_code(h_device *d, const char *url, const char *code)
{
    fs_err err;
    d->enroll_rc = 1;
    if (fs_sync_enroll(d->sync, url, code, NULL, on_enrolled, d, &err) != 0) {
        d->enroll_rc = err.code;
        snprintf(d->enroll_msg, sizeof(d->enroll_msg), "%s", err.msg);
        return;
    }
    assert_true(h_run_until(d->loop, enroll_answered, d, H_DEADLINE_MS));
}

bool h_runs_above(void *arg)
{
    h_runs *w = arg;
    return w->d->runs > w->runs;
}

typedef struct run_wait {
    h_device *d;
    unsigned runs;
} run_wait;

static bool run_finished(void *arg)
{
    run_wait *w = arg;
    return w->d->runs > w->runs && fs_sync_get_state(w->d->sync) != FS_SYNC_SYNCING;
}

static int wait_run(h_device *d, unsigned before)
{
    run_wait w = {d, before};
    assert_true(h_run_until(d->loop, run_finished, &w, H_DEADLINE_MS));
    if (d->last.code != 0 && getenv("FS_SYNC_TEST_VERBOSE") != NULL)
        fprintf(stderr, "%s: run failed: %s\n", d->name, d->last_msg);
    return d->last.code;
}

int hd_sync(h_device *d)
{
    fs_err err;
    unsigned before = d->runs;
    if (fs_sync_now(d->sync, &err) != 0)
        return err.code;
    return wait_run(d, before);
}

int hd_resync(h_device *d)
{
    fs_err err;
    unsigned before = d->runs;
    if (fs_sync_resync(d->sync, true, &err) != 0)
        return err.code;
    return wait_run(d, before);
}

/* ------------------------------------------------------------------------- */
/* Store helpers */

void hd_put_account(h_device *d, const char *id, const char *name, const char *city)
{
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    a.name = (char *)name;
    if (city != NULL) {
        addr.city = (char *)city;
        a.address = &addr;
    }
    fs_err err;
    if (fs_store_put(d->st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, &a.base, NULL, 0, &err) != 0)
        fail_msg("%s: put %s: %s", d->name, id, err.msg);
}

void hd_put_contact(h_device *d, const char *id, const char *account_id, const char *name)
{
    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    c.account_id = (char *)account_id;
    c.name = (char *)name;
    fs_err err;
    if (fs_store_put(d->st, FIELDSYNC__RECORD_KIND__CONTACT, id, &c.base, NULL, 0, &err) != 0)
        fail_msg("%s: put %s: %s", d->name, id, err.msg);
}

static Fieldsync__Account *get_account(h_device *d, const char *id)
{
    ProtobufCMessage *m = NULL;
    if (fs_store_get(d->st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, NULL, &m, NULL) != 0)
        return NULL;
    return (Fieldsync__Account *)m;
}

char *hd_account_name(h_device *d, const char *id)
{
    Fieldsync__Account *a = get_account(d, id);
    char *name = a && a->name ? strdup(a->name) : NULL;
    if (a != NULL)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return name;
}

char *hd_account_city(h_device *d, const char *id)
{
    Fieldsync__Account *a = get_account(d, id);
    char *city = a && a->address && a->address->city ? strdup(a->address->city) : NULL;
    if (a != NULL)
        protobuf_c_message_free_unpacked(&a->base, NULL);
    return city;
}

bool hd_has(h_device *d, fs_kind kind, const char *id)
{
    ProtobufCMessage *m = NULL;
    if (fs_store_get(d->st, kind, id, NULL, &m, NULL) != 0)
        return false;
    bool visible = m != NULL;
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    return visible;
}

size_t hd_conflicts(h_device *d)
{
    size_t n = 0;
    assert_int_equal(fs_store_conflict_count(d->st, &n, NULL), 0);
    return n;
}

size_t hd_pending(h_device *d)
{
    size_t n = 0;
    assert_int_equal(fs_outbox_count(d->st, -1, &n, NULL), 0);
    return n;
}

size_t hd_field_conflicts(h_device *d, fs_kind kind, const char *id)
{
    fs_state *st = NULL;
    fs_conflict *c = NULL;
    size_t n = 0, real = 0;
    assert_int_equal(fs_store_get(d->st, kind, id, &st, NULL, NULL), 0);
    assert_int_equal(fs_record_conflicts(st, &c, &n, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        bool agree = c[i].field == FS_FIELD_ALIVE;
        for (size_t j = 0; agree && j < c[i].nsiblings; j++)
            agree = c[i].siblings[j].alive == c[i].siblings[0].alive;
        real += !agree;
    }
    fs_conflicts_free(c, n);
    fs_state_free(st);
    return real;
}
