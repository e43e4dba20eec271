/*
 * test_decode_mutations.c: hostile bytes at fs_state_decode. Valid encodings
 * of random histories are mutated (bit flips, truncations, byte changes,
 * splices, inserted junk) and fed to the decoder, which must refuse them with
 * FS_ECORRUPT and a message, or accept them as a state that every other
 * function handles: encoding is a fixed point, visible and conflicts work,
 * join with the original is commutative. Run under ASan/UBSan this is the
 * decoder's fuzz test in every build. FS_MUTATION_ROUNDS (default 100000) and
 * FS_MUTATION_SEED change the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define NSEEDS 32
#define MAXLEN 4096

typedef struct seed_input {
    uint8_t data[MAXLEN];
    size_t len;
    fs_state *st;
} seed_input;

static void make_seeds(seed_input *s, uint64_t *rs)
{
    static const uint64_t reps[] = {1, 0x77, 0xfeedfacecafebeefull};
    for (size_t i = 0; i < NSEEDS; i++) {
        fs_state *st = new_account();
        fs_state *other = new_account();
        for (int k = 0; k < (int)(rnd(rs) % 12); k++)
            random_op(rnd(rs) % 2 ? st : other, reps[rnd(rs) % 3], rnd(rs) % 50, rs);
        assert_int_equal(fs_record_join_into(st, other, NULL), 0);
        fs_state_free(other);
        size_t len;
        uint8_t *buf = encode(st, &len);
        assert_true(len <= MAXLEN);
        memcpy(s[i].data, buf, len);
        s[i].len = len;
        s[i].st = st;
        free(buf);
    }
}

static size_t mutate(uint8_t *b, size_t len, const seed_input *seeds, uint64_t *rs)
{
    int rounds = 1 + (int)(rnd(rs) % 3);
    for (int r = 0; r < rounds; r++) {
        switch (rnd(rs) % 5) {
        case 0:
            if (len)
                b[rnd(rs) % len] ^= (uint8_t)(1u << (rnd(rs) % 8));
            break;
        case 1:
            if (len)
                len = rnd(rs) % len;
            break;
        case 2:
            if (len) {
                static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x08, 0x0a};
                b[rnd(rs) % len] = vals[rnd(rs) % sizeof(vals)];
            }
            break;
        case 3: { /* splice a piece of another seed */
            const seed_input *o = &seeds[rnd(rs) % NSEEDS];
            size_t from = rnd(rs) % (o->len + 1), to = rnd(rs) % (len + 1);
            size_t n = rnd(rs) % (o->len - from + 1);
            if (to + n > MAXLEN)
                n = MAXLEN - to;
            memcpy(b + to, o->data + from, n);
            if (to + n > len)
                len = to + n;
            break;
        }
        default: /* insert random bytes */
            for (int i = 0, n = (int)(rnd(rs) % 8); i < n && len < MAXLEN; i++) {
                size_t at = rnd(rs) % (len + 1);
                memmove(b + at + 1, b + at, len - at);
                b[at] = (uint8_t)rnd(rs);
                len++;
            }
            break;
        }
    }
    return len;
}

/* Everything a caller may do with a state the decoder accepted. */
static void exercise(const fs_state *st, const seed_input *orig)
{
    size_t l1, l2;
    uint8_t *e1 = encode(st, &l1);
    fs_state *again = NULL;
    fs_err err;
    if (fs_state_decode(&again, e1, l1, &err) != 0)
        fail_msg("canonical re-encoding refused: %s", err.msg);
    uint8_t *e2 = encode(again, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(e1, e2, l1);
    free(e1);
    free(e2);
    fs_state_free(again);

    uint8_t *vis = NULL;
    size_t vlen;
    assert_int_equal(fs_record_visible_bytes(st, &vis, &vlen, NULL), 0);
    free(vis);
    ProtobufCMessage *m = NULL;
    if (fs_record_visible(st, &m, &err) != 0)
        fail_msg("visible of an accepted state failed: %s", err.msg);
    protobuf_c_message_free_unpacked(m, NULL);
    fs_conflict *c = NULL;
    size_t n;
    assert_int_equal(fs_record_conflicts(st, &c, &n, NULL), 0);
    fs_conflicts_free(c, n);
    if (st->kind == orig->st->kind && strcmp(st->id, orig->st->id) == 0) {
        fs_state *ab = join(st, orig->st), *ba = join(orig->st, st);
        assert_same_state(ab, ba);
        fs_state_free(ab);
        fs_state_free(ba);
    }
}

static void test_decode_survives_mutated_encodings(void **state)
{
    (void)state;
    long rounds = env_count("FS_MUTATION_ROUNDS", 100000);
    uint64_t rs = (uint64_t)env_count("FS_MUTATION_SEED", 7);
    printf("mutations: %ld rounds, seed %llu\n", rounds, (unsigned long long)rs);
    static seed_input seeds[NSEEDS];
    make_seeds(seeds, &rs);
    long accepted = 0, refused = 0;
    static uint8_t buf[MAXLEN];
    for (long r = 0; r < rounds; r++) {
        const seed_input *in = &seeds[rnd(&rs) % NSEEDS];
        memcpy(buf, in->data, in->len);
        size_t len = mutate(buf, in->len, seeds, &rs);
        /* the decoder gets an exact-size heap copy, so ASan sees any overread */
        uint8_t *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, buf, len);
        fs_state *st = NULL;
        fs_err err = {0};
        int rc = fs_state_decode(&st, exact, len, &err);
        free(exact);
        if (rc == 0) {
            accepted++;
            exercise(st, in);
            fs_state_free(st);
        } else {
            refused++;
            assert_int_equal(rc, FS_ECORRUPT);
            assert_null(st);
            assert_true(strlen(err.msg) > 0);
        }
    }
    printf("mutations: %ld accepted, %ld refused\n", accepted, refused);
    /* both paths must really have been taken */
    assert_true(accepted > rounds / 100);
    assert_true(refused > rounds / 100);
    for (size_t i = 0; i < NSEEDS; i++)
        fs_state_free(seeds[i].st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_survives_mutated_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
