/*
 * record.c: bench_record, the record model's benchmark. Not a test: it prints
 * figures to hold against the targets in the issue.
 *
 *  1. Join throughput: two concurrent states of one realistic record, edited by
 *     three devices (A created it; A, B and C then each edited other fields
 *     offline; s1 = A's state joined with B's, s2 = C's), joined and the result
 *     encoded, as the server does for every pushed record. Single core,
 *     CLOCK_MONOTONIC, about 1.5 s per row. Also the server's whole push path:
 *     decode the pushed bytes + join + encode. Target: > 200,000 records/s.
 *  2. Size: the encoded record state against the plain record's packed size,
 *     for a record edited by one device and by three. Target: < 30% overhead
 *     for three devices.
 *
 * Records: an Account with all 16 fields set (nested size, address and purchase
 * plan, three phones, two competitors, notes, four tags) and a Visit whose
 * outcome holds 2 KB of notes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fieldsync/record.h"

#define BENCH_SECONDS 1.5
#define BENCH_CALIBRATION_ITERS 2000
#define BENCH_WALL_MS 1790000000000ull
#define BENCH_VISIT_NOTES 2048
#define BENCH_JOIN_TARGET 200000.0
#define BENCH_OVERHEAD_TARGET 30.0

#define DEV_A 0x8a1f3c5e7b9d2041ull
#define DEV_B 0x1c2d3e4f5a6b7c8dull
#define DEV_C 0xf00dcafe12345678ull

/* The three devices' states of one record and their merged forms. */
typedef struct bench_case {
    const char *name;
    fs_state *created; /* after A's first write: edited by 1 device */
    fs_state *s1;      /* A's and B's concurrent edits joined */
    fs_state *s2;      /* C's concurrent edit */
    fs_state *merged;  /* join(s1, s2): edited by 3 devices */
} bench_case;

static int bench_write(fs_state *st, uint64_t dev, uint64_t wall_offset_ms,
                       const ProtobufCMessage *m)
{
    static fs_hlc clock;
    fs_err err;
    uint64_t hlc = fs_hlc_now(&clock, BENCH_WALL_MS + wall_offset_ms);
    if (fs_record_write_msg(st, dev, hlc, m, NULL, 0, &err) != 0) {
        fprintf(stderr, "bench_record: write failed: %s\n", fs_err_message(&err));
        return -1;
    }
    return 0;
}

/* A's create is shared by all; then each device edits from that base. */
static int bench_case_build(bench_case *c, const ProtobufCMessage *create,
                            const ProtobufCMessage *edit_a, const ProtobufCMessage *edit_b,
                            const ProtobufCMessage *edit_c)
{
    fs_state *b = NULL;
    fs_err err;
    int rc = -1;
    if (bench_write(c->created, DEV_A, 0, create) != 0 ||
        fs_state_copy(&c->s1, c->created, &err) != 0 || fs_state_copy(&b, c->created, &err) != 0 ||
        fs_state_copy(&c->s2, c->created, &err) != 0)
        goto fail;
    if (bench_write(c->s1, DEV_A, 60000, edit_a) != 0 ||
        bench_write(b, DEV_B, 61000, edit_b) != 0 || bench_write(c->s2, DEV_C, 62000, edit_c) != 0)
        goto fail;
    if (fs_record_join_into(c->s1, b, &err) != 0 ||
        fs_record_join(&c->merged, c->s1, c->s2, &err) != 0)
        goto fail;
    rc = 0;
fail:
    if (rc != 0)
        fprintf(stderr, "bench_record: building the %s case failed: %s\n", c->name,
                fs_err_message(&err));
    fs_state_free(b);
    return rc;
}

static size_t bench_encoded_len(const fs_state *st)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (fs_state_encode(st, &buf, &len, NULL) != 0)
        return 0;
    free(buf);
    return len;
}

static double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static volatile size_t bench_sink;

/* iters rounds of join + encode (with decode of the pushed bytes first when
 * push_path); returns seconds, or -1 on error. */
