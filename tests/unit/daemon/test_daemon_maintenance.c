/*
 * test_daemon_maintenance.c: fieldsyncd's idle maintenance (daemon/server.c)
 * goes on after a step fails. The program is linked with
 * -Wl,--wrap=fs_store_maintain: the wrapper fails the first steps as a busy or
 * full disk would, then lets the real ones run. A real fieldsyncd server (its
 * loop, socket and a store opened unattended with a raw key file) must come
 * back to maintenance by itself, with no request or write to re-arm it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server.h"

/* Steps the wrapper fails before letting the real ones run. */
#define FAILED_STEPS 2
/* The first step comes 1 s after the store opens, then 1 s and 2 s after
 * each failure: well within this. */
#define DEADLINE_MS 20000

static unsigned steps, fails_left;

int __real_fs_store_maintain(fs_store *st, bool *more, fs_err *err);
int __wrap_fs_store_maintain(fs_store *st, bool *more, fs_err *err);

int __wrap_fs_store_maintain(fs_store *st, bool *more, fs_err *err)
{
    steps++;
    if (fails_left > 0) {
        fails_left--;
        return fs_err_set(err, FS_EIO, "injected failure of a maintenance step");
    }
    return __real_fs_store_maintain(st, more, err);
}

typedef struct watch {
    fs_timer *timer;
    int64_t deadline_ms;
    bool timed_out;
} watch;

/* Polls (every 50 ms) for the first step after the failed ones, or the
 * deadline; either stops the loop. */
static void on_poll(fs_loop *loop, void *arg)
{
    watch *w = arg;
    w->timer = NULL;
    if (steps > FAILED_STEPS || fs_loop_now_ms() > w->deadline_ms) {
        w->timed_out = steps <= FAILED_STEPS;
        fs_loop_stop(loop);
        return;
    }
    fs_loop_timer_add(loop, fs_loop_now_ms() + 50, on_poll, w, &w->timer, NULL);
}

static void test_maintenance_goes_on_after_failed_steps(void **state)
{
    (void)state;
    char dir[] = "/tmp/fs-maint-test-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    fs_err err = {0};

    /* a store with a raw key file, which the server opens unattended */
    fs_server s;
    fs_server_init(&s);
    s.cfg.data_dir = strdup(dir);
    snprintf(path, sizeof(path), "%s/sock", dir);
    s.cfg.socket_path = strdup(path);
    fs_env env = {.home = dir, .uid = getuid()};
    assert_int_equal(fs_config_resolve(&s.cfg, &env, &err), 0);
    fs_daemon d0;
    assert_int_equal(fs_daemon_init(&d0, &s.cfg, &err), 0);
    assert_int_equal(fs_daemon_create(&d0, NULL, 0, &err), 0);
    fs_daemon_clear(&d0);

    fails_left = FAILED_STEPS;
    assert_int_equal(fs_server_start(&s, &err), 0);
    assert_non_null(s.daemon.store);
    watch w = {.deadline_ms = fs_loop_now_ms() + DEADLINE_MS};
    on_poll(s.loop, &w);
    assert_int_equal(fs_loop_run(s.loop, &err), 0);
    assert_false(w.timed_out);
    assert_int_equal(steps, FAILED_STEPS + 1);
    assert_int_equal(s.maintenance_failures, 0); /* the real step succeeded */
    fs_loop_timer_del(s.loop, w.timer);
    fs_server_clear(&s);

    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maintenance_goes_on_after_failed_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
