/*
 * ui_guard.h: who may talk to the UI bridge (ui_guard.c). The bridge listens on
 * 127.0.0.1, where every local user and every web page the rep's browser
 * opens can reach it, so each request must prove three things before anything
 * else runs:
 *
 *  - Host is 127.0.0.1:PORT or localhost:PORT: a page on another name that
 *    resolves to 127.0.0.1 (DNS rebinding) is refused;
 *  - Origin, when the browser sends one, is this bridge's own origin, and
 *    Sec-Fetch-Site, when sent, says the request comes from the bridge's own
 *    pages or from the rep typing the address: another site, or another
 *    program's page on another local port, cannot drive it;
 *  - it carries the per-start token: as the `token` query parameter of the
 *    entry URL `fieldsync ui` prints (answered with a cookie), then as that
 *    cookie or in an X-Fieldsync-Token header.
 *
 * Pure functions of the request's headers, so they are unit tested and fuzzed
 * without a server.
 */
#ifndef FS_UI_GUARD_H
#define FS_UI_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"

#define FS_UI_TOKEN_BYTES 32
#define FS_UI_TOKEN_HEX (2 * FS_UI_TOKEN_BYTES)

typedef struct fs_ui_guard {
    uint16_t port;
    char token[FS_UI_TOKEN_HEX + 1];
    char cookie_name[32]; /* "fieldsync_ui_PORT": cookies ignore ports, names need not */
} fs_ui_guard;

/* The parts of a request the guard looks at (NULL: header absent). */
typedef struct fs_ui_request {
    const char *method;
    const char *path;
    const char *host;
    const char *origin;
    const char *fetch_site;   /* Sec-Fetch-Site */
    const char *cookie;       /* the whole Cookie header */
    const char *token_header; /* X-Fieldsync-Token */
    const char *token_query;  /* ?token= */
} fs_ui_request;

typedef enum fs_ui_verdict {
    FS_UI_ALLOW,      /* carries the token: go on */
    FS_UI_ENTRY,      /* the entry URL with the right token: answer with the cookie */
    FS_UI_BAD_HOST,   /* Host is not this bridge (DNS rebinding?) */
    FS_UI_BAD_ORIGIN, /* Origin is another site */
    FS_UI_CROSS_SITE, /* Sec-Fetch-Site says another site or port sent it */
    FS_UI_NO_TOKEN,   /* no token at all */
    FS_UI_BAD_TOKEN,  /* a token, but not this start's */
} fs_ui_verdict;

/* A new random token for a bridge listening on port. */
int fs_ui_guard_init(fs_ui_guard *g, uint16_t port, fs_err *err);
/* Wipes the token. */
void fs_ui_guard_clear(fs_ui_guard *g);

fs_ui_verdict fs_ui_guard_check(const fs_ui_guard *g, const fs_ui_request *r);
/* Why a request was refused, for the 403 page and the log (no header values). */
const char *fs_ui_guard_reason(fs_ui_verdict v);

/* The Set-Cookie value that carries the token (HttpOnly, SameSite=Strict). */
int fs_ui_guard_cookie(const fs_ui_guard *g, char *buf, size_t n);
/* The entry URL: http://127.0.0.1:PORT/?token=TOKEN */
int fs_ui_guard_url(const fs_ui_guard *g, char *buf, size_t n);

#endif
