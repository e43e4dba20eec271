/*
 * sim_gen.c: random field values that look like a rep's data ("Müller
 * Fördertechnik GmbH", "+49 89 4711 230", a visit's outcome), built from the
 * protobuf-c descriptors so every record kind and nested message is covered
 * without per-kind code. Values are written in canonical wire format (fields of
 * a nested message ascending, minimal varints), the form protobuf-c itself
 * packs, so a value written through fs_record_write_msg comes back byte for
 * byte.
 */
#include <string.h>

#include "sim.h"

#define SIM_GEN_MAX_DEPTH 3

static const char *const sim_names[] = {
    "Müller Fördertechnik GmbH", "Brandt & Söhne KG", "Nordlicht Logistik AG", "Huber Landtechnik",
    "Alpina Versicherungen",     "Kessler Stahlbau",  "Anna Schäfer",          "Jonas Weber",
    "Dr. Petra Lindqvist",       "Tomasz Nowak",      "Élodie Martin",         "K. O'Neill",
};
static const char *const sim_cities[] = {"München", "Köln",   "Graz", "Zürich",
                                         "Lyon",    "Kraków", "Linz", "Bremen"};
static const char *const sim_streets[] = {"Industriestraße 12", "Am Hafen 3", "Rue de la Gare 41",
                                          "Bahnhofplatz 1"};
static const char *const sim_countries[] = {"DE", "AT", "CH", "FR", "PL"};
static const char *const sim_currencies[] = {"EUR", "CHF", "PLN", "USD"};
static const char *const sim_phones[] = {"+49 89 4711 230", "+43 316 80 80", "+41 44 123 45 67",
                                         "0170 555 0199"};
static const char *const sim_words[] = {"forklifts", "fleet renewal", "service contract",
                                        "Q3 budget", "pilot site",    "tender",
                                        "demo day",  "retrofit",      "key account"};
static const char *const sim_sentences[] = {
    "Met the plant manager and the buyer; they replace six forklifts next spring.",
    "Objection: price 12% above the incumbent. Handled with total cost of ownership.",
    "Need behind the need: fewer breakdowns during the harvest season.",
    "Next step: bring an engineer for a site survey, then send the quote.",
    "Gatekeeper filters all vendors; ask the CFO's assistant for a slot.",
    "Satisfied with the current supplier but service response is slow (3 days).",
};

#define SIM_PICK(r, a) ((a)[sim_below((r), sizeof(a) / sizeof((a)[0]))])

static bool sim_has(const char *name, const char *part)
{
    return strstr(name, part) != NULL;
}

/* A string that fits the field's name: dates look like dates, ids like ids. */
static void sim_gen_text(sim_rng *r, const char *name, sim_buf *s)
{
    char tmp[64];
    const char *t = NULL;
    if (sim_chance(r, 4)) {
        t = ""; /* present but empty: a value of its own in proto2 */
    } else if (sim_has(name, "date")) {
        snprintf(tmp, sizeof(tmp), "2026-%02u-%02u", (unsigned)(1 + sim_below(r, 12)),
                 (unsigned)(1 + sim_below(r, 28)));
        t = tmp;
    } else if (sim_has(name, "id") || sim_has(name, "referred_by")) {
        snprintf(tmp, sizeof(tmp), "acc-%04u", (unsigned)sim_below(r, 10000));
        t = tmp;
    } else if (sim_has(name, "email")) {
        snprintf(tmp, sizeof(tmp), "contact%u@example.com", (unsigned)sim_below(r, 100));
        t = tmp;
    } else if (sim_has(name, "website")) {
        t = "https://www.example.com/";
    } else if (sim_has(name, "name") || sim_has(name, "vendor") || sim_has(name, "rep") ||
               sim_has(name, "owner")) {
        t = SIM_PICK(r, sim_names);
    } else if (sim_has(name, "city") || sim_has(name, "town") || sim_has(name, "region") ||
               sim_has(name, "place")) {
        t = SIM_PICK(r, sim_cities);
    } else if (sim_has(name, "street")) {
        t = SIM_PICK(r, sim_streets);
    } else if (sim_has(name, "country")) {
        t = SIM_PICK(r, sim_countries);
    } else if (sim_has(name, "currency")) {
        t = SIM_PICK(r, sim_currencies);
    } else if (sim_has(name, "number") || sim_has(name, "postal")) {
        t = SIM_PICK(r, sim_phones);
    }
    if (t != NULL) {
        sim_buf_put(s, t, strlen(t));
        return;
    }
    /* notes, outcome, agenda, ...: one to several sentences or a few words */
    unsigned n = (unsigned)(1 + sim_below(r, sim_chance(r, 10) ? 12 : 2));
    for (unsigned i = 0; i < n; i++) {
        const char *x = sim_chance(r, 50) ? SIM_PICK(r, sim_sentences) : SIM_PICK(r, sim_words);
        if (i > 0)
            sim_buf_put(s, " ", 1);
        sim_buf_put(s, x, strlen(x));
    }
}

