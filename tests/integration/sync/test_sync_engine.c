/*
 * test_sync_engine.c: the sync client against the real fieldsync-server on
 * loopback, with two or three devices (encrypted stores + engines) on one
 * event loop: enrollment keeps the identity in the store; edits travel;
 * offline edits of different fields merge; the same field gives one visible
 * value and a listed conflict on both devices until resolved on one; edit vs
 * delete keeps the record; 1,000 offline changes reach the server after it
 * comes back; reassignment moves records; a revoked device stops; a forced
 * resync keeps unsynced changes and removes what the server no longer gives,
 * and so does a resync the server requires; a book bigger than a run's page
 * cap arrives over several runs; a change dated far ahead of the server's
 * clock is refused and stays listed, and one dated a few seconds ahead goes
 * out by itself once the server's clock has reached it (not before, though
 * this computer's clock is still fast); the engine never arms a timer
 * while unconfigured; debounce and network-change triggers start runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fieldsync/outbox.h"
#include "harness.h"

#define ACCOUNT FIELDSYNC__RECORD_KIND__ACCOUNT
#define CONTACT FIELDSYNC__RECORD_KIND__CONTACT

typedef struct fx {
    fs_loop *loop;
    h_server sv;
    h_device a, b, c;
    bool have_c;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    assert_int_equal(fs_loop_new(&f->loop, NULL), 0);
    hs_init(&f->sv);
    hs_add_rep(&f->sv, "ann");
    hs_add_rep(&f->sv, "bob");
    hs_start(&f->sv, 0);
    hd_open(&f->a, f->loop, "a", NULL);
    hd_open(&f->b, f->loop, "b", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    hd_destroy(&f->a);
    hd_destroy(&f->b);
    if (f->have_c)
        hd_destroy(&f->c);
    hs_cleanup(&f->sv);
    fs_loop_free(f->loop);
    free(f);
    return 0;
}

static void assert_name(h_device *d, const char *id, const char *want)
{
    char *got = hd_account_name(d, id);
    if (want == NULL) {
        assert_null(got);
        return;
    }
    if (got == NULL)
        fail_msg("%s: %s has no name, want %s", d->name, id, want);
    assert_string_equal(got, want);
    free(got);
}

static void test_unconfigured_engine_arms_nothing_and_refuses_sync(void **state)
{
    fx *f = *state;
    assert_int_equal(fs_loop_timer_count(f->loop), 0);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_UNCONFIGURED);
    fs_err err;
    assert_int_equal(fs_sync_now(f->a.sync, &err), FS_ESTATE);
    assert_non_null(strstr(err.msg, "enroll"));
    fs_sync_local_change(f->a.sync);
    assert_int_equal(fs_loop_timer_count(f->loop), 0);
    /* plain http to a non-loopback host would send the token in the clear */
    assert_int_equal(fs_sync_enroll(f->a.sync, "http://example.com", "X", NULL, NULL, NULL, &err),
                     FS_EINVAL);
}

static void test_enrollment_keeps_identity_in_the_store(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->a.sync, &s, NULL), 0);
    assert_int_equal(s.state, FS_SYNC_IDLE);
    assert_string_equal(s.server_url, f->sv.url);
    assert_string_equal(s.user, "ann");
    assert_true(s.last_sync > 0);
    assert_true(s.next_attempt > 0); /* the periodic timer */
    /* the store's replica id is the one the server minted */
    assert_true(hs_device_id(&f->sv, fs_store_replica(f->a.st)) > 0);
    fs_secret *tok = NULL;
    assert_int_equal(fs_store_meta_get_secret(f->a.st, FS_META_DEVICE_TOKEN, &tok, NULL), 0);
    assert_int_equal(tok->len, 32);
    fs_secret_free(tok);
    /* a used code is refused with what to do */
    fs_err err;
    assert_int_equal(fs_sync_enroll(f->a.sync, f->sv.url, "X", NULL, NULL, NULL, &err), FS_EEXIST);
    char code[64];
    snprintf(code, sizeof(code), "%s", hs_code(&f->sv, "bob"));
    hd_enroll_code(&f->b, f->sv.url, code);
    assert_int_equal(f->b.enroll_rc, 0);
    h_device *c = &f->c;
    hd_open(c, f->loop, "c", NULL);
    f->have_c = true;
    hd_enroll_code(c, f->sv.url, code);
    assert_int_not_equal(c->enroll_rc, 0);
    assert_non_null(strstr(c->enroll_msg, "code_used"));
    assert_int_equal(fs_sync_get_state(c->sync), FS_SYNC_UNCONFIGURED);
}

