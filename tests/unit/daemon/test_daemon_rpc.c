/*
 * test_daemon_rpc.c: the JSON-RPC layer over a real (plain) store in a temp
 * directory: the envelope errors for every kind of malformed request, each
 * method's success and error paths, the locked state, notifications, and
 * conflicts made by joining a concurrent remote write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fieldsync/log.h"
#include "fieldsync/outbox.h"
#include "rpc.h"

typedef struct fixture {
    char dir[64];
    fs_config cfg;
    fs_daemon d;
    fs_rpc_session session;
    json_t *notes; /* notifications received */
} fixture;

static void capture(void *arg, unsigned topic, const char *method, json_t *params)
{
    fixture *fx = arg;
    json_array_append_new(
        fx->notes, json_pack("{s:i,s:s,s:o}", "topic", topic, "method", method, "params", params));
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/fs-rpc-test-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    fs_config_init(&fx->cfg);
    fx->cfg.data_dir = strdup(fx->dir);
    char path[128];
    snprintf(path, sizeof(path), "%s/test.db", fx->dir);
    fx->cfg.db_file = strdup(path);
    fs_err err = {0};
    if (fs_daemon_init_plain(&fx->d, &fx->cfg, &err) != 0) {
        fprintf(stderr, "store: %s\n", err.msg);
        return -1;
    }
    fx->notes = json_array();
    fx->d.notify = capture;
    fx->d.notify_arg = fx;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fs_daemon_clear(&fx->d);
    fs_config_clear(&fx->cfg);
    json_decref(fx->notes);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

static json_t *call_line(fixture *fx, const char *line)
{
    return fs_rpc_handle_line(&fx->d, &fx->session, line, strlen(line));
}

/* Calls method with params (JSON text) and returns the response. */
static json_t *call(fixture *fx, const char *method, const char *params)
{
    char line[8192];
    snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\",\"params\":%s}",
             method, params);
    json_t *r = call_line(fx, line);
    assert_non_null(r);
    return r;
}

static int error_code(json_t *resp)
{
    json_t *e = json_object_get(resp, "error");
    return e != NULL ? (int)json_integer_value(json_object_get(e, "code")) : 0;
}

static const char *error_field(json_t *resp)
{
    json_t *data = json_object_get(json_object_get(resp, "error"), "data");
    return json_string_value(json_object_get(data, "field"));
}

static void expect_error(fixture *fx, const char *method, const char *params, int code)
{
    json_t *r = call(fx, method, params);
    if (error_code(r) != code) {
        char *s = json_dumps(r, 0);
        fail_msg("%s %s: expected %d, got %s", method, params, code, s);
    }
    json_decref(r);
}

/* The result of a successful call (the caller decrefs the response). */
static json_t *ok(fixture *fx, const char *method, const char *params, json_t **resp)
{
    *resp = call(fx, method, params);
    json_t *res = json_object_get(*resp, "result");
    if (res == NULL) {
        char *s = json_dumps(*resp, 0);
        fail_msg("%s %s failed: %s", method, params, s);
    }
    return res;
}

static void expect_line_error(fixture *fx, const char *line, int code, bool null_id)
{
    json_t *r = call_line(fx, line);
    assert_non_null(r);
    if (error_code(r) != code)
        fail_msg("%s: expected %d, got %d", line, code, error_code(r));
    if (null_id)
        assert_true(json_is_null(json_object_get(r, "id")));
    assert_true(json_is_string(json_object_get(json_object_get(r, "error"), "message")));
    json_decref(r);
}

