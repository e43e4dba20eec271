/*
 * test_cli_rpc.c: the CLI's JSON-RPC client (daemon/cli/rpc_client.c) against
 * a scripted peer on a socketpair: the request it writes, responses matched by
 * id, notifications and stale answers interleaved, several messages in one
 * read, error objects, and a peer that lies, hangs or goes away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc_client.h"

typedef struct peer {
    fs_rpcc *client;
    int fd; /* the daemon's end */
} peer;

static int setup(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    peer *p = calloc(1, sizeof(*p));
    fs_err err;
    assert_int_equal(fs_rpcc_from_fd(&p->client, sv[0], 2000, &err), 0);
    p->fd = sv[1];
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    peer *p = *state;
    fs_rpcc_free(p->client);
    if (p->fd >= 0)
        close(p->fd);
    free(p);
    return 0;
}

static void say(peer *p, const char *text)
{
    assert_int_equal(write(p->fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* The request line the client sent, parsed. */
static json_t *heard(peer *p)
{
    char buf[4096];
    ssize_t n = read(p->fd, buf, sizeof(buf) - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_int_equal(buf[n - 1], '\n');
    assert_null(memchr(buf, '\n', (size_t)n - 1)); /* exactly one line */
    json_t *req = json_loads(buf, 0, NULL);
    assert_non_null(req);
    return req;
}

static int notified;
static char last_method[64];

static void on_note(void *arg, const char *method, json_t *params)
{
    (void)arg;
    (void)params;
    notified++;
    snprintf(last_method, sizeof(last_method), "%s", method);
}

static void test_request_is_one_json_rpc_line_and_result_returns(void **state)
{
    peer *p = *state;
    say(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"state\":\"locked\"}}\n");
    json_t *res;
    fs_rpcc_error e;
    fs_err err;
    assert_int_equal(
        fs_rpcc_call(p->client, "status", json_pack("{s:i}", "limit", 5), &res, &e, &err), 0);
    assert_string_equal(json_string_value(json_object_get(res, "state")), "locked");
    json_decref(res);
    json_t *req = heard(p);
    assert_string_equal(json_string_value(json_object_get(req, "jsonrpc")), "2.0");
    assert_int_equal(json_integer_value(json_object_get(req, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(req, "method")), "status");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "params"), "limit")),
                     5);
    json_decref(req);
}

static void test_notifications_and_stale_answers_are_skipped(void **state)
{
    peer *p = *state;
    notified = 0;
    fs_rpcc_set_notify(p->client, on_note, NULL);
    say(p, "{\"jsonrpc\":\"2.0\",\"method\":\"record.changed\",\"params\":{}}\n"
           "{\"jsonrpc\":\"2.0\",\"id\":77,\"result\":{\"stale\":true}}\n"
           "\n"
           "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":1}}\r\n"
           "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"ok\":2}}\n"
           "{\"jsonrpc\":\"2.0\",\"method\":\"state.changed\",\"params\":{}}\n");
    json_t *res;
    fs_rpcc_error e;
    fs_err err;
    assert_int_equal(fs_rpcc_call(p->client, "a", NULL, &res, &e, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "ok")), 1);
    json_decref(res);
    assert_int_equal(notified, 1);
    /* The second answer came in the same read: it waits in the buffer. */
    assert_int_equal(fs_rpcc_call(p->client, "b", NULL, &res, &e, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "ok")), 2);
    json_decref(res);
    assert_int_equal(fs_rpcc_wait_notification(p->client, 1000, &err), 0);
    assert_int_equal(notified, 2);
    assert_string_equal(last_method, "state.changed");
}

static void test_error_response_fills_code_name_field_message(void **state)
{
    peer *p = *state;
    say(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":\"bad tier\","
           "\"data\":{\"name\":\"invalid_params\",\"field\":\"tier\"}}}\n");
    json_t *res;
    fs_rpcc_error e;
    fs_err err;
    assert_int_equal(fs_rpcc_call(p->client, "record.put", NULL, &res, &e, &err), 1);
    assert_null(res);
    assert_int_equal(e.code, -32602);
    assert_string_equal(e.name, "invalid_params");
    assert_string_equal(e.field, "tier");
    assert_string_equal(e.message, "bad tier");
}

static void test_error_with_null_id_answers_the_call(void **state)
{
    peer *p = *state;
    say(p, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32010,\"message\":\"too "
           "large\"}}\n");
    json_t *res;
    fs_rpcc_error e;
    fs_err err;
    assert_int_equal(fs_rpcc_call(p->client, "x", NULL, &res, &e, &err), 1);
    assert_int_equal(e.code, -32010);
    assert_string_equal(e.name, "");
}

static void test_garbage_is_a_protocol_error(void **state)
{
    peer *p = *state;
    say(p, "HTTP/1.1 400 Bad Request\n");
    json_t *res;
    fs_rpcc_error e;
    fs_err err;
    assert_int_equal(fs_rpcc_call(p->client, "x", NULL, &res, &e, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "right socket"));
}

static void test_response_without_result_or_error_is_refused(void **state)
{
    peer *p = *state;
    say(p, "{\"jsonrpc\":\"2.0\",\"id\":1}\n");
    json_t *res;
    fs_rpcc_error e;
    fs_err err;
    assert_int_equal(fs_rpcc_call(p->client, "x", NULL, &res, &e, &err), FS_ECORRUPT);
}

static void test_peer_closing_is_an_io_error(void **state)
{
    peer *p = *state;
    say(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"res"); /* half a message, then gone */
    close(p->fd);
    p->fd = -1;
    json_t *res;
    fs_rpcc_error e;
    fs_err err;
    assert_int_equal(fs_rpcc_call(p->client, "x", NULL, &res, &e, &err), FS_EIO);
    assert_non_null(strstr(err.msg, "connection")); /* lost on send or on read */
}

static void test_silent_peer_times_out(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fs_rpcc *c;
    fs_err err;
    assert_int_equal(fs_rpcc_from_fd(&c, sv[0], 100, &err), 0);
    json_t *res;
    fs_rpcc_error e;
    assert_int_equal(fs_rpcc_call(c, "x", NULL, &res, &e, &err), FS_EBUSY);
    assert_non_null(strstr(err.msg, "did not answer"));
    fs_rpcc_free(c);
    close(sv[1]);
}

static void test_connect_errors_say_what_to_do(void **state)
{
    (void)state;
    fs_rpcc *c;
    fs_err err;
    assert_int_equal(fs_rpcc_connect(&c, "/nonexistent/fieldsyncd.sock", 1000, &err), FS_ENOTFOUND);
    assert_null(c);
    assert_non_null(strstr(err.msg, "is the daemon running"));
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(fs_rpcc_connect(&c, longp, 1000, &err), FS_EINVAL);
    fs_rpcc_free(NULL);
}

int main(void)
{
    fs_rpcc_wipe_alloc(); /* as the CLI runs: every test below uses the wiping allocator */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_is_one_json_rpc_line_and_result_returns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notifications_and_stale_answers_are_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_response_fills_code_name_field_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_with_null_id_answers_the_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_is_a_protocol_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_without_result_or_error_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_peer_closing_is_an_io_error, setup, teardown),
        cmocka_unit_test(test_silent_peer_times_out),
        cmocka_unit_test(test_connect_errors_say_what_to_do),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