static double bench_run(const bench_case *c, long iters, bool push_path)
{
    uint8_t *pushed = NULL, *buf = NULL;
    size_t pushed_len = 0, len = 0;
    if (fs_state_encode(c->s2, &pushed, &pushed_len, NULL) != 0)
        return -1;
    double t0 = bench_now();
    for (long i = 0; i < iters; i++) {
        fs_state *in = NULL, *out = NULL;
        const fs_state *other = c->s2;
        if (push_path) {
            if (fs_state_decode(&in, pushed, pushed_len, NULL) != 0)
                goto fail;
            other = in;
        }
        if (fs_record_join(&out, c->s1, other, NULL) != 0 ||
            fs_state_encode(out, &buf, &len, NULL) != 0) {
            fs_state_free(in);
            fs_state_free(out);
            goto fail;
        }
        bench_sink += len;
        free(buf);
        fs_state_free(out);
        fs_state_free(in);
    }
    double t = bench_now() - t0;
    free(pushed);
    return t;
fail:
    free(pushed);
    return -1;
}

static int bench_throughput(const bench_case *c, bool push_path)
{
    double t = bench_run(c, BENCH_CALIBRATION_ITERS, push_path);
    if (t < 0)
        return -1;
    long iters = (long)(BENCH_SECONDS / (t / BENCH_CALIBRATION_ITERS));
    if (iters < BENCH_CALIBRATION_ITERS)
        iters = BENCH_CALIBRATION_ITERS;
    t = bench_run(c, iters, push_path);
    if (t < 0)
        return -1;
    double rate = (double)iters / t;
    printf("%-9s %-28s %6zu %6zu %10ld %7.2f %12.0f %5.2f  %s\n", c->name,
           push_path ? "decode + join + encode" : "join + encode", bench_encoded_len(c->s1),
           bench_encoded_len(c->s2), iters, t, rate, 1e6 / rate,
           rate > BENCH_JOIN_TARGET ? "met" : "MISSED");
    return 0;
}

/* The packed size of the plain record the UI sees (id included), 0 on error. */
static size_t bench_plain_len(const fs_state *st)
{
    ProtobufCMessage *m = NULL;
    if (fs_record_visible(st, &m, NULL) != 0)
        return 0;
    size_t len = protobuf_c_message_get_packed_size(m);
    protobuf_c_message_free_unpacked(m, NULL);
    return len;
}

static void bench_size_row(const bench_case *c, const char *who, const fs_state *st)
{
    size_t enc = bench_encoded_len(st), plain = bench_plain_len(st);
    double over = plain ? 100.0 * ((double)enc - (double)plain) / (double)plain : 0;
    bool three = st == c->merged;
    printf("%-9s %-10s %6zu %11zu %11zu %9.1f%%  %s\n", c->name, who, st->nevents, plain, enc, over,
           three ? (over < BENCH_OVERHEAD_TARGET ? "met (< 30%)" : "MISSED (< 30%)") : "-");
}

/* ------------------------------------------------------------------------- */
/* The records */

