/*
 * bench_phases.c: the device phases of bench_sync, each run in a child
 * process: load (a server import over push), device (initial pull, catch-up,
 * offline push) and fleet (many devices syncing at once on one loop).
 */
#include "bench_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fieldsync/demo.h"
#include "fieldsync/outbox.h"
#include "sync_http.h"
#include "sync_wire.h"

/* ------------------------------------------------------------------------- */
/* Phase: load. The loader builds states in memory and pushes them straight
 * over the protocol (as a server-side import would): the store's per-put
 * transaction would make loading, not syncing, the slow part of the bench. */

#define LOAD_BATCH 2000

typedef struct loader {
    fs_loop *loop;
    fs_http *http;
    const char *url;
    fs_secret *token;
    uint64_t replica, hlc;
    fs_outbox_batch batch;
    size_t n, max, requests, refused;
    uint64_t bytes;
    bool done;
    long status;
} loader;

static void on_push(void *arg, const fs_http_resp *r)
{
    loader *l = arg;
    l->done = true;
    l->status = r->outcome == FS_HTTP_OK ? r->status : -1;
    l->bytes += r->bytes_up + r->bytes_down;
    fs_sync_push_answer a;
    if (l->status == 200 &&
        fs_sync_decode_push(r->body, r->len, &l->batch, l->batch.n, &a, NULL) == 0) {
        l->refused += a.refused;
        fs_sync_push_answer_clear(&a);
    } else {
        l->status = -2;
    }
}

static bool pushed(void *arg)
{
    return ((loader *)arg)->done;
}

static void flush(loader *l)
{
    uint8_t *body = NULL;
    size_t len = 0, nsent = 0;
    fs_err err;
    if (l->batch.n == 0)
        return;
    if (fs_sync_encode_push(&l->batch, 64u << 20, &nsent, &body, &len, &err) != 0 ||
        fs_http_post(l->http, l->url, "/v1/push", (fs_http_body){body, len, false}, l->token,
                     on_push, l, NULL, &err) != 0)
        die("loader push", &err);
    l->done = false;
    run_until(l->loop, pushed, l);
    if (l->status != 200)
        die("loader push answer", NULL);
    l->requests++;
    fs_outbox_batch_clear(&l->batch);
}

static int emit(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *rec)
{
    loader *l = ctx;
    fs_err err;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(rec->descriptor, 1);
    const char *id = *(char *const *)((const char *)rec + f->offset);
    if (l->n >= l->max)
        return 1;
    if (l->batch.items == NULL)
        l->batch.items = calloc(LOAD_BATCH, sizeof(*l->batch.items));
    fs_state **st = &l->batch.items[l->batch.n].state;
    if (fs_state_new(st, kind, id, &err) != 0 ||
        fs_record_write_msg(*st, l->replica, ++l->hlc, rec, NULL, 0, &err) != 0)
        die("building a state", &err);
    l->batch.n++;
    l->n++;
    if (l->batch.n == LOAD_BATCH)
        flush(l);
    return 0;
}

