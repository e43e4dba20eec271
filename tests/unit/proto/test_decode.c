/*
 * test_decode.c: fs_state_decode at the trust boundary: every malformed or
 * inconsistent RecordState is refused with FS_ECORRUPT and a message naming
 * the problem; non-canonical but valid input is accepted and canonicalised.
 * fs_state_decode_stored, for a device's own store, gives the same states from
 * fs_state_encode's bytes, and a non-canonical state it lets through is refused
 * by the record functions, never misread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define R1 0x1111
#define R2 0x2222

/* A RecordState under construction: starts valid, tests break one thing. */
typedef struct msg {
    Fieldsync__RecordState pb;
    Fieldsync__VersionVectorEntry vv[4];
    Fieldsync__VersionVectorEntry *vvp[4];
    Fieldsync__Event ev[4];
    Fieldsync__Event *evp[4];
    tb fields[4];
    uint32_t cleared[4][4];
} msg;

static void set_event(msg *m, size_t i, uint64_t replica, uint64_t counter, uint32_t field,
                      const char *value)
{
    Fieldsync__Event *e = &m->ev[i];
    fieldsync__event__init(e);
    e->has_replica = e->has_counter = e->has_hlc = 1;
    e->replica = replica;
    e->counter = counter;
    e->hlc = 1000 + i;
    m->fields[i].len = 0;
    if (value) {
        tb_str(&m->fields[i], field, value);
        e->has_fields = 1;
        e->fields.data = m->fields[i].data;
        e->fields.len = m->fields[i].len;
    }
    m->evp[i] = e;
}

/* Valid: vv {R1: 2, R2: 1}; events (R1,1) name, (R1,2) industry + alive, (R2,1) website. */
static void msg_init(msg *m)
{
    memset(m, 0, sizeof(*m));
    fieldsync__record_state__init(&m->pb);
    m->pb.has_kind = 1;
    m->pb.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    m->pb.id = "acc-1";
    uint64_t vv[][2] = {{R1, 2}, {R2, 1}};
    for (size_t i = 0; i < 2; i++) {
        fieldsync__version_vector_entry__init(&m->vv[i]);
        m->vv[i].has_replica = m->vv[i].has_counter = 1;
        m->vv[i].replica = vv[i][0];
        m->vv[i].counter = vv[i][1];
        m->vvp[i] = &m->vv[i];
    }
    m->pb.n_vv = 2;
    m->pb.vv = m->vvp;
    set_event(m, 0, R1, 1, 2, "Acme");
    set_event(m, 1, R1, 2, 3, "steel");
    m->ev[1].has_alive = m->ev[1].alive = 1;
    set_event(m, 2, R2, 1, 7, "acme.example");
    m->pb.n_events = 3;
    m->pb.events = m->evp;
}

static int decode_msg(const msg *m, fs_state **out, fs_err *err)
{
    uint8_t buf[4096];
    size_t n = fieldsync__record_state__get_packed_size(&m->pb);
    assert_true(n <= sizeof(buf));
    fieldsync__record_state__pack(&m->pb, buf);
    return fs_state_decode(out, buf, n, err);
}

static void expect_corrupt(const msg *m, const char *needle)
{
    fs_state *st = (fs_state *)1;
    fs_err err = {0};
    assert_int_equal(decode_msg(m, &st, &err), FS_ECORRUPT);
    assert_null(st);
    assert_int_equal(err.code, FS_ECORRUPT);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
    assert_non_null(strstr(err.msg, "not applied"));
}

static void expect_corrupt_bytes(const uint8_t *buf, size_t len, const char *needle)
{
    fs_state *st = (fs_state *)1;
    fs_err err = {0};
    assert_int_equal(fs_state_decode(&st, buf, len, &err), FS_ECORRUPT);
    assert_null(st);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
}

static void test_decode_accepts_the_valid_base_message(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    fs_state *st = NULL;
    assert_int_equal(decode_msg(&m, &st, NULL), 0);
    assert_int_equal(st->nevents, 3);
    assert_true(fs_record_alive(st));
    fs_state_free(roundtrip(st));
    fs_state_free(st);
}

static void test_decode_refuses_a_truncated_varint(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    uint8_t buf[4096];
    size_t n = fieldsync__record_state__pack(&m.pb, buf);
    buf[n] = 0x80; /* a tag varint that never ends */
    expect_corrupt_bytes(buf, n + 1, "not valid protobuf");
    /* inside an event's values: name's length cut short */
    msg_init(&m);
    m.fields[0].data[m.fields[0].len - 1] = 0;
    m.fields[0].data[1] = 0x85;
    m.ev[0].fields.len = 2; /* tag, then an unterminated length varint */
    expect_corrupt(&m, "truncated");
}

