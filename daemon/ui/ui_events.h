/*
 * ui_events.h: GET /api/events, the daemon's notifications pushed to the page
 * as Server-Sent Events (ui_events.c). Each stream has its own connection to
 * fieldsyncd, subscribed to every topic; each notification becomes one event
 * named after it (`record.changed`, `sync.progress`, `sync.done`,
 * `sync.state`, `state.changed`, ...) whose data is the notification's params.
 *
 * The bridge adds events of its own, named `bridge`: {"daemon":"connected"}
 * when the stream is subscribed, {"daemon":"unreachable"|"lost","message"}
 * when the daemon cannot be reached or hangs up (then the stream ends and the
 * browser's EventSource reconnects after the `retry` delay, so the page sees
 * the daemon come back). A comment line every keep-alive interval lets both
 * sides notice a dead peer.
 */
#ifndef FS_UI_EVENTS_H
#define FS_UI_EVENTS_H

#include <microhttpd.h>

/* How long a stream stays silent before it sends a keep-alive comment. */
#define FS_UI_KEEPALIVE_MS 15000
/* The browser's reconnect delay after a stream ends. */
#define FS_UI_RETRY_MS 2000

typedef struct fs_ui_events fs_ui_events;

/* The set of open streams of one bridge (socket_path borrowed). */
fs_ui_events *fs_ui_events_new(const char *socket_path, int timeout_ms);
/* A new stream's response (to queue, then destroy); NULL when out of memory. */
struct MHD_Response *fs_ui_events_response(fs_ui_events *ev);
/* Ends every open stream and makes new ones end at once (the bridge stops). */
void fs_ui_events_close_all(fs_ui_events *ev);
/* After the HTTP server stopped (no stream left). NULL is a no-op. */
void fs_ui_events_free(fs_ui_events *ev);

#endif
