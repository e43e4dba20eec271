/*
 * rpc.c: the JSON-RPC 2.0 envelope (see rpc.h): parse one line, check the
 * request object, find the method, run it and build the response; plus the
 * parameter helpers every method uses, so that a missing or ill-typed parameter
 * is reported the same way everywhere.
 */
#include "rpc.h"

#include <sodium.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldsync/log.h"
#include "json_record.h"

const char *fs_rpc_code_name(int code)
{
    switch (code) {
#define FS_RPC_CASE(name, value, text)                                                             \
    case value:                                                                                    \
        return text;
        FS_RPC_ERROR_TABLE(FS_RPC_CASE)
#undef FS_RPC_CASE
    }
    return "unknown";
}

int fs_rpc_fail(fs_rpc_err *e, int code, const char *field, const char *fmt, ...)
{
    e->code = code;
    snprintf(e->field, sizeof(e->field), "%s", field != NULL ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

static int code_of(int fs_code)
{
    switch (fs_code) {
    case FS_EINVAL:
    case FS_ETOOBIG:
        return FS_RPC_INVALID_RECORD;
    case FS_EAUTH:
        return FS_RPC_AUTH_FAILED;
    case FS_ENOTFOUND:
        return FS_RPC_NOT_FOUND;
    case FS_EEXIST:
        return FS_RPC_ALREADY_EXISTS;
    case FS_EBUSY:
        return FS_RPC_BUSY;
    case FS_ELOCKED:
        return FS_RPC_LOCKED;
    case FS_ESTATE:
    case FS_ECONFLICT:
        return FS_RPC_INVALID_STATE;
    case FS_ENOMEM:
        return FS_RPC_INTERNAL;
    default:
        return FS_RPC_STORE_ERROR;
    }
}

int fs_rpc_fail_fs(fs_rpc_err *e, const fs_err *err)
{
    return fs_rpc_fail(e, code_of(err->code), NULL, "%s", fs_err_message(err));
}

/* ------------------------------------------------------------------------- */
/* jansson's memory is wiped on free */

/* Each block carries its size in a header of max_align_t's alignment, so the
 * free function, which jansson calls without a size, can wipe the whole block. */
#define FS_RPC_HDR (alignof(max_align_t) > sizeof(size_t) ? alignof(max_align_t) : sizeof(size_t))

static void *wiping_malloc(size_t n)
{
    if (n > SIZE_MAX - FS_RPC_HDR)
        return NULL;
    unsigned char *p = malloc(n + FS_RPC_HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    return p + FS_RPC_HDR;
}

static void wiping_free(void *q)
{
    if (q == NULL)
        return;
    unsigned char *p = (unsigned char *)q - FS_RPC_HDR;
    size_t n;
    memcpy(&n, p, sizeof(n));
    sodium_memzero(q, n);
    free(p);
}

void fs_rpc_harden_json(void)
{
    json_set_alloc_funcs(wiping_malloc, wiping_free);
}

/* ------------------------------------------------------------------------- */
/* Responses */

static json_t *envelope(json_t *id)
{
    json_t *r = json_object();
    if (r == NULL)
        return NULL;
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set(r, "id", id != NULL ? id : json_null());
    return r;
}

/* Messages and field names may quote what a client or the store sent, cut at
 * any byte: they go out through fs_json_text. */
json_t *fs_rpc_error_response(json_t *id, const fs_rpc_err *e)
{
    json_t *r = envelope(id);
    json_t *data = json_pack("{s:s}", "name", fs_rpc_code_name(e->code));
    if (data != NULL && e->field[0] != '\0')
        json_object_set_new(data, "field", fs_json_text(e->field));
    json_t *err =
        json_pack("{s:i,s:o,s:o*}", "code", e->code, "message", fs_json_text(e->msg), "data", data);
    if (r == NULL || err == NULL) {
        json_decref(r);
        json_decref(err);
        return NULL;
    }
    json_object_set_new(r, "error", err);
    return r;
}

char *fs_rpc_dump_line(const json_t *msg, size_t *len)
{
    size_t n = json_dumpb(msg, NULL, 0, JSON_COMPACT);
    if (n == 0)
        return NULL;
    char *buf = malloc(n + 1);
    if (buf == NULL)
        return NULL;
    if (json_dumpb(msg, buf, n, JSON_COMPACT) != n) {
        free(buf);
        return NULL;
    }
    buf[n] = '\n';
    *len = n + 1;
    return buf;
}

/* ------------------------------------------------------------------------- */
/* Dispatch */

static const fs_rpc_method *find_method(const char *name)
{
    const fs_rpc_method *tables[] = {fs_rpc_methods_admin,     fs_rpc_methods_record,
                                     fs_rpc_methods_query,     fs_rpc_methods_report,
                                     fs_rpc_methods_conflicts, fs_rpc_methods_sync};
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const fs_rpc_method *m = tables[t]; m->name != NULL; m++)
            if (strcmp(m->name, name) == 0)
                return m;
    return NULL;
}

/* Passphrases arrived in jansson's ordinary memory: overwrite them once used. */
static void wipe_strings(json_t *params)
{
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        if (json_is_string(v)) {
            volatile char *p = (volatile char *)json_string_value(v);
            for (size_t i = 0, n = json_string_length(v); i < n; i++)
                p[i] = 0;
        }
    }
}

static bool valid_id(json_t *id)
{
    return id == NULL || json_is_string(id) || json_is_integer(id) || json_is_null(id) ||
           json_is_real(id);
}

static int check_envelope(json_t *req, const fs_rpc_method **method, fs_rpc_err *e)
{
    if (!json_is_object(req))
        return fs_rpc_fail(e, FS_RPC_INVALID_REQUEST, NULL,
                           json_is_array(req) ? "batches are not supported: send one request "
                                                "object per line"
                                              : "a request must be a JSON object");
    json_t *v = json_object_get(req, "jsonrpc");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_REQUEST, "jsonrpc", "\"jsonrpc\" must be \"2.0\"");
    if (!valid_id(json_object_get(req, "id")))
        return fs_rpc_fail(e, FS_RPC_INVALID_REQUEST, "id",
                           "\"id\" must be a string, a number or null");
    json_t *m = json_object_get(req, "method");
    if (!json_is_string(m))
        return fs_rpc_fail(e, FS_RPC_INVALID_REQUEST, "method", "\"method\" must be a string");
    json_t *params = json_object_get(req, "params");
    *method = find_method(json_string_value(m));
    if (*method == NULL)
        return fs_rpc_fail(e, FS_RPC_METHOD_NOT_FOUND, "method",
                           "no method \"%.64s\" (see docs/socket-api.md)", json_string_value(m));
    if (params != NULL && !json_is_object(params) && !json_is_null(params))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "params",
                           "\"params\" must be an object (named parameters)");
    return 0;
}

