/*
 * srv_test_util.h: helpers the server's unit, integration and fuzz tests share:
 * a temporary storage (SQLite or PostgreSQL), the team fixture of the handler
 * tests, record states written the way a device writes them, request bodies,
 * and decoding of the answers.
 */
#ifndef SRV_TEST_UTIL_H
#define SRV_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fieldsync/record.h"
#include "handler.h"
#include "storage.h"
#include "token.h"

/* The backend tu_storage_new uses: "sqlite" (the default) or "postgresql",
 * the database named by FS_TEST_PG_URL (tests/pg/pgcluster.py run sets it). */
void tu_use_backend(const char *name);
bool tu_is_pg(void);
/* A fresh database (SQLite: in a new temporary directory; PostgreSQL: the
 * test database emptied) and a new temporary directory; dir receives its path. */
srv_storage *tu_storage_new(char dir[256]);
/* The --db value of the database tu_storage_new made. */
void tu_db(const char *dir, char out[300]);
/* Closes the storage and removes the directory. */
void tu_storage_free(srv_storage *s, const char *dir);
/* The database path inside dir. */
void tu_db_path(const char *dir, char out[300]);

/* A test clock: cfg reads *now. */
void tu_config(srv_config *cfg, int64_t *now);

/* Adds a user (manager may be NULL); aborts the test on failure. */
void tu_user(srv_storage *s, const char *name, srv_role role, const char *manager);
/* Enrolls a device for user through the real handler; bearer receives the
 * Authorization header value and *replica the replica id. */
void tu_enroll(srv_storage *s, const srv_config *cfg, const char *user, char bearer[80],
               uint64_t *replica);

/* The storage's last change number (PostgreSQL: docs/server.md, "Cursors"). */
uint64_t tu_last_seq(srv_storage *s);

/* A fresh database for the storage tests: its directory, its --db value
 * (tu_db) and the open storage. */
typedef struct tu_db_fixture {
    char dir[256];
    char db[300];
    srv_storage *s;
} tu_db_fixture;
/* cmocka setup and teardown: *state is the tu_db_fixture. */
int tu_db_setup(void **state);
int tu_db_teardown(void **state);

/* The team the handler tests start from, on a fresh database: manager mgr,
 * rep anna in mgr's team with two devices (anna_a, anna_b), rep bob in no
 * team, one device each for bob and mgr; bearers and replica ids. The clock
 * starts at 1700000000. */
typedef struct tu_team {
    char dir[256];
    srv_storage *s;
    srv_config cfg;
    int64_t now;
    char anna_a[80], anna_b[80], bob[80], mgr[80];
    uint64_t ra, rb, rbob;
} tu_team;
/* cmocka setup and teardown: *state is the tu_team. */
int tu_team_setup(void **state);
int tu_team_teardown(void **state);
/* The same for a device whose store wrote with replica id prior before (0: none). */
void tu_enroll_prior(srv_storage *s, const srv_config *cfg, const char *user, uint64_t prior,
                     char bearer[80], uint64_t *replica);

/* A device's write: a new state (or st updated) with the given fields. */
fs_state *tu_account(uint64_t replica, const char *id, const char *name);
fs_state *tu_contact(uint64_t replica, const char *id, const char *account_id, const char *name);
/* Writes name (field "name" / "title") again at replica into st. */
void tu_rename(fs_state *st, uint64_t replica, const char *name);
void tu_delete(fs_state *st, uint64_t replica);

/* PushRequest / PullRequest bodies (malloc'd). */
uint8_t *tu_push_body(fs_state *const *states, size_t n, size_t *len);
/* The same with PushRequest.unchanged_ok: the device takes "unchanged" answers. */
uint8_t *tu_push_body_unchanged_ok(fs_state *const *states, size_t n, size_t *len);
uint8_t *tu_pull_body(uint64_t cursor, uint32_t limit, size_t *len);
/* A forced resync's pull (PullRequest.full): the device's own writes included. */
uint8_t *tu_pull_full_body(uint64_t cursor, size_t *len);
/* A pull from cursor 0 that begins (pos NULL) or goes on with a snapshot. */
uint8_t *tu_pull_snapshot_body(uint32_t limit, bool full, const uint8_t *pos, size_t pos_len,
                               size_t *len);

/* Runs a handler with the protocol header set. */
int tu_call(int (*h)(srv_storage *, const srv_config *, const srv_request *, srv_response *),
            srv_storage *s, const srv_config *cfg, const char *bearer, const uint8_t *body,
            size_t len, srv_response *rs);

/* Pushes states as bearer; the decoded answer, which must be a 200 with one
 * result per state (aborts the test otherwise). */
Fieldsync__PushResponse *tu_push(srv_storage *s, const srv_config *cfg, const char *bearer,
                                 fs_state *const *st, size_t n);
/* Sends a pull body (freed here) as bearer; *status is what the handler
 * answered, and the decoded answer is returned when it is 200 (else NULL). */
Fieldsync__PullResponse *tu_send_pull(srv_storage *s, const srv_config *cfg, const char *bearer,
                                      uint8_t *body, size_t len, long *status);

/* The code of an ErrorResponse body (static buffer), or "" */
const char *tu_error_code(const srv_response *rs);

/* Joins the state a push answered with (r must be joined, not refused) into
 * st, as a device does with the answer; aborts the test on failure. */
void tu_join_answer(fs_state *st, const Fieldsync__PushResult *r);

/* The visible "name" of a state (static buffer), or "" when unset. */
const char *tu_name(const fs_state *st);

#endif