int phase_load(const char *url, const char *code, const char *dir, size_t records)
{
    fs_loop *loop = NULL;
    dev d;
    fs_err err;
    fs_loop_new(&loop, NULL);
    dev_open(&d, loop, dir, false, 2000);
    dev_enroll(&d, url, code);
    loader l = {.loop = loop, .url = url, .max = records, .replica = fs_store_replica(d.st)};
    l.hlc = (uint64_t)time(NULL) * 1000 << 16;
    fs_http_opts ho = {NULL, 10000, 30, 300, 64u << 20, 1024};
    if (fs_store_meta_get_secret(d.st, FS_META_DEVICE_TOKEN, &l.token, &err) != 0 ||
        fs_http_new(&l.http, loop, &ho, &err) != 0)
        die("loader", &err);
    fs_demo_opts o = fs_demo_opts_default();
    o.accounts = records / 11 + 1;
    o.contacts_per = 3;
    o.visits_per = 6;
    o.opportunities_per = 1;
    o.note_bytes = 1024;
    o.owner = "rep";
    double t0 = now_s();
    if (fs_demo_generate(&o, emit, &l, &err) < 0)
        die("generating", &err);
    flush(&l);
    double secs = now_s() - t0;
    printf("%-26s %8zu records %8.2f s %10.0f records/s %5zu requests %8.2f MB (server import "
           "over push, %zu refused)\n",
           "load: server import", l.n, secs, (double)l.n / secs, l.requests, (double)l.bytes / 1e6,
           l.refused);
    fs_http_free(l.http);
    fs_secret_free(l.token);
    free(l.batch.items);
    dev_close(&d);
    fs_loop_free(loop);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Phase: device (initial pull, catch-up, offline push) */

static void edit_accounts(dev *d, size_t n)
{
    fs_list_query q = {.kind = FIELDSYNC__RECORD_KIND__ACCOUNT, .limit = n};
    fs_list_page page;
    fs_err err;
    if (fs_store_list(d->st, &q, &page, &err) != 0)
        die("listing accounts", &err);
    for (size_t i = 0; i < page.n; i++) {
        Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
        a.website = "https://example.com/changed";
        if (fs_store_put(d->st, FIELDSYNC__RECORD_KIND__ACCOUNT, page.items[i].id, &a.base, NULL, 0,
                         &err) != 0)
            die("editing", &err);
    }
    fs_list_page_clear(&page);
}

static size_t edit_visits(dev *d, size_t n)
{
    fs_list_query q = {.kind = FIELDSYNC__RECORD_KIND__VISIT, .limit = 1000};
    fs_list_page page = {0};
    fs_err err;
    size_t done = 0;
    char *cursor = NULL;
    while (done < n) {
        q.cursor = cursor;
        if (fs_store_list(d->st, &q, &page, &err) != 0)
            die("listing visits", &err);
        for (size_t i = 0; i < page.n && done < n; i++, done++) {
            Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
            v.has_next_step_done = 1;
            v.next_step_done = 1;
            if (fs_store_put(d->st, FIELDSYNC__RECORD_KIND__VISIT, page.items[i].id, &v.base, NULL,
                             0, &err) != 0)
                die("editing", &err);
        }
        free(cursor);
        cursor = page.next_cursor ? strdup(page.next_cursor) : NULL;
        bool last = page.next_cursor == NULL;
        fs_list_page_clear(&page);
        if (last)
            break;
    }
    free(cursor);
    return done;
}

/* One step of what fieldsyncd does a second after writes stop
 * (daemon/server.c): search rows of queued records, one FTS merge step and a
 * checkpoint; whether it has more to do. The phases start from that idle
 * state. */
static bool idle_maintenance(dev *d)
{
    fs_err err;
    bool more = false;
    if (fs_store_maintain(d->st, &more, &err) != 0)
        die("store maintenance", &err);
    return more;
}

static bool first_run(void *arg)
{
    return ((dev *)arg)->runs > 0;
}

int phase_device(const char *url, const char *code, const char *dir, const char *loaddir,
                 size_t push, size_t catchup)
{
    fs_loop *loop = NULL;
    dev d, ld;
    fs_loop_new(&loop, NULL);
    dev_open(&d, loop, dir, true, 1000);
    long base = vm_hwm_kb();
    double t0 = now_s();
    dev_enroll(&d, url, code); /* its first run is the initial pull */
    double t1 = now_s(), cpu1 = cpu_s();
    long hwm = vm_hwm_kb();
    print_run("initial pull (encrypted)", &d, d.last.pulled, t1 - t0);
    uint64_t backlog = 0;
    unsigned steps = 0;
    fs_err err;
    if (fs_store_search_backlog(d.st, &backlog, &err) != 0)
        die("counting the search backlog", &err);
    for (uint64_t left = backlog; left > 0 || steps == 0; steps++) {
        idle_maintenance(&d);
        if (fs_store_search_backlog(d.st, &left, &err) != 0)
            die("counting the search backlog", &err);
    }
    double t2 = now_s();
    printf("%-26s %8llu records %8.2f s %10.0f records/s (%u idle maintenance steps; CPU %.2f s "
           "device)\n",
           "search rows after it", (unsigned long long)backlog, t2 - t1,
           t2 > t1 ? (double)backlog / (t2 - t1) : 0, steps, cpu_s() - cpu1);
    printf("%-26s %8llu records %8.2f s %10.0f records/s (pull and search rows; CPU %.2f s "
           "device, %.2f s server)\n",
           "initial pull, end to end", (unsigned long long)d.last.pulled, t2 - t0,
           (double)d.last.pulled / (t2 - t0), cpu_s() - d.cpu_start,
           server_cpu_s() - d.server_cpu_start);
    printf("%-26s %8.1f MB (VmHWM of the device process after the initial pull; %.1f MB "
           "before it, with the store open; %.1f MB after the search rows)\n",
           "device peak RSS", (double)hwm / 1024.0, (double)base / 1024.0,
           (double)vm_hwm_kb() / 1024.0);
    /* the daemon goes on while maintenance says there is more: the index's
     * segments merged, the later phases start from its idle state */
    steps = 0;
    double t3 = now_s(), cpu3 = cpu_s();
    do
        steps++;
    while (idle_maintenance(&d));
    printf("%-26s %8.2f s (%u idle maintenance steps merging the index; CPU %.2f s "
           "device)\n",
           "idle merge after it", now_s() - t3, steps, cpu_s() - cpu3);
    dev_settle(&d);

    /* the loader's device, enrolled already, catches up by itself; its own
     * pushes are not pulled back, so a full resync gives it the records */
    dev_open(&ld, loop, loaddir, false, 1000);
    run_until(loop, first_run, &ld);
    dev_resync(&ld);
    edit_accounts(&ld, catchup);
    dev_sync(&ld);
    double c0 = now_s();
    dev_sync(&d);
    print_run("catch-up", &d, d.last.pulled, now_s() - c0);
    dev_close(&ld);

    size_t n = edit_visits(&d, push);
    idle_maintenance(&d);
    dev_settle(&d);
    dev_sync(&d);
    double secs = d.push_end - d.run_start;
    printf("%-26s %8zu records %8.2f s %10.0f records/s %5llu requests (push phase)\n",
           "offline push", n, secs, secs > 0 ? (double)n / secs : 0,
           (unsigned long long)d.push_reqs);
    print_run("offline push: whole run", &d, d.last.pushed + d.last.pulled,
              d.run_end - d.run_start);
    dev_close(&d);
    fs_loop_free(loop);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Phase: fleet */

typedef struct fleet {
    dev *devs;
    size_t n;
    unsigned target;
} fleet;

static bool all_ran(void *arg)
{
    fleet *f = arg;
    for (size_t i = 0; i < f->n; i++)
        if (f->devs[i].enroll_rc == 1 || f->devs[i].runs < f->target)
            return false;
    return true;
}

static void fleet_round(fleet *f, size_t per, const char *what)
{
    fs_err err;
    char id[64];
    uint64_t records = 0, requests = 0, bytes = 0;
    for (size_t i = 0; i < f->n; i++)
        for (size_t k = 0; k < per; k++) {
            Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
            snprintf(id, sizeof(id), "fleet-%zu-%zu", i, k);
            a.name = id;
            if (fs_store_put(f->devs[i].st, FIELDSYNC__RECORD_KIND__ACCOUNT, id, &a.base, NULL, 0,
                             &err) != 0)
                die("fleet put", &err);
        }
    double t0 = now_s();
    f->target++;
    for (size_t i = 0; i < f->n; i++) {
        f->devs[i].run_start = now_s();
        if (fs_sync_now(f->devs[i].sync, &err) != 0)
            die("fleet sync", &err);
    }
    run_until(f->devs[0].loop, all_ran, f);
    double t1 = now_s(), *lat = calloc(f->n, sizeof(double));
    for (size_t i = 0; i < f->n; i++) {
        if (f->devs[i].last.code != 0)
            die("a fleet run failed", NULL);
        lat[i] = f->devs[i].run_end - f->devs[i].run_start;
        records += f->devs[i].last.pushed + f->devs[i].last.pulled;
        requests += f->devs[i].last.requests;
        bytes += f->devs[i].last.bytes_up + f->devs[i].last.bytes_down;
    }
    qsort(lat, f->n, sizeof(double), cmp_double);
    printf("%-26s %zu devices %8.2f s %8.0f records/s %6.0f requests/s %6.2f MB  latency p50 "
           "%.0f ms p99 %.0f ms max %.0f ms\n",
           what, f->n, t1 - t0, (double)records / (t1 - t0), (double)requests / (t1 - t0),
           (double)bytes / 1e6, lat[f->n / 2] * 1000, lat[(f->n * 99) / 100] * 1000,
           lat[f->n - 1] * 1000);
    free(lat);
}

int phase_fleet(const char *url, const char *codes_file, const char *dir, size_t n)
{
    fs_loop *loop = NULL;
    fs_err err;
    fleet f = {calloc(n, sizeof(dev)), n, 0};
    FILE *codes = fopen(codes_file, "r");
    char code[64], sub[300];
    if (codes == NULL)
        die("codes file", NULL);
    fs_loop_new(&loop, NULL);
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof(sub), "%s/d%zu", dir, i);
        dev_open(&f.devs[i], loop, sub, false, 1000);
        if (fgets(code, sizeof(code), codes) == NULL)
            die("codes file too short", NULL);
        code[strcspn(code, "\r\n")] = '\0';
        f.devs[i].enroll_rc = 1;
        if (fs_sync_enroll(f.devs[i].sync, url, code, "fleet", on_enrolled, &f.devs[i], &err) != 0)
            die("fleet enroll", &err);
    }
    fclose(codes);
    f.target = 1; /* enrollment's first run */
    double t0 = now_s();
    run_until(loop, all_ran, &f);
    printf("%-26s %zu devices %8.2f s (enrollment + first sync, all at once)\n", "fleet: enroll", n,
           now_s() - t0);
    fleet_round(&f, 20, "fleet: 20 new each");
    fleet_round(&f, 5, "fleet: 5 more each");
    for (size_t i = 0; i < n; i++)
        dev_close(&f.devs[i]);
    free(f.devs);
    fs_loop_free(loop);
    return 0;
}
