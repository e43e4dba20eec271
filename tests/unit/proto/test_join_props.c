/*
 * test_join_props.c: join's algebra on many random histories, and the grouped
 * event encoding checked against a naive per-field sibling model written
 * straight from DESIGN.md.
 *
 * A seeded generator runs a few replicas that write, clear, delete and sync at
 * random. Every state met is kept; random pairs and triples of them must give
 * commutative, associative, idempotent joins (compared byte for byte), survive
 * an encode/decode round trip, and all replicas must converge once they have
 * exchanged states. FS_PROP_HISTORIES (default 300) and FS_PROP_STEPS (default
 * 40) make the run longer; FS_PROP_SEED picks another seed.
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

#define NREP 4
#define MAXPOOL 256
#define MAXSIBS 512

static const uint32_t fields[] = {2, 3, 7, 16, 99};
#define NF (sizeof(fields) / sizeof(fields[0]))

/* ---- the reference model: one entry per sibling, as DESIGN.md states it ---- */

typedef struct ref_sib {
    uint32_t field; /* FS_FIELD_ALIVE for alive */
    fs_dot dot;
    uint64_t hlc;
    bool cleared;
    tb value; /* wire bytes; for alive, one byte 0/1 */
} ref_sib;

typedef struct ref_state {
    fs_vv vv;
    ref_sib sibs[MAXSIBS];
    size_t n;
} ref_state;

typedef struct op {
    bool del;
    tb values[NF];
    bool set[NF], clear[NF];
} op;

static void ref_add(ref_state *r, const ref_sib *s)
{
    assert_true(r->n < MAXSIBS);
    r->sibs[r->n++] = *s;
}

static void ref_apply(ref_state *r, const op *o, uint64_t replica, uint64_t hlc)
{
    fs_dot d = {replica, fs_vv_get(&r->vv, replica) + 1};
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        bool gone = r->sibs[i].field == FS_FIELD_ALIVE;
        for (size_t f = 0; f < NF && !o->del; f++)
            gone |= (o->set[f] || o->clear[f]) && r->sibs[i].field == fields[f];
        if (!gone)
            r->sibs[k++] = r->sibs[i];
    }
    r->n = k;
    ref_sib a = {.field = FS_FIELD_ALIVE, .dot = d, .hlc = hlc};
    a.value.data[0] = !o->del;
    a.value.len = 1;
    ref_add(r, &a);
    for (size_t f = 0; f < NF && !o->del; f++) {
        if (o->set[f] || o->clear[f]) {
            ref_sib s = {.field = fields[f], .dot = d, .hlc = hlc, .cleared = o->clear[f]};
            if (o->set[f])
                s.value = o->values[f];
            ref_add(r, &s);
        }
    }
    assert_int_equal(fs_vv_set(&r->vv, replica, d.counter), 0);
}

static bool ref_holds(const ref_state *r, const ref_sib *s)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->sibs[i].field == s->field && fs_vv_covers(&r->vv, s->dot) &&
            r->sibs[i].dot.replica == s->dot.replica && r->sibs[i].dot.counter == s->dot.counter)
            return true;
    return false;
}

/* into = join(into, other), by the rule in DESIGN.md. */
static void ref_join(ref_state *into, const ref_state *other)
{
    static ref_state out;
    out.n = 0;
    for (size_t i = 0; i < into->n; i++)
        if (ref_holds(other, &into->sibs[i]) || !fs_vv_covers(&other->vv, into->sibs[i].dot))
            ref_add(&out, &into->sibs[i]);
    for (size_t i = 0; i < other->n; i++)
        if (!fs_vv_covers(&into->vv, other->sibs[i].dot))
            ref_add(&out, &other->sibs[i]);
    memcpy(into->sibs, out.sibs, out.n * sizeof(ref_sib));
    into->n = out.n;
    assert_int_equal(fs_vv_merge(&into->vv, &other->vv), 0);
}

