/*
 * fuzz_jsonrpc.c: bytes -> fieldsyncd's JSON-RPC request parser and dispatcher,
 * against a real (plain) store in a temp directory. Each input is split into
 * lines like the socket framer would; every line is handled and its answer
 * serialised. Any crash, leak report or sanitizer finding is a bug: garbage
 * must only ever produce error responses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fieldsync/log.h"
#include "rpc.h"

#define FUZZ_MAX_LINES 64

static fs_daemon daemon_state;
static fs_config cfg;
static fs_rpc_session session;
static char dir[64];
static int ready;

static void cleanup(void)
{
    fs_daemon_clear(&daemon_state);
    fs_config_clear(&cfg);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_jsonrpc: could not remove %s\n", dir);
}

static int init_once(void)
{
    if (ready)
        return ready > 0 ? 0 : -1;
    ready = -1;
    fs_log_set_level(FS_LOG_ERROR);
    fs_rpc_harden_json();
    snprintf(dir, sizeof(dir), "/tmp/fuzz-jsonrpc-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    fs_config_init(&cfg);
    char path[128];
    snprintf(path, sizeof(path), "%s/fuzz.db", dir);
    cfg.data_dir = strdup(dir);
    cfg.db_file = strdup(path);
    fs_err err = {0};
    if (fs_daemon_init_plain(&daemon_state, &cfg, &err) != 0) {
        fprintf(stderr, "fuzz_jsonrpc: %s\n", err.msg);
        return -1;
    }
    atexit(cleanup);
    ready = 1;
    return 0;
}

static void handle(const char *line, size_t len)
{
    json_t *resp = fs_rpc_handle_line(&daemon_state, &session, line, len);
    if (resp == NULL)
        return;
    size_t n;
    char *out = fs_rpc_dump_line(resp, &n);
    if (out == NULL || n == 0 || out[n - 1] != '\n')
        abort(); /* every answer must serialise to one line */
    free(out);
    json_decref(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (init_once() != 0)
        abort();
    /* the lock method would leave the rest of a run locked: unlock (plain) again */
    if (daemon_state.state == FS_DAEMON_LOCKED)
        fs_daemon_unlock(&daemon_state, NULL, 0, NULL);
    size_t start = 0;
    int lines = 0;
    while (start < size && lines < FUZZ_MAX_LINES) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        if (end > start)
            handle((const char *)data + start, end - start);
        start = end + 1;
        lines++;
    }
    return 0;
}
