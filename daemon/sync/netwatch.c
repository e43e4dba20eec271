/*
 * netwatch.c: noticing that the network came back, without polling.
 *
 * A NETLINK_ROUTE socket subscribed to link, address and route changes wakes
 * the loop when an interface comes up, gets an address or a default route: the
 * moments a laptop regains the network. An engine that is offline or failing
 * then retries soon (after a short settle delay: addresses and routes arrive in
 * bursts) instead of waiting out its backoff. Where netlink is unavailable
 * (containers, other systems) the engine still recovers, on its backoff timer.
 */
#include "sync_int.h"

#include <errno.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "loop.h"

/* Addresses and routes arrive in bursts; let them settle before trying. */
#define NETWATCH_SETTLE_MS 1000

void fs_sync_network_changed(fs_sync *s)
{
    if (s == NULL || s->url == NULL)
        return;
    if (s->state != FS_SYNC_OFFLINE && s->state != FS_SYNC_ERROR)
        return;
    s->attempt = 0;
    fs_sync_schedule(s, NETWATCH_SETTLE_MS);
}

static bool interesting(const uint8_t *buf, size_t len)
{
    bool up = false;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_NEWROUTE)
            up = true;
        if (h->nlmsg_type == RTM_NEWLINK &&
            h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
            const struct ifinfomsg *ifi = NLMSG_DATA(h);
            up = up || (ifi->ifi_flags & IFF_RUNNING) != 0;
        }
    }
    return up;
}

static void on_netlink(fs_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)events;
    fs_sync *s = arg;
    uint8_t buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
    bool up = false;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            up = up || interesting(buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == ENOBUFS) { /* we missed messages: assume the worst */
            up = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (up)
        fs_sync_network_changed(s);
}

void fs_sync_netwatch_open(fs_sync *s)
{
    struct sockaddr_nl sa = {0};
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        fs_log(FS_LOG_INFO, "sync: no network change notifications (%s): relying on retries",
               strerror(errno));
        return;
    }
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                   RTMGRP_IPV6_ROUTE;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        fs_loop_add(s->loop, fd, EPOLLIN, on_netlink, s, &s->nl_watch, NULL) != 0) {
        fs_log(FS_LOG_INFO, "sync: no network change notifications: relying on retries");
        close(fd);
        return;
    }
    s->nl_fd = fd;
}

void fs_sync_netwatch_close(fs_sync *s)
{
    fs_loop_del(s->loop, s->nl_watch);
    s->nl_watch = NULL;
    if (s->nl_fd >= 0)
        close(s->nl_fd);
    s->nl_fd = -1;
}