static void test_decode_refuses_bad_wire_types(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    uint8_t buf[4096];
    size_t n = fieldsync__record_state__pack(&m.pb, buf);
    buf[n] = (9 << 3) | 7;
    buf[n + 1] = 0;
    expect_corrupt_bytes(buf, n + 2, "wire type");
    msg_init(&m);
    m.fields[0].len = 0;
    tb_tag(&m.fields[0], 40, 3); /* start group */
    tb_tag(&m.fields[0], 40, 4);
    m.ev[0].fields.len = m.fields[0].len;
    expect_corrupt(&m, "wire type");
}

static void test_decode_refuses_a_dot_its_vv_does_not_cover(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    m.vv[0].counter = 1; /* but event (R1, 2) exists */
    expect_corrupt(&m, "not covered");
    msg_init(&m);
    m.pb.n_vv = 1; /* R2 missing from the vv */
    expect_corrupt(&m, "not covered");
}

static void test_decode_refuses_duplicate_dots_and_replicas(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    m.ev[2].replica = R1;
    m.ev[2].counter = 1;
    expect_corrupt(&m, "same dot");
    msg_init(&m);
    m.vv[1].replica = R1;
    expect_corrupt(&m, "twice");
}

static void test_decode_refuses_field_one_inside_an_event(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    tb_str(&m.fields[2], 1, "acc-2");
    m.ev[2].fields.len = m.fields[2].len;
    expect_corrupt(&m, "field 1");
}

static void test_decode_refuses_unknown_or_missing_kind(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    m.pb.kind = 42;
    fs_state *st = NULL;
    fs_err err;
    assert_int_equal(decode_msg(&m, &st, &err), FS_ECORRUPT);
    assert_non_null(strstr(err.msg, "unknown kind 42"));
    m.pb.has_kind = 0;
    assert_int_equal(decode_msg(&m, &st, &err), FS_ECORRUPT);
    assert_null(st);
}

static void test_decode_refuses_a_missing_empty_long_or_nul_id(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    m.pb.id = NULL;
    expect_corrupt(&m, "no id");
    m.pb.id = "";
    expect_corrupt(&m, "no id");
    char longid[FS_RECORD_ID_MAX + 2];
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = 0;
    m.pb.id = longid;
    expect_corrupt(&m, "longer than");
    /* "acc-1\0x": protobuf-c would silently cut it to "acc-1" */
    tb b = {.len = 0};
    tb_uint(&b, 1, FIELDSYNC__RECORD_KIND__ACCOUNT);
    tb_bytes(&b, 2, (const uint8_t *)"acc-1\0x", 7);
    expect_corrupt_bytes(b.data, b.len, "NUL");
}

static void test_decode_refuses_invalid_dots(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    m.ev[0].counter = 0;
    expect_corrupt(&m, "without a replica id or counter");
    msg_init(&m);
    m.ev[0].has_replica = 0;
    expect_corrupt(&m, "without a replica id or counter");
    msg_init(&m);
    m.vv[0].replica = 0;
    expect_corrupt(&m, "without a replica id");
}

static void test_decode_refuses_values_of_the_wrong_type(void **state)
{
    (void)state;
    msg m;
    msg_init(&m);
    m.fields[0].len = 0;
    tb_uint(&m.fields[0], 2, 5); /* name is a string, not a varint */
    m.ev[0].fields.len = m.fields[0].len;
    expect_corrupt(&m, "wrong type");
    msg_init(&m);
    m.fields[0].len = 0;
    const uint8_t bad_address[] = {0x0a, 0x7f}; /* street whose length runs out */
    tb_bytes(&m.fields[0], 5, bad_address, sizeof(bad_address));
    m.ev[0].fields.len = m.fields[0].len;
    expect_corrupt(&m, "wrong type");
}

static void test_decode_refuses_bad_cleared_numbers(void **state)
{
    (void)state;
    uint32_t bad[][2] = {{0, 0}, {1, 0}, {536870912u, 0}, {2, 0}};
    for (size_t i = 0; i < 4; i++) {
        msg m;
        msg_init(&m);
        m.cleared[0][0] = bad[i][0];
        m.ev[0].n_cleared = 1;
        m.ev[0].cleared = m.cleared[0];
        /* the last case clears field 2 (name) which the event also sets */
        expect_corrupt(&m, i < 3 ? "out of range" : "both set and cleared");
    }
}

