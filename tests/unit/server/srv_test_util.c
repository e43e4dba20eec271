/*
 * srv_test_util.c: shared helpers of the server tests (see srv_test_util.h).
 * Failures abort: a helper that cannot set up its fixture is a broken test.
 */
#include "srv_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "admin.h"
#include "fieldsync.pb-c.h"
#include "fieldsync/log.h"
#include "pbout.h"

static void die(const char *what, const fs_err *err)
{
    fprintf(stderr, "test setup failed: %s: %s\n", what, err ? fs_err_message(err) : "");
    abort();
}

void tu_db_path(const char *dir, char out[300])
{
    snprintf(out, 300, "%s/server.db", dir);
}

static const char *tu_pg_url; /* NULL: SQLite */

void tu_use_backend(const char *name)
{
    tu_pg_url = NULL;
    if (name == NULL || strcmp(name, "sqlite") == 0)
        return;
    if (strcmp(name, "postgresql") != 0 || (tu_pg_url = getenv("FS_TEST_PG_URL")) == NULL) {
        fprintf(stderr, "backend %s: run as `tests/pg/pgcluster.py run -- TEST postgresql`\n",
                name);
        abort();
    }
}

bool tu_is_pg(void)
{
    return tu_pg_url != NULL;
}

void tu_db(const char *dir, char out[300])
{
    if (tu_pg_url != NULL)
        snprintf(out, 300, "%s", tu_pg_url);
    else
        tu_db_path(dir, out);
}

/* Drops every table of the PostgreSQL test database. */
static void tu_pg_empty(void)
{
    PGconn *c = PQconnectdb(tu_pg_url);
    PGresult *r = PQexec(c, "SET client_min_messages = warning;"
                            " DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "test setup failed: emptying the database: %s\n", PQerrorMessage(c));
        abort();
    }
    PQclear(r);
    PQfinish(c);
}

srv_storage *tu_storage_new(char dir[256])
{
    fs_err err = {0};
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 256, "%s/fs-srv-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", NULL);
    if (srv_crypto_init(&err) != 0)
        die("sodium", &err);
    fs_log_set_level(getenv("FS_TEST_VERBOSE") ? FS_LOG_DEBUG : FS_LOG_WARN);
    char db[300];
    tu_db(dir, db);
    if (tu_pg_url != NULL)
        tu_pg_empty();
    srv_storage *s;
    if (srv_storage_open(&s, db, true, &err) != 0)
        die("open", &err);
    return s;
}