static void test_edits_on_one_device_appear_on_the_other(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "ann");
    hd_put_account(&f->a, "acc1", "Müller Landtechnik", "Graz");
    hd_put_contact(&f->a, "con1", "acc1", "Eva Huber");
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(f->a.last.pushed, 2);
    assert_int_equal(hd_pending(&f->a), 0);
    unsigned seen = f->b.remote_changes;
    assert_int_equal(hd_sync(&f->b), 0);
    assert_name(&f->b, "acc1", "Müller Landtechnik");
    assert_true(hd_has(&f->b, CONTACT, "con1"));
    assert_int_equal(f->b.remote_changes - seen, 2); /* record.changed, origin remote */
    /* a pull with nothing new changes nothing */
    seen = f->b.remote_changes;
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(f->b.remote_changes, seen);
    assert_int_equal(f->b.last.pulled, 0);
}

static void test_offline_edits_of_different_fields_merge(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "ann");
    hd_put_account(&f->a, "acc1", "Old Name", "Linz");
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    /* both offline: a renames, b moves the account */
    hd_put_account(&f->a, "acc1", "New Name", NULL);
    Fieldsync__Account m = FIELDSYNC__ACCOUNT__INIT;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    addr.city = "Wels";
    m.address = &addr;
    assert_int_equal(fs_store_put(f->b.st, ACCOUNT, "acc1", &m.base, NULL, 0, NULL), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    unsigned seen = f->b.remote_changes;
    assert_int_equal(hd_sync(&f->b), 0);     /* b's push answer joins a's rename */
    assert_true(f->b.remote_changes > seen); /* reported as a remote change */
    assert_int_equal(hd_sync(&f->a), 0);
    for (h_device *d = &f->a; d != &f->c; d++) {
        assert_name(d, "acc1", "New Name");
        char *city = hd_account_city(d, "acc1");
        assert_string_equal(city, "Wels");
        free(city);
        assert_int_equal(hd_field_conflicts(d, ACCOUNT, "acc1"), 0);
    }
}

static void test_same_field_conflict_listed_on_both_until_resolved(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "ann");
    hd_put_account(&f->a, "acc1", "Base", NULL);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    hd_put_account(&f->a, "acc1", "From A", NULL);
    hd_put_account(&f->b, "acc1", "From B", NULL);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    char *na = hd_account_name(&f->a, "acc1"), *nb = hd_account_name(&f->b, "acc1");
    assert_string_equal(na, nb); /* one visible value */
    assert_true(strcmp(na, "From A") == 0 || strcmp(na, "From B") == 0);
    free(na);
    free(nb);
    assert_int_equal(hd_field_conflicts(&f->a, ACCOUNT, "acc1"), 1);
    assert_int_equal(hd_field_conflicts(&f->b, ACCOUNT, "acc1"), 1);
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->b.sync, &s, NULL), 0);
    assert_int_equal(s.conflicts, 1); /* records in conflict */
    /* resolved from b: gone on both */
    hd_put_account(&f->b, "acc1", "Agreed", NULL);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_conflicts(&f->a), 0);
    assert_int_equal(hd_conflicts(&f->b), 0);
    assert_name(&f->a, "acc1", "Agreed");
}

