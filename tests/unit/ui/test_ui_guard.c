/*
 * test_ui_guard.c: the UI bridge's request checks (daemon/ui/ui_guard.c):
 * Host (DNS rebinding), Origin and Sec-Fetch-Site (other sites and other local
 * ports), and the token in the entry URL, the cookie or the header, including
 * near misses that must not pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ui_guard.h"

#define PORT 43210

static fs_ui_guard guard;
static char cookie[160]; /* "fieldsync_ui_43210=<token>" */

static int setup(void **state)
{
    (void)state;
    if (fs_ui_guard_init(&guard, PORT, NULL) != 0)
        return -1;
    snprintf(cookie, sizeof(cookie), "fieldsync_ui_%d=%s", PORT, guard.token);
    return 0;
}

/* A same-origin request from the page, carrying the cookie. */
static fs_ui_request page_request(void)
{
    fs_ui_request r = {.method = "POST",
                       .path = "/api/call",
                       .host = "127.0.0.1:43210",
                       .origin = "http://127.0.0.1:43210",
                       .fetch_site = "same-origin",
                       .cookie = cookie};
    return r;
}

static void test_token_is_new_random_hex(void **state)
{
    (void)state;
    fs_ui_guard other;
    assert_int_equal(fs_ui_guard_init(&other, PORT, NULL), 0);
    assert_int_equal(strlen(other.token), FS_UI_TOKEN_HEX);
    assert_int_equal(strspn(other.token, "0123456789abcdef"), FS_UI_TOKEN_HEX);
    assert_string_not_equal(other.token, guard.token);
    assert_string_equal(other.cookie_name, "fieldsync_ui_43210");
    fs_ui_guard_clear(&other);
    assert_int_equal(other.token[0], '\0');
}

static void test_page_request_passes(void **state)
{
    (void)state;
    fs_ui_request r = page_request();
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ALLOW);
    r.host = "localhost:43210";
    r.origin = "http://localhost:43210";
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ALLOW);
    r.origin = NULL; /* not a browser, or a GET */
    r.fetch_site = NULL;
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ALLOW);
}

static void test_foreign_host_is_refused_before_anything(void **state)
{
    (void)state;
    static const char *const hosts[] = {NULL,
                                        "",
                                        "evil.example:43210",
                                        "127.0.0.1",
                                        "127.0.0.1:43211",
                                        "127.0.0.1:4321",
                                        "127.0.0.1:432100",
                                        "127.0.0.1:43210.evil.example",
                                        "[::1]:43210",
                                        "localhost.evil.example:43210",
                                        "127.0.0.2:43210"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        fs_ui_request r = page_request();
        r.host = hosts[i];
        assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_HOST);
        r.cookie = NULL; /* no token either: the Host is still what is reported */
        assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_HOST);
    }
}

static void test_foreign_origin_is_refused(void **state)
{
    (void)state;
    static const char *const origins[] = {"http://evil.example",
                                          "null",
                                          "http://127.0.0.1:43211",
                                          "https://127.0.0.1:43210",
                                          "http://localhost:43210",
                                          "http://127.0.0.1:43210/",
                                          "",
                                          "http://"};
    for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
        fs_ui_request r = page_request();
        r.origin = origins[i]; /* the Host stays 127.0.0.1:43210 */
        assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_ORIGIN);
    }
}

static void test_other_sites_and_ports_are_refused(void **state)
{
    (void)state;
    fs_ui_request r = page_request();
    r.origin = NULL; /* e.g. a GET of the event stream from another local port */
    r.fetch_site = "same-site";
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_CROSS_SITE);
    r.fetch_site = "cross-site";
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_CROSS_SITE);
    r.fetch_site = "none"; /* the rep typed the address */
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ALLOW);
}

static void test_token_from_cookie_or_header(void **state)
{
    (void)state;
    char buf[400];
    fs_ui_request r = page_request();
    snprintf(buf, sizeof(buf), "theme=dark; %s ; other=1", cookie);
    r.cookie = buf;
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ALLOW);
    r.cookie = NULL;
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_NO_TOKEN);
    r.token_header = guard.token;
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ALLOW);
    snprintf(buf, sizeof(buf), "%.63s", guard.token);
    r.token_header = buf; /* one digit short */
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_TOKEN);
    r.token_header = NULL;
    r.cookie = "theme=dark";
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_NO_TOKEN);
}

static void test_near_miss_tokens_are_refused(void **state)
{
    (void)state;
    char buf[400], wrong[FS_UI_TOKEN_HEX + 1];
    memcpy(wrong, guard.token, sizeof(wrong));
    wrong[17] = wrong[17] == 'a' ? 'b' : 'a';
    fs_ui_request r = page_request();
    snprintf(buf, sizeof(buf), "fieldsync_ui_%d=%s", PORT, wrong);
    r.cookie = buf;
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_TOKEN);
    snprintf(buf, sizeof(buf), "fieldsync_ui_%d=%sx", PORT, guard.token);
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_TOKEN);
    /* the right token under another port's name, or a longer name */
    snprintf(buf, sizeof(buf), "fieldsync_ui_%d=%s", PORT + 1, guard.token);
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_NO_TOKEN);
    snprintf(buf, sizeof(buf), "xfieldsync_ui_%d=%s", PORT, guard.token);
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_NO_TOKEN);
    /* a right cookie and a wrong header: the right one suffices */
    r.cookie = cookie;
    r.token_header = wrong;
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ALLOW);
}

static void test_entry_url_only_as_get_of_root(void **state)
{
    (void)state;
    fs_ui_request r = {.method = "GET",
                       .path = "/",
                       .host = "127.0.0.1:43210",
                       .fetch_site = "cross-site", /* a link opened from a file or terminal */
                       .token_query = guard.token};
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_ENTRY);
    r.token_query = "0000";
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_TOKEN);
    r.token_query = guard.token;
    r.path = "/app.js"; /* the query token is for the entry URL only */
    r.fetch_site = NULL;
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_NO_TOKEN);
    r.path = "/";
    r.method = "POST";
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_NO_TOKEN);
    r.method = "GET";
    r.host = "evil.example:43210"; /* rebinding with a leaked link: still refused */
    assert_int_equal(fs_ui_guard_check(&guard, &r), FS_UI_BAD_HOST);
}

static void test_url_cookie_and_reasons(void **state)
{
    (void)state;
    char buf[200], want[200];
    assert_int_equal(fs_ui_guard_url(&guard, buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "http://127.0.0.1:43210/?token=%s", guard.token);
    assert_string_equal(buf, want);
    assert_int_equal(fs_ui_guard_cookie(&guard, buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "%s; Path=/; HttpOnly; SameSite=Strict", cookie);
    assert_string_equal(buf, want);
    assert_int_equal(fs_ui_guard_url(&guard, buf, 20), FS_ETOOBIG);
    for (int v = FS_UI_BAD_HOST; v <= FS_UI_BAD_TOKEN; v++)
        assert_null(strstr(fs_ui_guard_reason((fs_ui_verdict)v), guard.token));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_is_new_random_hex),
        cmocka_unit_test(test_page_request_passes),
        cmocka_unit_test(test_foreign_host_is_refused_before_anything),
        cmocka_unit_test(test_foreign_origin_is_refused),
        cmocka_unit_test(test_other_sites_and_ports_are_refused),
        cmocka_unit_test(test_token_from_cookie_or_header),
        cmocka_unit_test(test_near_miss_tokens_are_refused),
        cmocka_unit_test(test_entry_url_only_as_get_of_root),
        cmocka_unit_test(test_url_cookie_and_reasons),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
