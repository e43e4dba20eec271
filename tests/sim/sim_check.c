/*
 * sim_check.c: what must hold after a schedule's final exchange, decided from
 * the ground-truth log, not from the library's own reasoning.
 *
 * Per record, on the server's state S:
 *  1. every sibling in S is one a logged write wrote, with the same dot, HLC and
 *     value bytes (nothing invented, nothing altered);
 *  2. for every write w and every field f it wrote (a value, a clear, or its
 *     `alive`): S holds the sibling (f, w.dot) exactly when no write w' of f has
 *     w.dot in its causal past. "Not held and not superseded" is a lost write;
 *     "held although superseded" is a superseded sibling that survived. Since
 *     every write is checked, a superseding write is itself accounted for;
 *  3. S.vv is the per-replica maximum of the logged dots, and every write's HLC
 *     is greater than the HLC of every write in its causal past;
 *  4. the visible value of each field is the sibling with the greatest (hlc,
 *     replica, counter) among S's siblings, computed here, and fs_record_alive
 *     says whether any alive sibling is true; fs_record_visible agrees with
 *     fs_record_visible_bytes;
 *  5. fs_record_conflicts lists exactly the fields with two or more siblings
 *     (`alive`: two or more that disagree: concurrent edits all write true),
 *     each sibling in ascending (hlc, replica, counter) order, the winner marked
 *     visible (for `alive`: every sibling that agrees with the record's liveness);
 * and finally every node's encoded state is byte-identical to the server's, and
 * decoding then re-encoding it gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_MAX_SIBS 512
#define SIM_MAX_FIELDS 64

typedef struct sim_sib {
    uint32_t field;
    const sim_write *w;
    const sim_value *v;
} sim_sib;

typedef struct sim_rec_check {
    sim_world *w;
    int rec;
    const fs_state *st;
    sim_sib sibs[SIM_MAX_SIBS];
    size_t nsibs;
} sim_rec_check;

static const char *sim_field_name(fs_kind kind, uint32_t field)
{
    if (field == FS_FIELD_ALIVE)
        return "alive";
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(fs_kind_descriptor(kind), field);
    return fd ? fd->name : "(unknown to this build)";
}

static const sim_write *sim_find_write(const sim_world *w, int rec, fs_dot dot)
{
    for (size_t i = 0; i < w->nlog; i++)
        if (w->log[i].record == rec && w->log[i].dot.replica == dot.replica &&
            w->log[i].dot.counter == dot.counter)
            return &w->log[i];
    return NULL;
}

static sim_value *sim_find_value(const sim_write *wr, uint32_t field)
{
    for (size_t i = 0; i < wr->nvalues; i++)
        if (wr->values[i].field == field)
            return &wr->values[i];
    return NULL;
}

/* True when sibling a orders before b: (hlc, replica, counter) ascending. */
static bool sim_sib_less(const sim_sib *a, const sim_sib *b)
{
    if (a->w->hlc != b->w->hlc)
        return a->w->hlc < b->w->hlc;
    if (a->w->dot.replica != b->w->dot.replica)
        return a->w->dot.replica < b->w->dot.replica;
    return a->w->dot.counter < b->w->dot.counter;
}

static int sim_add_sib(sim_rec_check *c, const sim_write *wr, sim_value *v, uint32_t field)
{
    if (v->present)
        return sim_fail(c->w, SIM_FAIL_UNKNOWN_SIBLING,
                        "%s: event (r%d,%llu) holds field %u (%s) twice", c->w->ids[c->rec],
                        wr->node, (unsigned long long)wr->dot.counter, field,
                        sim_field_name(c->st->kind, field));
    if (c->nsibs == SIM_MAX_SIBS)
        return sim_fail(c->w, SIM_FAIL_API, "sim limit: more than %d siblings", SIM_MAX_SIBS);
    v->present = true;
    c->sibs[c->nsibs++] = (sim_sib){.field = field, .w = wr, .v = v};
    return 0;
}

