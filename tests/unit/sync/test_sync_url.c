/*
 * test_sync_url.c: the server URLs enrollment accepts (daemon/sync/url.c).
 * Plain http:// is accepted only when the host libcurl connects to is this
 * machine; tricks that put a loopback address elsewhere in the URL (user
 * name, password, a longer host name, an encoded dot) are refused, as are
 * user names, queries and fragments on https://, and the refusal names the
 * host but never echoes a password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sync_http.h"

static void assert_accepted(const char *url)
{
    fs_err err;
    fs_err_clear(&err);
    if (fs_http_url_check(url, &err) != 0)
        fail_msg("%s refused: %s", url, err.msg);
}

static void assert_refused(const char *url, const char *says)
{
    fs_err err;
    fs_err_clear(&err);
    if (fs_http_url_check(url, &err) != FS_EINVAL)
        fail_msg("%s accepted", url);
    if (strstr(err.msg, says) == NULL)
        fail_msg("%s: message \"%s\" does not say \"%s\"", url, err.msg, says);
}

static void test_https_to_any_host_is_accepted(void **state)
{
    (void)state;
    assert_accepted("https://sync.example.com");
    assert_accepted("https://sync.example.com:8443/");
    assert_accepted("HTTPS://SYNC.EXAMPLE.COM/fieldsync");
    assert_accepted("https://192.0.2.7:8443");
    assert_accepted("https://[2001:db8::1]:8443");
}

static void test_plain_http_to_this_machine_is_accepted(void **state)
{
    (void)state;
    assert_accepted("http://127.0.0.1:8443");
    assert_accepted("http://127.0.0.1");
    assert_accepted("http://127.1.2.3:80/");
    assert_accepted("http://localhost:8443");
    assert_accepted("http://localhost");
    assert_accepted("HTTP://LOCALHOST:8443/");
    assert_accepted("http://[::1]:8443");
    assert_accepted("http://[0:0:0:0:0:0:0:1]/");
    assert_accepted("http://[::1%25lo]:8443");
    assert_accepted("http://127.1:8443");      /* curl reads 127.0.0.1 */
    assert_accepted("http://2130706433:8443"); /* the same as one number */
}

static void test_loopback_in_the_user_name_is_refused(void **state)
{
    (void)state;
    assert_refused("http://127.0.0.1@evil.example", "user name");
    assert_refused("http://127.0.0.1:8443@evil.example:8443", "user name");
    assert_refused("http://localhost@evil.example/", "user name");
    assert_refused("http://[::1]@evil.example", "user name");
    assert_refused("http://user:secret@127.0.0.1:8443", "user name");
    assert_refused("https://user@sync.example.com", "user name");
}

static void test_loopback_as_part_of_another_host_is_refused(void **state)
{
    (void)state;
    assert_refused("http://localhost.evil.example", "not to localhost.evil.example");
    assert_refused("http://127.0.0.1.evil", "not to 127.0.0.1.evil");
    assert_refused("http://127.0.0.1%2eevil:8443", "not to 127.0.0.1.evil");
    assert_refused("http://evil.example#@127.0.0.1", "query or fragment");
    assert_refused("http://evil.example?@127.0.0.1", "query or fragment");
    assert_refused("http://evil.example", "not to evil.example");
    assert_refused("http://0.0.0.0:8443", "not to 0.0.0.0");
    assert_refused("http://128.0.0.1", "not to 128.0.0.1");
    assert_refused("http://[::2]:8443", "not to [::2]");
    assert_refused("http://[::ffff:10.0.0.1]", "not to [::ffff:10.0.0.1]");
    assert_refused("http://localhost.:8443", "not to localhost.");
}

static void test_other_schemes_and_garbage_are_refused(void **state)
{
    (void)state;
    assert_refused("ftp://127.0.0.1", "not ftp://");
    assert_refused("file:///etc/passwd", "no host");
    assert_refused("127.0.0.1:8443", "cannot be read");
    assert_refused("http:127.0.0.1", "cannot be read");
    assert_refused("http://127.0.0.1:99999", "cannot be read");
    assert_refused("", "cannot be read");
    assert_refused("https://", "cannot be read");
}

static void test_a_refusal_never_repeats_a_password(void **state)
{
    (void)state;
    fs_err err;
    assert_int_equal(fs_http_url_check("http://rep:hunter2@evil.example", &err), FS_EINVAL);
    assert_null(strstr(err.msg, "hunter2"));
    assert_int_equal(fs_http_url_check("https://sync.example.com/?token=hunter2", &err), FS_EINVAL);
    assert_null(strstr(err.msg, "hunter2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_to_any_host_is_accepted),
        cmocka_unit_test(test_plain_http_to_this_machine_is_accepted),
        cmocka_unit_test(test_loopback_in_the_user_name_is_refused),
        cmocka_unit_test(test_loopback_as_part_of_another_host_is_refused),
        cmocka_unit_test(test_other_schemes_and_garbage_are_refused),
        cmocka_unit_test(test_a_refusal_never_repeats_a_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
