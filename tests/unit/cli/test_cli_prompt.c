/*
 * test_cli_prompt.c: passphrase input for scripts (daemon/cli/prompt.c): the
 * first line of a file or descriptor, line ends stripped, empty and over-long
 * passphrases refused, and a clear error (not a hang) when there is no
 * terminal to prompt on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "prompt.h"

/* Reads a passphrase from a pipe holding len bytes of text. */
static int from_pipe(const char *text, size_t len, fs_pass **out, fs_err *err)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], text, len), (ssize_t)len);
    close(fds[1]);
    int rc = fs_pass_from_fd(out, fds[0], "the test pipe", err);
    close(fds[0]);
    return rc;
}

static void expect_pass(const char *text, const char *want)
{
    fs_pass *p;
    fs_err err;
    assert_int_equal(from_pipe(text, strlen(text), &p, &err), 0);
    assert_int_equal(p->len, strlen(want));
    assert_string_equal(p->buf, want);
    fs_pass_free(p);
}

static void test_first_line_without_its_line_end(void **state)
{
    (void)state;
    expect_pass("secret\n", "secret");
    expect_pass("secret\r\n", "secret");
    expect_pass("no newline", "no newline");
    expect_pass("first\nsecond\n", "first");
    expect_pass("  spaces kept  \n", "  spaces kept  ");
}

static void test_empty_passphrase_is_refused(void **state)
{
    (void)state;
    fs_pass *p = (fs_pass *)1;
    fs_err err;
    assert_int_equal(from_pipe("\n", 1, &p, &err), FS_EINVAL);
    assert_null(p);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(from_pipe("", 0, &p, &err), FS_EINVAL);
    assert_int_equal(from_pipe("\r\n", 2, &p, &err), FS_EINVAL);
}

static void test_over_long_passphrase_is_refused(void **state)
{
    (void)state;
    char text[FS_PASS_MAX + 2];
    memset(text, 'x', sizeof(text));
    fs_pass *p;
    fs_err err;
    assert_int_equal(from_pipe(text, FS_PASS_MAX, &p, &err), 0); /* the limit itself is fine */
    assert_int_equal(p->len, FS_PASS_MAX);
    fs_pass_free(p);
    assert_int_equal(from_pipe(text, FS_PASS_MAX + 1, &p, &err), FS_EINVAL);
    assert_non_null(strstr(err.msg, "longer than"));
}

static void test_file_errors_name_the_file(void **state)
{
    (void)state;
    fs_pass *p;
    fs_err err;
    assert_int_equal(fs_pass_from_file(&p, "/nonexistent/pass", &err), FS_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/pass"));
    assert_int_equal(fs_pass_from_file(&p, "/", &err), FS_EIO); /* a directory */
    char path[] = "/tmp/fs-cli-pass-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "from file\n", 10), 10);
    close(fd);
    assert_int_equal(fs_pass_from_file(&p, path, &err), 0);
    assert_string_equal(p->buf, "from file");
    fs_pass_free(p);
    unlink(path);
    fs_pass_free(NULL);
}

static void test_no_terminal_is_an_error_not_a_hang(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setsid(); /* no controlling terminal: /dev/tty cannot open */
        fs_pass *p;
        fs_err err;
        int rc = fs_pass_prompt(&p, "Passphrase: ", &err);
        _exit(rc == FS_ENOTFOUND && strstr(err.msg, "--passphrase-file") != NULL ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_line_without_its_line_end),
        cmocka_unit_test(test_empty_passphrase_is_refused),
        cmocka_unit_test(test_over_long_passphrase_is_refused),
        cmocka_unit_test(test_file_errors_name_the_file),
        cmocka_unit_test(test_no_terminal_is_an_error_not_a_hang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