/* Rule 1: every sibling of one event is what its write wrote. */
static int sim_check_event(sim_rec_check *c, const fs_event *e)
{
    sim_world *w = c->w;
    const char *id = w->ids[c->rec];
    const sim_write *wr = sim_find_write(w, c->rec, e->dot);
    uint32_t fl[SIM_MAX_FIELDS];
    sim_buf got = {0};
    size_t before = c->nsibs;
    if (wr == NULL)
        return sim_fail(w, SIM_FAIL_UNKNOWN_SIBLING,
                        "%s: event (replica %016llx, %llu) matches no write", id,
                        (unsigned long long)e->dot.replica, (unsigned long long)e->dot.counter);
    if (e->hlc != wr->hlc)
        return sim_fail(w, SIM_FAIL_UNKNOWN_SIBLING,
                        "%s: event (r%d,%llu) has hlc %llx, written %llx", id, wr->node,
                        (unsigned long long)wr->dot.counter, (unsigned long long)e->hlc,
                        (unsigned long long)wr->hlc);
    int nf = sim_wire_fields(e->fields, e->fields_len, fl, SIM_MAX_FIELDS);
    if (nf < 0)
        return sim_fail(w, SIM_FAIL_UNKNOWN_SIBLING, "%s: event (r%d,%llu) fields are malformed",
                        id, wr->node, (unsigned long long)wr->dot.counter);
    for (int i = 0; i < nf; i++) {
        sim_value *v = sim_find_value(wr, fl[i]);
        got.len = 0;
        sim_wire_extract(e->fields, e->fields_len, fl[i], &got);
        if (v == NULL || v->cleared || v->field == FS_FIELD_ID || got.len != v->len ||
            memcmp(got.p, v->bytes, v->len) != 0) {
            sim_buf_free(&got);
            return sim_fail(w, SIM_FAIL_UNKNOWN_SIBLING,
                            "%s: event (r%d,%llu) holds field %u (%s) with a value its write did "
                            "not write",
                            id, wr->node, (unsigned long long)wr->dot.counter, fl[i],
                            sim_field_name(c->st->kind, fl[i]));
        }
        if (sim_add_sib(c, wr, v, fl[i]) != 0)
            break;
    }
    sim_buf_free(&got);
    for (size_t i = 0; i < e->ncleared && w->fail == SIM_OK; i++) {
        sim_value *v = sim_find_value(wr, e->cleared[i]);
        if (v == NULL || !v->cleared)
            return sim_fail(w, SIM_FAIL_UNKNOWN_SIBLING,
                            "%s: event (r%d,%llu) clears field %u its write did not clear", id,
                            wr->node, (unsigned long long)wr->dot.counter, e->cleared[i]);
        sim_add_sib(c, wr, v, e->cleared[i]);
    }
    if (e->alive != FS_ALIVE_NONE && w->fail == SIM_OK) {
        sim_value *v = sim_find_value(wr, FS_FIELD_ALIVE);
        if (v == NULL || v->alive != e->alive)
            return sim_fail(w, SIM_FAIL_UNKNOWN_SIBLING,
                            "%s: event (r%d,%llu) has alive=%d, its write wrote %d", id, wr->node,
                            (unsigned long long)wr->dot.counter, e->alive, v ? v->alive : -1);
        sim_add_sib(c, wr, v, FS_FIELD_ALIVE);
    }
    if (w->fail == SIM_OK && c->nsibs == before)
        return sim_fail(w, SIM_FAIL_UNKNOWN_SIBLING, "%s: event (r%d,%llu) has no live sibling", id,
                        wr->node, (unsigned long long)wr->dot.counter);
    return w->fail == SIM_OK ? 0 : -1;
}

