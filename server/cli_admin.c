/*
 * cli_admin.c: fieldsync-server's administrator's commands (users, teams,
 * enrollment codes, devices, reassign, migrate, gc): each opens the database,
 * calls admin.c or the storage backend, and prints what it did.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "cli_int.h"

static int cli_open_db(cli *c, bool create, srv_storage **s, fs_err *err)
{
    const char *db = cli_opt(c, O_DB);
    if (db == NULL)
        return fs_err_set(err, FS_EINVAL,
                          "no database: give --db PATH or --db postgresql://... (or db = ... "
                          "in the config file)");
    return srv_storage_open(s, db, create, err);
}

int cli_run_user_add(cli *c)
{
    const char *role = cli_opt(c, O_ROLE);
    if (role == NULL || (strcmp(role, "rep") != 0 && strcmp(role, "manager") != 0))
        return cli_usage_error("user add needs --role rep or --role manager%s", "");
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = cli_open_db(c, true, &s, &err);
    if (rc == 0)
        rc = srv_admin_user_add(s, c->pos[2],
                                strcmp(role, "rep") == 0 ? SRV_ROLE_REP : SRV_ROLE_MANAGER,
                                cli_opt(c, O_MANAGER), &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("added %s %s\n", role, c->pos[2]);
    return cli_exit_for(rc, &err);
}

int cli_run_user_list(cli *c)
{
    srv_storage *s = NULL;
    srv_user *u = NULL;
    size_t n = 0;
    fs_err err = {0};
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0)
        rc = s->ops->user_list(s, &u, &n, &err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *mgr = "";
        for (size_t j = 0; j < n; j++)
            if (u[j].id == u[i].manager_id)
                mgr = u[j].name;
        printf("%-24s %-8s %s\n", u[i].name, u[i].role == SRV_ROLE_REP ? "rep" : "manager", mgr);
    }
    free(u);
    srv_storage_close(s);
    return cli_exit_for(rc, &err);
}

int cli_run_team_add(cli *c)
{
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_team_set(s, c->pos[3], c->pos[2], &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("%s is in %s's team; the managers' devices pull their teams again\n", c->pos[3],
               c->pos[2]);
    return cli_exit_for(rc, &err);
}

int cli_run_team_remove(cli *c)
{
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_team_set(s, c->pos[2], NULL, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("%s is in no team\n", c->pos[2]);
    return cli_exit_for(rc, &err);
}

int cli_run_migrate(cli *c)
{
    srv_storage *from = NULL, *to = NULL;
    fs_err err = {0};
    if (cli_opt(c, O_DB) == NULL || !srv_storage_is_pg(cli_opt(c, O_DB)))
        return cli_usage_error("migrate copies into PostgreSQL: give --db postgresql://...%s", "");
    int rc = srv_sqlite_open(&from, c->pos[1], false, &err);
    if (rc == 0)
        rc = cli_open_db(c, true, &to, &err);
    if (rc == 0)
        rc = srv_admin_migrate(from, to, &err);
    srv_storage_close(from);
    srv_storage_close(to);
    if (rc == 0)
        printf("copied %s into PostgreSQL; serve with --db and the same URI\n", c->pos[1]);
    return cli_exit_for(rc, &err);
}

int cli_run_enroll_code(cli *c)
{
    int64_t ttl = cli_opt(c, O_TTL) ? cli_parse_duration(cli_opt(c, O_TTL), 3600) : 86400;
    if (ttl <= 0)
        return cli_usage_error("--ttl \"%s\" is not a duration such as 24h, 30m or 7d",
                               cli_opt(c, O_TTL));
    srv_storage *s = NULL;
    fs_err err = {0};
    char code[SRV_CODE_LEN + 1];
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_enroll_code(s, c->pos[1], (int64_t)time(NULL), ttl, code, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("%s\n", code);
    return cli_exit_for(rc, &err);
}

static void print_time(int64_t t)
{
    char buf[32] = "-";
    if (t != 0) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    printf(" %-20s", buf);
}

int cli_run_device_list(cli *c)
{
    srv_storage *s = NULL;
    srv_device *d = NULL;
    srv_user u = {0};
    size_t n = 0;
    fs_err err = {0};
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0 && c->npos > 2)
        rc = s->ops->user_get(s, c->pos[2], &u, &err);
    if (rc == 0)
        rc = s->ops->device_list(s, u.id, &d, &n, &err);
    if (rc == 0)
        printf("%-6s %-16s %-8s %-20s %-20s %-20s %s\n", "ID", "REPLICA", "USER", "ENROLLED",
               "LAST SEEN", "REVOKED", "NAME");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        srv_user du = {0};
        s->ops->user_get_id(s, d[i].user_id, &du, NULL);
        printf("%-6lld %016llx %-8s", (long long)d[i].id, (unsigned long long)d[i].replica,
               du.name);
        print_time(d[i].created_at);
        print_time(d[i].last_seen_at);
        print_time(d[i].revoked_at);
        printf(" %s\n", d[i].name);
    }
    free(d);
    srv_storage_close(s);
    return cli_exit_for(rc, &err);
}

int cli_run_device_revoke(cli *c)
{
    char *end;
    long long id = strtoll(c->pos[2], &end, 10);
    if (*end != '\0' || id <= 0)
        return cli_usage_error("device id \"%s\" is not a number from `device list`", c->pos[2]);
    srv_storage *s = NULL;
    fs_err err = {0};
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_device_revoke(s, id, (int64_t)time(NULL), &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("revoked device %lld: its next request gets 401 device_revoked\n", id);
    return cli_exit_for(rc, &err);
}

int cli_run_reassign(cli *c)
{
    srv_storage *s = NULL;
    fs_err err = {0};
    size_t moved = 0;
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_reassign(s, c->pos[1], c->pos[2], &moved, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("moved account %s and %zu record(s) to %s\n", c->pos[1], moved ? moved - 1 : 0,
               c->pos[2]);
    return cli_exit_for(rc, &err);
}

int cli_run_gc(cli *c)
{
    int64_t horizon = cli_horizon(c);
    if (horizon < 0)
        return cli_usage_error("--horizon-days \"%s\" is not a number of days",
                               cli_opt(c, O_HORIZON));
    srv_storage *s = NULL;
    fs_err err = {0};
    srv_gc_report r = {0};
    int rc = cli_open_db(c, false, &s, &err);
    if (rc == 0)
        rc = srv_admin_gc(s, (int64_t)time(NULL), horizon, &r, &err);
    srv_storage_close(s);
    if (rc == 0)
        printf("gc: %zu tombstone(s) and %zu removal(s) collected; %zu territory floor(s) "
               "raised\n",
               r.tombstones, r.removals, r.reps);
    return cli_exit_for(rc, &err);
}
