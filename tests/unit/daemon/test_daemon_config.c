/*
 * test_daemon_config.c: fieldsyncd's config parsing (every bad line is refused
 * with its line number and key), the XDG path defaults and the private
 * directories they need.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static int parse(fs_config *c, const char *text, fs_err *err)
{
    return fs_config_parse(c, text, strlen(text), "test.conf", err);
}

static void keys_comments_and_spaces_are_parsed(void **state)
{
    (void)state;
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    const char *text = "# fieldsyncd\n\n  data_dir = /srv/fs   # trailing comment\n"
                       "socket=/run/fs.sock\r\nlog_level = debug\nmax_clients = 8\n"
                       "max_line_bytes = 64k\nmax_output_bytes = 2M\nclient_timeout = 5\n"
                       "sales_cycle_days = 21\ntest_fast_kdf = yes\nlog_target = stderr\n";
    assert_int_equal(parse(&c, text, &err), 0);
    assert_string_equal(c.data_dir, "/srv/fs");
    assert_string_equal(c.socket_path, "/run/fs.sock");
    assert_int_equal(c.log_level, FS_LOG_DEBUG);
    assert_int_equal(c.max_clients, 8);
    assert_int_equal(c.max_line_bytes, 65536);
    assert_int_equal(c.max_output_bytes, 2u << 20);
    assert_int_equal(c.client_timeout_s, 5);
    assert_int_equal(c.sales_cycle_days, 21);
    assert_true(c.fast_kdf);
    assert_int_equal(c.log_target, FS_CONFIG_LOG_STDERR);
    fs_config_clear(&c);
}

static void expect_refused(const char *text, const char *needle)
{
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    assert_int_equal(parse(&c, text, &err), FS_EINVAL);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
    fs_config_clear(&c);
}

static void bad_lines_are_refused_with_line_and_key(void **state)
{
    (void)state;
    expect_refused("log_level = info\nbogus = 1\n", "line 2");
    expect_refused("bogus = 1\n", "bogus");
    expect_refused("no equals sign\n", "key = value");
    expect_refused("data_dir =\n", "empty");
    expect_refused("= /x\n", "empty");
    expect_refused("data_dir = relative/path\n", "absolute");
    expect_refused("log_level = loud\n", "log_level");
    expect_refused("log_target = syslog\n", "log_target");
    expect_refused("max_clients = 0\n", "max_clients");
    expect_refused("max_clients = -3\n", "max_clients");
    expect_refused("max_clients = 99999999999999999999999\n", "max_clients");
    expect_refused("max_clients = 12abc\n", "max_clients");
    expect_refused("max_line_bytes = 1\n", "max_line_bytes");
    expect_refused("max_line_bytes = 999999M\n", "max_line_bytes");
    expect_refused("client_timeout = 0\n", "client_timeout");
    expect_refused("test_fast_kdf = maybe\n", "test_fast_kdf");
}

static void nul_bytes_and_long_lines_are_refused(void **state)
{
    (void)state;
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    const char with_nul[] = "log_level = info\0\n";
    assert_int_equal(fs_config_parse(&c, with_nul, sizeof(with_nul) - 1, "t", &err), FS_EINVAL);
    char *long_line = malloc(FS_CONFIG_LINE_MAX + 10);
    memset(long_line, 'a', FS_CONFIG_LINE_MAX + 9);
    long_line[FS_CONFIG_LINE_MAX + 9] = '\0';
    assert_int_equal(parse(&c, long_line, &err), FS_EINVAL);
    free(long_line);
    fs_config_clear(&c);
}

static void missing_file_is_not_found(void **state)
{
    (void)state;
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    assert_int_equal(fs_config_load(&c, "/nonexistent/fieldsyncd.conf", &err), FS_ENOTFOUND);
    fs_config_clear(&c);
}

static void paths_follow_xdg(void **state)
{
    (void)state;
    fs_env env = {.home = "/home/rep",
                  .xdg_data_home = "/xdg/data",
                  .xdg_config_home = "/xdg/config",
                  .xdg_runtime_dir = "/run/user/1000"};
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    assert_int_equal(fs_config_resolve(&c, &env, &err), 0);
    assert_string_equal(c.data_dir, "/xdg/data/fieldsync");
    assert_string_equal(c.socket_path, "/run/user/1000/fieldsync/fieldsyncd.sock");
    assert_string_equal(c.key_file, "/xdg/data/fieldsync/fieldsync.key");
    assert_string_equal(c.db_file, "/xdg/data/fieldsync/fieldsync.db");
    char *cf;
    assert_int_equal(fs_paths_config_file(&cf, &env, &err), 0);
    assert_string_equal(cf, "/xdg/config/fieldsync/fieldsyncd.conf");
    free(cf);
    fs_config_clear(&c);
}

static void relative_xdg_values_fall_back_to_home(void **state)
{
    (void)state;
    fs_env env = {.home = "/home/rep/",
                  .xdg_data_home = "rel/data",
                  .xdg_config_home = "",
                  .xdg_runtime_dir = "/run/user/7"};
    char *p;
    fs_err err = {0};
    assert_int_equal(fs_paths_data_dir(&p, &env, &err), 0);
    assert_string_equal(p, "/home/rep/.local/share/fieldsync");
    free(p);
    assert_int_equal(fs_paths_config_file(&p, &env, &err), 0);
    assert_string_equal(p, "/home/rep/.config/fieldsync/fieldsyncd.conf");
    free(p);
}

static void no_home_and_no_runtime_dir_are_errors(void **state)
{
    (void)state;
    fs_env env = {0};
    char *p = NULL;
    fs_err err = {0};
    assert_int_equal(fs_paths_data_dir(&p, &env, &err), FS_EINVAL);
    assert_null(p);
    assert_int_equal(fs_paths_socket(&p, &env, &err), FS_EINVAL);
    assert_non_null(strstr(err.msg, "--socket"));
}

static void explicit_paths_win_over_xdg(void **state)
{
    (void)state;
    fs_env env = {.home = "/home/rep", .xdg_runtime_dir = "/run/user/1"};
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    assert_int_equal(parse(&c, "data_dir = /d\nkey_file = /k/key\n", &err), 0);
    assert_int_equal(fs_config_resolve(&c, &env, &err), 0);
    assert_string_equal(c.data_dir, "/d");
    assert_string_equal(c.key_file, "/k/key");
    assert_string_equal(c.db_file, "/d/fieldsync.db");
    fs_config_clear(&c);
}

static void socket_path_longer_than_sun_path_is_refused(void **state)
{
    (void)state;
    char runtime[200];
    memset(runtime, 'r', sizeof(runtime));
    runtime[0] = '/';
    runtime[sizeof(runtime) - 1] = '\0';
    fs_env env = {.home = "/home/rep", .xdg_runtime_dir = runtime};
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    assert_int_equal(fs_config_resolve(&c, &env, &err), FS_EINVAL);
    assert_non_null(strstr(err.msg, "longer"));
    fs_config_clear(&c);
}

static void mkdir_creates_private_nested_directories(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/fs-config-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char path[256];
    snprintf(path, sizeof(path), "%s/a/b/fieldsync", tmpl);
    fs_err err = {0};
    assert_int_equal(fs_paths_mkdir(path, true, &err), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* an existing directory with loose permissions is tightened */
    chmod(path, 0755);
    assert_int_equal(fs_paths_mkdir(path, true, &err), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* a file where the directory should be is refused */
    char file[300];
    snprintf(file, sizeof(file), "%s/plainfile", tmpl);
    FILE *f = fopen(file, "w");
    fclose(f);
    assert_int_equal(fs_paths_mkdir(file, true, &err), FS_EINVAL);
    unlink(file);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
    assert_int_equal(system(cmd), 0);
}

