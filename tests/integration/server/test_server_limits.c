/*
 * test_server_limits.c: the real fieldsync-server binary judging requests on
 * their headers before reading their bodies, over raw sockets on loopback:
 * a large body without a token, an enroll or pull body over 4 KiB and a body
 * without Content-Length are answered at once (the body is never sent); a
 * device gets one request at a time (429) and bodies share a memory budget
 * (503 busy, Retry-After); request headers dripped a byte at a time are cut
 * off at the header deadline although the connection is never silent; a push
 * of more states than allowed is 413.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fieldsync.pb-c.h"
#include "itest.h"
#include "srv_test_util.h"

#define DEADLINE_MS 10000

typedef struct fx {
    it_server sv;
    char anna_a[80], anna_b[80];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    it_init(&f->sv);
    const char *add[] = {"user", "add", "anna", "--role", "rep", NULL};
    assert_int_equal(it_admin(&f->sv, NULL, 0, add), 0);
    const char *serve[] = {"--header-timeout", "1", "--body-memory", "8MiB", NULL};
    it_start_args(&f->sv, NULL, serve);
    it_enroll(&f->sv, "anna", f->anna_a, NULL);
    it_enroll(&f->sv, "anna", f->anna_b, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    int code = it_stop(&f->sv, false);
    it_cleanup(&f->sv);
    assert_int_equal(code, 0);
    free(f);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(const fx *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->sv.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Sends a request's headers (no body); path, then extra header lines. */
static int send_head(const fx *f, const char *path, const char *extra)
{
    char head[1024];
    snprintf(head, sizeof(head),
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nFieldsync-Protocol: 1\r\n"
             "Content-Type: application/x-protobuf\r\n%s\r\n",
             path, extra);
    int fd = dial(f);
    assert_int_equal(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
    return fd;
}

/* Waits for the answer's status line (0: the server closed without one,
 * -1: nothing within ms); hdrs (optional) receives the headers. */
static int status_within(int fd, int ms, char *hdrs, size_t cap)
{
    char buf[2048];
    size_t len = 0;
    int64_t until = now_ms() + ms;
    while (len + 1 < sizeof(buf)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(until - now_ms());
        if (left <= 0 || poll(&p, 1, left) != 1)
            return -1;
        ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL)
            break;
    }
    buf[len] = '\0';
    if (hdrs != NULL)
        snprintf(hdrs, cap, "%s", buf);
    return len > 12 && strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
}

/* Whether the server closes fd within ms (reading and dropping what comes). */
static bool closed_within(int fd, int ms)
{
    char c[512];
    int64_t until = now_ms() + ms;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(until - now_ms());
        if (left <= 0 || poll(&p, 1, left) != 1)
            return false;
        if (recv(fd, c, sizeof(c), 0) <= 0)
            return true;
    }
}

static void test_request_is_answered_on_its_headers_before_its_body(void **state)
{
    fx *f = *state;
    char auth[128];
    snprintf(auth, sizeof(auth), "Authorization: %s\r\n", f->anna_a);
    struct {
        const char *path, *extra;
        int status;
    } cases[] = {
        {"/v1/push", "Content-Length: 8388608\r\n", 401},
        {"/v1/enroll", "Content-Length: 5000\r\n", 413},
        {"/v1/pull", "Content-Length: 5000\r\n", 413},
        {"/v1/push", "Transfer-Encoding: chunked\r\n", 411},
    };
    char extra[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(extra, sizeof(extra), "%s%s", i >= 2 ? auth : "", cases[i].extra);
        int fd = send_head(f, cases[i].path, extra);
        assert_int_equal(status_within(fd, DEADLINE_MS, NULL, 0), cases[i].status);
        /* the body is not waited for: the connection ends with the answer */
        assert_true(closed_within(fd, DEADLINE_MS));
        close(fd);
    }
}

static void test_one_request_per_device_and_a_shared_body_budget(void **state)
{
    fx *f = *state;
    char a[160], b[160], hdrs[2048];
    snprintf(a, sizeof(a), "Authorization: %s\r\nContent-Length: 8388608\r\n", f->anna_a);
    snprintf(b, sizeof(b), "Authorization: %s\r\nContent-Length: 1000\r\n", f->anna_b);
    int held = send_head(f, "/v1/push", a); /* admitted: its body is awaited */
    assert_int_equal(status_within(held, 300, NULL, 0), -1);
    int again = send_head(f, "/v1/push", a);
    assert_int_equal(status_within(again, DEADLINE_MS, hdrs, sizeof(hdrs)), 429);
    assert_non_null(strstr(hdrs, "Retry-After: 1"));
    close(again);
    int other = send_head(f, "/v1/push", b); /* the budget (8 MiB) is all held */
    assert_int_equal(status_within(other, DEADLINE_MS, hdrs, sizeof(hdrs)), 503);
    assert_non_null(strstr(hdrs, "Retry-After: 1"));
    close(other);
    close(held); /* the held body is given back once the server sees the close */
    int status = 503;
    for (int64_t until = now_ms() + DEADLINE_MS; status == 503 && now_ms() < until;) {
        other = send_head(f, "/v1/push", b);
        status = status_within(other, 300, NULL, 0);
        if (status == 503)
            close(other);
    }
    /* admitted: it waits for its body, and answers once it has it (junk: 400) */
    assert_int_equal(status, -1);
    static const uint8_t junk[1000];
    assert_int_equal(send(other, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
    assert_int_equal(status_within(other, DEADLINE_MS, NULL, 0), 400);
    close(other);
}

static void test_headers_dripped_a_byte_at_a_time_are_cut_off_at_the_deadline(void **state)
{
    fx *f = *state;
    static const char head[] = "POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int fd = dial(f), silent = dial(f);
    int64_t t0 = now_ms();
    bool cut = false;
    for (size_t i = 0; i < sizeof(head) - 1 && !cut; i++) {
        /* never silent for long: MHD's idle timeout alone would not end it */
        cut = send(fd, head + i, 1, MSG_NOSIGNAL) != 1 || closed_within(fd, 100);
    }
    int64_t took = now_ms() - t0;
    assert_true(cut);
    assert_true(took >= 900 && took < DEADLINE_MS); /* --header-timeout 1 */
    assert_true(closed_within(silent, DEADLINE_MS));
    close(fd);
    close(silent);
}

static void test_push_of_more_states_than_allowed_is_413(void **state)
{
    fx *f = *state;
    enum { N = 5001 };
    fs_state **st = calloc(N, sizeof(*st));
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "acc-%d", i);
        st[i] = tu_account(1, id, "x");
    }
    size_t len;
    uint8_t *body = tu_push_body(st, N, &len);
    it_req rq = {.path = "/v1/push", .bearer = f->anna_a, .body = body, .len = len};
    it_resp rs;
    it_http(&f->sv, &rq, &rs);
    assert_int_equal(rs.status, 413);
    Fieldsync__ErrorResponse *e = fieldsync__error_response__unpack(NULL, rs.len, rs.body);
    assert_non_null(e);
    assert_non_null(strstr(e->message, "at most 5000 states"));
    fieldsync__error_response__free_unpacked(e, NULL);
    it_resp_clear(&rs);
    free(body);
    for (int i = 0; i < N; i++)
        fs_state_free(st[i]);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_request_is_answered_on_its_headers_before_its_body),
        T(test_one_request_per_device_and_a_shared_body_budget),
        T(test_headers_dripped_a_byte_at_a_time_are_cut_off_at_the_deadline),
        T(test_push_of_more_states_than_allowed_is_413),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
