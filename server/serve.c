/*
 * serve.c: the serve command (see serve.h). SIGINT and SIGTERM are blocked
 * before any thread starts, so every MHD worker inherits the mask and the main
 * thread alone receives them with sigwait: shutdown is an ordinary return,
 * never a handler racing a request. A request in flight when the process is
 * killed outright loses nothing acknowledged: each push commits before its
 * answer is sent.
 */
#include "serve.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fieldsync/log.h"

/* Writes the port atomically (temp file + rename), so a reader polling for the
 * file never sees it half written. */
static int write_port_file(const char *path, uint16_t port, fs_err *err)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return fs_err_set(err, FS_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f != NULL && fprintf(f, "%u\n", (unsigned)port) > 0;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok ? 0 : fs_err_set(err, FS_EIO, "cannot write the port file %s", path);
}

/* Descriptors beyond the connections: database files and their WAL, the
 * listening socket, epoll, logs. */
#define SRV_SPARE_FDS 64

/* Raises the open-file limit to its hard limit, and says so when even that
 * is below what max_connections needs (accept would then fail, not refuse). */
static void raise_fd_limit(unsigned max_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max_connections + SRV_SPARE_FDS)
        fs_log(FS_LOG_WARN,
               "the open-file limit (%llu) is too low for %u connections: raise it "
               "(LimitNOFILE=) or lower --max-connections",
               (unsigned long long)rl.rlim_cur, max_connections);
}

int srv_serve(const char *db_path, const srv_http_opts *opts, const char *port_file, fs_err *err)
{
    srv_storage *s = NULL;
    srv_pool *pool = NULL;
    srv_http *h = NULL;
    sigset_t set;
    int sig = 0;
    /* Creates the database and schema once, before the pool opens it N times. */
    int rc = srv_storage_open(&s, db_path, true, err);
    srv_storage_close(s);
    if (rc != 0)
        return rc;
    if ((rc = srv_pool_new(&pool, db_path, opts->threads, err)) != 0)
        return rc;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(opts->max_connections);
    if ((rc = srv_http_start(&h, opts, pool, err)) != 0)
        goto done;
    uint16_t port = srv_http_port(h);
    if (port_file != NULL && (rc = write_port_file(port_file, port, err)) != 0)
        goto done;
    fs_log(FS_LOG_INFO, "serving %s on %s (port %u, %s, %u threads)", db_path, opts->listen,
           (unsigned)port, opts->cert_path ? "https" : "plain http on loopback", opts->threads);
    sigwait(&set, &sig);
    fs_log(FS_LOG_INFO, "signal %d: stopping", sig);
done:
    srv_http_stop(h);
    srv_pool_free(pool);
    return rc;
}
