/*
 * itest.c: process and HTTP helpers of the server integration tests (see
 * itest.h). Waiting is always on a condition with a deadline (the port file
 * appearing, a child exiting), never a bare sleep.
 */
#include "itest.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fieldsync.pb-c.h"
#include "encoding.h"

#define DEADLINE_MS 10000

static void die(const char *what)
{
    fprintf(stderr, "integration setup failed: %s\n", what);
    abort();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

void it_init(it_server *sv)
{
    memset(sv, 0, sizeof(*sv));
    const char *tmp = getenv("TMPDIR");
    snprintf(sv->dir, sizeof(sv->dir), "%s/fs-itest-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(sv->dir) == NULL)
        die("mkdtemp");
    snprintf(sv->db, sizeof(sv->db), "%s/server.db", sv->dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* fork + exec of the server binary with --db and args; stdout to fd out_fd. */
static pid_t spawn(it_server *sv, const char *const *args, int out_fd, const char *extra_env)
{
    const char *argv[32] = {FS_SERVER_BIN, "--log-level", "warn", "--db", sv->db};
    int n = sv->db[0] != '\0' ? 5 : 3; /* no --db: the test gives a config file */
    for (int i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (out_fd >= 0)
            dup2(out_fd, 1);
        if (extra_env != NULL)
            putenv((char *)extra_env);
        execv(FS_SERVER_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int it_admin(it_server *sv, char *out, size_t cap, const char *const *args)
{
    int p[2];
    if (pipe(p) != 0)
        die("pipe");
    pid_t pid = spawn(sv, args, p[1], NULL);
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

void it_start(it_server *sv, const char *extra_env)
{
    static const char *const none[] = {NULL};
    it_start_args(sv, extra_env, none);
}

void it_start_args(it_server *sv, const char *extra_env, const char *const *extra)
{
    char port_file[320];
    snprintf(port_file, sizeof(port_file), "%s/port", sv->dir);
    unlink(port_file);
    const char *args[24] = {"serve", "--listen",    "127.0.0.1:0", "--threads",
                            "2",     "--port-file", port_file};
    for (int i = 0, n = 7; extra[i] != NULL && n < 23; i++)
        args[n++] = extra[i];
    sv->pid = spawn(sv, args, -1, extra_env);
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (now_ms() < deadline) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%u", &sv->port) == 1;
            fclose(f);
            if (ok)
                return;
        }
        if (waitpid(sv->pid, NULL, WNOHANG) == sv->pid)
            die("server exited at start");
        nap();
    }
    die("server did not write its port within the deadline");
}

bool it_wait_killed(it_server *sv, int deadline_ms)
{
    int64_t deadline = now_ms() + deadline_ms;
    int st;
    while (now_ms() < deadline) {
        if (waitpid(sv->pid, &st, WNOHANG) == sv->pid) {
            sv->pid = 0;
            return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        }
        nap();
    }
    return false;
}

int it_stop(it_server *sv, bool hard)
{
    int st = 0;
    if (sv->pid <= 0)
        return -1;
    kill(sv->pid, hard ? SIGKILL : SIGTERM);
    waitpid(sv->pid, &st, 0);
    sv->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void it_cleanup(it_server *sv)
{
    it_stop(sv, true);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sv->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", sv->dir);
}

/* ------------------------------------------------------------------------- */
/* HTTP */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    it_resp *rs = arg;
    uint8_t *nb = realloc(rs->body, rs->len + size * n + 1);
    if (nb == NULL)
        return 0;
    rs->body = nb;
    memcpy(rs->body + rs->len, p, size * n);
    rs->len += size * n;
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    it_resp *rs = arg;
    static const char name[] = "Content-Encoding:";
    size_t len = size * n, nl = sizeof(name) - 1;
    if (len > nl && strncasecmp(p, name, nl) == 0) {
        size_t v = nl + strspn(p + nl, " ");
        size_t vl = strcspn(p + v, "\r\n");
        snprintf(rs->encoding, sizeof(rs->encoding), "%.*s", (int)vl, p + v);
    }
    return len;
}

void it_http(const it_server *sv, const it_req *rq, it_resp *rs)
{
    memset(rs, 0, sizeof(*rs));
    CURL *c = curl_easy_init();
    char url[128], proto[64], ct[128];
    struct curl_slist *h = NULL;
    uint8_t *z = NULL;
    size_t zlen = 0;
    snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", sv->ca[0] ? "https" : "http", sv->port,
             rq->path);
    if (sv->ca[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, sv->ca);
    curl_easy_setopt(c, CURLOPT_URL, url);
    const char *protocol = rq->protocol ? rq->protocol : "1";
    if (protocol[0] != '\0') {
        snprintf(proto, sizeof(proto), "Fieldsync-Protocol: %s", protocol);
        h = curl_slist_append(h, proto);
    }
    snprintf(ct, sizeof(ct), "Content-Type: %s",
             rq->content_type ? rq->content_type : "application/x-protobuf");
    h = curl_slist_append(h, ct);
    if (rq->bearer != NULL) {
        char auth[100];
        snprintf(auth, sizeof(auth), "Authorization: %s", rq->bearer);
        h = curl_slist_append(h, auth);
    }
    /* libcurl sends "Expect: 100-continue" for bodies over 1 MiB, so an
     * oversized body is refused before it is sent, as a daemon's would be */
    const uint8_t *body = rq->body;
    size_t len = rq->len;
    if (rq->gzip_body) {
        if (fs_gzip_compress(body, len, &z, &zlen, NULL) != 0)
            die("gzip");
        body = z;
        len = zlen;
        h = curl_slist_append(h, "Content-Encoding: gzip");
    } else if (rq->content_encoding != NULL) {
        char ce[64];
        snprintf(ce, sizeof(ce), "Content-Encoding: %s", rq->content_encoding);
        h = curl_slist_append(h, ce);
    }
    if (rq->method != NULL && strcmp(rq->method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (rq->accept_encoding != NULL)
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, rq->accept_encoding);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, rs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, rs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) != CURLE_OK)
        rs->failed = 1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(z);
}

void it_resp_clear(it_resp *rs)
{
    free(rs->body);
    memset(rs, 0, sizeof(*rs));
}

void it_enroll(it_server *sv, const char *user, char bearer[80], uint64_t *replica)
{
    char code[64];
    const char *args[] = {"enroll-code", user, NULL};
    if (it_admin(sv, code, sizeof(code), args) != 0)
        die("enroll-code");
    code[strcspn(code, "\n")] = '\0';
    Fieldsync__EnrollRequest er = FIELDSYNC__ENROLL_REQUEST__INIT;
    er.code = code;
    uint8_t buf[128];
    it_req rq = {
        .path = "/v1/enroll", .body = buf, .len = fieldsync__enroll_request__pack(&er, buf)};
    it_resp rs;
    it_http(sv, &rq, &rs);
    if (rs.status != 200)
        die("enroll over HTTP");
    Fieldsync__EnrollResponse *ans = fieldsync__enroll_response__unpack(NULL, rs.len, rs.body);
    if (ans == NULL || ans->token.len != 32)
        die("enroll answer");
    strcpy(bearer, "Bearer ");
    for (size_t i = 0; i < 32; i++)
        sprintf(bearer + 7 + 2 * i, "%02x", ans->token.data[i]);
    if (replica != NULL)
        *replica = ans->replica_id;
    fieldsync__enroll_response__free_unpacked(ans, NULL);
    it_resp_clear(&rs);
}