static uint64_t sim_gen_number(sim_rng *r, const char *name)
{
    if (sim_has(name, "_at"))
        return 1790000000ull + sim_below(r, 40000000); /* Unix seconds, 2026-2027 */
    if (sim_has(name, "satisfaction"))
        return 1 + sim_below(r, 5);
    if (sim_has(name, "minor_units"))
        return sim_below(r, 50000000);
    return sim_chance(r, 5) ? 0 : sim_below(r, 2000);
}

static void sim_gen_message(sim_rng *r, const ProtobufCMessageDescriptor *d, int depth,
                            sim_buf *out);

/* One occurrence of fd (tag included). */
static void sim_gen_one(sim_rng *r, const ProtobufCFieldDescriptor *fd, int depth, sim_buf *out)
{
    sim_buf tmp = {0};
    uint64_t v;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        sim_gen_text(r, fd->name, &tmp);
        sim_buf_lendelim(out, fd->id, tmp.p, tmp.len);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        for (unsigned i = 0, n = (unsigned)sim_below(r, 24); i < n; i++) {
            uint8_t c = (uint8_t)sim_rand(r);
            sim_buf_put(&tmp, &c, 1);
        }
        sim_buf_lendelim(out, fd->id, tmp.p, tmp.len);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        sim_gen_message(r, fd->descriptor, depth + 1, &tmp);
        sim_buf_lendelim(out, fd->id, tmp.p, tmp.len);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = fd->descriptor;
        v = (uint64_t)(int64_t)e->values[sim_below(r, e->n_values)].value;
        sim_buf_tag(out, fd->id, SIM_WIRE_VARINT);
        sim_buf_varint(out, v);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL:
        sim_buf_tag(out, fd->id, SIM_WIRE_VARINT);
        sim_buf_varint(out, sim_below(r, 2));
        break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_INT64:
        v = sim_gen_number(r, fd->name);
        if (sim_chance(r, 5))
            v = (uint64_t) - (int64_t)v; /* negative: ten-byte varint */
        sim_buf_tag(out, fd->id, SIM_WIRE_VARINT);
        sim_buf_varint(out, v);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_UINT64:
        sim_buf_tag(out, fd->id, SIM_WIRE_VARINT);
        sim_buf_varint(out, sim_gen_number(r, fd->name));
        break;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        v = sim_rand(r);
        sim_buf_tag(out, fd->id, SIM_WIRE_FIXED64);
        sim_buf_put(out, &v, 8); /* little-endian hosts only, as the sim runs on */
        break;
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        v = sim_rand(r);
        sim_buf_tag(out, fd->id, SIM_WIRE_FIXED32);
        sim_buf_put(out, &v, 4);
        break;
    default: /* sint32/sint64: zigzag of a small number */
        sim_buf_tag(out, fd->id, SIM_WIRE_VARINT);
        sim_buf_varint(out, sim_below(r, 1000));
        break;
    }
    sim_buf_free(&tmp);
}

/* A nested message: a random subset of its fields, ascending (canonical). */
static void sim_gen_message(sim_rng *r, const ProtobufCMessageDescriptor *d, int depth,
                            sim_buf *out)
{
    if (depth > SIM_GEN_MAX_DEPTH)
        return;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (sim_chance(r, 70))
            sim_gen_field(r, &d->fields[i], out);
}

void sim_gen_field(sim_rng *r, const ProtobufCFieldDescriptor *fd, sim_buf *out)
{
    unsigned n = fd->label == PROTOBUF_C_LABEL_REPEATED ? (unsigned)(1 + sim_below(r, 3)) : 1;
    for (unsigned i = 0; i < n; i++)
        sim_gen_one(r, fd, 1, out);
}

void sim_gen_unknown(sim_rng *r, uint32_t field, sim_buf *out)
{
    if (sim_chance(r, 30)) {
        sim_buf_tag(out, field, SIM_WIRE_VARINT);
        sim_buf_varint(out, sim_rand(r) >> sim_below(r, 64));
        return;
    }
    uint8_t raw[16];
    size_t n = (size_t)sim_below(r, sizeof(raw) + 1);
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)sim_rand(r);
    sim_buf_lendelim(out, field, raw, n);
}

void sim_gen_id(sim_rng *r, fs_kind kind, char *out, size_t n)
{
    const char *name = fs_kind_name(kind);
    snprintf(out, n, "%s-%04x", name ? name : "record", (unsigned)sim_below(r, 0x10000));
}
