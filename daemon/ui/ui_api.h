/*
 * ui_api.h: POST /api/call, the page's one way to reach fieldsyncd
 * (ui_api.c). The body is {"method": "...", "params": {...}}; the method must
 * be on the UI's allowlist (what the pages use: reading and editing records,
 * unlock and lock, conflicts, the outbox, starting a sync). Administration
 * that the UI does not offer (init, passphrase change, enrollment, forget,
 * resync, delete) is refused, so a page cannot do more than the screens show.
 *
 * The answer is JSON: {"result": ...} (200) when the daemon answered, or
 * {"error": {"name", "message", "code"?, "field"?}} with the HTTP status:
 * 200 for the daemon's own errors (locked, auth_failed, invalid_params ...:
 * the page shows them), 400 a body that is not such a request, 403 a method
 * off the allowlist, 502 the daemon cannot be reached.
 *
 * One connection to the daemon per call: requests are rare (a person clicks),
 * and a restarted daemon is picked up with no state to repair. The request
 * body may hold the passphrase: every copy made here is wiped.
 */
#ifndef FS_UI_API_H
#define FS_UI_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "fieldsync/error.h"

/* Largest request body the bridge reads (413 beyond it). */
#define FS_UI_MAX_BODY (256u * 1024)

/* True when the page may call method. */
bool fs_ui_api_allowed(const char *method);

/*
 * Decodes a request body: 0 with *method (borrowed from *req) and *params (a
 * borrowed object or NULL) and *req to json_decref; FS_EINVAL with err saying
 * what is wrong (not JSON, not an object, method missing, params not an
 * object, unknown keys).
 */
int fs_ui_api_parse(const char *body, size_t len, json_t **req, const char **method,
                    json_t **params, fs_err *err);

typedef struct fs_ui_answer {
    unsigned status; /* HTTP status */
    char *body;      /* malloc'd JSON */
    size_t len;
} fs_ui_answer;

/* Runs one call from the page against the daemon at socket_path; fills *a.
 * Returns FS_ENOMEM only when no answer could be made at all. */
int fs_ui_api_call(const char *socket_path, int timeout_ms, const char *body, size_t len,
                   fs_ui_answer *a);

/* An {"error": {"name", "message"}} answer with status (for the HTTP layer). */
int fs_ui_api_error(fs_ui_answer *a, unsigned status, const char *name, const char *message);

void fs_ui_answer_clear(fs_ui_answer *a);

#endif
