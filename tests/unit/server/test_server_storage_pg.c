/*
 * test_server_storage_pg.c: what only the PostgreSQL backend has, against the
 * database tests/pg/pgcluster.py made (FS_TEST_PG_URL): a database without
 * the schema, a newer schema, change numbers of a transaction that commits
 * after a later one, numbers kept ahead after a restore, a lost connection,
 * a push that loses to a concurrent writer and runs again, a reassignment
 * racing a push under its account, `migrate` from a SQLite database, and a
 * full disk told apart from a busy server.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "admin.h"
#include "handler_int.h"
#include "srv_test_util.h"

typedef tu_db_fixture fx;

/* SQL straight to the test database, behind the backend's back. */
static void sql(const fx *f, const char *q)
{
    PGconn *c = PQconnectdb(f->db);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static srv_storage *reopen(const fx *f, int expect, fs_err *err)
{
    srv_storage *s = NULL;
    assert_int_equal(srv_pg_open(&s, f->db, false, err), expect);
    return s;
}

static void test_database_without_schema_needs_create(void **state)
{
    fx *f = *state;
    fs_err err = {0};
    sql(f, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    assert_null(reopen(f, FS_ENOTFOUND, &err));
    assert_non_null(strstr(err.msg, "user add"));
    assert_null(strstr(err.msg, "postgresql://")); /* names the database, not the URI */
}

static void test_newer_schema_is_refused_and_reopen_keeps_the_server_id(void **state)
{
    fx *f = *state;
    char id1[SRV_SERVER_ID_LEN + 1], id2[SRV_SERVER_ID_LEN + 1];
    fs_err err = {0};
    assert_int_equal(f->s->ops->server_id(f->s, id1, NULL), 0);
    srv_storage *s = reopen(f, 0, NULL);
    assert_int_equal(s->ops->server_id(s, id2, NULL), 0);
    assert_string_equal(id1, id2);
    assert_int_equal(strlen(id1), SRV_SERVER_ID_LEN);
    srv_storage_close(s);
    sql(f, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    assert_null(reopen(f, FS_EVERSION, &err));
    assert_non_null(strstr(err.msg, "upgrade"));
}

static srv_record rec(const char *id, int64_t owner)
{
    static uint8_t blob = 1;
    return (srv_record){.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                        .id = (char *)id,
                        .account_id = (char *)id,
                        .owner = owner,
                        .alive = true,
                        .state = &blob,
                        .state_len = 1};
}

static void pull(srv_storage *s, const srv_user *u, uint64_t cursor, srv_pull_page *page)
{
    srv_pull_query q = {.cursor = cursor, .limit = 10, .max_bytes = 1 << 20};
    assert_int_equal(s->ops->pull(s, u, &q, page, NULL), 0);
}

/* Writer a draws its number first and commits last; a pull in between must
 * not move its cursor past a's number, so the next pull still gets it. */
static void test_change_committed_after_a_later_one_is_not_passed(void **state)
{
    fx *f = *state;
    srv_user anna;
    srv_pull_page page;
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &anna, NULL), 0);
    srv_storage *a = reopen(f, 0, NULL), *b = reopen(f, 0, NULL);
    srv_record ra = rec("acc-a", anna.id), rb = rec("acc-b", anna.id);
    assert_int_equal(a->ops->begin(a, true, NULL), 0);
    assert_int_equal(a->ops->next_seq(a, &ra.seq, NULL), 0);
    assert_int_equal(a->ops->record_put(a, &ra, NULL), 0);
    assert_int_equal(b->ops->begin(b, true, NULL), 0);
    assert_int_equal(b->ops->next_seq(b, &rb.seq, NULL), 0);
    assert_int_equal(b->ops->record_put(b, &rb, NULL), 0);
    assert_int_equal(b->ops->commit(b, NULL), 0);
    assert_true(rb.seq > ra.seq);
    pull(f->s, &anna, 0, &page);
    assert_int_equal(page.n, 0); /* b's change waits for a's transaction to end */
    assert_true(page.next_cursor < ra.seq);
    uint64_t cursor = page.next_cursor;
    srv_pull_page_clear(&page);
    assert_int_equal(a->ops->commit(a, NULL), 0);
    pull(f->s, &anna, cursor, &page);
    assert_int_equal(page.n, 2);
    assert_string_equal(page.items[0].id, "acc-a");
    assert_string_equal(page.items[1].id, "acc-b");
    assert_true(page.next_cursor >= rb.seq);
    srv_pull_page_clear(&page);
    srv_storage_close(a);
    srv_storage_close(b);
}

/* A logical restore brings numbers from a cluster whose transaction ids ran
 * further: the next open moves new numbers above them. */
static void test_numbers_stay_ahead_of_restored_ones(void **state)
{
    fx *f = *state;
    srv_user anna;
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &anna, NULL), 0);
    srv_record r = rec("acc-1", anna.id);
    r.seq = (uint64_t)1 << 50;
    assert_int_equal(f->s->ops->record_put(f->s, &r, NULL), 0);
    srv_storage *s = reopen(f, 0, NULL);
    uint64_t last, next;
    assert_int_equal(s->ops->last_seq(s, &last, NULL), 0);
    assert_true(last >= r.seq);
    assert_int_equal(s->ops->begin(s, true, NULL), 0);
    assert_int_equal(s->ops->next_seq(s, &next, NULL), 0);
    assert_int_equal(s->ops->commit(s, NULL), 0);
    assert_true(next > r.seq);
    srv_storage_close(s);
}