static void malformed_requests_get_envelope_errors(void **state)
{
    fixture *fx = *state;
    expect_line_error(fx, "garbage", FS_RPC_PARSE_ERROR, true);
    expect_line_error(fx, "{\"jsonrpc\":\"2.0\",", FS_RPC_PARSE_ERROR, true);
    expect_line_error(fx, "{\"a\":1,\"a\":2}", FS_RPC_PARSE_ERROR, true);
    expect_line_error(fx, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}]",
                      FS_RPC_INVALID_REQUEST, true);
    expect_line_error(fx, "42", FS_RPC_INVALID_REQUEST, true);
    expect_line_error(fx, "{\"id\":1,\"method\":\"status\"}", FS_RPC_INVALID_REQUEST, true);
    expect_line_error(fx, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}",
                      FS_RPC_INVALID_REQUEST, true);
    expect_line_error(fx, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"status\"}",
                      FS_RPC_INVALID_REQUEST, true);
    expect_line_error(fx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", FS_RPC_INVALID_REQUEST,
                      true);
    expect_line_error(fx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}",
                      FS_RPC_METHOD_NOT_FOUND, false);
    expect_line_error(fx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":[1]}",
                      FS_RPC_INVALID_PARAMS, false);
    expect_line_error(fx,
                      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"x\":1}}",
                      FS_RPC_INVALID_PARAMS, false);
}

static void ids_are_echoed_and_notifications_get_no_answer(void **state)
{
    fixture *fx = *state;
    json_t *r = call_line(fx, "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"status\"}");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "abc");
    json_decref(r);
    /* no id: no answer, but the put still happens */
    r = call_line(fx, "{\"jsonrpc\":\"2.0\",\"method\":\"record.put\",\"params\":{\"kind\":"
                      "\"account\",\"id\":\"n1\",\"record\":{\"name\":\"Quiet\"}}}");
    assert_null(r);
    json_t *res = ok(fx, "record.get", "{\"kind\":\"account\",\"id\":\"n1\"}", &r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "record"), "name")),
                        "Quiet");
    json_decref(r);
}

static void put_get_list_delete_round_trip(void **state)
{
    fixture *fx = *state;
    json_t *r;
    json_t *res = ok(fx, "record.put",
                     "{\"kind\":\"account\",\"id\":\"a1\",\"record\":{\"name\":\"Acme\",\"tier\":"
                     "\"quoted\",\"website\":\"acme.example\",\"address\":{\"city\":\"Ulm\"}}}",
                     &r);
    assert_true(json_is_true(json_object_get(res, "created")));
    json_decref(r);
    /* a partial update keeps the other fields; null clears one */
    res = ok(fx, "record.put",
             "{\"kind\":\"account\",\"id\":\"a1\",\"record\":{\"tier\":\"contracted\","
             "\"website\":null}}",
             &r);
    assert_true(json_is_false(json_object_get(res, "created")));
    json_t *rec = json_object_get(res, "record");
    assert_string_equal(json_string_value(json_object_get(rec, "name")), "Acme");
    assert_string_equal(json_string_value(json_object_get(rec, "tier")), "contracted");
    assert_null(json_object_get(rec, "website"));
    json_decref(r);
    /* minted id */
    res = ok(fx, "record.put",
             "{\"kind\":\"contact\",\"record\":{\"name\":\"Bea\","
             "\"account_id\":\"a1\"}}",
             &r);
    assert_int_equal(strlen(json_string_value(json_object_get(res, "id"))), FS_STORE_NEW_ID_LEN);
    json_decref(r);
    res = ok(fx, "record.list", "{\"kind\":\"contact\",\"account_id\":\"a1\",\"limit\":10}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "items")), 1);
    json_decref(r);
    res = ok(fx, "record.list", "{\"kind\":\"account\",\"tier\":\"contracted\"}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "items")), 1);
    json_decref(r);
    res = ok(fx, "record.list", "{\"kind\":\"account\",\"tier\":\"target\"}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "items")), 0);
    json_decref(r);
    /* Bea works at a1: the account goes only with her */
    expect_error(fx, "record.delete", "{\"kind\":\"account\",\"id\":\"a1\"}", FS_RPC_HAS_CHILDREN);
    res = ok(fx, "record.delete", "{\"kind\":\"account\",\"id\":\"a1\",\"cascade\":true}", &r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(res, "children_deleted"), "contact")),
        1);
    json_decref(r);
    res = ok(fx, "record.get", "{\"kind\":\"account\",\"id\":\"a1\"}", &r);
    assert_true(json_is_true(json_object_get(res, "deleted")));
    assert_true(json_is_null(json_object_get(res, "record")));
    json_decref(r);
    expect_error(fx, "record.delete", "{\"kind\":\"account\",\"id\":\"a1\"}", FS_RPC_NOT_FOUND);
    res = ok(fx, "outbox.list", "{}", &r); /* a1's three changes wait as one entry */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "counts"), "pending")),
                     2);
    json_decref(r);
}

