/*
 * ui.h: the local web UI of fieldsyncd behind `fieldsync ui` (docs/ui.md).
 *
 * An HTTP server on 127.0.0.1 only (libmicrohttpd, ui_http.c) that serves the
 * pages built into the binary (ui_static.c) and bridges the page to the
 * daemon's socket: POST /api/call for allowlisted JSON-RPC calls (ui_api.c),
 * GET /api/events for the daemon's notifications as Server-Sent Events
 * (ui_events.c). Every request passes ui_guard.c first: the right Host, no
 * foreign Origin, and the per-start token.
 */
#ifndef FS_UI_H
#define FS_UI_H

#include <stdint.h>

#include "fieldsync/error.h"

typedef struct fs_ui_opts {
    const char *socket_path; /* fieldsyncd's socket (copied) */
    uint16_t port;           /* 0: any free port */
    int timeout_ms;          /* how long a call waits for the daemon */
} fs_ui_opts;

typedef struct fs_ui fs_ui;

/* Listens on 127.0.0.1:port with a new token; serves until fs_ui_stop. */
int fs_ui_start(fs_ui **out, const fs_ui_opts *opts, fs_err *err);
/* The entry URL with the token (borrowed: valid until fs_ui_stop). */
const char *fs_ui_url(const fs_ui *ui);
uint16_t fs_ui_port(const fs_ui *ui);
/* Ends the event streams, stops the server, wipes the token. NULL is a no-op. */
void fs_ui_stop(fs_ui *ui);

#endif