static bool ref_after(const ref_sib *a, const ref_sib *b)
{
    if (a->hlc != b->hlc)
        return a->hlc > b->hlc;
    if (a->dot.replica != b->dot.replica)
        return a->dot.replica > b->dot.replica;
    return a->dot.counter > b->dot.counter;
}

/* The visible value and sibling counts of the model against the implementation. */
static void check_against_ref(const fs_state *st, const ref_state *r)
{
    tb want = {.len = 0};
    tb_str(&want, 1, st->id);
    size_t count[NF] = {0}, nalive = 0, ntrue = 0;
    bool alive = false;
    for (size_t i = 0; i < r->n; i++) {
        if (r->sibs[i].field == FS_FIELD_ALIVE) {
            nalive++;
            ntrue += r->sibs[i].value.data[0] == 1;
        }
    }
    alive = ntrue > 0;
    for (size_t f = 0; f < NF; f++) {
        const ref_sib *win = NULL;
        for (size_t i = 0; i < r->n; i++) {
            if (r->sibs[i].field != fields[f])
                continue;
            count[f]++;
            if (win == NULL || ref_after(&r->sibs[i], win))
                win = &r->sibs[i];
        }
        if (win && !win->cleared) {
            memcpy(want.data + want.len, win->value.data, win->value.len);
            want.len += win->value.len;
        }
    }
    uint8_t *vis = NULL;
    size_t vlen = 0;
    assert_int_equal(fs_record_visible_bytes(st, &vis, &vlen, NULL), 0);
    assert_int_equal(vlen, want.len);
    assert_memory_equal(vis, want.data, vlen);
    free(vis);
    assert_int_equal(fs_record_alive(st), alive);
    assert_int_equal(fs_vv_compare(&st->vv, &r->vv), FS_VV_EQUAL);
    fs_conflict *c = NULL;
    /* alive conflicts only when its siblings disagree (an edit vs a delete) */
    size_t n = 0, expect = (ntrue > 0 && ntrue < nalive);
    for (size_t f = 0; f < NF; f++)
        expect += count[f] > 1;
    assert_int_equal(fs_record_conflicts(st, &c, &n, NULL), 0);
    assert_int_equal(n, expect);
    for (size_t i = 0; i < n; i++) {
        size_t want_n = nalive;
        for (size_t f = 0; f < NF; f++)
            if (fields[f] == c[i].field)
                want_n = count[f];
        assert_int_equal(c[i].nsiblings, want_n);
    }
    fs_conflicts_free(c, n);
}

/* ---- the generator ---- */

static void random_op_both(fs_state *st, ref_state *r, uint64_t replica, uint64_t hlc,
                           uint64_t *seed)
{
    op o;
    memset(&o, 0, sizeof(o));
    o.del = rnd(seed) % 8 == 0;
    tb all = {.len = 0};
    uint32_t cleared[NF];
    size_t ncleared = 0;
    for (size_t f = 0; f < NF && !o.del; f++) {
        uint64_t x = rnd(seed) % 5;
        if (x == 0) {
            o.clear[f] = true;
            cleared[ncleared++] = fields[f];
        } else if (x == 1) {
            char val[24];
            snprintf(val, sizeof(val), "v%llu", (unsigned long long)(rnd(seed) % 100));
            o.set[f] = true;
            tb_str(&o.values[f], fields[f], val);
            if (fields[f] == 16)
                tb_str(&o.values[f], fields[f], "and another");
            memcpy(all.data + all.len, o.values[f].data, o.values[f].len);
            all.len += o.values[f].len;
        }
    }
    fs_err err;
    int rc = o.del ? fs_record_delete(st, replica, hlc, &err)
                   : fs_record_write(st, replica, hlc, all.data, all.len, cleared, ncleared, &err);
    if (rc != 0)
        fail_msg("op failed: %s", err.msg);
    ref_apply(r, &o, replica, hlc);
}

typedef struct world {
    fs_state *rep[NREP];
    ref_state *ref[NREP];
    fs_state *pool[MAXPOOL];
    size_t npool;
    uint64_t clock[NREP];
} world;

