/*
 * fuzz_ui_request.c: bytes -> the UI bridge's request checks and body decoder
 * (daemon/ui/ui_guard.c, ui_api.c). The input's lines are the method, path,
 * Host, Origin, Sec-Fetch-Site, Cookie, X-Fieldsync-Token and ?token= of a
 * request (a line "-" or a missing line: header absent); the whole input is
 * also a body.
 * Beyond not crashing: a request is only let through when it names this
 * bridge as its Host and carries the token where the verdict says.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ui_api.h"
#include "ui_guard.h"

#define NFIELDS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fs_ui_guard guard;

static void check_verdict(const fs_ui_request *r, fs_ui_verdict v)
{
    if (v != FS_UI_ALLOW && v != FS_UI_ENTRY)
        return;
    if (r->host == NULL ||
        (strcasecmp(r->host, "127.0.0.1:8080") != 0 && strcasecmp(r->host, "localhost:8080") != 0))
        abort();
    if (v == FS_UI_ENTRY && (r->token_query == NULL || strcmp(r->token_query, guard.token) != 0))
        abort();
    if (v == FS_UI_ALLOW &&
        !(r->token_header != NULL && strcmp(r->token_header, guard.token) == 0) &&
        !(r->cookie != NULL && strstr(r->cookie, guard.token) != NULL))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (guard.port == 0 && fs_ui_guard_init(&guard, 8080, NULL) != 0)
        abort();
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    /* "@TOKEN@" stands for this run's token, so seeds can carry the right one */
    const char *fields[NFIELDS] = {0};
    char *p = copy;
    for (size_t i = 0; i < NFIELDS && p != NULL; i++) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        fields[i] = strcmp(p, "@TOKEN@") == 0 ? guard.token : strcmp(p, "-") == 0 ? NULL : p;
        p = nl != NULL ? nl + 1 : NULL;
    }
    fs_ui_request r = {fields[0], fields[1], fields[2], fields[3],
                       fields[4], fields[5], fields[6], fields[7]};
    fs_ui_verdict v = fs_ui_guard_check(&guard, &r);
    check_verdict(&r, v);
    if (fs_ui_guard_reason(v) == NULL)
        abort();
    free(copy);

    json_t *req, *params;
    const char *method;
    fs_err err = {0};
    int rc = fs_ui_api_parse((const char *)data, size, &req, &method, &params, &err);
    if (rc == 0) {
        if (method == NULL || (params != NULL && !json_is_object(params)))
            abort();
        (void)fs_ui_api_allowed(method);
        json_decref(req);
    } else if (rc != FS_EINVAL || err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