void tu_storage_free(srv_storage *s, const char *dir)
{
    srv_storage_close(s);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static int64_t tu_clock(void *arg)
{
    return *(int64_t *)arg;
}

void tu_config(srv_config *cfg, int64_t *now)
{
    srv_config_default(cfg);
    cfg->clock = tu_clock;
    cfg->clock_arg = now;
}

void tu_user(srv_storage *s, const char *name, srv_role role, const char *manager)
{
    fs_err err = {0};
    if (srv_admin_user_add(s, name, role, manager, &err) != 0)
        die("user add", &err);
}

void tu_enroll(srv_storage *s, const srv_config *cfg, const char *user, char bearer[80],
               uint64_t *replica)
{
    tu_enroll_prior(s, cfg, user, 0, bearer, replica);
}

void tu_enroll_prior(srv_storage *s, const srv_config *cfg, const char *user, uint64_t prior,
                     char bearer[80], uint64_t *replica)
{
    fs_err err = {0};
    char code[SRV_CODE_LEN + 1];
    if (srv_admin_enroll_code(s, user, srv_config_now(cfg), 3600, code, &err) != 0)
        die("enroll-code", &err);
    Fieldsync__EnrollRequest rq = FIELDSYNC__ENROLL_REQUEST__INIT;
    rq.code = code;
    rq.device_name = "test laptop";
    rq.has_prior_replica_id = prior != 0;
    rq.prior_replica_id = prior;
    uint8_t buf[128];
    size_t len = fieldsync__enroll_request__pack(&rq, buf);
    srv_response rs = {0};
    if (tu_call(srv_handle_enroll, s, cfg, NULL, buf, len, &rs) != 0 || rs.status != 200)
        die("enroll", NULL);
    Fieldsync__EnrollResponse *er = fieldsync__enroll_response__unpack(NULL, rs.len, rs.body);
    if (er == NULL || er->token.len != SRV_TOKEN_BYTES)
        die("enroll answer", NULL);
    strcpy(bearer, "Bearer ");
    for (size_t i = 0; i < SRV_TOKEN_BYTES; i++)
        sprintf(bearer + 7 + 2 * i, "%02x", er->token.data[i]);
    if (replica != NULL)
        *replica = er->replica_id;
    fieldsync__enroll_response__free_unpacked(er, NULL);
    srv_response_clear(&rs);
}

uint64_t tu_last_seq(srv_storage *s)
{
    uint64_t seq = 0;
    fs_err err = {0};
    if (s->ops->last_seq(s, &seq, &err) != 0)
        die("last_seq", &err);
    return seq;
}

int tu_db_setup(void **state)
{
    tu_db_fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        die("fixture", NULL);
    f->s = tu_storage_new(f->dir);
    tu_db(f->dir, f->db);
    *state = f;
    return 0;
}

int tu_db_teardown(void **state)
{
    tu_db_fixture *f = *state;
    tu_storage_free(f->s, f->dir);
    free(f);
    return 0;
}

int tu_team_setup(void **state)
{
    tu_team *t = calloc(1, sizeof(*t));
    if (t == NULL)
        die("team", NULL);
    t->s = tu_storage_new(t->dir);
    t->now = 1700000000;
    tu_config(&t->cfg, &t->now);
    tu_user(t->s, "mgr", SRV_ROLE_MANAGER, NULL);
    tu_user(t->s, "anna", SRV_ROLE_REP, "mgr");
    tu_user(t->s, "bob", SRV_ROLE_REP, NULL);
    tu_enroll(t->s, &t->cfg, "anna", t->anna_a, &t->ra);
    tu_enroll(t->s, &t->cfg, "anna", t->anna_b, &t->rb);
    tu_enroll(t->s, &t->cfg, "bob", t->bob, &t->rbob);
    tu_enroll(t->s, &t->cfg, "mgr", t->mgr, NULL);
    *state = t;
    return 0;
}

int tu_team_teardown(void **state)
{
    tu_team *t = *state;
    tu_storage_free(t->s, t->dir);
    free(t);
    return 0;
}

static uint64_t tu_hlc = 1;

static void write_fields(fs_state *st, uint64_t replica, const ProtobufCMessage *m)
{
    fs_err err = {0};
    tu_hlc += 1 << 16;
    if (fs_record_write_msg(st, replica, tu_hlc, m, NULL, 0, &err) != 0)
        die("write", &err);
}

fs_state *tu_account(uint64_t replica, const char *id, const char *name)
{
    fs_state *st;
    fs_err err = {0};
    if (fs_state_new(&st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, &err) != 0)
        die("state", &err);
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.name = (char *)name;
    write_fields(st, replica, &a.base);
    return st;
}

fs_state *tu_contact(uint64_t replica, const char *id, const char *account_id, const char *name)
{
    fs_state *st;
    fs_err err = {0};
    if (fs_state_new(&st, FIELDSYNC__RECORD_KIND__CONTACT, id, &err) != 0)
        die("state", &err);
    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    c.account_id = (char *)account_id;
    c.name = (char *)name;
    write_fields(st, replica, &c.base);
    return st;
}

void tu_rename(fs_state *st, uint64_t replica, const char *name)
{
    if (st->kind == FIELDSYNC__RECORD_KIND__ACCOUNT) {
        Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
        a.name = (char *)name;
        write_fields(st, replica, &a.base);
    } else {
        Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
        c.name = (char *)name;
        write_fields(st, replica, &c.base);
    }
}

void tu_delete(fs_state *st, uint64_t replica)
{
    fs_err err = {0};
    tu_hlc += 1 << 16;
    if (fs_record_delete(st, replica, tu_hlc, &err) != 0)
        die("delete", &err);
}

static uint8_t *push_body(fs_state *const *states, size_t n, bool unchanged_ok, size_t *len)
{
    srv_buf b = {0};
    fs_err err = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t *enc;
        size_t elen;
        if (fs_state_encode(states[i], &enc, &elen, &err) != 0)
            die("encode", &err);
        srv_buf_bytes_field(&b, 1, enc, elen);
        free(enc);
    }
    if (unchanged_ok)
        srv_buf_varint_field(&b, 10, 1);
    uint8_t *out;
    if (srv_buf_finish(&b, &out, len) != 0)
        die("push body", NULL);
    return out;
}

uint8_t *tu_push_body(fs_state *const *states, size_t n, size_t *len)
{
    return push_body(states, n, false, len);
}

uint8_t *tu_push_body_unchanged_ok(fs_state *const *states, size_t n, size_t *len)
{
    return push_body(states, n, true, len);
}