static void test_lost_connection_is_busy_then_reconnects(void **state)
{
    fx *f = *state;
    srv_user u;
    fs_err err = {0};
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    sql(f, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
           " WHERE application_name = 'fieldsync-server'");
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &u, &err), FS_EBUSY);
    assert_non_null(strstr(err.msg, "retry"));
    assert_int_equal(f->s->ops->begin(f->s, false, NULL), 0); /* reconnects */
    assert_int_equal(f->s->ops->user_get(f->s, "anna", &u, NULL), 0);
    assert_int_equal(f->s->ops->commit(f->s, NULL), 0);
}

/* PostgreSQL's disk_full (53100, raised here by a trigger on records): the
 * write fails with FS_ENOSPC and says so, where the rest of its class 53 is
 * "busy, retry"; the device is answered 507 storage_full. */
static void test_a_full_disk_is_told_apart(void **state)
{
    fx *f = *state;
    sql(f, "CREATE FUNCTION fs_test_full() RETURNS trigger LANGUAGE plpgsql AS"
           " $$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
           " USING ERRCODE = 'disk_full'; END$$;"
           "CREATE TRIGGER fs_test_full BEFORE INSERT ON records"
           " FOR EACH ROW EXECUTE FUNCTION fs_test_full()");
    uint8_t blob = 1;
    srv_record r = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT,
                    .id = "acc-1",
                    .account_id = "acc-1",
                    .alive = true,
                    .state = &blob,
                    .state_len = 1};
    fs_err err = {0};
    assert_int_equal(f->s->ops->begin(f->s, true, NULL), 0);
    assert_int_equal(f->s->ops->next_seq(f->s, &r.seq, NULL), 0);
    assert_int_equal(f->s->ops->record_put(f->s, &r, &err), FS_ENOSPC);
    f->s->ops->rollback(f->s);
    assert_non_null(strstr(err.msg, "disk is full"));
    srv_response rs = {0};
    assert_int_equal(srv_storage_failure(&rs, &err), 0);
    assert_int_equal(rs.status, 507);
    assert_string_equal(tu_error_code(&rs), "storage_full");
    srv_response_clear(&rs);
}

/* ------------------------------------------------------------------------- */
/* A push that loses to a concurrent transaction runs again */

typedef struct push_job {
    srv_storage *s;
    const srv_config *cfg;
    const char *bearer;
    uint8_t *body;
    size_t len;
    srv_response rs;
} push_job;

static void *push_thread(void *p)
{
    push_job *j = p;
    tu_call(srv_handle_push, j->s, j->cfg, j->bearer, j->body, j->len, &j->rs);
    return NULL;
}