static void test_edit_concurrent_with_delete_keeps_the_record(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "ann");
    hd_put_account(&f->a, "acc1", "Keep me", NULL);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(fs_store_delete(f->a.st, ACCOUNT, "acc1", NULL), 0);
    hd_put_account(&f->b, "acc1", "Edited", NULL);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_true(hd_has(&f->a, ACCOUNT, "acc1"));
    assert_true(hd_has(&f->b, ACCOUNT, "acc1"));
    assert_name(&f->a, "acc1", "Edited");
    assert_true(hd_conflicts(&f->a) >= 1); /* alive is in conflict: listed */
    /* a delete nobody contests travels */
    assert_int_equal(fs_store_delete(f->b.st, ACCOUNT, "acc1", NULL), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_false(hd_has(&f->a, ACCOUNT, "acc1"));
}

static void test_thousand_offline_changes_reach_the_server_after_reconnect(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "ann");
    unsigned port = f->sv.port;
    hs_stop(&f->sv, false);
    char id[32], name[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "off%04d", i);
        snprintf(name, sizeof(name), "Offline %d", i);
        hd_put_account(&f->a, id, name, NULL);
    }
    assert_int_equal(hd_sync(&f->a), FS_ENET);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_OFFLINE);
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->a.sync, &s, NULL), 0);
    assert_non_null(strstr(s.reason, "unreachable"));
    assert_int_equal(s.pending, 1000);
    assert_true(s.next_attempt > 0);
    hs_start(&f->sv, port);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(f->a.last.pushed, 1000);
    assert_int_equal(hd_pending(&f->a), 0);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_IDLE);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(f->b.last.pulled, 1000);
    assert_name(&f->b, "off0999", "Offline 999");
}

static void test_reassignment_moves_records(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "bob");
    hd_put_account(&f->a, "acc1", "Moving GmbH", NULL);
    hd_put_contact(&f->a, "con1", "acc1", "Max");
    hd_put_account(&f->a, "acc2", "Staying AG", NULL);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_false(hd_has(&f->b, ACCOUNT, "acc1"));
    assert_int_equal(hs_admin(&f->sv, NULL, 0, "reassign", "acc1", "bob", NULL), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_false(hd_has(&f->a, ACCOUNT, "acc1"));
    assert_false(hd_has(&f->a, CONTACT, "con1"));
    assert_true(hd_has(&f->a, ACCOUNT, "acc2"));
    assert_true(f->a.removals >= 2);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_name(&f->b, "acc1", "Moving GmbH");
    assert_true(hd_has(&f->b, CONTACT, "con1"));
}

static void test_revoked_device_stops(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    long dev = hs_device_id(&f->sv, fs_store_replica(f->a.st));
    char id[32];
    snprintf(id, sizeof(id), "%ld", dev);
    assert_int_equal(hs_admin(&f->sv, NULL, 0, "device", "revoke", id, NULL), 0);
    hd_put_account(&f->a, "acc1", "Unsent", NULL);
    assert_int_not_equal(hd_sync(&f->a), 0);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_REVOKED);
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->a.sync, &s, NULL), 0);
    assert_non_null(strstr(s.reason, "revoked"));
    assert_non_null(strstr(s.reason, "enroll"));
    assert_int_equal(s.next_attempt, 0);
    assert_int_equal(s.pending, 1);                    /* nothing acknowledged is lost */
    assert_int_equal(fs_loop_timer_count(f->loop), 0); /* a arms nothing (b is not enrolled) */
    fs_sync_local_change(f->a.sync);
    assert_int_equal(fs_loop_timer_count(f->loop), 0);
    fs_err err;
    assert_int_equal(fs_sync_now(f->a.sync, &err), FS_ESTATE);
    /* re-enrolling revives it, with a new replica id, and the change goes out */
    uint64_t old = fs_store_replica(f->a.st);
    hd_enroll(&f->a, &f->sv, "ann");
    assert_int_not_equal(fs_store_replica(f->a.st), old);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_IDLE);
    assert_int_equal(hd_pending(&f->a), 0);
}

static uint64_t an_hour_ahead(void *arg)
{
    (void)arg;
    return ((uint64_t)time(NULL) + 3600) * 1000;
}