uint8_t *tu_pull_body(uint64_t cursor, uint32_t limit, size_t *len)
{
    srv_buf b = {0};
    srv_buf_varint_field(&b, 1, cursor);
    if (limit)
        srv_buf_varint_field(&b, 2, limit);
    uint8_t *out;
    if (srv_buf_finish(&b, &out, len) != 0)
        die("pull body", NULL);
    return out;
}

uint8_t *tu_pull_full_body(uint64_t cursor, size_t *len)
{
    srv_buf b = {0};
    srv_buf_varint_field(&b, 1, cursor);
    srv_buf_varint_field(&b, 3, 1);
    uint8_t *out;
    if (srv_buf_finish(&b, &out, len) != 0)
        die("pull body", NULL);
    return out;
}

uint8_t *tu_pull_snapshot_body(uint32_t limit, bool full, const uint8_t *pos, size_t pos_len,
                               size_t *len)
{
    srv_buf b = {0};
    srv_buf_varint_field(&b, 1, 0);
    if (limit)
        srv_buf_varint_field(&b, 2, limit);
    if (full)
        srv_buf_varint_field(&b, 3, 1);
    srv_buf_bytes_field(&b, 10, pos != NULL ? pos : (const uint8_t *)"", pos != NULL ? pos_len : 0);
    uint8_t *out;
    if (srv_buf_finish(&b, &out, len) != 0)
        die("pull body", NULL);
    return out;
}

int tu_call(int (*h)(srv_storage *, const srv_config *, const srv_request *, srv_response *),
            srv_storage *s, const srv_config *cfg, const char *bearer, const uint8_t *body,
            size_t len, srv_response *rs)
{
    srv_request rq = {
        .authorization = bearer, .protocol = SRV_PROTOCOL_VERSION, .body = body, .len = len};
    return h(s, cfg, &rq, rs);
}

Fieldsync__PushResponse *tu_push(srv_storage *s, const srv_config *cfg, const char *bearer,
                                 fs_state *const *st, size_t n)
{
    size_t len;
    uint8_t *body = tu_push_body(st, n, &len);
    srv_response rs = {0};
    if (tu_call(srv_handle_push, s, cfg, bearer, body, len, &rs) != 0 || rs.status != 200)
        die("a push not answered 200", NULL);
    Fieldsync__PushResponse *pr = fieldsync__push_response__unpack(NULL, rs.len, rs.body);
    if (pr == NULL || pr->n_results != n)
        die("a push answer without one result per state", NULL);
    free(body);
    srv_response_clear(&rs);
    return pr;
}

Fieldsync__PullResponse *tu_send_pull(srv_storage *s, const srv_config *cfg, const char *bearer,
                                      uint8_t *body, size_t len, long *status)
{
    srv_response rs = {0};
    if (tu_call(srv_handle_pull, s, cfg, bearer, body, len, &rs) != 0)
        die("a pull the handler failed", NULL);
    *status = rs.status;
    Fieldsync__PullResponse *pr =
        rs.status == 200 ? fieldsync__pull_response__unpack(NULL, rs.len, rs.body) : NULL;
    free(body);
    srv_response_clear(&rs);
    return pr;
}

const char *tu_error_code(const srv_response *rs)
{
    static char code[64];
    code[0] = '\0';
    Fieldsync__ErrorResponse *e = fieldsync__error_response__unpack(NULL, rs->len, rs->body);
    if (e != NULL && e->code != NULL)
        snprintf(code, sizeof(code), "%s", e->code);
    if (e != NULL)
        fieldsync__error_response__free_unpacked(e, NULL);
    return code;
}

void tu_join_answer(fs_state *st, const Fieldsync__PushResult *r)
{
    fs_state *joined = NULL;
    fs_err err = {0};
    if (r->outcome_case != FIELDSYNC__PUSH_RESULT__OUTCOME_JOINED)
        die("a push answer without a joined state", NULL);
    if (fs_state_from_pb(&joined, r->joined, &err) != 0 ||
        fs_record_join_into(st, joined, &err) != 0)
        die("joining a push answer", &err);
    fs_state_free(joined);
}

const char *tu_name(const fs_state *st)
{
    static char name[128];
    ProtobufCMessage *m = NULL;
    name[0] = '\0';
    if (fs_record_visible(st, &m, NULL) != 0)
        return name;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "name");
    const char *v = f ? *(char *const *)((const char *)m + f->offset) : NULL;
    snprintf(name, sizeof(name), "%s", v ? v : "");
    protobuf_c_message_free_unpacked(m, NULL);
    return name;
}
