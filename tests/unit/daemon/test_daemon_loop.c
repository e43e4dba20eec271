/*
 * test_daemon_loop.c: the event loop: timers fire once at their deadline and
 * never after being cancelled, a handler may remove another watch whose event is
 * already pending, and the before-sleep hook keeps the loop turning only while
 * it reports work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

typedef struct counter {
    int fired;
    int64_t at;
} counter;

static void on_timer(fs_loop *loop, void *arg)
{
    counter *c = arg;
    c->fired++;
    c->at = fs_loop_now_ms();
    (void)loop;
}

static void on_stop_timer(fs_loop *loop, void *arg)
{
    (void)arg;
    fs_loop_stop(loop);
}

static void timers_fire_once_at_deadline_and_cancelled_ones_never(void **state)
{
    (void)state;
    fs_loop *l;
    assert_int_equal(fs_loop_new(&l, NULL), 0);
    assert_int_equal(fs_loop_timer_count(l), 0);
    counter a = {0}, b = {0};
    fs_timer *ta, *tb;
    int64_t start = fs_loop_now_ms();
    assert_int_equal(fs_loop_timer_add(l, start + 20, on_timer, &a, &ta, NULL), 0);
    assert_int_equal(fs_loop_timer_add(l, start + 10, on_timer, &b, &tb, NULL), 0);
    assert_int_equal(fs_loop_timer_add(l, start + 60, on_stop_timer, NULL, NULL, NULL), 0);
    assert_int_equal(fs_loop_timer_count(l), 3);
    fs_loop_timer_del(l, tb);
    assert_int_equal(fs_loop_timer_count(l), 2);
    assert_int_equal(fs_loop_run(l, NULL), 0);
    assert_int_equal(a.fired, 1);
    assert_true(a.at >= start + 20);
    assert_int_equal(b.fired, 0);
    assert_int_equal(fs_loop_timer_count(l), 0);
    fs_loop_free(l);
}

typedef struct pair {
    fs_loop_fd *other;
    int calls;
} pair;

static void on_read_del_other(fs_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)events;
    pair *p = arg;
    char c;
    p->calls++;
    if (read(fd, &c, 1) != 1)
        fail();
    if (p->other != NULL) {
        fs_loop_del(loop, p->other);
        p->other = NULL;
    }
    fs_loop_stop(loop);
}

static void handler_may_remove_a_watch_with_a_pending_event(void **state)
{
    (void)state;
    fs_loop *l;
    assert_int_equal(fs_loop_new(&l, NULL), 0);
    int p1[2], p2[2];
    assert_int_equal(pipe(p1), 0);
    assert_int_equal(pipe(p2), 0);
    pair a = {0}, b = {0};
    fs_loop_fd *ha, *hb;
    assert_int_equal(fs_loop_add(l, p1[0], EPOLLIN, on_read_del_other, &a, &ha, NULL), 0);
    assert_int_equal(fs_loop_add(l, p2[0], EPOLLIN, on_read_del_other, &b, &hb, NULL), 0);
    a.other = hb;
    b.other = ha;
    /* both readable: whichever runs first removes the other, which must not run */
    assert_int_equal(write(p1[1], "x", 1), 1);
    assert_int_equal(write(p2[1], "y", 1), 1);
    assert_int_equal(fs_loop_run(l, NULL), 0);
    assert_int_equal(a.calls + b.calls, 1);
    fs_loop_free(l);
    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
}

static int hook_turns;

static bool busy_three_turns(fs_loop *loop, void *arg)
{
    (void)arg;
    if (++hook_turns == 4)
        fs_loop_stop(loop);
    return hook_turns < 4;
}

static void before_sleep_hook_keeps_loop_turning_while_busy(void **state)
{
    (void)state;
    fs_loop *l;
    assert_int_equal(fs_loop_new(&l, NULL), 0);
    fs_loop_set_before_sleep(l, busy_three_turns, NULL);
    /* with no fd and no timer, a non-busy loop would block forever: it must not */
    assert_int_equal(fs_loop_run(l, NULL), 0);
    assert_int_equal(hook_turns, 4);
    fs_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_once_at_deadline_and_cancelled_ones_never),
        cmocka_unit_test(handler_may_remove_a_watch_with_a_pending_event),
        cmocka_unit_test(before_sleep_hook_keeps_loop_turning_while_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