static void test_change_dated_ahead_is_refused_kept_and_listed(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_put_account(&f->a, "acc1", "On time", NULL);
    fs_store_set_clock(f->a.st, an_hour_ahead, NULL); /* the laptop's clock is wrong */
    hd_put_account(&f->a, "acc2", "From the future", NULL);
    assert_int_equal(hd_sync(&f->a), 0); /* a refusal is an answer, not a failure */
    assert_int_equal(f->a.last.pushed, 1);
    assert_int_equal(f->a.last.refused, 1);
    fs_outbox_entry *e = NULL;
    size_t n = 0;
    assert_int_equal(fs_outbox_list(f->a.st, FS_OUTBOX_REFUSED, 10, &e, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].id, "acc2");
    assert_int_equal(e[0].reason, FIELDSYNC__REFUSAL__REASON__CLOCK_AHEAD);
    assert_non_null(strstr(e[0].message, "ahead of the server's clock"));
    fs_outbox_entries_free(e, n);
    assert_name(&f->a, "acc2", "From the future"); /* nothing lost on the device */
    hd_enroll(&f->b, &f->sv, "ann");
    assert_name(&f->b, "acc1", "On time");
    assert_false(hd_has(&f->b, ACCOUNT, "acc2"));
}

/* A laptop clock a few seconds fast; the server allows 1 s (below). */
#define AHEAD_S 6

static uint64_t seconds_ahead(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec + AHEAD_S) * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool outbox_empty(void *arg)
{
    return hd_pending(arg) == 0;
}

static void test_change_dated_ahead_goes_out_once_the_servers_clock_reaches_it(void **state)
{
    fx *f = *state;
    hs_stop(&f->sv, false);
    f->sv.clock_skew = "1s";
    hs_start(&f->sv, 0);
    fs_sync_opts o = {.no_netwatch = true, .period_s = 1}; /* it syncs by itself */
    hd_open(&f->c, f->loop, "c", &o);
    f->have_c = true;
    hd_enroll(&f->c, &f->sv, "ann");
    fs_store_set_clock(f->c.st, seconds_ahead, NULL); /* and stays fast */
    hd_put_account(&f->c, "acc1", "A little early", NULL);
    assert_int_equal(hd_sync(&f->c), 0);
    assert_int_equal(f->c.last.refused, 1);

    /* the server's answers said its time: the engine does not send the change
     * again while it is still ahead, though this computer's clock has passed it */
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->c.sync, &s, NULL), 0);
    assert_true(s.clock_known);
    assert_in_range(s.clock_offset_s, -AHEAD_S - 1, -AHEAD_S + 1);
    assert_int_equal(s.clock_waiting, 1);
    assert_in_range(s.clock_wait_s, 1, AHEAD_S + 1);
    assert_int_equal(hd_sync(&f->c), 0);
    assert_int_equal(f->c.last.pushed + f->c.last.refused, 0);
    assert_int_equal(hd_pending(&f->c), 1);

    /* once the server's clock reaches it, a periodic run sends it */
    assert_true(h_run_until(f->loop, outbox_empty, &f->c, AHEAD_S * 1000 + H_DEADLINE_MS));
    assert_int_equal(fs_sync_get_status(f->c.sync, &s, NULL), 0);
    assert_int_equal(s.clock_waiting, 0);
    assert_int_equal(s.refused, 0);
    hd_enroll(&f->b, &f->sv, "ann");
    assert_name(&f->b, "acc1", "A little early");
}