static void paging_through_a_list_returns_every_record_once(void **state)
{
    fixture *fx = *state;
    json_t *r;
    for (int i = 0; i < 25; i++) {
        char p[256];
        snprintf(p, sizeof(p),
                 "{\"kind\":\"account\",\"id\":\"p%02d\",\"record\":{\"name\":\"N%02d\"}}", i, i);
        ok(fx, "record.put", p, &r);
        json_decref(r);
    }
    int seen = 0;
    char cursor[512] = "";
    for (int page = 0; page < 10; page++) {
        char p[700];
        if (cursor[0])
            snprintf(p, sizeof(p), "{\"kind\":\"account\",\"limit\":10,\"cursor\":\"%s\"}", cursor);
        else
            snprintf(p, sizeof(p), "{\"kind\":\"account\",\"limit\":10}");
        json_t *res = ok(fx, "record.list", p, &r);
        seen += (int)json_array_size(json_object_get(res, "items"));
        json_t *next = json_object_get(res, "next_cursor");
        if (json_is_null(next)) {
            json_decref(r);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(r);
    }
    assert_int_equal(seen, 25);
}

static void record_errors_name_the_parameter(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "record.get", "{\"kind\":\"account\",\"id\":\"missing\"}", FS_RPC_NOT_FOUND);
    expect_error(fx, "record.get", "{\"kind\":\"planet\",\"id\":\"x\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.get", "{\"id\":\"x\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.get", "{\"kind\":\"account\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.get", "{\"kind\":\"account\",\"id\":\"\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.get", "{\"kind\":\"account\",\"id\":5}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.get", "{\"kind\":\"account\",\"id\":\"x\",\"extra\":1}",
                 FS_RPC_INVALID_PARAMS);
    char longid[400];
    memset(longid, 'i', FS_STORE_ID_MAX + 1);
    longid[FS_STORE_ID_MAX + 1] = '\0';
    char p[600];
    snprintf(p, sizeof(p), "{\"kind\":\"account\",\"id\":\"%s\"}", longid);
    expect_error(fx, "record.get", p, FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.put", "{\"kind\":\"account\",\"record\":[]}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.put", "{\"kind\":\"account\"}", FS_RPC_INVALID_PARAMS);
    json_t *r =
        call(fx, "record.put", "{\"kind\":\"visit\",\"record\":{\"next_step_date\":\"soon\"}}");
    assert_int_equal(error_code(r), FS_RPC_INVALID_PARAMS);
    assert_string_equal(error_field(r), "next_step_date");
    json_decref(r);
    expect_error(fx, "record.list", "{\"kind\":\"contact\",\"tier\":\"quoted\"}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.list", "{\"kind\":\"account\",\"account_id\":\"a\"}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.list", "{\"kind\":\"account\",\"limit\":0}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.list", "{\"kind\":\"account\",\"limit\":1001}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.list", "{\"kind\":\"account\",\"order\":\"up\"}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.list", "{\"kind\":\"opportunity\",\"stage\":\"pct_99\"}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.list", "{\"kind\":\"account\",\"cursor\":\"%%garbage%%\"}",
                 FS_RPC_INVALID_PARAMS);
}

static void text_outside_the_record_limits_is_refused_naming_the_field(void **state)
{
    fixture *fx = *state;
    size_t n = FS_RECORD_TEXT_MAX + 1;
    char *line = malloc(n + 200);
    int len = snprintf(line, n + 200,
                       "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"record.put\",\"params\":"
                       "{\"kind\":\"account\",\"record\":{\"notes\":\"");
    memset(line + len, 'n', n);
    snprintf(line + len + n, 100, "\"}}}");
    json_t *r = call_line(fx, line);
    assert_int_equal(error_code(r), FS_RPC_INVALID_RECORD);
    const char *msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    assert_non_null(strstr(msg, "notes is 65537 bytes long, over the limit of 65536"));
    json_decref(r);
    free(line);
}

static void error_messages_that_cut_text_still_encode(void **state)
{
    fixture *fx = *state;
    char method[128] = "x";
    for (int i = 0; i < 33; i++) /* 67 bytes: the message quotes 64, cutting an é in two */
        strcat(method, "\xc3\xa9");
    json_t *r = call(fx, method, "{}");
    assert_int_equal(error_code(r), FS_RPC_METHOD_NOT_FOUND);
    size_t n = 0;
    char *line = fs_rpc_dump_line(r, &n);
    assert_non_null(line); /* an answer that encodes: the connection is not dropped */
    assert_non_null(memmem(line, n, "\xef\xbf\xbd", 3)); /* the cut é, replaced */
    free(line);
    json_decref(r);
}

static void query_methods_check_their_parameters(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "search", "{}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "search", "{\"query\":\"  \"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "search", "{\"query\":\"x\",\"limit\":-1}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "search", "{\"query\":\"x\",\"raw\":\"yes\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "search", "{\"query\":\"\\\"unbalanced\",\"raw\":true}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "followups", "{\"until\":\"tomorrow\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "report.pipeline", "{\"cycle_days\":0}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "report.pipeline", "{\"today\":\"2026-02-31\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "outbox.list", "{\"status\":\"lost\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "outbox.retry", "{}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "outbox.retry", "{\"seq\":0}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "outbox.retry", "{\"seq\":999}", FS_RPC_NOT_FOUND);
    expect_error(fx, "outbox.drop", "{\"seq\":\"1\"}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "outbox.drop", "{\"seq\":999}", FS_RPC_NOT_FOUND);
    expect_error(fx, "sync.now", "{}", FS_RPC_NO_SERVER);
    expect_error(fx, "sync.resync", "{}", FS_RPC_NO_SERVER);
    expect_error(fx, "sync.enroll", "{\"url\":\"http://127.0.0.1:1\",\"code\":\"x\"}",
                 FS_RPC_NO_SERVER);
    expect_error(fx, "sync.status", "{\"verbose\":true}", FS_RPC_INVALID_PARAMS);
    json_t *r;
    assert_string_equal(
        json_string_value(json_object_get(ok(fx, "sync.status", "{}", &r), "state")),
        "unconfigured");
    json_decref(r);
    ok(fx, "record.put",
       "{\"kind\":\"visit\",\"id\":\"v1\",\"record\":{\"account_id\":\"a\",\"outcome\":\"wants "
       "hydraulic presses\",\"next_step\":\"send quote\",\"next_step_date\":\"2026-01-10\"}}",
       &r);
    json_decref(r);
    json_t *res = ok(fx, "search", "{\"query\":\"hydrau\"}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "hits")), 1);
    assert_int_equal(json_integer_value(json_object_get(res, "search_backlog")), 0);
    assert_true(json_is_integer(json_object_get(res, "search_backlog")));
    json_decref(r);
    res = ok(fx, "followups", "{\"until\":\"2026-01-31\"}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "items")), 1);
    json_decref(r);
    res = ok(fx, "followups", "{\"until\":\"2026-01-09\"}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "items")), 0);
    json_decref(r);
    ok(fx, "record.put",
       "{\"kind\":\"opportunity\",\"id\":\"o1\",\"record\":{\"stage\":\"pct_50\",\"amount\":"
       "{\"minor_units\":500000,\"currency\":\"EUR\"},\"stage_entered_date\":\"2025-01-01\"},"
       "\"override\":\"the customer's board agreed on the phone\"}",
       &r);
    json_decref(r);
    res = ok(fx, "report.pipeline", "{\"today\":\"2026-01-01\",\"cycle_days\":28}", &r);
    json_t *row = json_array_get(json_object_get(res, "stages"), 4);
    assert_string_equal(json_string_value(json_object_get(row, "stage")), "pct_50");
    assert_int_equal(json_integer_value(json_object_get(row, "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "stale")), 1);
    json_t *sum = json_array_get(json_object_get(row, "amounts"), 0);
    assert_string_equal(json_string_value(json_object_get(sum, "currency")), "EUR");
    assert_int_equal(json_integer_value(json_object_get(sum, "minor_units")), 500000);
    assert_int_equal(json_array_size(json_object_get(res, "stale")), 1);
    json_decref(r);
    expect_error(fx, "report.team", "{\"cycle_days\":3651}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "report.weekly", "{\"weeks\":0}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "report.weekly", "{\"weeks\":53}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "report.weekly", "{\"today\":\"2026-13-01\"}", FS_RPC_INVALID_PARAMS);
}

/* record.put of an opportunity goes through the sales method's rules: a move
 * that breaks one is its own error, naming the stage; an override is a
 * reason, for a move, on an opportunity. */
static void opportunity_moves_follow_the_pipeline_rules(void **state)
{
    fixture *fx = *state;
    json_t *r = call(fx, "record.put",
                     "{\"kind\":\"opportunity\",\"id\":\"o1\",\"record\":{\"stage\":\"pct_90\"}}");
    assert_int_equal(error_code(r), FS_RPC_PIPELINE_RULE);
    assert_string_equal(error_field(r), "stage");
    json_decref(r);
    expect_error(fx, "record.get", "{\"kind\":\"opportunity\",\"id\":\"o1\"}", FS_RPC_NOT_FOUND);
    expect_error(fx, "record.put",
                 "{\"kind\":\"account\",\"record\":{\"name\":\"A\"},\"override\":\"why\"}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "record.put",
                 "{\"kind\":\"opportunity\",\"record\":{\"stage\":\"pct_90\"},\"override\":\" \"}",
                 FS_RPC_INVALID_PARAMS);
    r = call(fx, "record.put",
             "{\"kind\":\"opportunity\",\"id\":\"o2\",\"record\":{\"title\":\"t\"},"
             "\"override\":\"why\"}");
    assert_int_equal(error_code(r), FS_RPC_INVALID_PARAMS);
    assert_string_equal(error_field(r), "override");
    json_decref(r);
    r = call(fx, "record.put",
             "{\"kind\":\"opportunity\",\"id\":\"o2\",\"record\":{\"signed_date\":\"2026-01-01\","
             "\"prepaid_date\":\"2026-01-03\",\"cooling_off_end_date\":\"2026-01-11\"}}");
    assert_int_equal(error_code(r), FS_RPC_INVALID_PARAMS);
    assert_string_equal(error_field(r), "cooling_off_end_date");
    json_decref(r);
    json_t *res = ok(fx, "record.put",
                     "{\"kind\":\"opportunity\",\"id\":\"o2\",\"record\":{\"stage\":\"pct_90\","
                     "\"signed_date\":\"2026-01-01\",\"prepaid_date\":\"2026-01-03\"}}",
                     &r);
    json_t *rec = json_object_get(res, "record");
    assert_string_equal(json_string_value(json_object_get(rec, "cooling_off_end_date")),
                        "2026-01-13");
    json_t *move = json_array_get(json_object_get(rec, "stage_history"), 0);
    assert_string_equal(json_string_value(json_object_get(move, "stage")), "pct_90");
    assert_string_equal(json_string_value(json_object_get(move, "date")),
                        json_string_value(json_object_get(rec, "stage_entered_date")));
    json_decref(r);
}

static void locked_store_refuses_record_calls_until_unlocked(void **state)
{
    fixture *fx = *state;
    json_t *r;
    ok(fx, "lock", "{}", &r);
    json_decref(r);
    const char *calls[][2] = {
        {"record.get", "{\"kind\":\"account\",\"id\":\"a\"}"},
        {"record.list", "{\"kind\":\"account\"}"},
        {"record.put", "{\"kind\":\"account\",\"record\":{}}"},
        {"record.delete", "{\"kind\":\"account\",\"id\":\"a\"}"},
        {"search", "{\"query\":\"a\"}"},
        {"followups", "{}"},
        {"report.pipeline", "{}"},
        {"report.team", "{}"},
        {"report.weekly", "{}"},
        {"conflicts.list", "{}"},
        {"conflicts.resolve", "{\"kind\":\"account\",\"id\":\"a\",\"field\":\"tier\",\"value\":1}"},
        {"outbox.list", "{}"},
        {"sync.now", "{}"},
        {"change_passphrase", "{\"old\":\"a\",\"new\":\"b\"}"},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        expect_error(fx, calls[i][0], calls[i][1], FS_RPC_LOCKED);
    expect_error(fx, "lock", "{}", FS_RPC_INVALID_STATE);
    json_t *res = ok(fx, "status", "{}", &r);
    assert_string_equal(json_string_value(json_object_get(res, "state")), "locked");
    assert_null(json_object_get(res, "replica"));
    json_decref(r);
    ok(fx, "unlock", "{}", &r);
    json_decref(r);
    expect_error(fx, "unlock", "{}", FS_RPC_INVALID_STATE);
    expect_error(fx, "init", "{}", FS_RPC_ALREADY_EXISTS);
    expect_error(fx, "unlock", "{\"passphrase\":\"\"}", FS_RPC_INVALID_PARAMS);
    /* plain store: no passphrase to change */
    expect_error(fx, "change_passphrase", "{\"old\":\"a\",\"new\":\"b\"}", FS_RPC_INVALID_STATE);
    assert_true(json_array_size(fx->notes) >= 2); /* state.changed twice */
}

static void subscriptions_follow_topics(void **state)
{
    fixture *fx = *state;
    json_t *r;
    json_t *res = ok(fx, "subscribe", "{\"topics\":[\"record.changed\"]}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "topics")), 1);
    assert_int_equal(fx->session.topics, FS_TOPIC_RECORD);
    json_decref(r);
    expect_error(fx, "subscribe", "{\"topics\":[\"weather\"]}", FS_RPC_INVALID_PARAMS);
    expect_error(fx, "subscribe", "{\"topics\":\"record.changed\"}", FS_RPC_INVALID_PARAMS);
    res = ok(fx, "subscribe", "{}", &r);
    assert_int_equal(fx->session.topics, FS_TOPIC_ALL);
    json_decref(r);
    res = ok(fx, "unsubscribe", "{\"topics\":[\"sync.progress\"]}", &r);
    assert_int_equal(fx->session.topics, FS_TOPIC_RECORD | FS_TOPIC_STATE);
    json_decref(r);
    size_t before = json_array_size(fx->notes);
    ok(fx, "record.put", "{\"kind\":\"account\",\"id\":\"s1\",\"record\":{\"name\":\"S\"}}", &r);
    json_decref(r);
    assert_int_equal(json_array_size(fx->notes), before + 1);
    json_t *note = json_array_get(fx->notes, before);
    assert_string_equal(json_string_value(json_object_get(note, "method")), "record.changed");
    json_t *params = json_object_get(note, "params");
    assert_string_equal(json_string_value(json_object_get(params, "id")), "s1");
    assert_string_equal(json_string_value(json_object_get(params, "origin")), "local");
    /* a failed put notifies nobody */
    expect_error(fx, "record.put", "{\"kind\":\"account\",\"record\":{\"bad\":1}}",
                 FS_RPC_INVALID_PARAMS);
    assert_int_equal(json_array_size(fx->notes), before + 1);
}

/* Makes field tier of account c1 conflict: a remote replica's write concurrent
 * with a local one, joined in as a pull would. */
static void make_conflict(fixture *fx)
{
    json_t *r;
    ok(fx, "record.put",
       "{\"kind\":\"account\",\"id\":\"c1\",\"record\":{\"name\":\"C\","
       "\"tier\":\"prospect\"}}",
       &r);
    json_decref(r);
    fs_state *remote = NULL;
    fs_err err = {0};
    assert_int_equal(
        fs_store_get(fx->d.store, FIELDSYNC__RECORD_KIND__ACCOUNT, "c1", &remote, NULL, &err), 0);
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.has_tier = 1;
    a.tier = FIELDSYNC__ACCOUNT__TIER__QUOTED;
    assert_int_equal(fs_record_write_msg(remote, 0xaaULL, fs_record_hlc(remote) + (1u << 16),
                                         &a.base, NULL, 0, &err),
                     0);
    ok(fx, "record.put", "{\"kind\":\"account\",\"id\":\"c1\",\"record\":{\"tier\":\"target\"}}",
       &r);
    json_decref(r);
    fs_state *states[1] = {remote};
    assert_int_equal(fs_store_apply_remote(fx->d.store, states, 1, NULL, 0, 1, NULL, &err), 0);
    fs_state_free(remote);
}

static void conflicts_are_listed_and_resolved_by_sibling(void **state)
{
    fixture *fx = *state;
    make_conflict(fx);
    json_t *r;
    json_t *res = ok(fx, "conflicts.list", "{}", &r);
    json_t *recs = json_object_get(res, "records");
    assert_int_equal(json_array_size(recs), 1);
    /* both writes also set alive = true: that field lists two siblings too */
    json_t *fields = json_object_get(json_array_get(recs, 0), "fields"), *field = NULL;
    for (size_t i = 0; i < json_array_size(fields); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(fields, i), "field")),
                   "tier") == 0)
            field = json_array_get(fields, i);
    assert_non_null(field);
    json_t *sibs = json_object_get(field, "siblings");
    assert_int_equal(json_array_size(sibs), 2);
    int visible = 0, quoted_at = -1;
    for (size_t i = 0; i < 2; i++) {
        json_t *s = json_array_get(sibs, i);
        visible += json_is_true(json_object_get(s, "visible"));
        if (strcmp(json_string_value(json_object_get(s, "value")), "quoted") == 0)
            quoted_at = (int)i;
        assert_int_equal(strlen(json_string_value(json_object_get(s, "replica"))), 16);
    }
    assert_int_equal(visible, 1);
    assert_true(quoted_at >= 0);
    json_decref(r);
    res = ok(fx, "record.get", "{\"kind\":\"account\",\"id\":\"c1\"}", &r);
    json_t *names = json_object_get(res, "conflicts");
    bool has_tier = false;
    for (size_t i = 0; i < json_array_size(names); i++)
        has_tier = has_tier || strcmp(json_string_value(json_array_get(names, i)), "tier") == 0;
    assert_true(has_tier);
    json_decref(r);
    expect_error(fx, "conflicts.resolve",
                 "{\"kind\":\"account\",\"id\":\"c1\",\"field\":\"name\",\"value\":\"x\"}",
                 FS_RPC_NOT_FOUND);
    expect_error(fx, "conflicts.resolve",
                 "{\"kind\":\"account\",\"id\":\"c1\",\"field\":\"tier\",\"sibling\":2}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "conflicts.resolve", "{\"kind\":\"account\",\"id\":\"c1\",\"field\":\"tier\"}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "conflicts.resolve",
                 "{\"kind\":\"account\",\"id\":\"c1\",\"field\":\"tier\",\"value\":\"gold\"}",
                 FS_RPC_INVALID_PARAMS);
    expect_error(fx, "conflicts.resolve",
                 "{\"kind\":\"account\",\"id\":\"nope\",\"field\":\"tier\",\"value\":\"quoted\"}",
                 FS_RPC_NOT_FOUND);
    char p[256];
    snprintf(p, sizeof(p), "{\"kind\":\"account\",\"id\":\"c1\",\"field\":\"tier\",\"sibling\":%d}",
             quoted_at);
    res = ok(fx, "conflicts.resolve", p, &r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "record"), "tier")),
                        "quoted");
    assert_int_equal(json_array_size(json_object_get(res, "conflicts")), 0);
    json_decref(r);
    res = ok(fx, "conflicts.list", "{}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "records")), 0);
    json_decref(r);
}

static void conflicts_are_resolved_by_value(void **state)
{
    fixture *fx = *state;
    make_conflict(fx);
    json_t *r;
    json_t *res = ok(fx, "conflicts.resolve",
                     "{\"kind\":\"account\",\"id\":\"c1\",\"field\":\"tier\",\"value\":"
                     "\"contracted\"}",
                     &r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "record"), "tier")),
                        "contracted");
    assert_int_equal(json_array_size(json_object_get(res, "conflicts")), 0);
    json_decref(r);
}

/* Takes the whole outbox and has the "server" refuse every item. */
static void refuse_all(fixture *fx)
{
    fs_outbox_batch batch = {0};
    fs_err err = {0};
    assert_int_equal(fs_outbox_take(fx->d.store, 100, &batch, &err), 0);
    assert_true(batch.n > 0);
    fs_outbox_result res[100];
    for (size_t i = 0; i < batch.n; i++)
        res[i] = (fs_outbox_result){.joined = NULL, .reason = 1, .message = "not yours"};
    assert_int_equal(fs_outbox_complete(fx->d.store, &batch, res, batch.n, &err), 0);
    fs_outbox_batch_clear(&batch);
}

static void refused_entries_are_listed_retried_and_dropped(void **state)
{
    fixture *fx = *state;
    json_t *r;
    ok(fx, "record.put", "{\"kind\":\"account\",\"id\":\"r1\",\"record\":{\"name\":\"R\"}}", &r);
    json_decref(r);
    refuse_all(fx);
    json_t *res = ok(fx, "outbox.list", "{\"status\":\"refused\"}", &r);
    json_t *entry = json_array_get(json_object_get(res, "entries"), 0);
    assert_string_equal(json_string_value(json_object_get(entry, "status")), "refused");
    assert_string_equal(json_string_value(json_object_get(entry, "reason")), "not_your_territory");
    assert_string_equal(json_string_value(json_object_get(entry, "message")), "not yours");
    assert_string_equal(json_string_value(json_object_get(entry, "id")), "r1");
    json_int_t seq = json_integer_value(json_object_get(entry, "seq"));
    json_decref(r);
    char p[64];
    snprintf(p, sizeof(p), "{\"seq\":%lld}", (long long)seq);
    ok(fx, "outbox.retry", p, &r);
    json_decref(r);
    res = ok(fx, "outbox.list", "{}", &r);
    json_t *counts = json_object_get(res, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "pending")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "refused")), 0);
    json_decref(r);
    expect_error(fx, "outbox.retry", p, FS_RPC_NOT_FOUND); /* pending now, not refused */
    refuse_all(fx);
    res = ok(fx, "outbox.list", "{\"status\":\"refused\"}", &r);
    seq = json_integer_value(
        json_object_get(json_array_get(json_object_get(res, "entries"), 0), "seq"));
    json_decref(r);
    snprintf(p, sizeof(p), "{\"seq\":%lld}", (long long)seq);
    ok(fx, "outbox.drop", p, &r);
    json_decref(r);
    res = ok(fx, "outbox.list", "{}", &r);
    assert_int_equal(json_array_size(json_object_get(res, "entries")), 0);
    json_decref(r);
    res = ok(fx, "record.get", "{\"kind\":\"account\",\"id\":\"r1\"}", &r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "record"), "name")),
                        "R"); /* dropping an entry keeps the local change */
    json_decref(r);
}

int main(void)
{
    fs_log_set_level(FS_LOG_ERROR);
    fs_rpc_harden_json(); /* the daemon's allocator, so sanitizers check it too */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(malformed_requests_get_envelope_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(ids_are_echoed_and_notifications_get_no_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(put_get_list_delete_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(paging_through_a_list_returns_every_record_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(record_errors_name_the_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(text_outside_the_record_limits_is_refused_naming_the_field,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(error_messages_that_cut_text_still_encode, setup, teardown),
        cmocka_unit_test_setup_teardown(query_methods_check_their_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(opportunity_moves_follow_the_pipeline_rules, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(locked_store_refuses_record_calls_until_unlocked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(subscriptions_follow_topics, setup, teardown),
        cmocka_unit_test_setup_teardown(conflicts_are_listed_and_resolved_by_sibling, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(conflicts_are_resolved_by_value, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_entries_are_listed_retried_and_dropped, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