json_t *fs_rpc_handle_line(fs_daemon *d, fs_rpc_session *s, const char *line, size_t len)
{
    fs_rpc_err e = {0};
    json_error_t jerr;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (req == NULL) {
        fs_rpc_fail(&e, FS_RPC_PARSE_ERROR, NULL, "not valid JSON: %s (column %d)", jerr.text,
                    jerr.column);
        return fs_rpc_error_response(NULL, &e);
    }
    const fs_rpc_method *method = NULL;
    json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
    json_t *resp = NULL, *result = NULL;
    if (check_envelope(req, &method, &e) != 0) {
        resp = fs_rpc_error_response(e.code == FS_RPC_INVALID_REQUEST ? NULL : id, &e);
        goto done;
    }
    json_t *params = json_object_get(req, "params");
    json_t *empty = NULL;
    if (params == NULL || json_is_null(params))
        params = empty = json_object();
    int rc = params != NULL ? method->fn(d, s, params, &result, &e)
                            : fs_rpc_fail(&e, FS_RPC_INTERNAL, NULL, "out of memory");
    if (method->secret_params && params != NULL)
        wipe_strings(params);
    json_decref(empty);
    fs_log(FS_LOG_DEBUG, "call %s: %s", method->name, rc == 0 ? "ok" : fs_rpc_code_name(e.code));
    if (id == NULL)
        goto done; /* a notification: no answer */
    if (rc == 0 && result != NULL) {
        resp = envelope(id);
        if (resp != NULL)
            json_object_set_new(resp, "result", result);
        result = NULL;
    } else {
        if (rc == 0)
            fs_rpc_fail(&e, FS_RPC_INTERNAL, NULL, "out of memory building the result");
        resp = fs_rpc_error_response(id, &e);
    }
done:
    json_decref(result);
    json_decref(req);
    return resp;
}