static void test_forced_resync_keeps_local_changes_and_drops_the_rest(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "bob");
    hd_put_account(&f->a, "acc1", "Server knows", NULL);
    hd_put_account(&f->b, "bobs", "Bob's", NULL);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    /* a record the server no longer gives (e.g. collected): in the store only */
    fs_state *ghost = NULL;
    Fieldsync__Account g = FIELDSYNC__ACCOUNT__INIT;
    g.name = "Ghost";
    assert_int_equal(fs_state_new(&ghost, ACCOUNT, "ghost", NULL), 0);
    assert_int_equal(fs_record_write_msg(ghost, 99, 1ull << 16, &g.base, NULL, 0, NULL), 0);
    uint64_t cursor = 0;
    assert_int_equal(fs_store_meta_get_u64(f->a.st, FS_META_CURSOR, &cursor, NULL), 0);
    assert_int_equal(fs_store_apply_remote(f->a.st, &ghost, 1, NULL, 0, cursor, NULL, NULL), 0);
    fs_state_free(ghost);
    /* a pending change, and one the server will refuse (bob's account) */
    hd_put_account(&f->a, "acc2", "Pending", NULL);
    hd_put_contact(&f->a, "stolen", "bobs", "Not mine");
    unsigned progress = f->a.progress_calls;
    assert_int_equal(hd_resync(&f->a), 0);
    assert_true(f->a.last.resync);
    assert_true(f->a.progress_calls > progress);
    assert_int_equal(f->a.last.refused, 1);
    assert_int_equal(f->a.last.rs.removed, 1);
    assert_int_equal(f->a.last.rs.kept_local, 1);
    assert_false(hd_has(&f->a, ACCOUNT, "ghost"));
    assert_true(hd_has(&f->a, ACCOUNT, "acc1"));
    assert_true(hd_has(&f->a, ACCOUNT, "acc2"));
    assert_true(hd_has(&f->a, CONTACT, "stolen")); /* refused, unsynced: kept */
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->a.sync, &s, NULL), 0);
    assert_int_equal(s.refused, 1);
    assert_false(s.resyncing);
}

static void test_resync_required_by_the_server_is_handled(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    hd_enroll(&f->b, &f->sv, "ann");
    hd_put_account(&f->a, "acc1", "One", NULL);
    hd_put_account(&f->a, "acc2", "Two", NULL);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(fs_store_delete(f->a.st, ACCOUNT, "acc2", NULL), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    assert_int_equal(hd_sync(&f->a), 0);
    /* b stays silent while the tombstone is collected past its cursor */
    assert_int_equal(hs_admin(&f->sv, NULL, 0, "gc", "--horizon-days", "0", NULL), 0);
    hd_put_account(&f->b, "acc3", "Pending on b", NULL);
    assert_int_equal(hd_sync(&f->b), 0);
    if (!f->b.last.resync) {
        /* this server kept b's floor: nothing to prove here */
        skip();
    }
    assert_false(hd_has(&f->b, ACCOUNT, "acc2"));
    assert_true(hd_has(&f->b, ACCOUNT, "acc1"));
    assert_true(hd_has(&f->b, ACCOUNT, "acc3"));
    assert_int_equal(hd_pending(&f->b), 0);
}

/* A book bigger than a run's page cap arrives over several runs, each of which
 * stops with an error that says so. */
static void test_a_run_stops_at_its_page_cap_and_the_next_goes_on(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    char ids[5][8];
    for (int i = 0; i < 5; i++) {
        snprintf(ids[i], sizeof(ids[i]), "p%d", i);
        hd_put_account(&f->a, ids[i], "Paged", NULL);
    }
    assert_int_equal(hd_sync(&f->a), 0);
    hd_close(&f->b);
    f->b.opts.pull_limit = 1;
    f->b.opts.pull_pages_max = 2;
    hd_reopen(&f->b);
    hd_enroll(&f->b, &f->sv, "ann"); /* its first run pulls two pages of one */
    assert_int_equal(f->b.last.code, FS_ETOOBIG);
    assert_int_equal(f->b.last.requests, 2);
    assert_int_equal(f->b.last.pulled, 2);
    assert_non_null(strstr(f->b.last_msg, "after 2 pages"));
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->b.sync, &s, NULL), 0);
    assert_int_equal(s.state, FS_SYNC_ERROR);
    assert_non_null(strstr(s.reason, "after 2 pages"));
    assert_true(s.next_attempt > 0);
    /* a snapshot's pages keep the cursor at 0: where it stands is stored beside it */
    assert_int_equal(s.cursor, 0);
    uint8_t *pos = NULL;
    size_t pos_len = 0;
    assert_int_equal(fs_store_meta_get(f->b.st, FS_META_PULL_SNAPSHOT, &pos, &pos_len, NULL), 0);
    assert_true(pos_len > 0);
    free(pos);
    assert_int_equal(hd_sync(&f->b), FS_ETOOBIG);
    assert_int_equal(hd_sync(&f->b), 0);
    for (int i = 0; i < 5; i++)
        assert_true(hd_has(&f->b, ACCOUNT, ids[i]));
    assert_int_equal(fs_sync_get_state(f->b.sync), FS_SYNC_IDLE);
}