/* Rule 2: held exactly when not superseded by a write that saw it. */
static int sim_check_writes(sim_rec_check *c)
{
    sim_world *w = c->w;
    for (size_t i = 0; i < w->nlog; i++) {
        const sim_write *wr = &w->log[i];
        if (wr->record != c->rec)
            continue;
        for (size_t k = 0; k < wr->nvalues; k++) {
            const sim_value *v = &wr->values[k];
            const sim_write *by = NULL;
            for (size_t j = 0; j < w->nlog && by == NULL; j++) {
                const sim_write *w2 = &w->log[j];
                if (j != i && w2->record == c->rec && sim_find_value(w2, v->field) != NULL &&
                    fs_vv_covers(&w2->seen, wr->dot))
                    by = w2;
            }
            if (!v->present && by == NULL)
                return sim_fail(w, SIM_FAIL_LOST_WRITE,
                                "%s: write (r%d,%llu) of field %u (%s) is lost: neither a "
                                "sibling nor superseded by a write that saw it",
                                w->ids[c->rec], wr->node, (unsigned long long)wr->dot.counter,
                                v->field, sim_field_name(c->st->kind, v->field));
            if (v->present && by != NULL)
                return sim_fail(w, SIM_FAIL_ZOMBIE,
                                "%s: write (r%d,%llu) of field %u (%s) is still a sibling although "
                                "write (r%d,%llu) saw it and superseded it",
                                w->ids[c->rec], wr->node, (unsigned long long)wr->dot.counter,
                                v->field, sim_field_name(c->st->kind, v->field), by->node,
                                (unsigned long long)by->dot.counter);
        }
    }
    return 0;
}

/* Rule 3: the vv is the maximum of the logged dots, per replica. */
static int sim_check_vv(sim_rec_check *c)
{
    sim_world *w = c->w;
    size_t nonzero = 0;
    for (int n = 0; n < w->nreplicas; n++) {
        uint64_t want = 0;
        for (size_t i = 0; i < w->nlog; i++)
            if (w->log[i].record == c->rec && w->log[i].node == n && w->log[i].dot.counter > want)
                want = w->log[i].dot.counter;
        uint64_t got = fs_vv_get(&c->st->vv, w->nodes[n].replica);
        if (got != want)
            return sim_fail(w, SIM_FAIL_VV, "%s: vv[r%d] is %llu, the log says %llu",
                            w->ids[c->rec], n, (unsigned long long)got, (unsigned long long)want);
        nonzero += want > 0;
    }
    if (c->st->vv.n != nonzero)
        return sim_fail(w, SIM_FAIL_VV, "%s: vv has %zu entries, the log %zu", w->ids[c->rec],
                        c->st->vv.n, nonzero);
    return 0;
}

/* Rule 3b: a write orders after everything it saw. The HLC promises it (every
 * replica observes what it receives), and the visible value relies on it: a
 * write that saw another must never lose to it on (hlc, replica, counter). */
static int sim_check_hlc(sim_rec_check *c)
{
    sim_world *w = c->w;
    for (size_t i = 0; i < w->nlog; i++) {
        const sim_write *a = &w->log[i];
        if (a->record != c->rec)
            continue;
        for (size_t j = 0; j < w->nlog; j++) {
            const sim_write *b = &w->log[j];
            if (j == i || b->record != c->rec || !fs_vv_covers(&b->seen, a->dot))
                continue;
            if (b->hlc <= a->hlc)
                return sim_fail(w, SIM_FAIL_HLC,
                                "%s: write (r%d,%llu) saw write (r%d,%llu) but its hlc %llx is "
                                "not greater than %llx",
                                w->ids[c->rec], b->node, (unsigned long long)b->dot.counter,
                                a->node, (unsigned long long)a->dot.counter,
                                (unsigned long long)b->hlc, (unsigned long long)a->hlc);
        }
    }
    return 0;
}

/* The sibling of field that the sim expects to be shown, or NULL. */
static const sim_sib *sim_winner(const sim_rec_check *c, uint32_t field)
{
    const sim_sib *best = NULL;
    bool least = c->w->opt->brk == SIM_BREAK_VISIBLE;
    for (size_t i = 0; i < c->nsibs; i++) {
        const sim_sib *s = &c->sibs[i];
        if (s->field != field)
            continue;
        if (best == NULL || (least ? sim_sib_less(s, best) : sim_sib_less(best, s)))
            best = s;
    }
    return best;
}

/* Field f of got equals field f of want (both wire buffers). */
static bool sim_same_field(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint32_t f)
{
    sim_buf x = {0}, y = {0};
    sim_wire_extract(a, alen, f, &x);
    sim_wire_extract(b, blen, f, &y);
    bool same = x.len == y.len && (x.len == 0 || memcmp(x.p, y.p, x.len) == 0);
    sim_buf_free(&x);
    sim_buf_free(&y);
    return same;
}

