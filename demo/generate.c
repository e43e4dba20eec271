/*
 * generate.c: the demo book of business (see demo.h). Everything comes from one
 * seeded generator so a seed always yields the same records; each record is
 * built on the stack, handed to the emit callback and forgotten, so a book of
 * any size takes constant memory.
 */
#include "fieldsync/demo.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "words.h"

#define DAY 86400
#define ID_LEN 24
#define TEXT_MAX 8192
#define MAX_PER_ACCOUNT 64

typedef struct gen {
    uint64_t rng;
    const fs_demo_opts *opts;
    fs_demo_emit_fn emit;
    void *ctx;
} gen;

static uint64_t next_u64(gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t range(gen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next_u64(g) % (uint64_t)(hi - lo + 1));
}

static int chance(gen *g, int percent)
{
    return range(g, 1, 100) <= percent;
}

static const char *pick(gen *g, const struct fs_words *w)
{
    return w->items[next_u64(g) % w->n];
}

/* Around avg: 0 .. 2 * avg, capped. */
static size_t around(gen *g, size_t avg)
{
    size_t n = (size_t)range(g, 0, (int64_t)(2 * avg));
    return n > MAX_PER_ACCOUNT ? MAX_PER_ACCOUNT : n;
}

static void make_id(gen *g, char prefix, char *out)
{
    snprintf(out, ID_LEN, "%c-%016llx", prefix, (unsigned long long)next_u64(g));
}

void fs_demo_date(int64_t t, char *buf)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

fs_demo_opts fs_demo_opts_default(void)
{
    fs_demo_opts o = {
        .seed = 1,
        .accounts = 300,
        .contacts_per = 3,
        .visits_per = 6,
        .opportunities_per = 1,
        .note_bytes = 600,
        .owner = "rep",
        .today = (int64_t)time(NULL),
    };
    return o;
}