static void test_local_change_is_debounced_into_a_run(void **state)
{
    fx *f = *state;
    hd_close(&f->a);
    f->a.opts.debounce_ms = 100;
    hd_reopen(&f->a);
    hd_enroll(&f->a, &f->sv, "ann");
    unsigned runs = f->a.runs;
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof(id), "d%d", i);
        hd_put_account(&f->a, id, "Debounced", NULL);
        fs_sync_local_change(f->a.sync);
    }
    h_runs w = {&f->a, runs};
    assert_true(h_run_until(f->loop, h_runs_above, &w, H_DEADLINE_MS));
    assert_int_equal(f->a.runs, runs + 1); /* five changes, one run */
    assert_int_equal(f->a.last.pushed, 5);
}

static void test_network_change_retries_an_offline_engine_soon(void **state)
{
    fx *f = *state;
    hd_enroll(&f->a, &f->sv, "ann");
    unsigned port = f->sv.port;
    hs_stop(&f->sv, false);
    /* fail several times so the backoff window is long */
    for (int i = 0; i < 6; i++)
        assert_int_equal(hd_sync(&f->a), FS_ENET);
    hs_start(&f->sv, port);
    unsigned runs = f->a.runs;
    fs_sync_network_changed(f->a.sync);
    fs_sync_status s;
    assert_int_equal(fs_sync_get_status(f->a.sync, &s, NULL), 0);
    assert_true(s.next_attempt <= (int64_t)time(NULL) + 2);
    h_runs w = {&f->a, runs};
    assert_true(h_run_until(f->loop, h_runs_above, &w, 5000));
    assert_int_equal(f->a.last.code, 0);
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_IDLE);
}

static void test_https_needs_a_trusted_certificate(void **state)
{
    fx *f = *state;
    hs_stop(&f->sv, false);
    if (!hs_start_tls(&f->sv))
        skip(); /* no openssl command to make a certificate with */
    /* without the CA the self-signed server is refused, naming TLS */
    hd_enroll_code(&f->a, f->sv.url, hs_code(&f->sv, "ann"));
    assert_int_equal(f->a.enroll_rc, FS_ENET);
    assert_non_null(strstr(f->a.enroll_msg, "TLS"));
    assert_int_equal(fs_sync_get_state(f->a.sync), FS_SYNC_UNCONFIGURED);
    /* with it (the company-CA option), enrollment and sync work */
    hd_close(&f->b);
    f->b.opts.ca_file = f->sv.cert;
    hd_reopen(&f->b);
    hd_enroll(&f->b, &f->sv, "ann");
    hd_put_account(&f->b, "tls1", "Over TLS", NULL);
    assert_int_equal(hd_sync(&f->b), 0);
    assert_int_equal(f->b.last.pushed, 1);
    assert_int_equal(fs_sync_get_state(f->b.sync), FS_SYNC_IDLE);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_unconfigured_engine_arms_nothing_and_refuses_sync),
        T(test_enrollment_keeps_identity_in_the_store),
        T(test_edits_on_one_device_appear_on_the_other),
        T(test_offline_edits_of_different_fields_merge),
        T(test_same_field_conflict_listed_on_both_until_resolved),
        T(test_edit_concurrent_with_delete_keeps_the_record),
        T(test_thousand_offline_changes_reach_the_server_after_reconnect),
        T(test_reassignment_moves_records),
        T(test_revoked_device_stops),
        T(test_change_dated_ahead_is_refused_kept_and_listed),
        T(test_change_dated_ahead_goes_out_once_the_servers_clock_reaches_it),
        T(test_forced_resync_keeps_local_changes_and_drops_the_rest),
        T(test_resync_required_by_the_server_is_handled),
        T(test_a_run_stops_at_its_page_cap_and_the_next_goes_on),
        T(test_local_change_is_debounced_into_a_run),
        T(test_network_change_retries_an_offline_engine_soon),
        T(test_https_needs_a_trusted_certificate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