/* Every field of vb: field 1 is the id, the others the expected winners. */
static int sim_check_visible_fields(sim_rec_check *c, const uint8_t *vb, size_t vl)
{
    sim_world *w = c->w;
    const char *id = w->ids[c->rec];
    uint32_t fl[SIM_MAX_FIELDS];
    sim_buf want = {0};
    int nf = sim_wire_fields(vb, vl, fl, SIM_MAX_FIELDS);
    if (nf < 0)
        return sim_fail(w, SIM_FAIL_VISIBLE, "%s: visible bytes are malformed", id);
    for (int i = 0; i < nf; i++) {
        const sim_sib *s = sim_winner(c, fl[i]);
        want.len = 0;
        if (fl[i] == FS_FIELD_ID)
            sim_buf_lendelim(&want, FS_FIELD_ID, id, strlen(id));
        else if (s != NULL && !s->v->cleared)
            sim_buf_put(&want, s->v->bytes, s->v->len);
        if (want.len == 0 || !sim_same_field(vb, vl, want.p, want.len, fl[i])) {
            sim_buf_free(&want);
            return sim_fail(w, SIM_FAIL_VISIBLE,
                            "%s: visible field %u (%s) is not the greatest (hlc, replica, "
                            "counter) sibling%s",
                            id, fl[i], sim_field_name(c->st->kind, fl[i]),
                            s == NULL ? " (it has none)" : "");
        }
    }
    sim_buf_free(&want);
    for (size_t i = 0; i < c->nsibs; i++) {
        const sim_sib *s = sim_winner(c, c->sibs[i].field);
        if (s != &c->sibs[i] || s->field == FS_FIELD_ALIVE || s->v->cleared)
            continue;
        bool shown = false;
        for (int k = 0; k < nf; k++)
            shown |= fl[k] == s->field;
        if (!shown)
            return sim_fail(w, SIM_FAIL_VISIBLE,
                            "%s: field %u (%s) has a winning value (r%d,%llu) "
                            "that the visible value lacks",
                            id, s->field, sim_field_name(c->st->kind, s->field), s->w->node,
                            (unsigned long long)s->w->dot.counter);
    }
    return 0;
}

