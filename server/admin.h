/*
 * admin.h: the administrator's operations (user add, teams, enrollment codes,
 * device revocation, reassignment, gc, migrate), each one transaction over srv_storage. The
 * CLI (cli_admin.c) parses arguments and prints; these do the work, so tests call
 * them directly.
 */
#ifndef SRV_ADMIN_H
#define SRV_ADMIN_H

#include "storage.h"
#include "token.h"

/* manager: the rep's manager's name, or NULL. A manager cannot have one. */
int srv_admin_user_add(srv_storage *s, const char *name, srv_role role, const char *manager,
                       fs_err *err);
/* Puts rep under manager (NULL: takes them out of any team). The devices of
 * the rep's old and new manager must pull again from scratch (their cursors
 * are past the rep's records, or past records they may no longer read):
 * both managers' floors rise above every cursor handed out so far, so those
 * devices get resync_required. */
int srv_admin_team_set(srv_storage *s, const char *rep, const char *manager, fs_err *err);
/* A new one-time code for user valid for ttl_s seconds from now. */
int srv_admin_enroll_code(srv_storage *s, const char *user, int64_t now, int64_t ttl_s,
                          char code[SRV_CODE_LEN + 1], fs_err *err);
int srv_admin_device_revoke(srv_storage *s, int64_t device_id, int64_t now, fs_err *err);
/* Moves an account (and what hangs off it) to the rep named rep. */
int srv_admin_reassign(srv_storage *s, const char *account_id, const char *rep, size_t *moved,
                       fs_err *err);
/* Copies every row of from (SQLite) into to (an empty PostgreSQL database),
 * in one read snapshot and one write transaction: all or nothing. */
int srv_admin_migrate(srv_storage *from, srv_storage *to, fs_err *err);
int srv_admin_gc(srv_storage *s, int64_t now, int64_t horizon_s, srv_gc_report *report,
                 fs_err *err);

#endif