static int bench_account(bench_case *c)
{
    Fieldsync__Account__Size size = FIELDSYNC__ACCOUNT__SIZE__INIT;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    Fieldsync__Phone p1 = FIELDSYNC__PHONE__INIT, p2 = FIELDSYNC__PHONE__INIT,
                     p3 = FIELDSYNC__PHONE__INIT, p4 = FIELDSYNC__PHONE__INIT;
    Fieldsync__Money budget = FIELDSYNC__MONEY__INIT, budget2 = FIELDSYNC__MONEY__INIT;
    Fieldsync__Account__PurchasePlan plan = FIELDSYNC__ACCOUNT__PURCHASE_PLAN__INIT;
    Fieldsync__Account__PurchasePlan plan2 = FIELDSYNC__ACCOUNT__PURCHASE_PLAN__INIT;
    Fieldsync__Account__Competitor k1 = FIELDSYNC__ACCOUNT__COMPETITOR__INIT,
                                   k2 = FIELDSYNC__ACCOUNT__COMPETITOR__INIT;
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT, ea = FIELDSYNC__ACCOUNT__INIT,
                       eb = FIELDSYNC__ACCOUNT__INIT, ec = FIELDSYNC__ACCOUNT__INIT;
    Fieldsync__Phone *phones[] = {&p1, &p2, &p3}, *phones_c[] = {&p1, &p2, &p3, &p4};
    Fieldsync__Account__Competitor *comps[] = {&k1, &k2};
    char *tags[] = {"forklifts", "fleet-renewal", "key-account", "bavaria"};
    char *tags_c[] = {"forklifts", "fleet-renewal", "key-account", "bavaria", "demo-booked"};

    size.has_staff = size.has_fleet = size.has_branches = 1;
    size.staff = 420, size.fleet = 38, size.branches = 3;
    addr.street = "Industriestraße 12", addr.postal_code = "85748", addr.city = "Garching";
    addr.region = "Bayern", addr.country = "DE";
    p1.has_kind = p2.has_kind = p3.has_kind = p4.has_kind = 1;
    p1.kind = FIELDSYNC__PHONE__KIND__OFFICE, p1.number = "+49 89 4711 230";
    p2.kind = FIELDSYNC__PHONE__KIND__FAX, p2.number = "+49 89 4711 239";
    p3.kind = FIELDSYNC__PHONE__KIND__MOBILE, p3.number = "+49 170 555 0199";
    p4.kind = FIELDSYNC__PHONE__KIND__MOBILE, p4.number = "+49 171 555 0123";
    budget.has_minor_units = budget2.has_minor_units = 1;
    budget.minor_units = 48000000, budget.currency = "EUR";
    budget2.minor_units = 52500000, budget2.currency = "EUR";
    plan.what = "Six electric forklifts, 2.5 t, with service contract";
    plan.budget = &budget, plan.timetable = "Order in Q1, delivery before the harvest season";
    plan.process = "Plant manager proposes, CFO signs above 250k, tender with three vendors";
    plan2 = plan, plan2.budget = &budget2;
    k1.product = "EFG 425", k1.vendor = "Jungheinrich", k1.has_satisfaction = 1;
    k1.satisfaction = 3, k1.competing_rep = "M. Gruber";
    k2.product = "RX 20", k2.vendor = "Still", k2.has_satisfaction = 1, k2.satisfaction = 2;
    k2.competing_rep = "S. Aydin";

    a.name = "Müller Fördertechnik GmbH", a.industry = "Intralogistics";
    a.size = &size, a.address = &addr, a.n_phones = 3, a.phones = phones;
    a.website = "https://www.mueller-foerdertechnik.example";
    a.has_source = a.has_tier = a.has_funnel_stage = 1;
    a.source = FIELDSYNC__ACCOUNT__SOURCE__REFERRAL, a.referred_by = "acc-0042";
    a.tier = FIELDSYNC__ACCOUNT__TIER__OPPORTUNITY_TIER;
    a.funnel_stage = FIELDSYNC__ACCOUNT__FUNNEL_STAGE__FUNNEL_OPPORTUNITY;
    a.owner = "jweber", a.purchase_plan = &plan, a.n_competitors = 2, a.competitors = comps;
    a.notes = "Referred by Huber Landtechnik. Fleet of 38, six forklifts due for renewal; "
              "breakdowns during harvest are the pain. Plant manager Anna Schäfer is the "
              "champion, CFO decides. Unhappy with the incumbent's 3-day service response.";
    a.n_tags = 4, a.tags = tags;

    ea.has_tier = ea.has_funnel_stage = 1; /* A: the quote went out */
    ea.tier = FIELDSYNC__ACCOUNT__TIER__QUOTED,
    ea.funnel_stage = FIELDSYNC__ACCOUNT__FUNNEL_STAGE__QUOTE;
    eb.purchase_plan = &plan2; /* B (the rep's tablet): budget raised, notes */
    eb.notes = "Budget raised to 525k after the demo; CFO wants a leasing option.";
    ec.n_phones = 4, ec.phones = phones_c, ec.n_tags = 5, ec.tags = tags_c; /* C: phone, tag */
    return bench_case_build(c, &a.base, &ea.base, &eb.base, &ec.base);
}

