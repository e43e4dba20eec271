/*
 * ui_api.c: POST /api/call (see ui_api.h): decode the page's request, check
 * it against the allowlist, make the call with the CLI's JSON-RPC client
 * (daemon/cli/rpc_client.c), and shape the answer for the page.
 */
#include "ui_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_client.h"

/* What the pages call; docs/ui.md lists the same. */
static const char *const allowed[] = {
    "status",
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
    "sync.status",
};

bool fs_ui_api_allowed(const char *method)
{
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(method, allowed[i]) == 0)
            return true;
    return false;
}

int fs_ui_api_parse(const char *body, size_t len, json_t **req, const char **method,
                    json_t **params, fs_err *err)
{
    *req = NULL;
    *method = NULL;
    *params = NULL;
    json_error_t jerr;
    json_t *r = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(r)) {
        json_decref(r);
        return fs_err_set(err, FS_EINVAL,
                          "the request is not a JSON object like {\"method\": ..., \"params\": "
                          "{...}}");
    }
    const char *key;
    json_t *v;
    json_object_foreach(r, key, v)
    {
        if (strcmp(key, "method") != 0 && strcmp(key, "params") != 0) {
            json_decref(r);
            return fs_err_set(err, FS_EINVAL, "unknown key in the request (only method, params)");
        }
    }
    const char *m = json_string_value(json_object_get(r, "method"));
    json_t *p = json_object_get(r, "params");
    if (m == NULL || (p != NULL && !json_is_object(p))) {
        json_decref(r);
        return fs_err_set(err, FS_EINVAL,
                          "the request needs a method (string) and params, when "
                          "given, must be an object");
    }
    *req = r;
    *method = m;
    *params = p;
    return 0;
}

void fs_ui_answer_clear(fs_ui_answer *a)
{
    if (a->body != NULL)
        explicit_bzero(a->body, a->len);
    free(a->body);
    a->body = NULL;
    a->len = 0;
}

/* Dumps v (stolen) into a->body: plain malloc, so the HTTP layer frees it. */
static int answer_json(fs_ui_answer *a, unsigned status, json_t *v)
{
    a->status = status;
    a->body = NULL;
    a->len = 0;
    size_t n = v != NULL ? json_dumpb(v, NULL, 0, JSON_COMPACT) : 0;
    char *buf = n > 0 ? malloc(n) : NULL;
    if (buf == NULL || json_dumpb(v, buf, n, JSON_COMPACT) != n) {
        free(buf);
        json_decref(v);
        return FS_ENOMEM;
    }
    json_decref(v);
    a->body = buf;
    a->len = n;
    return 0;
}

int fs_ui_api_error(fs_ui_answer *a, unsigned status, const char *name, const char *message)
{
    return answer_json(a, status,
                       json_pack("{s:{s:s, s:s}}", "error", "name", name, "message", message));
}

static int daemon_error(fs_ui_answer *a, const fs_rpcc_error *e)
{
    json_t *err = json_pack("{s:i, s:s, s:s}", "code", e->code, "name",
                            e->name[0] ? e->name : "error", "message", e->message);
    if (err != NULL && e->field[0] != '\0')
        json_object_set_new(err, "field", json_string(e->field));
    return answer_json(a, 200, err ? json_pack("{s:o}", "error", err) : NULL);
}

int fs_ui_api_call(const char *socket_path, int timeout_ms, const char *body, size_t len,
                   fs_ui_answer *a)
{
    json_t *req, *params;
    const char *method;
    fs_err err = {0};
    if (fs_ui_api_parse(body, len, &req, &method, &params, &err) != 0)
        return fs_ui_api_error(a, 400, "bad_request", fs_err_message(&err));
    if (!fs_ui_api_allowed(method)) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "the UI does not pass %.64s to the daemon: use the fieldsync "
                 "command line for it",
                 method);
        json_decref(req);
        return fs_ui_api_error(a, 403, "not_allowed", msg);
    }
    fs_rpcc *c = NULL;
    json_t *result = NULL;
    fs_rpcc_error derr;
    int rc = fs_rpcc_connect(&c, socket_path, timeout_ms, &err);
    if (rc == 0)
        rc = fs_rpcc_call(c, method, params ? json_incref(params) : NULL, &result, &derr, &err);
    fs_rpcc_free(c);
    json_decref(req); /* may hold a passphrase: jansson wipes it (fs_rpcc_wipe_alloc) */
    if (rc == 1)
        return daemon_error(a, &derr);
    if (rc != 0)
        return fs_ui_api_error(a, 502, "unreachable", fs_err_message(&err));
    return answer_json(a, 200, json_pack("{s:o}", "result", result));
}