/* ------------------------------------------------------------------------- */
/* Parameter helpers */

int fs_rpc_params_check(json_t *params, const char *const *allowed, fs_rpc_err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok)
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "unknown parameter \"%.64s\"", key);
    }
    return 0;
}

int fs_rpc_param_string(json_t *params, const char *key, bool required, const char **out,
                        fs_rpc_err *e)
{
    json_t *v = json_object_get(params, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "missing parameter \"%s\"", key);
        return 0;
    }
    if (!json_is_string(v))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "parameter \"%s\" must be a string", key);
    if (memchr(json_string_value(v), '\0', json_string_length(v)) != NULL)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "parameter \"%s\" contains a NUL byte",
                           key);
    *out = json_string_value(v);
    return 0;
}

int fs_rpc_param_int(json_t *params, const char *key, long long lo, long long hi, long long *out,
                     fs_rpc_err *e)
{
    json_t *v = json_object_get(params, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key,
                           "parameter \"%s\" must be an integer from %lld to %lld", key, lo, hi);
    *out = json_integer_value(v);
    return 0;
}

int fs_rpc_param_bool(json_t *params, const char *key, bool *out, fs_rpc_err *e)
{
    json_t *v = json_object_get(params, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, key, "parameter \"%s\" must be true or false",
                           key);
    *out = json_is_true(v);
    return 0;
}

int fs_rpc_param_kind(json_t *params, fs_kind *kind, fs_rpc_err *e)
{
    const char *name;
    if (fs_rpc_param_string(params, "kind", true, &name, e) != 0)
        return -1;
    *kind = fs_kind_from_name(name);
    if (*kind == 0)
        return fs_rpc_fail(e, FS_RPC_INVALID_PARAMS, "kind",
                           "unknown kind \"%.32s\": use account, contact, visit, opportunity or "
                           "transaction",
                           name);
    return 0;
}

int fs_rpc_need_store(fs_daemon *d, fs_store **st, fs_rpc_err *e)
{
    if (d->state == FS_DAEMON_UNINITIALIZED)
        return fs_rpc_fail(e, FS_RPC_NOT_INITIALIZED, NULL,
                           "there is no store yet: create it with init");
    if (d->store == NULL)
        return fs_rpc_fail(e, FS_RPC_LOCKED, NULL,
                           "the store is locked: unlock it with your passphrase first");
    *st = d->store;
    return 0;
}

int fs_rpc_need_writable(fs_daemon *d, fs_store **st, fs_rpc_err *e)
{
    uint64_t read_only = 0;
    fs_err err = {0};
    if (fs_rpc_need_store(d, st, e) != 0)
        return -1;
    if (fs_store_meta_get_u64(*st, FS_META_READ_ONLY, &read_only, &err) != 0)
        return fs_rpc_fail_fs(e, &err);
    if (read_only)
        return fs_rpc_fail(e, FS_RPC_READ_ONLY, NULL,
                           "this device reads only: its user is a manager, whose changes the "
                           "server refuses (the team's records are shown as the server has them)");
    return 0;
}