static int bench_visit(bench_case *c)
{
    static char notes[BENCH_VISIT_NOTES + 1];
    static const char para[] = "Met the plant manager and the buyer at the Garching site. "
                               "They replace six forklifts next spring; the need behind the "
                               "need is uptime during harvest. ";
    Fieldsync__Visit__Objection o1 = FIELDSYNC__VISIT__OBJECTION__INIT;
    Fieldsync__Visit__Objection *objs[] = {&o1};
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT, ea = FIELDSYNC__VISIT__INIT,
                     eb = FIELDSYNC__VISIT__INIT, ec = FIELDSYNC__VISIT__INIT;
    char *contacts[] = {"con-0101", "con-0102"}, *materials[] = {"brochure EFX", "price list"};
    char *commitments[] = {"CFO joins the next meeting", "site survey in two weeks"};

    for (size_t i = 0; i < BENCH_VISIT_NOTES; i++)
        notes[i] = para[i % (sizeof(para) - 1)];
    o1.objection = "Price 12% above the incumbent";
    o1.handling = "Total cost of ownership over five years, service response within 4 hours";
    v.account_id = "acc-0007", v.n_contact_ids = 2, v.contact_ids = contacts;
    v.has_kind = v.has_status = v.has_planned_at = v.has_started_at = 1;
    v.kind = FIELDSYNC__VISIT__KIND__FOLLOW_UP, v.status = FIELDSYNC__VISIT__STATUS__PLANNED;
    v.planned_at = 1790060400, v.started_at = 1790061000;
    v.place = "Garching, plant 2";
    v.objective = "Agree on a site survey date and meet the CFO before 2026-10-15";
    v.agenda = "1. Recap demo 2. Leasing option 3. Survey date";
    v.n_materials = 2, v.materials = materials, v.outcome = notes;
    v.needs = "No breakdowns during harvest season";

    ea.has_status = ea.has_ended_at = 1; /* A: visit done */
    ea.status = FIELDSYNC__VISIT__STATUS__DONE, ea.ended_at = 1790064600;
    eb.next_step = "Send the quote with a leasing option", eb.next_step_date = "2026-09-25";
    ec.n_objections = 1, ec.objections = objs, ec.n_commitments = 2, ec.commitments = commitments;
    return bench_case_build(c, &v.base, &ea.base, &eb.base, &ec.base);
}

int main(void)
{
    bench_case cases[2] = {{.name = "account"}, {.name = "visit"}};
    fs_err err;
    int rc = 1;
    if (fs_state_new(&cases[0].created, FIELDSYNC__RECORD_KIND__ACCOUNT, "acc-0007", &err) != 0 ||
        fs_state_new(&cases[1].created, FIELDSYNC__RECORD_KIND__VISIT, "vis-2041", &err) != 0) {
        fprintf(stderr, "bench_record: %s\n", fs_err_message(&err));
        goto done;
    }
    if (bench_account(&cases[0]) != 0 || bench_visit(&cases[1]) != 0)
        goto done;

    printf("bench_record: join of two concurrent states of a record edited by 3 devices, "
           "single core\n\n");
    printf("%-9s %-28s %6s %6s %10s %7s %12s %5s  %s\n", "record", "operation", "s1 B", "s2 B",
           "iterations", "seconds", "records/s", "us", "target > 200,000/s");
    for (int i = 0; i < 2; i++)
        if (bench_throughput(&cases[i], false) != 0 || bench_throughput(&cases[i], true) != 0) {
            fprintf(stderr, "bench_record: join/encode failed on %s\n", cases[i].name);
            goto done;
        }

    printf("\nencoded record state vs the plain record's packed size\n\n");
    printf("%-9s %-10s %6s %11s %11s %10s  %s\n", "record", "edited by", "events", "plain B",
           "state B", "overhead", "target (3 devices)");
    for (int i = 0; i < 2; i++) {
        bench_size_row(&cases[i], "1 device", cases[i].created);
        bench_size_row(&cases[i], "3 devices", cases[i].merged);
    }
    rc = 0;
done:
    for (int i = 0; i < 2; i++) {
        fs_state_free(cases[i].created);
        fs_state_free(cases[i].s1);
        fs_state_free(cases[i].s2);
        fs_state_free(cases[i].merged);
    }
    return rc;
}
