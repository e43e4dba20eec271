/*
 * server.c: wires fieldsyncd together (Redis's server.c in spirit): config and
 * logging, the data-directory lock, the daemon state, the listening socket, the
 * signal fd and the event loop. Each part does its own work elsewhere; this
 * file decides the order and the shutdown.
 *
 * Shutdown (SIGTERM/SIGINT): the loop stops after the call in progress, which
 * has committed (synchronous=FULL) before its answer was queued; queued answers
 * get a bounded moment to reach their clients; then the store closes (keys
 * wiped) and the socket file is removed.
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifdef FS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "fieldsync/log.h"

#define FS_SHUTDOWN_FLUSH_MS 2000
/* Checkpoint and merge FTS segments once writes have paused this long: answers
 * never wait for either. */
#define FS_IDLE_MAINTENANCE_MS 1000
/* Between two maintenance steps while search rows are owed. */
#define FS_MAINTENANCE_STEP_MS 10
/* After a failed step (a busy or full disk, an I/O error), the next one comes
 * FS_IDLE_MAINTENANCE_MS later, twice as late after each failure in a row, up
 * to this: pulled records still owe their search rows, and a failure that
 * lasts is logged a few times an hour, not every second. */
#define FS_MAINTENANCE_RETRY_MAX_MS (8u * 60 * 1000)

static void notify_systemd(const char *state)
{
#ifdef FS_HAVE_SYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

static void apply_logging(const fs_config *cfg)
{
    fs_log_set_level(cfg->log_level);
    bool journal = cfg->log_target == FS_CONFIG_LOG_JOURNAL ||
                   (cfg->log_target == FS_CONFIG_LOG_AUTO && getenv("JOURNAL_STREAM") != NULL);
    if (fs_log_set_target(journal ? FS_LOG_TARGET_JOURNAL : FS_LOG_TARGET_STDERR) != 0 &&
        cfg->log_target == FS_CONFIG_LOG_JOURNAL)
        fs_log(FS_LOG_WARN, "this build has no journald support: logging to stderr");
}

/* Builds a configuration from the file and the overrides into *cfg. */
static int build_config(const fs_server *s, fs_config *cfg, fs_err *err)
{
    fs_config_init(cfg);
    int rc = 0;
    if (s->config_path != NULL) {
        rc = fs_config_load(cfg, s->config_path, err);
        if (rc == FS_ENOTFOUND && !s->config_required)
            rc = 0;
    }
    for (size_t i = 0; rc == 0 && i < s->noverrides; i++) {
        fs_err e = {0};
        rc = fs_config_set(cfg, s->overrides[i].key, s->overrides[i].value, &e);
        if (rc != 0)
            fs_err_set(err, rc, "command line: %s", e.msg);
    }
    fs_env env = fs_env_current();
    if (rc == 0)
        rc = fs_config_resolve(cfg, &env, err);
    if (rc != 0)
        fs_config_clear(cfg);
    return rc;
}

int fs_server_configure(fs_server *s, fs_err *err)
{
    int rc = build_config(s, &s->cfg, err);
    if (rc == 0)
        apply_logging(&s->cfg);
    return rc;
}

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* SIGHUP: limits, timeouts and logging change at once; paths need a restart. */
static void reload(fs_server *s)
{
    fs_config next;
    fs_err err = {0};
    if (build_config(s, &next, &err) != 0) {
        fs_log(FS_LOG_ERROR, "reload failed, keeping the running configuration: %s", err.msg);
        return;
    }
    if (!same(next.data_dir, s->cfg.data_dir) || !same(next.socket_path, s->cfg.socket_path) ||
        !same(next.key_file, s->cfg.key_file) || !same(next.db_file, s->cfg.db_file))
        fs_log(FS_LOG_WARN, "reload: path changes take effect after a restart");
    s->cfg.log_level = next.log_level;
    s->cfg.log_target = next.log_target;
    s->cfg.max_clients = next.max_clients;
    s->cfg.max_output_bytes = next.max_output_bytes;
    s->cfg.client_timeout_s = next.client_timeout_s;
    s->cfg.sales_cycle_days = next.sales_cycle_days;
    fs_config_clear(&next);
    /* logged before the new level applies, so a quieter level still shows it */
    fs_log(FS_LOG_INFO, "configuration reloaded (log level %s)",
           fs_log_level_name(s->cfg.log_level));
    apply_logging(&s->cfg);
}

static void on_signal(fs_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)events;
    fs_server *s = arg;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            reload(s);
        } else {
            fs_log(FS_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
            fs_loop_stop(loop);
        }
    }
}

