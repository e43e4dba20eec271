/*
 * test_ui_api.c: what the page may ask of the daemon through the bridge
 * (daemon/ui/ui_api.c): the allowlist, the request decoder's refusals, and
 * the answers for a refused method and an unreachable daemon (neither ever
 * reaches a daemon). The calls that do are tested against the real fieldsyncd
 * in tests/integration/ui/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ui_api.h"

static void test_allowlist_holds_what_the_pages_use(void **state)
{
    (void)state;
    static const char *const yes[] = {"status",
                                      "unlock",
                                      "lock",
                                      "record.get",
                                      "record.list",
                                      "record.put",
                                      "search",
                                      "followups",
                                      "report.pipeline",
                                      "conflicts.list",
                                      "conflicts.resolve",
                                      "outbox.list",
                                      "outbox.retry",
                                      "outbox.drop",
                                      "sync.now",
                                      "sync.status"};
    static const char *const no[] = {"init",
                                     "change_passphrase",
                                     "sync.enroll",
                                     "sync.forget",
                                     "sync.resync",
                                     "record.delete",
                                     "subscribe",
                                     "unsubscribe",
                                     "",
                                     "status ",
                                     "STATUS",
                                     "record.put.x"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(fs_ui_api_allowed(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(fs_ui_api_allowed(no[i]));
}

static void test_parse_takes_method_and_params(void **state)
{
    (void)state;
    static const char body[] = "{\"method\":\"record.get\",\"params\":{\"kind\":\"account\"}}";
    json_t *req, *params;
    const char *method;
    assert_int_equal(fs_ui_api_parse(body, strlen(body), &req, &method, &params, NULL), 0);
    assert_string_equal(method, "record.get");
    assert_string_equal(json_string_value(json_object_get(params, "kind")), "account");
    json_decref(req);
    assert_int_equal(fs_ui_api_parse("{\"method\":\"status\"}", 19, &req, &method, &params, NULL),
                     0);
    assert_null(params);
    json_decref(req);
}

static void test_parse_refuses_what_is_not_a_request(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "\"status\"",
        "{}",
        "{\"method\":1}",
        "{\"method\":null}",
        "{\"method\":\"status\",\"params\":[]}",
        "{\"method\":\"status\",\"params\":\"x\"}",
        "{\"method\":\"status\",\"id\":1}",
        "{\"method\":\"status\",\"method\":\"lock\"}",
        "{\"method\":\"status\"} trailing",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *req = (json_t *)1, *params;
        const char *method;
        fs_err err = {0};
        assert_int_equal(fs_ui_api_parse(bad[i], strlen(bad[i]), &req, &method, &params, &err),
                         FS_EINVAL);
        assert_null(req);
        assert_true(err.msg[0] != '\0');
    }
    /* a NUL inside the body is not JSON text */
    json_t *req, *params;
    const char *method;
    assert_int_equal(fs_ui_api_parse("{\"method\":\"st\0tus\"}", 19, &req, &method, &params, NULL),
                     FS_EINVAL);
}

static void check_answer(const fs_ui_answer *a, unsigned status, const char *name)
{
    assert_int_equal(a->status, status);
    json_t *v = json_loadb(a->body, a->len, 0, NULL);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"), "name")),
                        name);
    json_decref(v);
}

static void test_answers_without_a_daemon(void **state)
{
    (void)state;
    fs_ui_answer a = {0};
    static const char off_list[] = "{\"method\":\"sync.forget\"}";
    /* the socket does not exist: a refused method must not even try it */
    assert_int_equal(
        fs_ui_api_call("/nonexistent/fieldsyncd.sock", 1000, off_list, strlen(off_list), &a), 0);
    check_answer(&a, 403, "not_allowed");
    fs_ui_answer_clear(&a);
    assert_int_equal(fs_ui_api_call("/nonexistent/fieldsyncd.sock", 1000, "{", 1, &a), 0);
    check_answer(&a, 400, "bad_request");
    fs_ui_answer_clear(&a);
    static const char status[] = "{\"method\":\"status\"}";
    assert_int_equal(
        fs_ui_api_call("/nonexistent/fieldsyncd.sock", 1000, status, strlen(status), &a), 0);
    check_answer(&a, 502, "unreachable");
    assert_non_null(strstr(a.body, "cannot reach fieldsyncd"));
    fs_ui_answer_clear(&a);
    assert_null(a.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowlist_holds_what_the_pages_use),
        cmocka_unit_test(test_parse_takes_method_and_params),
        cmocka_unit_test(test_parse_refuses_what_is_not_a_request),
        cmocka_unit_test(test_answers_without_a_daemon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