static void test_decode_refuses_oversized_and_garbage_input(void **state)
{
    (void)state;
    size_t big = FS_STATE_MAX_BYTES + 1;
    uint8_t *buf = calloc(1, big);
    assert_non_null(buf);
    fs_state *st = NULL;
    fs_err err;
    assert_int_equal(fs_state_decode(&st, buf, big, &err), FS_ETOOBIG);
    free(buf);
    expect_corrupt_bytes((const uint8_t *)"", 0, "unknown kind");
    const uint8_t junk[] = "this is not a record state";
    assert_int_equal(fs_state_decode(&st, junk, sizeof(junk), &err), FS_ECORRUPT);
    assert_null(st);
}

/* The canonical twin of the message test_decode_canonicalises builds. */
static void canon_init(msg *m)
{
    msg_init(m);
    m->vv[1].counter = 2;
    m->fields[0].len = 0;
    tb_str(&m->fields[0], 2, "Acme");
    tb_str(&m->fields[0], 16, "t2");
    tb_str(&m->fields[0], 16, "t1");
    m->ev[0].fields.len = m->fields[0].len;
    m->cleared[1][0] = 9;
    m->cleared[1][1] = 15;
    m->ev[1].n_cleared = 2;
    m->ev[1].cleared = m->cleared[1];
}

static void test_decode_canonicalises_non_canonical_input(void **state)
{
    (void)state;
    msg canon;
    canon_init(&canon);
    uint8_t cbuf[4096];
    size_t clen = fieldsync__record_state__pack(&canon.pb, cbuf);
    fs_state *want = NULL;
    assert_int_equal(fs_state_decode(&want, cbuf, clen, NULL), 0);
    /* canonical input is a fixed point: re-encoding gives the same bytes */
    size_t wlen;
    uint8_t *wbytes = encode(want, &wlen);
    assert_int_equal(wlen, clen);
    assert_memory_equal(wbytes, cbuf, clen);
    free(wbytes);

    msg m;
    msg_init(&m);
    m.vv[1].counter = 2;
    /* vv out of order, with a zero entry */
    fieldsync__version_vector_entry__init(&m.vv[2]);
    m.vv[2].has_replica = m.vv[2].has_counter = 1;
    m.vv[2].replica = 0x9999;
    Fieldsync__VersionVectorEntry *vvp[] = {&m.vv[1], &m.vv[2], &m.vv[0]};
    m.pb.vv = vvp;
    m.pb.n_vv = 3;
    /* event values out of order, a length padded to two bytes */
    m.fields[0].len = 0;
    tb_str(&m.fields[0], 16, "t2");
    const uint8_t padded_name[] = {0x12, 0x84, 0x00, 'A', 'c', 'm', 'e'};
    memcpy(m.fields[0].data + m.fields[0].len, padded_name, sizeof(padded_name));
    m.fields[0].len += sizeof(padded_name);
    tb_str(&m.fields[0], 16, "t1");
    m.ev[0].fields.len = m.fields[0].len;
    /* cleared unsorted, with a duplicate */
    m.cleared[1][0] = 15;
    m.cleared[1][1] = 9;
    m.cleared[1][2] = 15;
    m.ev[1].n_cleared = 3;
    m.ev[1].cleared = m.cleared[1];
    /* an event left with no live sibling, and events in reverse order */
    set_event(&m, 3, R2, 2, 0, NULL);
    Fieldsync__Event *evp[] = {&m.ev[2], &m.ev[3], &m.ev[1], &m.ev[0]};
    m.pb.events = evp;
    m.pb.n_events = 4;

    fs_state *got = NULL;
    fs_err err;
    if (decode_msg(&m, &got, &err) != 0)
        fail_msg("decode failed: %s", err.msg);
    assert_same_state(got, want);
    fs_state_free(got);
    fs_state_free(want);
}

static void test_state_to_pb_borrows_and_from_pb_round_trips(void **state)
{
    (void)state;
    fs_state *st = new_account();
    write_str(st, R1, 5, 2, "Acme");
    assert_int_equal(fs_record_delete(st, R2, 6, NULL), 0);
    Fieldsync__RecordState pb;
    Fieldsync__VersionVectorEntry *vs = NULL;
    Fieldsync__Event *es = NULL;
    assert_int_equal(fs_state_to_pb(st, &pb, &vs, &es, NULL), 0);
    assert_int_equal(pb.n_vv, 2);
    assert_int_equal(pb.n_events, 2);
    assert_ptr_equal(pb.id, st->id);
    /* embedded in another message, as the outbox and the push do */
    Fieldsync__Change ch = FIELDSYNC__CHANGE__INIT;
    ch.state = &pb;
    uint8_t buf[512];
    size_t n = fieldsync__change__pack(&ch, buf);
    Fieldsync__Change *back = fieldsync__change__unpack(NULL, n, buf);
    assert_non_null(back);
    fs_state *st2 = NULL;
    assert_int_equal(fs_state_from_pb(&st2, back->state, NULL), 0);
    assert_same_state(st, st2);
    fieldsync__change__free_unpacked(back, NULL);
    fs_state_pb_storage_free(vs, es, st->nevents);
    fs_state_free(st2);
    fs_state_free(st);
}