static void on_accept(fs_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)events;
    fs_server *s = arg;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0 && (errno == EMFILE || errno == ENFILE)) {
            /* the pending connection stays queued; a level-triggered listener
             * would spin, so stop watching it until a client leaves */
            fs_log(FS_LOG_WARN, "out of file descriptors: new clients wait until one leaves");
            fs_loop_mod(s->loop, s->listen_h, 0);
            s->accept_paused = true;
            return;
        }
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fs_log(FS_LOG_WARN, "accept: %s", strerror(errno));
            return;
        }
        uid_t uid;
        pid_t pid;
        fs_err err = {0};
        if (fs_listener_peer(cfd, &uid, &pid) != 0 || uid != geteuid()) {
            fs_log(FS_LOG_WARN, "refused a client of uid %ld (pid %ld): only uid %ld may connect",
                   (long)uid, (long)pid, (long)geteuid());
            close(cfd);
        } else if (s->nconns >= s->cfg.max_clients) {
            fs_log(FS_LOG_WARN, "refused a client (pid %ld): %zu clients already connected",
                   (long)pid, s->nconns);
            close(cfd);
        } else if (fs_conn_open(s, cfd, uid, pid, &err) != 0) {
            fs_log(FS_LOG_ERROR, "client: %s", err.msg);
        }
    }
}

void fs_server_client_gone(fs_server *s)
{
    if (!s->accept_paused || s->listen_h == NULL)
        return;
    s->accept_paused = false;
    fs_loop_mod(s->loop, s->listen_h, EPOLLIN);
}

static void on_idle_maintenance(fs_loop *loop, void *arg);

/* (Re)arms the one-shot idle maintenance to run delay_ms from now. */
static void schedule_maintenance(fs_server *s, uint64_t delay_ms)
{
    fs_loop_timer_del(s->loop, s->maintenance_timer);
    s->maintenance_timer = NULL;
    fs_err err = {0};
    if (fs_loop_timer_add(s->loop, fs_loop_now_ms() + delay_ms, on_idle_maintenance, s,
                          &s->maintenance_timer, &err) != 0)
        fs_log(FS_LOG_WARN, "cannot schedule store maintenance: %s", err.msg);
    s->maintenance_for_reads = false;
}

/* Without this, searches after the last write's maintenance left the cache
 * full until the next write. Reads postpone only a maintenance that reads
 * armed: one a write or a step armed may have search rows to build, and a
 * UI polling search for them must not hold it back. */
void fs_server_served(fs_server *s)
{
    if (s->daemon.store == NULL || (s->maintenance_timer != NULL && !s->maintenance_for_reads))
        return;
    schedule_maintenance(s, FS_IDLE_MAINTENANCE_MS);
    s->maintenance_for_reads = true;
}

/* The wait before the next step after `failures` failed ones in a row. */
static uint64_t retry_delay_ms(unsigned failures)
{
    uint64_t d = FS_IDLE_MAINTENANCE_MS;
    while (failures-- > 0 && d < FS_MAINTENANCE_RETRY_MAX_MS)
        d *= 2;
    return d < FS_MAINTENANCE_RETRY_MAX_MS ? d : FS_MAINTENANCE_RETRY_MAX_MS;
}

