/*
 * loop.h: the daemon's event loop (loop.c): epoll over file descriptors, one-shot
 * timers, and a before-sleep hook. Single-threaded, like Redis's ae.c.
 *
 * Idle means asleep: epoll_wait blocks with no timeout unless a timer is armed
 * or the before-sleep hook reports work left, so a daemon with nothing to do
 * never wakes up.
 *
 * Handlers may remove any fd or timer, their own included, at any time: removed
 * entries are only marked dead and freed after the current batch of events.
 */
#ifndef FS_DAEMON_LOOP_H
#define FS_DAEMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "fieldsync/error.h"

typedef struct fs_loop fs_loop;
typedef struct fs_loop_fd fs_loop_fd;
typedef struct fs_timer fs_timer;

typedef void (*fs_loop_fd_fn)(fs_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*fs_loop_timer_fn)(fs_loop *loop, void *arg);
/* Returns true when there is work left that should run without sleeping. */
typedef bool (*fs_loop_hook_fn)(fs_loop *loop, void *arg);

int fs_loop_new(fs_loop **out, fs_err *err);
/* Frees the loop, its timers and any watches left (not their fds). */
void fs_loop_free(fs_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT); *handle identifies the watch. */
int fs_loop_add(fs_loop *loop, int fd, uint32_t events, fs_loop_fd_fn fn, void *arg,
                fs_loop_fd **handle, fs_err *err);
int fs_loop_mod(fs_loop *loop, fs_loop_fd *h, uint32_t events);
/* Stops watching (the caller closes the fd afterwards). NULL is a no-op. */
void fs_loop_del(fs_loop *loop, fs_loop_fd *h);

/* Monotonic milliseconds. */
int64_t fs_loop_now_ms(void);
/* A one-shot timer at deadline_ms (monotonic). */
int fs_loop_timer_add(fs_loop *loop, int64_t deadline_ms, fs_loop_timer_fn fn, void *arg,
                      fs_timer **out, fs_err *err);
/* Cancels a timer that has not fired. NULL is a no-op. */
void fs_loop_timer_del(fs_loop *loop, fs_timer *t);
/* Number of armed timers (tests and the idle-wakeup check). */
unsigned fs_loop_timer_count(const fs_loop *loop);

void fs_loop_set_before_sleep(fs_loop *loop, fs_loop_hook_fn fn, void *arg);

/* Runs until fs_loop_stop. Returns 0, or FS_EIO when epoll fails. */
int fs_loop_run(fs_loop *loop, fs_err *err);
void fs_loop_stop(fs_loop *loop);

#endif
