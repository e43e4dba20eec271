/*
 * url.c: which server URLs the sync client accepts (fs_http_url_check).
 *
 * Plain http:// would carry the enrollment code and then the device token in
 * the clear, so it is allowed only to this machine. The decision is made on
 * the host libcurl itself will connect to, read with libcurl's own URL parser:
 * a prefix test on the text is fooled by a user name ("http://127.0.0.1@host"),
 * a longer host name ("http://127.0.0.1.example") and the like. Parts a base
 * URL has no use for (user name, password, query, fragment) are refused for
 * https:// too: a path is appended to the URL, and credentials would sit in
 * the store and in messages.
 */
#include "sync_http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* localhost, 127.0.0.0/8 or [::1], as curl gives the host (IPv4 normalised to
 * dotted quad, IPv6 in brackets). curl resolves "localhost" to loopback itself,
 * without asking DNS. */
static bool loopback_host(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char inner[INET6_ADDRSTRLEN];
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (n < 3 || n - 2 >= sizeof(inner) || host[0] != '[' || host[n - 1] != ']')
        return false;
    memcpy(inner, host + 1, n - 2);
    inner[n - 2] = '\0';
    return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Whether part is present in u (curl answers CURLUE_NO_<PART> when it is not). */
static bool has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    bool present = curl_url_get(u, part, &v, 0) == CURLUE_OK;
    curl_free(v);
    return present;
}

static int check_parts(CURLU *u, fs_err *err)
{
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0')
        rc = fs_err_set(err, FS_EINVAL, "server URL has no host: write it as https://HOST[:PORT]");
    else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
        rc = fs_err_set(err, FS_EINVAL,
                        "server URL must be https://HOST[:PORT], not %s:// (plain http:// only "
                        "to this machine)",
                        scheme);
    else if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD) ||
             has_part(u, CURLUPART_QUERY) || has_part(u, CURLUPART_FRAGMENT))
        rc = fs_err_set(err, FS_EINVAL,
                        "server URL must not carry a user name, password, query or fragment: "
                        "write it as https://HOST[:PORT]");
    else if (strcmp(scheme, "http") == 0 && !loopback_host(host))
        rc = fs_err_set(err, FS_EINVAL,
                        "plain http:// goes only to this machine (localhost, 127.x.x.x, [::1]), "
                        "not to %s: the device token would travel in the clear; use https://",
                        host);
    curl_free(scheme);
    curl_free(host);
    return rc;
}

int fs_http_url_check(const char *url, fs_err *err)
{
    CURLU *u = curl_url();
    if (u == NULL)
        return fs_err_set(err, FS_ENOMEM, "checking the server URL: out of memory");
    CURLUcode c = curl_url_set(u, CURLUPART_URL, url, 0);
    int rc = c == CURLUE_OK ? check_parts(u, err)
                            : fs_err_set(err, FS_EINVAL,
                                         "server URL cannot be read (%s): write it as "
                                         "https://HOST[:PORT]",
                                         curl_url_strerror(c));
    curl_url_cleanup(u);
    return rc;
}