static void on_idle_maintenance(fs_loop *loop, void *arg)
{
    (void)loop;
    fs_server *s = arg;
    s->maintenance_timer = NULL;
    fs_err err = {0};
    bool more = false;
    if (s->daemon.store == NULL)
        return;
    if (fs_store_maintain(s->daemon.store, &more, &err) != 0) {
        uint64_t delay = retry_delay_ms(s->maintenance_failures++);
        fs_log(FS_LOG_WARN, "store maintenance: %s (trying again in %llu s)", err.msg,
               (unsigned long long)(delay / 1000));
        schedule_maintenance(s, delay);
        return;
    }
    s->maintenance_failures = 0;
    if (more) {
        /* pulled records still wait for their search rows, or the index
         * still has segments to merge: the next step as soon as the loop has
         * served what came in meanwhile */
        schedule_maintenance(s, FS_MAINTENANCE_STEP_MS);
        return;
    }
#ifdef __GLIBC__
    /* A sync or a burst of writes leaves megabytes free inside the heap (the
     * page cache's among them, released by the maintenance), which glibc
     * keeps; give them back before going idle (docs/daemon.md has figures). */
    malloc_trim(0);
#endif
}

/* Every record change passes here on its way to subscribers: the store was
 * written, so (re)arm the one-shot idle maintenance (checkpoint, FTS merge). No writes,
 * no timer. */
static void on_notify(void *arg, unsigned topic, const char *method, json_t *params)
{
    fs_server *s = arg;
    /* an unlock arms it too: a store may open with search rows owed */
    if (topic == FS_TOPIC_RECORD || topic == FS_TOPIC_STATE)
        schedule_maintenance(s, FS_IDLE_MAINTENANCE_MS);
    fs_conn_broadcast(s, topic, method, params);
}

static bool before_sleep(fs_loop *loop, void *arg)
{
    (void)loop;
    return fs_conn_service(arg);
}

static int open_signals(fs_server *s, fs_err *err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return fs_err_set(err, FS_EIO, "sigprocmask: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    s->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->signal_fd < 0)
        return fs_err_set(err, FS_EIO, "signalfd: %s", strerror(errno));
    return fs_loop_add(s->loop, s->signal_fd, EPOLLIN, on_signal, s, &s->signal_h, err);
}

void fs_server_init(fs_server *s)
{
    memset(s, 0, sizeof(*s));
    fs_config_init(&s->cfg);
    s->listen_fd = s->signal_fd = s->lock_fd = -1;
}

int fs_server_start(fs_server *s, fs_err *err)
{
    int rc;
    if ((rc = fs_listener_lock(s->cfg.data_dir, &s->lock_fd, err)) != 0 ||
        (rc = fs_daemon_init(&s->daemon, &s->cfg, err)) != 0 ||
        (rc = fs_loop_new(&s->loop, err)) != 0 || (rc = open_signals(s, err)) != 0)
        return rc;
    s->daemon.notify = on_notify;
    s->daemon.notify_arg = s;
    if ((rc = fs_daemon_set_loop(&s->daemon, s->loop, err)) != 0)
        return rc;
    if ((rc = fs_listener_open(s->cfg.socket_path, &s->listen_fd, err)) != 0)
        return rc;
    s->socket_bound = true;
    if (s->daemon.store != NULL) /* it may open with search rows owed */
        schedule_maintenance(s, FS_IDLE_MAINTENANCE_MS);
    fs_loop_set_before_sleep(s->loop, before_sleep, s);
    return fs_loop_add(s->loop, s->listen_fd, EPOLLIN, on_accept, s, &s->listen_h, err);
}

int fs_server_run(fs_server *s, fs_err *err)
{
    fs_log(FS_LOG_INFO, "fieldsyncd %s listening on %s (store %s)", FS_DAEMON_VERSION,
           s->cfg.socket_path, fs_daemon_state_name(s->daemon.state));
    notify_systemd("READY=1");
    int rc = fs_loop_run(s->loop, err);
    notify_systemd("STOPPING=1");
    fs_loop_del(s->loop, s->listen_h);
    s->listen_h = NULL;
    close(s->listen_fd);
    s->listen_fd = -1;
    fs_conn_flush_all(s, fs_loop_now_ms() + FS_SHUTDOWN_FLUSH_MS);
    return rc;
}

void fs_server_clear(fs_server *s)
{
    if (s->loop != NULL)
        fs_conn_free_all(s);
    fs_daemon_clear(&s->daemon);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->socket_bound && s->cfg.socket_path != NULL)
        unlink(s->cfg.socket_path);
    if (s->signal_fd >= 0)
        close(s->signal_fd);
    fs_loop_free(s->loop);
    s->loop = NULL;
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    fs_config_clear(&s->cfg);
}