/* Rule 4: visible value, alive, and fs_record_visible == fs_record_visible_bytes. */
static int sim_check_visible(sim_rec_check *c)
{
    sim_world *w = c->w;
    const char *id = w->ids[c->rec];
    uint8_t *vb = NULL, *pb = NULL;
    size_t vl = 0;
    ProtobufCMessage *m = NULL;
    fs_err err;
    int rc = -1;
    bool alive = false;
    for (size_t i = 0; i < c->nsibs; i++)
        alive |= c->sibs[i].field == FS_FIELD_ALIVE && c->sibs[i].v->alive == FS_ALIVE_TRUE;
    if (fs_record_alive(c->st) != alive)
        return sim_fail(w, SIM_FAIL_VISIBLE, "%s: fs_record_alive says %d, siblings say %d", id,
                        !alive, alive);
    if (fs_record_visible_bytes(c->st, &vb, &vl, &err) != 0)
        return sim_fail(w, SIM_FAIL_API, "%s: visible bytes: %s", id, fs_err_message(&err));
    if (sim_check_visible_fields(c, vb, vl) != 0)
        goto done;
    if (fs_record_visible(c->st, &m, &err) != 0) {
        sim_fail(w, SIM_FAIL_API, "%s: visible: %s", id, fs_err_message(&err));
        goto done;
    }
    size_t pl = protobuf_c_message_get_packed_size(m);
    pb = malloc(pl ? pl : 1);
    if (pb == NULL)
        abort();
    protobuf_c_message_pack(m, pb);
    uint32_t fl[SIM_MAX_FIELDS], vfl[SIM_MAX_FIELDS];
    int nf = sim_wire_fields(pb, pl, fl, SIM_MAX_FIELDS);
    int nv = sim_wire_fields(vb, vl, vfl, SIM_MAX_FIELDS);
    bool same = m->descriptor == fs_kind_descriptor(c->st->kind) && nf >= 1 &&
                fl[0] == FS_FIELD_ID && nf - 1 == nv - (nv > 0 && vfl[0] == FS_FIELD_ID);
    sim_buf idb = {0};
    sim_buf_lendelim(&idb, FS_FIELD_ID, id, strlen(id));
    same = same && sim_same_field(pb, pl, idb.p, idb.len, FS_FIELD_ID);
    sim_buf_free(&idb);
    for (int i = 1; same && i < nf; i++)
        same = sim_same_field(pb, pl, vb, vl, fl[i]);
    if (!same) {
        sim_fail(w, SIM_FAIL_VISIBLE, "%s: fs_record_visible disagrees with visible bytes", id);
        goto done;
    }
    rc = 0;
done:
    free(vb);
    free(pb);
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

/* Whether sibling s is shown: the winner of its field, except for `alive`, where
 * every sibling agreeing with the record's liveness (any true sibling) is. */
static bool sim_shown(const sim_rec_check *c, const sim_sib *s, const sim_sib *win)
{
    if (s->field != FS_FIELD_ALIVE)
        return s == win;
    bool alive = false;
    for (size_t i = 0; i < c->nsibs; i++)
        alive |= c->sibs[i].field == FS_FIELD_ALIVE && c->sibs[i].v->alive == FS_ALIVE_TRUE;
    return (s->v->alive == FS_ALIVE_TRUE) == alive;
}

/* Conflict k lists field f with exactly the siblings sorted[0..n-1], in order,
 * with the expected name, values and visible marks. */
static bool sim_conflict_matches(const sim_rec_check *c, const fs_conflict *k, uint32_t f,
                                 const sim_sib *const *sorted, size_t n)
{
    const sim_sib *win = sim_winner(c, f);
    bool unknown = f != FS_FIELD_ALIVE && protobuf_c_message_descriptor_get_field(
                                              fs_kind_descriptor(c->st->kind), f) == NULL;
    if (k->field != f || k->nsiblings != n || (k->name == NULL) != unknown)
        return false;
    for (size_t i = 0; i < n; i++) {
        const fs_sibling *s = &k->siblings[i];
        const sim_value *v = sorted[i]->v;
        if (s->dot.replica != sorted[i]->w->dot.replica ||
            s->dot.counter != sorted[i]->w->dot.counter || s->hlc != sorted[i]->w->hlc ||
            s->visible != sim_shown(c, sorted[i], win))
            return false;
        if (f == FS_FIELD_ALIVE) {
            if (s->alive != v->alive)
                return false;
        } else if (s->cleared != v->cleared ||
                   (!v->cleared &&
                    (s->value_len != v->len || memcmp(s->value, v->bytes, v->len) != 0))) {
            return false;
        }
    }
    return true;
}

/* Whether n alive siblings hold both true and false (an edit concurrent with a
 * delete): only then is `alive` in conflict. */
static bool sim_alive_disagrees(const sim_sib *const *sibs, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (sibs[i]->v->alive != sibs[0]->v->alive)
            return true;
    return false;
}

/* Rule 5: the conflicts listed are the fields with two or more siblings (for
 * `alive`: two or more that disagree). */
static int sim_check_conflicts(sim_rec_check *c)
{
    sim_world *w = c->w;
    const char *id = w->ids[c->rec];
    fs_conflict *cf = NULL;
    size_t ncf = 0, want = 0;
    fs_err err;
    const sim_sib *sorted[SIM_MAX_SIBS];
    if (fs_record_conflicts(c->st, &cf, &ncf, &err) != 0)
        return sim_fail(w, SIM_FAIL_API, "%s: conflicts: %s", id, fs_err_message(&err));
    uint32_t last = 0;
    bool first = true;
    for (;;) { /* fields with siblings, ascending */
        uint32_t f = UINT32_MAX;
        for (size_t i = 0; i < c->nsibs; i++)
            if ((first || c->sibs[i].field > last) && c->sibs[i].field < f)
                f = c->sibs[i].field;
        if (f == UINT32_MAX)
            break;
        first = false;
        last = f;
        size_t n = 0;
        for (size_t i = 0; i < c->nsibs; i++)
            if (c->sibs[i].field == f) {
                size_t j = n++;
                for (; j > 0 && sim_sib_less(&c->sibs[i], sorted[j - 1]); j--)
                    sorted[j] = sorted[j - 1];
                sorted[j] = &c->sibs[i];
            }
        if (n < 2)
            continue;
        if (f == FS_FIELD_ALIVE && !sim_alive_disagrees(sorted, n))
            continue; /* concurrent edits: their alive = true siblings agree */
        if (f == FS_FIELD_ALIVE)
            w->stats.final_alive_conflicts++;
        else
            w->stats.final_conflicts++;
        const fs_conflict *k = want < ncf ? &cf[want] : NULL;
        want++;
        bool ok = k != NULL && sim_conflict_matches(c, k, f, sorted, n);
        if (!ok) {
            fs_conflicts_free(cf, ncf);
            return sim_fail(w, SIM_FAIL_CONFLICTS,
                            "%s: conflict on field %u (%s) with %zu siblings is not listed as such",
                            id, f, sim_field_name(c->st->kind, f), n);
        }
    }
    fs_conflicts_free(cf, ncf);
    if (ncf != want)
        return sim_fail(w, SIM_FAIL_CONFLICTS, "%s: %zu conflicts listed, %zu expected", id, ncf,
                        want);
    return 0;
}

static int sim_check_record(sim_world *w, int rec)
{
    sim_rec_check *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->w = w;
    c->rec = rec;
    c->st = w->nodes[sim_server(w)].states[rec];
    for (size_t i = 0; i < w->nlog; i++)
        for (size_t k = 0; k < w->log[i].nvalues; k++)
            w->log[i].values[k].present = false;
    int rc = 0;
    for (size_t i = 0; i < c->st->nevents && rc == 0; i++)
        rc = sim_check_event(c, &c->st->events[i]);
    if (rc == 0)
        rc = sim_check_writes(c);
    if (rc == 0)
        rc = sim_check_vv(c);
    if (rc == 0)
        rc = sim_check_hlc(c);
    if (rc == 0)
        rc = sim_check_visible(c);
    if (rc == 0)
        rc = sim_check_conflicts(c);
    w->stats.final_siblings += c->nsibs;
    w->stats.final_deleted += !fs_record_alive(c->st);
    free(c);
    return rc;
}

/* Every node holds the server's bytes, and those bytes are canonical. */
static int sim_check_converged(sim_world *w, int rec)
{
    uint8_t *sb = NULL, *b = NULL;
    size_t sl = 0, l = 0;
    fs_state *re = NULL;
    fs_err err;
    int rc = -1;
    if (fs_state_encode(w->nodes[sim_server(w)].states[rec], &sb, &sl, &err) != 0)
        return sim_fail(w, SIM_FAIL_API, "encode: %s", fs_err_message(&err));
    for (int n = 0; n < w->nreplicas; n++) {
        if (fs_state_encode(w->nodes[n].states[rec], &b, &l, &err) != 0) {
            sim_fail(w, SIM_FAIL_API, "encode: %s", fs_err_message(&err));
            goto done;
        }
        bool same = l == sl && memcmp(b, sb, sl) == 0;
        free(b);
        b = NULL;
        if (!same) {
            sim_fail(w, SIM_FAIL_DIVERGED,
                     "%s: replica r%d holds %zu bytes that differ from the "
                     "server's %zu after the final exchange",
                     w->ids[rec], n, l, sl);
            goto done;
        }
    }
    if (fs_state_decode(&re, sb, sl, &err) != 0 || fs_state_encode(re, &b, &l, &err) != 0) {
        sim_fail(w, SIM_FAIL_API, "%s: re-decode: %s", w->ids[rec], fs_err_message(&err));
        goto done;
    }
    if (l != sl || memcmp(b, sb, sl) != 0) {
        sim_fail(w, SIM_FAIL_DIVERGED, "%s: decode + encode changed the bytes (not canonical)",
                 w->ids[rec]);
        goto done;
    }
    rc = 0;
done:
    fs_state_free(re);
    free(b);
    free(sb);
    return rc;
}

int sim_check(sim_world *w)
{
    for (int rec = 0; rec < w->nrecords; rec++)
        if (sim_check_record(w, rec) != 0)
            return -1;
    for (int rec = 0; rec < w->nrecords; rec++)
        if (sim_check_converged(w, rec) != 0)
            return -1;
    return 0;
}
