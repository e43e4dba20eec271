/*
 * admin.c: administrator operations (see admin.h). Each runs in one write
 * transaction and leaves nothing behind on failure.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include "fieldsync/log.h"
#include "owner.h"

static int finish(srv_storage *s, int rc, fs_err *err)
{
    if (rc == 0)
        rc = s->ops->commit(s, err);
    if (rc != 0)
        s->ops->rollback(s);
    return rc;
}

static int valid_name(const char *name, fs_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > SRV_NAME_MAX)
        return fs_err_set(err, FS_EINVAL, "a user name has 1 to %d bytes", SRV_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x21 || name[i] == 0x7f)
            return fs_err_set(err, FS_EINVAL,
                              "user name \"%s\" has spaces or control characters: use a login "
                              "name such as anna.berg",
                              name);
    return 0;
}

int srv_admin_user_add(srv_storage *s, const char *name, srv_role role, const char *manager,
                       fs_err *err)
{
    srv_user m = {0};
    int rc = valid_name(name, err);
    if (rc != 0)
        return rc;
    if (manager != NULL && role != SRV_ROLE_REP)
        return fs_err_set(err, FS_EINVAL, "only a rep has a manager (--manager)");
    if ((rc = s->ops->begin(s, true, err)) != 0)
        return rc;
    if (manager != NULL && (rc = s->ops->user_get(s, manager, &m, err)) == 0 &&
        m.role != SRV_ROLE_MANAGER)
        rc = fs_err_set(err, FS_EINVAL,
                        "%s is a rep, not a manager: add a manager with "
                        "`user add NAME --role manager`",
                        manager);
    if (rc == 0)
        rc = s->ops->user_add(s, name, role, m.id, NULL, err);
    return finish(s, rc, err);
}

/* The rep and manager (m zeroed for NULL) of a team change. */
static int team_users(srv_storage *s, const char *rep, const char *manager, srv_user *r,
                      srv_user *m, fs_err *err)
{
    memset(m, 0, sizeof(*m));
    int rc = s->ops->user_get(s, rep, r, err);
    if (rc == 0 && r->role != SRV_ROLE_REP)
        return fs_err_set(err, FS_EINVAL, "%s is a manager: only reps belong to a team", rep);
    if (rc == 0 && manager != NULL && (rc = s->ops->user_get(s, manager, m, err)) == 0 &&
        m->role != SRV_ROLE_MANAGER)
        rc = fs_err_set(err, FS_EINVAL,
                        "%s is a rep, not a manager: add a manager with "
                        "`user add NAME --role manager`",
                        manager);
    return rc;
}

int srv_admin_team_set(srv_storage *s, const char *rep, const char *manager, fs_err *err)
{
    srv_user r, m;
    uint64_t seq;
    int rc = s->ops->begin(s, true, err);
    if (rc != 0)
        return rc;
    rc = team_users(s, rep, manager, &r, &m, err);
    if (rc != 0 || r.manager_id == m.id)
        return finish(s, rc, err);
    rc = s->ops->user_set_manager(s, r.id, m.id, err);
    /* a change number above every cursor handed out so far */
    if (rc == 0)
        rc = s->ops->next_seq(s, &seq, err);
    if (rc == 0 && r.manager_id != 0)
        rc = s->ops->user_raise_floor(s, r.manager_id, seq, err);
    if (rc == 0 && m.id != 0)
        rc = s->ops->user_raise_floor(s, m.id, seq, err);
    rc = finish(s, rc, err);
    if (rc == 0)
        fs_log(FS_LOG_INFO, "user %lld: manager %lld -> %lld", (long long)r.id,
               (long long)r.manager_id, (long long)m.id);
    return rc;
}

int srv_admin_enroll_code(srv_storage *s, const char *user, int64_t now, int64_t ttl_s,
                          char code[SRV_CODE_LEN + 1], fs_err *err)
{
    srv_user u;
    uint8_t hash[SRV_HASH_BYTES];
    if (ttl_s <= 0)
        return fs_err_set(err, FS_EINVAL, "the code's lifetime must be positive");
    int rc = s->ops->begin(s, true, err);
    if (rc != 0)
        return rc;
    rc = s->ops->user_get(s, user, &u, err);
    if (rc == 0) {
        srv_code_mint(code);
        srv_code_hash(code, hash);
        rc = s->ops->code_add(s, hash, u.id, now + ttl_s, err);
    }
    return finish(s, rc, err);
}