/* Whether some backend of the test database waits for a row lock. */
static bool lock_waiter(const fx *f)
{
    PGconn *c = PQconnectdb(f->db);
    PGresult *r = PQexec(c, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
    bool waiting = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
    PQclear(r);
    PQfinish(c);
    return waiting;
}

static void test_push_losing_to_a_concurrent_write_runs_again(void **state)
{
    fx *f = *state;
    srv_config cfg;
    int64_t now = 1000;
    char bearer[80];
    uint64_t replica;
    srv_response rs = {0};
    size_t len;
    tu_config(&cfg, &now);
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    tu_enroll(f->s, &cfg, "anna", bearer, &replica);
    fs_state *st = tu_account(replica, "acc-1", "Alder");
    uint8_t *body = tu_push_body(&st, 1, &len);
    assert_int_equal(tu_call(srv_handle_push, f->s, &cfg, bearer, body, len, &rs), 0);
    assert_int_equal(rs.status, 200);
    srv_response_clear(&rs);
    free(body);
    /* another server process holds the record, written, uncommitted */
    srv_storage *x = reopen(f, 0, NULL);
    srv_record r;
    assert_int_equal(x->ops->begin(x, true, NULL), 0);
    assert_int_equal(x->ops->record_get(x, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-1", &r, NULL), 0);
    assert_int_equal(x->ops->next_seq(x, &r.seq, NULL), 0);
    assert_int_equal(x->ops->record_put(x, &r, NULL), 0);
    tu_rename(st, replica, "Alder & Sons");
    push_job j = {.s = f->s, .cfg = &cfg, .bearer = bearer};
    j.body = tu_push_body(&st, 1, &j.len);
    pthread_t t;
    pthread_create(&t, NULL, push_thread, &j);
    for (int i = 0; i < 1000 && !lock_waiter(f); i++) /* bounded: about 10 s */
        assert_int_equal(usleep(10000), 0);
    assert_true(lock_waiter(f));                  /* the push waits for x's row */
    assert_int_equal(x->ops->commit(x, NULL), 0); /* and then loses to it */
    pthread_join(t, NULL);
    assert_int_equal(j.rs.status, 200); /* it ran again, not 503 */
    srv_response_clear(&j.rs);
    free(j.body);
    srv_record_clear(&r);
    assert_int_equal(
        f->s->ops->record_get(f->s, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-1", &r, NULL), 0);
    fs_state *got;
    assert_int_equal(fs_state_decode(&got, r.state, r.state_len, NULL), 0);
    assert_string_equal(tu_name(got), "Alder & Sons");
    fs_state_free(got);
    fs_state_free(st);
    srv_record_clear(&r);
    srv_storage_close(x);
}

/* Snapshot isolation alone would let a reassignment that started before a
 * push of a new contact commit after it and leave the contact with the old
 * owner; the push's write of the territory row makes them conflict. */
static void test_reassign_racing_a_new_contact_conflicts(void **state)
{
    fx *f = *state;
    srv_config cfg;
    int64_t now = 1000;
    char bearer[80];
    uint64_t replica;
    srv_response rs = {0};
    srv_user bob;
    size_t len, moved = 0;
    tu_config(&cfg, &now);
    tu_user(f->s, "anna", SRV_ROLE_REP, NULL);
    tu_user(f->s, "bob", SRV_ROLE_REP, NULL);
    tu_enroll(f->s, &cfg, "anna", bearer, &replica);
    fs_state *st[2] = {tu_account(replica, "acc-1", "Alder"),
                       tu_contact(replica, "c-1", "acc-1", "Cleo")};
    uint8_t *body = tu_push_body(st, 1, &len);
    assert_int_equal(tu_call(srv_handle_push, f->s, &cfg, bearer, body, len, &rs), 0);
    srv_response_clear(&rs);
    free(body);
    srv_storage *r = reopen(f, 0, NULL);
    assert_int_equal(r->ops->begin(r, true, NULL), 0);
    assert_int_equal(r->ops->user_get(r, "bob", &bob, NULL), 0); /* its snapshot */
    body = tu_push_body(&st[1], 1, &len);
    assert_int_equal(tu_call(srv_handle_push, f->s, &cfg, bearer, body, len, &rs), 0);
    assert_int_equal(rs.status, 200);
    srv_response_clear(&rs);
    free(body);
    assert_int_equal(r->ops->reassign(r, "acc-1", bob.id, &moved, NULL), FS_ECONFLICT);
    r->ops->rollback(r);
    assert_int_equal(srv_admin_reassign(r, "acc-1", "bob", &moved, NULL), 0); /* run again */
    assert_int_equal(moved, 2);
    srv_pull_page page;
    pull(f->s, &bob, 0, &page);
    assert_int_equal(page.n, 2); /* the contact came along (after or before the account, whose
                                  * owner field reassign writes) */
    assert_true(strcmp(page.items[0].id, "c-1") == 0 || strcmp(page.items[1].id, "c-1") == 0);
    srv_pull_page_clear(&page);
    fs_state_free(st[0]);
    fs_state_free(st[1]);
    srv_storage_close(r);
}

/* ------------------------------------------------------------------------- */
/* migrate */

/* A SQLite server database with a team, an enrolled device that pulled, a
 * reassigned account (removals) and a tombstone. */
static srv_storage *sqlite_source(const char *dir, char bearer[80])
{
    char path[300];
    srv_storage *s;
    srv_config cfg;
    int64_t now = 1000;
    size_t moved;
    tu_db_path(dir, path);
    assert_int_equal(srv_sqlite_open(&s, path, true, NULL), 0);
    tu_config(&cfg, &now);
    tu_user(s, "mgr", SRV_ROLE_MANAGER, NULL);
    tu_user(s, "anna", SRV_ROLE_REP, "mgr");
    tu_user(s, "bob", SRV_ROLE_REP, NULL);
    uint64_t replica;
    tu_enroll(s, &cfg, "anna", bearer, &replica);
    fs_state *st[3] = {tu_account(replica, "acc-1", "Alder"), tu_account(replica, "acc-2", "Birch"),
                       tu_contact(replica, "c-1", "acc-1", "Cleo")};
    tu_delete(st[1], replica);
    size_t len;
    uint8_t *body = tu_push_body(st, 3, &len);
    srv_response rs = {0};
    assert_int_equal(tu_call(srv_handle_push, s, &cfg, bearer, body, len, &rs), 0);
    assert_int_equal(rs.status, 200);
    srv_response_clear(&rs);
    free(body);
    uint64_t cursor;
    assert_int_equal(s->ops->last_seq(s, &cursor, NULL), 0);
    body = tu_pull_body(cursor, 0, &len); /* the device has all of it */
    assert_int_equal(tu_call(srv_handle_pull, s, &cfg, bearer, body, len, &rs), 0);
    srv_response_clear(&rs);
    free(body);
    assert_int_equal(srv_admin_reassign(s, "acc-1", "bob", &moved, NULL), 0);
    for (int i = 0; i < 3; i++)
        fs_state_free(st[i]);
    return s;
}

static void assert_same_pages(srv_storage *a, srv_storage *b, const char *user)
{
    srv_user ua, ub;
    srv_pull_page pa, pb;
    assert_int_equal(a->ops->user_get(a, user, &ua, NULL), 0);
    assert_int_equal(b->ops->user_get(b, user, &ub, NULL), 0);
    assert_int_equal(ua.id, ub.id);
    assert_int_equal(ua.manager_id, ub.manager_id);
    assert_int_equal(a->ops->begin(a, false, NULL), 0);
    pull(a, &ua, 0, &pa);
    a->ops->rollback(a);
    pull(b, &ub, 0, &pb);
    assert_int_equal(pa.n, pb.n);
    for (size_t i = 0; i < pa.n; i++) {
        assert_int_equal(pa.items[i].seq, pb.items[i].seq);
        assert_string_equal(pa.items[i].id, pb.items[i].id);
        assert_int_equal(pa.items[i].state_len, pb.items[i].state_len);
        if (pa.items[i].state != NULL)
            assert_memory_equal(pa.items[i].state, pb.items[i].state, pa.items[i].state_len);
        else
            assert_null(pb.items[i].state);
    }
    srv_pull_page_clear(&pa);
    srv_pull_page_clear(&pb);
}

static void test_migrate_copies_a_sqlite_database(void **state)
{
    fx *f = *state;
    char bearer[80], id1[SRV_SERVER_ID_LEN + 1], id2[SRV_SERVER_ID_LEN + 1];
    srv_storage *src = sqlite_source(f->dir, bearer);
    fs_err err = {0};
    assert_int_equal(srv_admin_migrate(src, f->s, &err), 0);
    assert_int_equal(src->ops->server_id(src, id1, NULL), 0);
    assert_int_equal(f->s->ops->server_id(f->s, id2, NULL), 0);
    assert_string_equal(id1, id2);
    assert_same_pages(src, f->s, "anna"); /* the removals */
    assert_same_pages(src, f->s, "bob");
    assert_same_pages(src, f->s, "mgr");
    /* the device's token and cursor came along: it carries on where it was */
    srv_device d;
    srv_user anna;
    uint64_t src_last, last;
    int64_t now = 1000;
    srv_config cfg;
    tu_config(&cfg, &now);
    srv_request rq = {.authorization = bearer, .protocol = SRV_PROTOCOL_VERSION};
    srv_response rs = {0};
    assert_true(srv_authenticate(f->s, &rq, &d, &anna, &rs));
    assert_string_equal(anna.name, "anna");
    assert_int_equal(src->ops->last_seq(src, &src_last, NULL), 0);
    assert_int_equal(f->s->ops->last_seq(f->s, &last, NULL), 0);
    assert_true(d.cursor > 0 && d.cursor <= src_last && src_last <= last);
    /* new ids follow the copied ones */
    tu_user(f->s, "carl", SRV_ROLE_REP, NULL);
    srv_user carl;
    assert_int_equal(f->s->ops->user_get(f->s, "carl", &carl, NULL), 0);
    assert_true(carl.id > anna.id);
    /* only into an empty database */
    assert_int_equal(srv_admin_migrate(src, f->s, &err), FS_EEXIST);
    assert_int_equal(srv_admin_migrate(f->s, src, &err), FS_EINVAL);
    srv_storage_close(src);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tu_use_backend("postgresql");
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tu_db_setup, tu_db_teardown)
        T(test_database_without_schema_needs_create),
        T(test_newer_schema_is_refused_and_reopen_keeps_the_server_id),
        T(test_change_committed_after_a_later_one_is_not_passed),
        T(test_numbers_stay_ahead_of_restored_ones),
        T(test_lost_connection_is_busy_then_reconnects),
        T(test_push_losing_to_a_concurrent_write_runs_again),
        T(test_reassign_racing_a_new_contact_conflicts),
        T(test_migrate_copies_a_sqlite_database),
        T(test_a_full_disk_is_told_apart),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