static void directory_of_another_user_is_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* needs root to give a directory away */
    char tmpl[] = "/tmp/fs-config-owner-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_int_equal(chown(tmpl, 65534, 65534), 0);
    fs_err err = {0};
    assert_int_equal(fs_paths_mkdir(tmpl, true, &err), FS_EDENIED);
    assert_non_null(strstr(err.msg, "belongs to uid 65534"));
    assert_int_equal(fs_paths_mkdir(tmpl, false, &err), 0); /* not private: only a directory */
    assert_int_equal(rmdir(tmpl), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_comments_and_spaces_are_parsed),
        cmocka_unit_test(bad_lines_are_refused_with_line_and_key),
        cmocka_unit_test(nul_bytes_and_long_lines_are_refused),
        cmocka_unit_test(missing_file_is_not_found),
        cmocka_unit_test(paths_follow_xdg),
        cmocka_unit_test(relative_xdg_values_fall_back_to_home),
        cmocka_unit_test(no_home_and_no_runtime_dir_are_errors),
        cmocka_unit_test(explicit_paths_win_over_xdg),
        cmocka_unit_test(socket_path_longer_than_sun_path_is_refused),
        cmocka_unit_test(mkdir_creates_private_nested_directories),
        cmocka_unit_test(directory_of_another_user_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
