/*
 * ui_guard.c: the UI bridge's request checks (see ui_guard.h). The order is
 * deliberate: Host first (a rebinding page must learn nothing, not even that a
 * token is missing), then Origin and Sec-Fetch-Site, then the token. Tokens
 * are compared in constant time.
 */
#include "ui_guard.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

int fs_ui_guard_init(fs_ui_guard *g, uint16_t port, fs_err *err)
{
    unsigned char raw[FS_UI_TOKEN_BYTES];
    memset(g, 0, sizeof(*g));
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return fs_err_set(err, FS_EIO, "cannot draw a random token: %s", strerror(errno));
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        g->token[2 * i] = hex[raw[i] >> 4];
        g->token[2 * i + 1] = hex[raw[i] & 15];
    }
    explicit_bzero(raw, sizeof(raw));
    g->port = port;
    snprintf(g->cookie_name, sizeof(g->cookie_name), "fieldsync_ui_%u", (unsigned)port);
    return 0;
}

void fs_ui_guard_clear(fs_ui_guard *g)
{
    explicit_bzero(g->token, sizeof(g->token));
}

/* s is exactly "NAME:PORT" for one of the bridge's two names. */
static bool is_own_host(const fs_ui_guard *g, const char *s, size_t len)
{
    static const char *const names[] = {"127.0.0.1", "localhost"};
    char want[32];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int n = snprintf(want, sizeof(want), "%s:%u", names[i], (unsigned)g->port);
        if ((size_t)n == len && strncasecmp(s, want, len) == 0)
            return true;
    }
    return false;
}

/* Constant-time equality with the token (the length is no secret). */
static bool token_equal(const fs_ui_guard *g, const char *s, size_t len)
{
    if (len != FS_UI_TOKEN_HEX)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < FS_UI_TOKEN_HEX; i++)
        diff |= (unsigned char)(s[i] ^ g->token[i]);
    return diff == 0;
}

/* Looks for our cookie in a Cookie header: 1 right token, 0 absent, -1 wrong. */
static int cookie_token(const fs_ui_guard *g, const char *header)
{
    size_t nlen = strlen(g->cookie_name);
    int found = 0;
    const char *p = header;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > nlen && p[nlen] == '=' && strncmp(p, g->cookie_name, nlen) == 0) {
            if (token_equal(g, p + nlen + 1, len - nlen - 1))
                return 1;
            found = -1;
        }
        p = end;
    }
    return found;
}

static bool origin_ok(const fs_ui_guard *g, const char *origin, const char *host)
{
    static const char scheme[] = "http://";
    size_t n = strlen(origin);
    if (n <= sizeof(scheme) - 1 || strncasecmp(origin, scheme, sizeof(scheme) - 1) != 0)
        return false; /* "null" (a sandboxed frame, a file) included */
    origin += sizeof(scheme) - 1;
    return strcasecmp(origin, host) == 0 && is_own_host(g, origin, strlen(origin));
}

static bool fetch_site_ok(const char *site)
{
    return site == NULL || strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
}

fs_ui_verdict fs_ui_guard_check(const fs_ui_guard *g, const fs_ui_request *r)
{
    if (r->host == NULL || !is_own_host(g, r->host, strlen(r->host)))
        return FS_UI_BAD_HOST;
    if (r->origin != NULL && !origin_ok(g, r->origin, r->host))
        return FS_UI_BAD_ORIGIN;
    /* The entry URL may come from anywhere the rep clicks it (a terminal, the
     * file `--open` writes): the token itself is the proof. */
    bool entry = r->token_query != NULL && r->method != NULL && strcmp(r->method, "GET") == 0 &&
                 r->path != NULL && strcmp(r->path, "/") == 0;
    if (entry)
        return token_equal(g, r->token_query, strlen(r->token_query)) ? FS_UI_ENTRY
                                                                      : FS_UI_BAD_TOKEN;
    if (!fetch_site_ok(r->fetch_site))
        return FS_UI_CROSS_SITE;
    int from_cookie = r->cookie != NULL ? cookie_token(g, r->cookie) : 0;
    int from_header = 0;
    if (r->token_header != NULL)
        from_header = token_equal(g, r->token_header, strlen(r->token_header)) ? 1 : -1;
    if (from_cookie > 0 || from_header > 0)
        return FS_UI_ALLOW;
    return from_cookie < 0 || from_header < 0 ? FS_UI_BAD_TOKEN : FS_UI_NO_TOKEN;
}

const char *fs_ui_guard_reason(fs_ui_verdict v)
{
    switch (v) {
    case FS_UI_ALLOW:
    case FS_UI_ENTRY:
        return "allowed";
    case FS_UI_BAD_HOST:
        return "the Host header does not name this bridge (127.0.0.1 or localhost with its port)";
    case FS_UI_BAD_ORIGIN:
        return "the request comes from another web site (Origin)";
    case FS_UI_CROSS_SITE:
        return "the request comes from another web site or local port (Sec-Fetch-Site)";
    case FS_UI_NO_TOKEN:
        return "no access token: open the link `fieldsync ui` printed";
    case FS_UI_BAD_TOKEN:
        return "wrong access token (a link from an earlier start?): open the link `fieldsync ui` "
               "printed this time";
    }
    return "refused";
}

int fs_ui_guard_cookie(const fs_ui_guard *g, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s=%s; Path=/; HttpOnly; SameSite=Strict", g->cookie_name, g->token);
    return w > 0 && (size_t)w < n ? 0 : FS_ETOOBIG;
}

int fs_ui_guard_url(const fs_ui_guard *g, char *buf, size_t n)
{
    int w = snprintf(buf, n, "http://127.0.0.1:%u/?token=%s", (unsigned)g->port, g->token);
    return w > 0 && (size_t)w < n ? 0 : FS_ETOOBIG;
}
