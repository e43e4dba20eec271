/*
 * admin.h: the administrator's operations (user add, enrollment codes, device
 * revocation, reassignment, gc), each one transaction over srv_storage. The
 * CLI (cli.c) parses arguments and prints; these do the work, so tests call
 * them directly.
 */
#ifndef SRV_ADMIN_H
#define SRV_ADMIN_H

#include "storage.h"
#include "token.h"

/* manager: the rep's manager's name, or NULL. A manager cannot have one. */
int srv_admin_user_add(srv_storage *s, const char *name, srv_role role, const char *manager,
                       fs_err *err);
/* A new one-time code for user valid for ttl_s seconds from now. */
int srv_admin_enroll_code(srv_storage *s, const char *user, int64_t now, int64_t ttl_s,
                          char code[SRV_CODE_LEN + 1], fs_err *err);
int srv_admin_device_revoke(srv_storage *s, int64_t device_id, int64_t now, fs_err *err);
/* Moves an account (and what hangs off it) to the rep named rep. */
int srv_admin_reassign(srv_storage *s, const char *account_id, const char *rep, size_t *moved,
                       fs_err *err);
int srv_admin_gc(srv_storage *s, int64_t now, int64_t horizon_s, srv_gc_report *report,
                 fs_err *err);

#endif
