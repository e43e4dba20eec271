/*
 * make_wire_seeds.c: writes the seed corpus of fuzz_wire_parses into
 * CORPUS_DIR/fuzz_wire_parses/ (run by hand when the messages change; the
 * seeds are committed):
 *   fuzz_wire_make_seeds CORPUS_DIR
 * Valid encodings, packed by protobuf-c, of every record kind and of each
 * message they nest, and of fstest.AllTypes with every field set (so every
 * wire type, packed runs and a oneof); then hand-made bytes at the edges of
 * protobuf-c's rules (proto/wire_check.c), accepted and refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fieldsync/record.h"
#include "wire_types.pb-c.h"

static const char *corpus;

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/fuzz_wire_parses", corpus);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/fuzz_wire_parses/%s", corpus, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "make_wire_seeds: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void put_msg(const char *name, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        exit(1);
    protobuf_c_message_pack(m, buf);
    put(name, buf, n);
    free(buf);
}

#define PUT_BYTES(name, ...)                                                                       \
    do {                                                                                           \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        put(name, b_, sizeof(b_));                                                                 \
    } while (0)

static Fieldsync__Money money = FIELDSYNC__MONEY__INIT;
static Fieldsync__Phone phone = FIELDSYNC__PHONE__INIT;
static Fieldsync__Address address = FIELDSYNC__ADDRESS__INIT;

static void seed_shared(void)
{
    money.has_minor_units = 1;
    money.minor_units = -1250000;
    money.currency = "EUR";
    phone.has_kind = 1;
    phone.kind = FIELDSYNC__PHONE__KIND__OFFICE;
    phone.number = "+49 89 3270 1100";
    address.street = "Lichtenbergstr. 8";
    address.postal_code = "85748";
    address.city = "Garching";
    address.country = "DE";
    put_msg("money.pb", &money.base);
    put_msg("phone.pb", &phone.base);
    put_msg("address.pb", &address.base);
}

static void seed_account(void)
{
    Fieldsync__Account__Size size = FIELDSYNC__ACCOUNT__SIZE__INIT;
    size.has_staff = size.has_fleet = size.has_branches = 1;
    size.staff = 240;
    size.fleet = 31;
    size.branches = 3;
    Fieldsync__Account__PurchasePlan plan = FIELDSYNC__ACCOUNT__PURCHASE_PLAN__INIT;
    plan.what = "electric forklifts";
    plan.budget = &money;
    plan.timetable = "Q3";
    Fieldsync__Account__Competitor comp = FIELDSYNC__ACCOUNT__COMPETITOR__INIT;
    comp.product = "ETV 216";
    comp.vendor = "Jungheinrich";
    comp.has_satisfaction = 1;
    comp.satisfaction = 4;
    Fieldsync__Phone *phones[] = {&phone, &phone};
    Fieldsync__Account__Competitor *comps[] = {&comp};
    char *tags[] = {"fleet", "key account"};
    Fieldsync__Account a = FIELDSYNC__ACCOUNT__INIT;
    a.id = "acc-0042";
    a.name = "Hofer Logistik GmbH";
    a.industry = "logistics";
    a.size = &size;
    a.address = &address;
    a.n_phones = 2;
    a.phones = phones;
    a.has_source = a.has_tier = a.has_funnel_stage = 1;
    a.source = FIELDSYNC__ACCOUNT__SOURCE__REFERRAL;
    a.tier = FIELDSYNC__ACCOUNT__TIER__CONTRACTED;
    a.funnel_stage = FIELDSYNC__ACCOUNT__FUNNEL_STAGE__QUOTE;
    a.purchase_plan = &plan;
    a.n_competitors = 1;
    a.competitors = comps;
    a.notes = "Prefers visits on Tuesdays.";
    a.n_tags = 2;
    a.tags = tags;
    put_msg("account.pb", &a.base);
    put_msg("account-size.pb", &size.base);
    put_msg("account-purchase-plan.pb", &plan.base);
    put_msg("account-competitor.pb", &comp.base);
}

static void seed_contact_visit(void)
{
    Fieldsync__Contact__PersonalNotes notes = FIELDSYNC__CONTACT__PERSONAL_NOTES__INIT;
    notes.hobbies = "sailing";
    Fieldsync__Phone *phones[] = {&phone};
    Fieldsync__Contact c = FIELDSYNC__CONTACT__INIT;
    c.account_id = "acc-0042";
    c.name = "Petra Hofer";
    c.has_department = c.has_level = c.has_buying_role = c.has_stance = 1;
    c.department = FIELDSYNC__CONTACT__DEPARTMENT__FINANCE;
    c.level = FIELDSYNC__CONTACT__LEVEL__DECISION;
    c.buying_role = FIELDSYNC__CONTACT__BUYING_ROLE__DECISION_MAKER;
    c.stance = FIELDSYNC__CONTACT__STANCE__SUPPORTER;
    c.n_phones = 1;
    c.phones = phones;
    c.personal = &notes;
    put_msg("contact.pb", &c.base);
    put_msg("contact-personal-notes.pb", &notes.base);

    Fieldsync__Visit__Objection obj = FIELDSYNC__VISIT__OBJECTION__INIT;
    obj.objection = "too expensive";
    obj.handling = "total cost over five years";
    Fieldsync__Visit__Objection *objs[] = {&obj, &obj};
    char *ids[] = {"con-1", "con-2"};
    Fieldsync__Visit v = FIELDSYNC__VISIT__INIT;
    v.account_id = "acc-0042";
    v.n_contact_ids = 2;
    v.contact_ids = ids;
    v.has_kind = v.has_status = v.has_planned_at = v.has_ended_at = 1;
    v.kind = FIELDSYNC__VISIT__KIND__DEMO;
    v.status = FIELDSYNC__VISIT__STATUS__DONE;
    v.planned_at = 1790000000;
    v.ended_at = -1;
    v.n_objections = 2;
    v.objections = objs;
    v.has_next_step_done = 1;
    v.next_step_done = 1;
    put_msg("visit.pb", &v.base);
    put_msg("visit-objection.pb", &obj.base);
}

static void seed_opportunity_transaction(void)
{
    Fieldsync__Opportunity__Criteria crit = FIELDSYNC__OPPORTUNITY__CRITERIA__INIT;
    crit.has_decision_maker = crit.has_budget_discussed = 1;
    crit.decision_maker = crit.budget_discussed = 1;
    Fieldsync__Opportunity__StageChange sc = FIELDSYNC__OPPORTUNITY__STAGE_CHANGE__INIT;
    sc.has_stage = 1;
    sc.stage = FIELDSYNC__OPPORTUNITY__STAGE__PCT_50;
    sc.date = "2026-03-01";
    sc.override = "customer asked";
    Fieldsync__Opportunity__StageChange *hist[] = {&sc, &sc};
    Fieldsync__Opportunity o = FIELDSYNC__OPPORTUNITY__INIT;
    o.title = "Fleet renewal";
    o.has_stage = 1;
    o.stage = FIELDSYNC__OPPORTUNITY__STAGE__PCT_50;
    o.criteria = &crit;
    o.amount = &money;
    o.n_stage_history = 2;
    o.stage_history = hist;
    put_msg("opportunity.pb", &o.base);
    put_msg("opportunity-criteria.pb", &crit.base);
    put_msg("opportunity-stage-change.pb", &sc.base);

    Fieldsync__Transaction t = FIELDSYNC__TRANSACTION__INIT;
    t.date = "2026-04-30";
    t.amount = &money;
    t.description = "deposit";
    put_msg("transaction.pb", &t.base);
}

static void seed_all_types(void)
{
    Fstest__Leaf leaf = FSTEST__LEAF__INIT, *leaves[] = {&leaf, &leaf};
    leaf.has_v = 1;
    leaf.v = -7;
    leaf.text = "leaf";
    int32_t ri[] = {-1, 0, 300};
    int64_t rs[] = {-5, 1ll << 40};
    uint32_t rf[] = {1, 0xffffffffu};
    double rd[] = {0.5, -2.0};
    protobuf_c_boolean rb[] = {1, 0, 1};
    Fstest__Color rc[] = {FSTEST__COLOR__RED, FSTEST__COLOR__GREEN};
    char *rt[] = {"x", ""};
    uint8_t raw[] = {0, 1, 0xff};
    ProtobufCBinaryData rdata[] = {{sizeof(raw), raw}};
    uint64_t pu64[] = {1ull << 63, 2};
    float pf[] = {1.5f};
    Fstest__AllTypes m = FSTEST__ALL_TYPES__INIT;
    m.has_i32 = m.has_i64 = m.has_u32 = m.has_u64 = m.has_s32 = m.has_s64 = 1;
    m.i32 = -2;
    m.i64 = 1ll << 50;
    m.u32 = 4000000000u;
    m.u64 = 1ull << 63;
    m.s32 = -300;
    m.s64 = -(1ll << 45);
    m.has_fx32 = m.has_fx64 = m.has_sfx32 = m.has_sfx64 = m.has_fl = m.has_db = 1;
    m.fx32 = 7;
    m.fx64 = 8;
    m.sfx32 = -9;
    m.sfx64 = -10;
    m.fl = 1.25f;
    m.db = 2.5;
    m.has_flag = m.has_color = m.has_data = 1;
    m.flag = 1;
    m.color = FSTEST__COLOR__GREEN;
    m.text = "text";
    m.data = rdata[0];
    m.leaf = &leaf;
    m.n_r_i32 = 3;
    m.r_i32 = ri;
    m.n_r_s64 = 2;
    m.r_s64 = rs;
    m.n_r_fx32 = 2;
    m.r_fx32 = rf;
    m.n_r_db = 2;
    m.r_db = rd;
    m.n_r_flag = 3;
    m.r_flag = rb;
    m.n_r_color = 2;
    m.r_color = rc;
    m.n_r_text = 2;
    m.r_text = rt;
    m.n_r_data = 1;
    m.r_data = rdata;
    m.n_r_leaf = 2;
    m.r_leaf = leaves;
    m.n_p_u32 = 2;
    m.p_u32 = rf;
    m.n_p_s32 = 3;
    m.p_s32 = ri;
    m.n_p_sfx32 = 3;
    m.p_sfx32 = ri;
    m.n_p_fx64 = 2;
    m.p_fx64 = pu64;
    m.n_p_fl = 1;
    m.p_fl = pf;
    m.n_p_flag = 3;
    m.p_flag = rb;
    m.n_p_color = 2;
    m.p_color = rc;
    m.n_p_u64 = 2;
    m.p_u64 = pu64;
    m.choice_case = FSTEST__ALL_TYPES__CHOICE_C_LEAF;
    m.c_leaf = &leaf;
    put_msg("all-types.pb", &m.base);
    put_msg("leaf.pb", &leaf.base);

    Fstest__Required r = FSTEST__REQUIRED__INIT;
    r.a = 1;
    r.leaf = &leaf;
    put_msg("required.pb", &r.base);
}

static void seed_sync(void)
{
    Fieldsync__Refusal refusal = FIELDSYNC__REFUSAL__INIT;
    refusal.has_reason = 1;
    refusal.reason = FIELDSYNC__REFUSAL__REASON__INVALID;
    refusal.message = "no";
    Fieldsync__RecordRef ref = FIELDSYNC__RECORD_REF__INIT;
    ref.has_kind = 1;
    ref.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    ref.id = "acc-1";
    Fieldsync__PushResult res = FIELDSYNC__PUSH_RESULT__INIT, *results[] = {&res};
    res.ref = &ref;
    res.outcome_case = FIELDSYNC__PUSH_RESULT__OUTCOME_REFUSED;
    res.refused = &refusal;
    Fieldsync__PushResponse resp = FIELDSYNC__PUSH_RESPONSE__INIT;
    resp.n_results = 1;
    resp.results = results;
    put_msg("push-response.pb", &resp.base);
}

/* Bytes at the edges of protobuf-c's rules (wire_check.c's T, V, P, R lines). */
static void seed_edges(void)
{
    PUT_BYTES("field0-long-tag", 0x80, 0x00, 0x01, 0x12, 0x01, 'a');
    PUT_BYTES("field0-short-tag", 0x00, 0x01);
    PUT_BYTES("field-number-2to32-minus-1", 0xfa, 0xff, 0xff, 0xff, 0x7f, 0x00);
    PUT_BYTES("tag-5-bytes", 0x92, 0x80, 0x80, 0x80, 0x00, 0x01, 'a');
    PUT_BYTES("tag-6-bytes", 0x92, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 'a');
    PUT_BYTES("length-5-bytes", 0x12, 0x81, 0x80, 0x80, 0x80, 0x00, 'a');
    PUT_BYTES("length-above-int-max", 0x12, 0x80, 0x80, 0x80, 0x80, 0x08, 'a');
    PUT_BYTES("varint-10th-byte-overflow", 0x50, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
              0xff, 0x7f);
    PUT_BYTES("varint-11-bytes", 0x50, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
              0x00);
    PUT_BYTES("bool-fixed64", 0x99, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x68, 0x01);
    PUT_BYTES("bool-fixed32", 0x9d, 0x01, 1, 0, 0, 0);
    PUT_BYTES("string-as-varint", 0x10, 0x05);
    PUT_BYTES("enum-length-delimited", 0x52, 0x01, 0x02);
    PUT_BYTES("enum-undeclared", 0x50, 0x63, 0x28, 0x63);
    PUT_BYTES("nested-broken", 0x2a, 0x02, 0x08, 0x01, 0x32, 0x03, 0x0a, 0x01, 0x00);
    PUT_BYTES("nested-group", 0x22, 0x02, 0x0b, 0x0c, 0x6a, 0x02, 0x13, 0x14);
    PUT_BYTES("unknown-each-wire", 0xc0, 0x3e, 0x01, 0xc1, 0x3e, 1, 2, 3, 4, 5, 6, 7, 8, 0xc2, 0x3e,
              0x01, 0x00, 0xc5, 0x3e, 1, 2, 3, 4);
    PUT_BYTES("groups-and-reserved", 0x0b, 0x0c, 0x0e, 0x0f);
    PUT_BYTES("repeated-packed-and-not", 0xaa, 0x01, 0x03, 0x01, 0x96, 0x01, 0xf8, 0x01, 0x05, 0xa2,
              0x02, 0x02, 0x80, 0x01);
    PUT_BYTES("packed-bad-length", 0x8a, 0x02, 0x05, 1, 2, 3, 4, 5, 0x92, 0x02, 0x04, 1, 2, 3, 4);
    PUT_BYTES("packed-cut-varint", 0xfa, 0x01, 0x02, 0x01, 0x80);
    PUT_BYTES("required-only-a", 0x08, 0x01, 0x10, 0x02);
    PUT_BYTES("oneof-twice", 0xc2, 0x02, 0x00, 0xc8, 0x02, 0x01, 0xd2, 0x02, 0x01, 'x');
    PUT_BYTES("event-cleared", 0x32, 0x03, 0x02, 0x05, 0x09, 0x30, 0x04);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_wire_make_seeds CORPUS_DIR\n");
        return 2;
    }
    corpus = argv[1];
    seed_shared();
    seed_account();
    seed_contact_visit();
    seed_opportunity_transaction();
    seed_all_types();
    seed_sync();
    seed_edges();
    return 0;
}