static void snapshot(world *w, const fs_state *st)
{
    if (w->npool == MAXPOOL)
        return;
    assert_int_equal(fs_state_copy(&w->pool[w->npool], st, NULL), 0);
    w->npool++;
}

static void run_history(world *w, uint64_t *seed, long steps)
{
    /* Replica ids chosen so that their order differs from their index. */
    static const uint64_t ids[NREP] = {0x9000000000000001ull, 7, 0x4242, 0xffffffffffffffffull};
    for (long s = 0; s < steps; s++) {
        size_t i = rnd(seed) % NREP, j = rnd(seed) % NREP;
        /* clocks drift and collide on purpose: equal HLCs must be handled */
        w->clock[i] += rnd(seed) % 3;
        if (rnd(seed) % 3 != 0) {
            random_op_both(w->rep[i], w->ref[i], ids[i], w->clock[i], seed);
        } else {
            assert_int_equal(fs_record_join_into(w->rep[i], w->rep[j], NULL), 0);
            ref_join(w->ref[i], w->ref[j]);
        }
        check_against_ref(w->rep[i], w->ref[i]);
        snapshot(w, w->rep[i]);
    }
}

static void check_algebra(world *w, uint64_t *seed, long rounds)
{
    for (long k = 0; k < rounds && w->npool > 0; k++) {
        fs_state *a = w->pool[rnd(seed) % w->npool], *b = w->pool[rnd(seed) % w->npool],
                 *c = w->pool[rnd(seed) % w->npool];
        fs_state *ab = join(a, b), *ba = join(b, a);
        assert_same_state(ab, ba);
        fs_state *ab_c = join(ab, c), *bc = join(b, c), *a_bc = join(a, bc);
        assert_same_state(ab_c, a_bc);
        fs_state *aa = join(a, a), *abb = join(ab, b);
        assert_same_state(aa, a);
        assert_same_state(abb, ab);
        fs_state *rt = roundtrip(ab_c);
        assert_int_equal(fs_record_validate(ab_c, NULL), 0); /* joins keep the limits */
        fs_state *all[] = {ab, ba, ab_c, bc, a_bc, aa, abb, rt};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            fs_state_free(all[i]);
    }
}

static void check_convergence(world *w)
{
    /* Two gossip rounds in a ring: every replica then holds every event. */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < NREP; i++) {
            size_t j = (i + 1) % NREP;
            assert_int_equal(fs_record_join_into(w->rep[j], w->rep[i], NULL), 0);
            ref_join(w->ref[j], w->ref[i]);
        }
    }
    for (size_t i = 0; i < NREP; i++) {
        check_against_ref(w->rep[i], w->ref[i]);
        assert_same_state(w->rep[i], w->rep[0]);
    }
}

static void test_join_algebra_and_model_on_random_histories(void **state)
{
    (void)state;
    long histories = env_count("FS_PROP_HISTORIES", 300);
    long steps = env_count("FS_PROP_STEPS", 40);
    uint64_t seed = (uint64_t)env_count("FS_PROP_SEED", 20261123);
    printf("props: %ld histories x %ld steps, seed %llu\n", histories, steps,
           (unsigned long long)seed);
    for (long h = 0; h < histories; h++) {
        world *w = calloc(1, sizeof(*w));
        assert_non_null(w);
        for (size_t i = 0; i < NREP; i++) {
            w->rep[i] = new_account();
            w->ref[i] = calloc(1, sizeof(ref_state));
            assert_non_null(w->ref[i]);
            fs_vv_init(&w->ref[i]->vv);
        }
        run_history(w, &seed, steps);
        check_algebra(w, &seed, steps);
        check_convergence(w);
        for (size_t i = 0; i < NREP; i++) {
            fs_state_free(w->rep[i]);
            fs_vv_clear(&w->ref[i]->vv);
            free(w->ref[i]);
        }
        for (size_t i = 0; i < w->npool; i++)
            fs_state_free(w->pool[i]);
        free(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_algebra_and_model_on_random_histories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