int srv_admin_device_revoke(srv_storage *s, int64_t device_id, int64_t now, fs_err *err)
{
    int rc = s->ops->begin(s, true, err);
    if (rc != 0)
        return rc;
    rc = finish(s, s->ops->device_revoke(s, device_id, now, err), err);
    if (rc == 0)
        fs_log(FS_LOG_INFO, "revoked device %lld", (long long)device_id);
    return rc;
}

/* Writes the new owner's name into the account's state (owner.h) while it is
 * still in its old territory; the move that follows gives it and its records
 * to the new owner in their order, account first. FS_ENOTFOUND for an account
 * nobody owns. */
static int write_owner(srv_storage *s, const char *account_id, const srv_user *u, fs_err *err)
{
    srv_record old;
    fs_state *st = NULL;
    uint8_t *enc = NULL;
    size_t len = 0;
    bool stamped = false;
    int64_t owner;
    int rc = s->ops->territory_get(s, account_id, &owner, err);
    if (rc != 0 ||
        (rc = s->ops->record_get(s, FIELDSYNC__RECORD_KIND__ACCOUNT, account_id, &old, err)) != 0)
        return rc;
    rc = fs_state_decode(&st, old.state, old.state_len, err);
    if (rc == 0)
        rc = srv_owner_stamp(st, u->name, &stamped, err);
    if (rc == 0 && stamped)
        rc = fs_state_encode(st, &enc, &len, err);
    if (rc == 0 && stamped) {
        srv_record rec = {.kind = st->kind,
                          .id = st->id,
                          .account_id = old.account_id,
                          .owner = owner,
                          .stored = true,
                          .alive = fs_record_alive(st),
                          .state = enc,
                          .state_len = len};
        if ((rc = s->ops->next_seq(s, &rec.seq, err)) == 0)
            rc = s->ops->record_put(s, &rec, err);
    }
    free(enc);
    fs_state_free(st);
    srv_record_clear(&old);
    return rc;
}

int srv_admin_reassign(srv_storage *s, const char *account_id, const char *rep, size_t *moved,
                       fs_err *err)
{
    srv_user u;
    *moved = 0;
    int rc = s->ops->begin(s, true, err);
    if (rc != 0)
        return rc;
    rc = s->ops->user_get(s, rep, &u, err);
    if (rc == 0 && u.role != SRV_ROLE_REP)
        rc = fs_err_set(err, FS_EINVAL, "%s is a manager: accounts belong to reps", rep);
    if (rc == 0) {
        if ((rc = write_owner(s, account_id, &u, err)) == 0)
            rc = s->ops->reassign(s, account_id, u.id, moved, err);
        if (rc == FS_ENOTFOUND)
            fs_err_set(err, rc, "account %s is unknown to the server (no rep has pushed it)",
                       account_id);
    }
    return finish(s, rc, err);
}

int srv_admin_gc(srv_storage *s, int64_t now, int64_t horizon_s, srv_gc_report *report, fs_err *err)
{
    int rc = s->ops->begin(s, true, err);
    if (rc != 0)
        return rc;
    return finish(s, s->ops->gc(s, now, horizon_s, report, err), err);
}

int srv_admin_migrate(srv_storage *from, srv_storage *to, fs_err *err)
{
    srv_dump_sink sink;
    if (from->ops->dump == NULL || to->ops->load == NULL)
        return fs_err_set(err, FS_EINVAL,
                          "migrate copies a SQLite database into PostgreSQL, not %s into %s",
                          from->ops->name, to->ops->name);
    int rc = to->ops->begin(to, true, err);
    if (rc != 0)
        return rc;
    if ((rc = from->ops->begin(from, false, err)) != 0)
        return finish(to, rc, err);
    rc = to->ops->load(to, &sink, err);
    if (rc == 0)
        rc = from->ops->dump(from, &sink, err);
    from->ops->rollback(from); /* it only read */
    return finish(to, rc, err);
}