/* Appends sentences from w to buf until it holds about want bytes. */
static void fill_text(gen *g, char *buf, size_t cap, size_t want, const struct fs_words *w)
{
    size_t len = strlen(buf);
    if (want >= cap)
        want = cap - 1;
    while (len < want) {
        const char *s = pick(g, w);
        int n = snprintf(buf + len, cap - len, "%s%s", len > 0 ? " " : "", s);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

static int emit(gen *g, Fieldsync__RecordKind kind, const ProtobufCMessage *m)
{
    return g->emit(g->ctx, kind, m);
}

static Fieldsync__Account__Tier pick_tier(gen *g)
{
    int r = (int)range(g, 1, 100);
    if (r <= 5)
        return FIELDSYNC__ACCOUNT__TIER__QUOTED;
    if (r <= 20)
        return FIELDSYNC__ACCOUNT__TIER__CONTRACTED;
    if (r <= 35)
        return FIELDSYNC__ACCOUNT__TIER__OPPORTUNITY_TIER;
    if (r <= 65)
        return FIELDSYNC__ACCOUNT__TIER__PROSPECT;
    return FIELDSYNC__ACCOUNT__TIER__TARGET;
}

static Fieldsync__Account__FunnelStage funnel_for(gen *g, Fieldsync__Account__Tier tier)
{
    switch (tier) {
    case FIELDSYNC__ACCOUNT__TIER__QUOTED:
        return FIELDSYNC__ACCOUNT__FUNNEL_STAGE__QUOTE;
    case FIELDSYNC__ACCOUNT__TIER__CONTRACTED:
        return FIELDSYNC__ACCOUNT__FUNNEL_STAGE__CONTRACT;
    case FIELDSYNC__ACCOUNT__TIER__OPPORTUNITY_TIER:
        return FIELDSYNC__ACCOUNT__FUNNEL_STAGE__FUNNEL_OPPORTUNITY;
    case FIELDSYNC__ACCOUNT__TIER__PROSPECT:
        return (Fieldsync__Account__FunnelStage)range(
            g, FIELDSYNC__ACCOUNT__FUNNEL_STAGE__FUNNEL_PROSPECT,
            FIELDSYNC__ACCOUNT__FUNNEL_STAGE__LEAD);
    default:
        return chance(g, 50) ? FIELDSYNC__ACCOUNT__FUNNEL_STAGE__TARGET_GROUP
                             : FIELDSYNC__ACCOUNT__FUNNEL_STAGE__FUNNEL_TARGET;
    }
}

typedef struct account_ctx {
    char id[ID_LEN];
    char name[128];
    char contact_ids[MAX_PER_ACCOUNT][ID_LEN];
    size_t ncontacts;
    Fieldsync__Account__Tier tier;
} account_ctx;

static int gen_account(gen *g, account_ctx *a)
{
    char *name = a->name, phone[2][32], website[128], street[96], postal[16], notes[512];
    char referred[ID_LEN], plan_what[96], timetable[64], rep[64];
    make_id(g, 'a', a->id);
    a->tier = pick_tier(g);
    const char *first = pick(g, &fs_words_company_first), *last = pick(g, &fs_words_company_last);
    snprintf(name, sizeof(a->name), "%s %s %s", first, last, pick(g, &fs_words_company_form));
    snprintf(website, sizeof(website), "https://www.%s-%s.example", first, last);
    for (char *p = website; *p; p++)
        if (*p == ' ')
            *p = '-';
    snprintf(street, sizeof(street), "%d %s", (int)range(g, 1, 220), pick(g, &fs_words_street));
    snprintf(postal, sizeof(postal), "%05d", (int)range(g, 10000, 99999));

    Fieldsync__Account acc = FIELDSYNC__ACCOUNT__INIT;
    Fieldsync__Account__Size size = FIELDSYNC__ACCOUNT__SIZE__INIT;
    Fieldsync__Address addr = FIELDSYNC__ADDRESS__INIT;
    Fieldsync__Phone ph[2] = {FIELDSYNC__PHONE__INIT, FIELDSYNC__PHONE__INIT};
    Fieldsync__Phone *phones[2] = {&ph[0], &ph[1]};
    Fieldsync__Account__PurchasePlan plan = FIELDSYNC__ACCOUNT__PURCHASE_PLAN__INIT;
    Fieldsync__Money budget = FIELDSYNC__MONEY__INIT;
    Fieldsync__Account__Competitor comp = FIELDSYNC__ACCOUNT__COMPETITOR__INIT;
    Fieldsync__Account__Competitor *comps[1] = {&comp};
    char *tags[2] = {(char *)pick(g, &fs_words_tag), (char *)pick(g, &fs_words_tag)};

    acc.id = a->id;
    acc.name = name;
    acc.industry = (char *)pick(g, &fs_words_industry);
    size.has_staff = 1, size.staff = (uint32_t)range(g, 5, 2500);
    size.has_fleet = 1, size.fleet = (uint32_t)range(g, 0, 120);
    size.has_branches = 1, size.branches = (uint32_t)range(g, 1, 12);
    acc.size = &size;
    addr.street = street, addr.postal_code = postal;
    addr.city = (char *)pick(g, &fs_words_city), addr.country = "GB";
    acc.address = &addr;
    for (int i = 0; i < 2; i++) {
        snprintf(phone[i], sizeof(phone[i]), "+44 %d %06d", (int)range(g, 1000, 1999),
                 (int)range(g, 0, 999999));
        ph[i].has_kind = 1;
        ph[i].kind = i == 0 ? FIELDSYNC__PHONE__KIND__OFFICE : FIELDSYNC__PHONE__KIND__FAX;
        ph[i].number = phone[i];
    }
    acc.n_phones = 2, acc.phones = phones;
    acc.website = website;
    acc.has_source = 1;
    acc.source = (Fieldsync__Account__Source)range(g, 1, 8);
    if (acc.source == FIELDSYNC__ACCOUNT__SOURCE__REFERRAL) {
        make_id(g, 'a', referred);
        acc.referred_by = referred;
    }
    acc.has_tier = 1, acc.tier = a->tier;
    acc.has_funnel_stage = 1, acc.funnel_stage = funnel_for(g, a->tier);
    snprintf(rep, sizeof(rep), "%s", g->opts->owner);
    acc.owner = rep;
    if (a->tier != FIELDSYNC__ACCOUNT__TIER__TARGET) {
        snprintf(plan_what, sizeof(plan_what), "%s", pick(g, &fs_words_product));
        snprintf(timetable, sizeof(timetable), "decision in Q%d", (int)range(g, 1, 4));
        budget.has_minor_units = 1;
        budget.minor_units = range(g, 5, 400) * 100000;
        budget.currency = "GBP";
        plan.what = plan_what, plan.budget = &budget, plan.timetable = timetable;
        plan.process = "quote to purchasing, sign-off by the managing director";
        acc.purchase_plan = &plan;
    }
    comp.product = (char *)pick(g, &fs_words_product);
    comp.vendor = (char *)pick(g, &fs_words_competitor);
    comp.has_satisfaction = 1, comp.satisfaction = (uint32_t)range(g, 1, 5);
    comp.competing_rep = (char *)pick(g, &fs_words_first_name);
    acc.n_competitors = 1, acc.competitors = comps;
    notes[0] = '\0';
    fill_text(g, notes, sizeof(notes), 160, &fs_words_observation);
    acc.notes = notes;
    acc.n_tags = (size_t)range(g, 0, 2), acc.tags = tags;
    return emit(g, FIELDSYNC__RECORD_KIND__ACCOUNT, &acc.base);
}

static int gen_contact(gen *g, account_ctx *a)
{
    char name[96], email[128], phone[32], home[64];
    const char *fn = pick(g, &fs_words_first_name), *ln = pick(g, &fs_words_last_name);
    char *id = a->contact_ids[a->ncontacts++];
    make_id(g, 'c', id);
    snprintf(name, sizeof(name), "%s %s", fn, ln);
    snprintf(email, sizeof(email), "%c.%s@customer.example", fn[0], ln);
    snprintf(phone, sizeof(phone), "+44 7%03d %06d", (int)range(g, 100, 999),
             (int)range(g, 0, 999999));
    snprintf(home, sizeof(home), "%s", pick(g, &fs_words_city));

    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    Fieldsync__Phone ph = FIELDSYNC__PHONE__INIT;
    Fieldsync__Phone *phones[1] = {&ph};
    Fieldsync__Contact__PersonalNotes pn = FIELDSYNC__CONTACT__PERSONAL_NOTES__INIT;
    c.id = id, c.account_id = a->id, c.name = name;
    c.title = (char *)pick(g, &fs_words_title);
    c.has_department = 1, c.department = (Fieldsync__Contact__Department)range(g, 1, 4);
    c.has_level = 1, c.level = (Fieldsync__Contact__Level)range(g, 1, 3);
    c.has_buying_role = 1, c.buying_role = (Fieldsync__Contact__BuyingRole)range(g, 1, 5);
    ph.has_kind = 1, ph.kind = FIELDSYNC__PHONE__KIND__MOBILE, ph.number = phone;
    c.n_phones = 1, c.phones = phones;
    c.email = email;
    pn.home_town = home, pn.hobbies = (char *)pick(g, &fs_words_hobby);
    pn.topics = (char *)pick(g, &fs_words_topic);
    c.personal = &pn;
    c.has_stance = 1, c.stance = (Fieldsync__Contact__Stance)range(g, 1, 3);
    return emit(g, FIELDSYNC__RECORD_KIND__CONTACT, &c.base);
}

/* Visit i of n for account a: spread over the last 120 days, the last one
 * within a week of today (this week's calls and meetings), planned when it
 * is still to come. */
static int gen_visit(gen *g, account_ctx *a, size_t i, size_t n)
{
    char id[ID_LEN], outcome[TEXT_MAX], agenda[256], next_date[11], place[96];
    const int64_t today = g->opts->today;
    int64_t at = today - (int64_t)(n - 1 - i) * range(g, 8, 20) * DAY + range(g, -6, 4) * DAY +
                 range(g, 8, 17) * 3600;
    int planned = at > today;
    int last_done = !planned && (i + 1 == n || today - at < 14 * DAY);
    make_id(g, 'v', id);

    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    Fieldsync__Visit__Objection obj = FIELDSYNC__VISIT__OBJECTION__INIT;
    Fieldsync__Visit__Objection *objs[1] = {&obj};
    char *contacts[1];
    char *materials[2] = {(char *)pick(g, &fs_words_material), (char *)pick(g, &fs_words_material)};
    char *commitments[1] = {(char *)pick(g, &fs_words_commitment)};
    v.id = id, v.account_id = a->id;
    if (a->ncontacts > 0) {
        contacts[0] = a->contact_ids[next_u64(g) % a->ncontacts];
        v.n_contact_ids = 1, v.contact_ids = contacts;
    }
    v.has_kind = 1;
    v.kind = i == 0 ? FIELDSYNC__VISIT__KIND__COLD : (Fieldsync__Visit__Kind)range(g, 1, 6);
    v.has_status = 1;
    v.status = planned ? FIELDSYNC__VISIT__STATUS__PLANNED
                       : (chance(g, 8) ? FIELDSYNC__VISIT__STATUS__CANCELLED
                                       : FIELDSYNC__VISIT__STATUS__DONE);
    v.has_planned_at = 1, v.planned_at = at;
    snprintf(place, sizeof(place), "customer site, %s", pick(g, &fs_words_city));
    v.place = place;
    v.objective = (char *)pick(g, &fs_words_objective);
    snprintf(agenda, sizeof(agenda), "1. introductions 2. %s 3. next steps",
             pick(g, &fs_words_product));
    v.agenda = agenda;
    v.n_materials = 2, v.materials = materials;
    if (v.status == FIELDSYNC__VISIT__STATUS__DONE) {
        v.has_started_at = 1, v.started_at = at;
        v.has_ended_at = 1, v.ended_at = at + range(g, 20, 90) * 60;
        outcome[0] = '\0';
        fill_text(g, outcome, sizeof(outcome), g->opts->note_bytes, &fs_words_observation);
        v.outcome = outcome;
        v.needs = (char *)pick(g, &fs_words_need);
        obj.objection = (char *)pick(g, &fs_words_objection);
        obj.handling = (char *)pick(g, &fs_words_handling);
        v.n_objections = 1, v.objections = objs;
        v.n_commitments = 1, v.commitments = commitments;
        v.next_step = (char *)pick(g, &fs_words_next_step);
        /* the latest visits leave follow-ups due around today, some overdue */
        int64_t due = last_done ? today + range(g, -5, 10) * DAY : at + range(g, 1, 14) * DAY;
        fs_demo_date(due, next_date);
        v.next_step_date = next_date;
        v.has_next_step_done = 1, v.next_step_done = !last_done;
    }
    return emit(g, FIELDSYNC__RECORD_KIND__VISIT, &v.base);
}

/* The day an opportunity entered each stage up to stage (index: the stage),
 * walking back from its last move. Closed: the 90% move 11 to 20 days
 * before, so the cooling-off (10 days after the later of signing and
 * prepayment, both on the 90% day at the latest) is over. */
static void stage_days(gen *g, int stage, int64_t day[FIELDSYNC__OPPORTUNITY__STAGE__CLOSED + 1])
{
    const int64_t today = g->opts->today;
    day[stage] = today - range(g, 0, 45) * DAY; /* past 28 days: stale */
    if (stage == FIELDSYNC__OPPORTUNITY__STAGE__CLOSED) {
        day[stage] = today - range(g, 0, 30) * DAY;
        day[stage - 1] = day[stage] - range(g, 11, 20) * DAY;
        stage--;
    }
    for (int s = stage - 1; s >= FIELDSYNC__OPPORTUNITY__STAGE__SALES_OPPORTUNITY; s--)
        day[s] = day[s + 1] - range(g, 3, 15) * DAY;
}

static int gen_opportunity(gen *g, account_ctx *a)
{
    enum {
        SALES = FIELDSYNC__OPPORTUNITY__STAGE__SALES_OPPORTUNITY,
        FIRST = FIELDSYNC__OPPORTUNITY__STAGE__FIRST_MEETING_SET,
        P25 = FIELDSYNC__OPPORTUNITY__STAGE__PCT_25,
        P90 = FIELDSYNC__OPPORTUNITY__STAGE__PCT_90,
        CLOSED = FIELDSYNC__OPPORTUNITY__STAGE__CLOSED
    };
    char id[ID_LEN], title[256], close_d[11], first_d[11], signed_d[11], prepaid_d[11];
    char dates[CLOSED + 1][11];
    int64_t day[CLOSED + 1];
    make_id(g, 'o', id);
    Fieldsync__Opportunity o = FIELDSYNC__OPPORTUNITY__INIT;
    Fieldsync__Opportunity__Criteria cr = FIELDSYNC__OPPORTUNITY__CRITERIA__INIT;
    Fieldsync__Opportunity__StageChange moves[CLOSED + 1], *history[CLOSED + 1];
    Fieldsync__Money amount = FIELDSYNC__MONEY__INIT;
    int stage = (int)range(g, SALES, CLOSED);
    stage_days(g, stage, day);

    o.id = id, o.account_id = a->id;
    if (a->ncontacts > 0)
        o.decision_maker_id = a->contact_ids[0];
    snprintf(title, sizeof(title), "%s: %s", a->name, pick(g, &fs_words_product));
    o.title = title;
    o.has_stage = 1, o.stage = (Fieldsync__Opportunity__Stage)stage;
    int all = stage >= FIELDSYNC__OPPORTUNITY__STAGE__PCT_50;
    cr.has_decision_maker = 1, cr.decision_maker = all || chance(g, 50);
    cr.has_plan_fits_need = 1, cr.plan_fits_need = all || chance(g, 50);
    cr.has_budget_discussed = 1, cr.budget_discussed = all || chance(g, 40);
    cr.has_signing_in_cycle = 1, cr.signing_in_cycle = all || chance(g, 30);
    cr.has_next_step_agreed = 1, cr.next_step_agreed = all || chance(g, 60);
    o.criteria = &cr;
    amount.has_minor_units = 1, amount.minor_units = range(g, 20, 900) * 50000;
    amount.currency = "GBP";
    o.amount = &amount;
    fs_demo_date(g->opts->today + range(g, 5, 60) * DAY, close_d);
    o.expected_close_date = close_d;
    /* a meeting set is still to come; from 25% on it took place */
    if (stage >= FIRST) {
        fs_demo_date(stage == FIRST ? day[FIRST] + range(g, 1, 14) * DAY
                                    : day[P25] - range(g, 0, 2) * DAY,
                     first_d);
        o.first_meeting_date = first_d;
    }
    if (stage >= P90) { /* signed, then the prepayment on the day of the 90% move */
        fs_demo_date(day[P90] - range(g, 0, 3) * DAY, signed_d);
        fs_demo_date(day[P90], prepaid_d);
        o.signed_date = signed_d, o.prepaid_date = prepaid_d;
    }
    for (int s = SALES; s <= stage; s++) {
        Fieldsync__Opportunity__StageChange m = FIELDSYNC__OPPORTUNITY__STAGE_CHANGE__INIT;
        fs_demo_date(day[s], dates[s]);
        m.has_stage = 1, m.stage = (Fieldsync__Opportunity__Stage)s, m.date = dates[s];
        moves[s] = m;
        history[s - SALES] = &moves[s];
    }
    o.n_stage_history = (size_t)(stage - SALES + 1), o.stage_history = history;
    o.stage_entered_date = dates[stage];
    return emit(g, FIELDSYNC__RECORD_KIND__OPPORTUNITY, &o.base);
}

static int gen_transaction(gen *g, account_ctx *a)
{
    char id[ID_LEN], date[11], desc[128];
    make_id(g, 't', id);
    Fieldsync__Transaction t = FIELDSYNC__TRANSACTION__INIT;
    Fieldsync__Money amount = FIELDSYNC__MONEY__INIT;
    fs_demo_date(g->opts->today - range(g, 1, 365) * DAY, date);
    snprintf(desc, sizeof(desc), "order: %s", pick(g, &fs_words_product));
    amount.has_minor_units = 1, amount.minor_units = range(g, 10, 5000) * 1000;
    amount.currency = "GBP";
    t.id = id, t.account_id = a->id, t.date = date, t.amount = &amount, t.description = desc;
    return emit(g, FIELDSYNC__RECORD_KIND__TRANSACTION, &t.base);
}

static int gen_book_of_account(gen *g)
{
    account_ctx a = {.ncontacts = 0};
    int rc = gen_account(g, &a);
    size_t nc = around(g, g->opts->contacts_per);
    for (size_t i = 0; rc == 0 && i < nc; i++)
        rc = gen_contact(g, &a);
    size_t nv = around(g, g->opts->visits_per);
    for (size_t i = 0; rc == 0 && i < nv; i++)
        rc = gen_visit(g, &a, i, nv);
    if (a.tier != FIELDSYNC__ACCOUNT__TIER__TARGET) {
        size_t no = around(g, g->opts->opportunities_per);
        for (size_t i = 0; rc == 0 && i < no; i++)
            rc = gen_opportunity(g, &a);
    }
    if (a.tier == FIELDSYNC__ACCOUNT__TIER__CONTRACTED) {
        for (int64_t i = 0, nt = range(g, 1, 4); rc == 0 && i < nt; i++)
            rc = gen_transaction(g, &a);
    }
    return rc;
}

int fs_demo_generate(const fs_demo_opts *opts, fs_demo_emit_fn emit_fn, void *ctx, fs_err *err)
{
    if (opts == NULL || emit_fn == NULL || opts->owner == NULL)
        return fs_err_set(err, FS_EINVAL, "demo generator: options, owner and callback needed");
    gen g = {.rng = opts->seed, .opts = opts, .emit = emit_fn, .ctx = ctx};
    for (size_t i = 0; i < opts->accounts; i++) {
        int rc = gen_book_of_account(&g);
        if (rc != 0)
            return rc;
    }
    return 0;
}