static void test_decode_stored_gives_the_decoded_state_of_stored_bytes(void **state)
{
    (void)state;
    uint64_t seed = 0x5707ed;
    for (int round = 0; round < 300; round++) {
        fs_state *st = new_account();
        for (int w = 0, n = (int)(rnd(&seed) % 6) + 1; w < n; w++)
            random_op(st, rnd(&seed) % 3 + 1, 1000 + (uint64_t)w, &seed);
        size_t len = 0;
        uint8_t *bytes = encode(st, &len);
        fs_state *full = NULL, *stored = NULL;
        assert_int_equal(fs_state_decode(&full, bytes, len, NULL), 0);
        assert_int_equal(fs_state_decode_stored(&stored, bytes, len, NULL), 0);
        assert_same_state(stored, full);
        assert_same_state(stored, st);
        fs_state_free(full);
        fs_state_free(stored);
        fs_state_free(st);
        free(bytes);
    }
}

static int decode_msg_stored(const msg *m, fs_state **out)
{
    uint8_t buf[4096];
    size_t n = fieldsync__record_state__pack(&m->pb, buf);
    return fs_state_decode_stored(out, buf, n, NULL);
}

/* m decodes as a stored state, and its visible value is refused. */
static void expect_stored_but_unreadable(const msg *m)
{
    fs_state *st = NULL;
    ProtobufCMessage *vis = NULL;
    fs_err err;
    assert_int_equal(decode_msg_stored(m, &st), 0);
    assert_int_equal(fs_record_visible(st, &vis, &err), FS_ECORRUPT);
    assert_null(vis);
    fs_state_free(st);
}

static void test_decode_stored_leaves_no_bad_value_to_be_misread(void **state)
{
    (void)state;
    fs_state *st = NULL;
    /* values out of order: accepted as they are, refused when read */
    msg m;
    msg_init(&m);
    m.fields[0].len = 0;
    tb_str(&m.fields[0], 16, "t2");
    tb_str(&m.fields[0], 2, "Acme");
    m.ev[0].fields.len = m.fields[0].len;
    expect_stored_but_unreadable(&m);
    /* a value of the wrong type: the visible message does not parse */
    msg_init(&m);
    m.fields[0].len = 0;
    tb_uint(&m.fields[0], 2, 5);
    m.ev[0].fields.len = m.fields[0].len;
    expect_stored_but_unreadable(&m);
    /* what is checked above the values still is */
    msg_init(&m);
    m.ev[2].replica = 0x3333;
    st = (fs_state *)1;
    assert_int_equal(decode_msg_stored(&m, &st), FS_ECORRUPT);
    assert_null(st);
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    st = (fs_state *)1;
    assert_int_equal(fs_state_decode_stored(&st, garbage, sizeof(garbage), NULL), FS_ECORRUPT);
    assert_null(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_accepts_the_valid_base_message),
        cmocka_unit_test(test_decode_refuses_a_truncated_varint),
        cmocka_unit_test(test_decode_refuses_bad_wire_types),
        cmocka_unit_test(test_decode_refuses_a_dot_its_vv_does_not_cover),
        cmocka_unit_test(test_decode_refuses_duplicate_dots_and_replicas),
        cmocka_unit_test(test_decode_refuses_field_one_inside_an_event),
        cmocka_unit_test(test_decode_refuses_unknown_or_missing_kind),
        cmocka_unit_test(test_decode_refuses_a_missing_empty_long_or_nul_id),
        cmocka_unit_test(test_decode_refuses_invalid_dots),
        cmocka_unit_test(test_decode_refuses_values_of_the_wrong_type),
        cmocka_unit_test(test_decode_refuses_bad_cleared_numbers),
        cmocka_unit_test(test_decode_refuses_oversized_and_garbage_input),
        cmocka_unit_test(test_decode_canonicalises_non_canonical_input),
        cmocka_unit_test(test_state_to_pb_borrows_and_from_pb_round_trips),
        cmocka_unit_test(test_decode_stored_gives_the_decoded_state_of_stored_bytes),
        cmocka_unit_test(test_decode_stored_leaves_no_bad_value_to_be_misread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
