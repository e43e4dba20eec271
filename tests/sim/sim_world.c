/*
 * sim_world.c: one schedule of the simulator. Replicas (3 to 5) and one server
 * hold a state per record; random steps write, delete, resolve conflicts, send
 * whole states through a network that reorders, duplicates, drops and
 * partitions, and deliver them (the receiver joins; the server answers a push
 * with its joined state, as the sync protocol does). Every write is logged with
 * its dot, HLC, values and causal past for the checker. A final full exchange
 * (every replica to the server, the server to every replica, twice) ends it.
 *
 * The join every node runs goes through sim_join(), where --break-join swaps in
 * a deliberately wrong join so the checker can be shown to fail.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* 2026-09-20 in Unix ms: clocks start here, skews are added. */
#define SIM_EPOCH_MS 1790000000000ull
#define SIM_MAX_SKEW_MS 300000
#define SIM_WRITE_MAX_VALUES 24

typedef struct sim_pending {
    sim_value v[SIM_WRITE_MAX_VALUES];
    size_t n;
} sim_pending;

static void sim_pending_free(sim_pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].bytes);
    p->n = 0;
}

static void sim_pending_add(sim_pending *p, uint32_t field, bool cleared, int alive,
                            const uint8_t *bytes, size_t len)
{
    sim_value *v = &p->v[p->n++];
    memset(v, 0, sizeof(*v));
    v->field = field;
    v->cleared = cleared;
    v->alive = alive;
    v->bytes = sim_memdup(bytes, len);
    v->len = len;
}

static void sim_trace(sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sim_trace(sim_world *w, const char *fmt, ...)
{
    if (w->opt->trace == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->opt->trace, fmt, ap);
    va_end(ap);
}

static uint64_t sim_wall_ms(const sim_world *w, int node)
{
    return (uint64_t)((int64_t)(SIM_EPOCH_MS + w->now_ms) + w->nodes[node].skew_ms);
}

/* ------------------------------------------------------------------------- */
/* Local writes */

/* The write's input: p's set values in a random order (the library must sort
 * them), sometimes with the record's id (ignored by the library), and the
 * cleared field numbers ascending. */
static void sim_pending_input(sim_world *w, int rec, sim_pending *p, bool tombstone, sim_buf *in,
                              uint32_t *cleared, size_t *ncleared)
{
    *ncleared = 0;
    for (size_t i = p->n; i > 1; i--) {
        size_t j = (size_t)sim_below(&w->rng, i);
        sim_value t = p->v[i - 1];
        p->v[i - 1] = p->v[j];
        p->v[j] = t;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].cleared)
            cleared[(*ncleared)++] = p->v[i].field;
        else
            sim_buf_put(in, p->v[i].bytes, p->v[i].len);
    }
    for (size_t i = 1; i < *ncleared; i++)
        for (size_t j = i; j > 0 && cleared[j - 1] > cleared[j]; j--) {
            uint32_t t = cleared[j];
            cleared[j] = cleared[j - 1];
            cleared[j - 1] = t;
        }
    if (!tombstone && sim_chance(&w->rng, 5))
        sim_buf_lendelim(in, FS_FIELD_ID, w->ids[rec], strlen(w->ids[rec]));
}

/* Appends wr to the ground-truth log, which takes p's values (and bytes). */
static void sim_log_append(sim_world *w, sim_write *wr, sim_pending *p)
{
    if (w->nlog == w->caplog) {
        size_t cap = w->caplog ? 2 * w->caplog : 64;
        sim_write *log = realloc(w->log, cap * sizeof(*log));
        if (log == NULL)
            abort();
        w->log = log;
        w->caplog = cap;
    }
    wr->values = malloc(p->n * sizeof(*wr->values));
    if (wr->values == NULL)
        abort();
    memcpy(wr->values, p->v, p->n * sizeof(*wr->values));
    wr->nvalues = p->n;
    p->n = 0;
    w->log[w->nlog++] = *wr;
}

/* Calls the library: a delete, a write of wire bytes, or (as the socket API's
 * put does) a write of a plain message. */
static int sim_call_write(sim_world *w, fs_state *st, const sim_write *wr, bool tombstone,
                          const sim_buf *in, const uint32_t *cleared, size_t ncleared, fs_err *err)
{
    if (tombstone) {
        w->stats.deletes++;
        return fs_record_delete(st, wr->dot.replica, wr->hlc, err);
    }
    if (!sim_chance(&w->rng, 30))
        return fs_record_write(st, wr->dot.replica, wr->hlc, in->p, in->len, cleared, ncleared,
                               err);
    w->stats.msg_writes++;
    ProtobufCMessage *m =
        protobuf_c_message_unpack(fs_kind_descriptor(st->kind), NULL, in->len, in->p);
    if (m == NULL)
        return fs_err_set(err, FS_EINVAL, "sim bug: generated %s fields do not unpack",
                          fs_kind_name(st->kind));
    int rc = fs_record_write_msg(st, wr->dot.replica, wr->hlc, m, cleared, ncleared, err);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

/* Takes p's values (set fields, cleared fields) as one local write at node, or
 * a delete when tombstone, and logs it with the writer's causal past. */
static int sim_commit_write(sim_world *w, int node, int rec, sim_pending *p, bool tombstone)
{
    sim_node *n = &w->nodes[node];
    fs_state *st = n->states[rec];
    sim_buf in = {0};
    uint32_t cleared[SIM_WRITE_MAX_VALUES];
    size_t ncleared = 0;
    fs_err err;
    sim_write wr = {.record = rec, .node = node};

    fs_vv_init(&wr.seen);
    sim_pending_input(w, rec, p, tombstone, &in, cleared, &ncleared);
    if (fs_vv_copy(&wr.seen, &st->vv) != 0) {
        sim_fail(w, SIM_FAIL_API, "fs_vv_copy failed");
        goto fail;
    }
    wr.dot.replica = n->replica;
    wr.dot.counter = fs_vv_get(&st->vv, n->replica) + 1;
    wr.hlc = fs_hlc_now(&n->clock, sim_wall_ms(w, node));
    if (sim_call_write(w, st, &wr, tombstone, &in, cleared, ncleared, &err) != 0) {
        sim_fail(w, SIM_FAIL_API, "%s of %s at replica %d failed: %s",
                 tombstone ? "delete" : "write", w->ids[rec], node, fs_err_message(&err));
        goto fail;
    }
    if (fs_vv_get(&st->vv, n->replica) != wr.dot.counter) {
        sim_fail(w, SIM_FAIL_VV, "write at replica %d did not take dot counter %llu", node,
                 (unsigned long long)wr.dot.counter);
        goto fail;
    }
    sim_pending_add(p, FS_FIELD_ALIVE, false, tombstone ? FS_ALIVE_FALSE : FS_ALIVE_TRUE, NULL, 0);
    sim_trace(w, "  r%d %s %s: dot (r%d,%llu) hlc %llx, fields", node,
              tombstone ? "deletes" : "writes", w->ids[rec], node,
              (unsigned long long)wr.dot.counter, (unsigned long long)wr.hlc);
    for (size_t i = 0; i + 1 < p->n; i++)
        sim_trace(w, " %u%s", p->v[i].field, p->v[i].cleared ? "(cleared)" : "");
    sim_trace(w, "%s\n", p->n == 1 ? " none" : "");
    sim_log_append(w, &wr, p);
    sim_buf_free(&in);
    return 0;
fail:
    fs_vv_clear(&wr.seen);
    sim_buf_free(&in);
    sim_pending_free(p);
    return -1;
}

/* A new value for field (known to kind or not), or clear it. */
static void sim_pick_value(sim_world *w, fs_kind kind, uint32_t field, sim_pending *p)
{
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(fs_kind_descriptor(kind), field);
    sim_buf b = {0};
    if (fd != NULL && sim_chance(&w->rng, 15)) {
        sim_pending_add(p, field, true, 0, NULL, 0);
        return;
    }
    if (fd != NULL)
        sim_gen_field(&w->rng, fd, &b);
    else
        sim_gen_unknown(&w->rng, field, &b);
    sim_pending_add(p, field, false, 0, b.p, b.len);
    sim_buf_free(&b);
}

static int sim_step_write(sim_world *w, int node, int rec)
{
    const ProtobufCMessageDescriptor *d = fs_kind_descriptor(w->kinds[rec]);
    uint32_t cand[64];
    unsigned ncand = 0;
    sim_pending p = {.n = 0};
    for (unsigned i = 0; i < d->n_fields && ncand < 64; i++)
        if (d->fields[i].id != FS_FIELD_ID)
            cand[ncand++] = d->fields[i].id;
    unsigned k = sim_chance(&w->rng, 3) ? 0 : (unsigned)(1 + sim_below(&w->rng, 4));
    for (unsigned i = 0; i < k && i < ncand; i++) {
        unsigned j = i + (unsigned)sim_below(&w->rng, ncand - i);
        uint32_t t = cand[i];
        cand[i] = cand[j];
        cand[j] = t;
        sim_pick_value(w, w->kinds[rec], cand[i], &p);
    }
    if (k > 0 && sim_chance(&w->rng, 12)) {
        sim_pick_value(w, w->kinds[rec], SIM_FIELD_UNKNOWN, &p);
        w->stats.unknown_field_writes++;
    }
    w->stats.writes++;
    return sim_commit_write(w, node, rec, &p, false);
}

static int sim_step_delete(sim_world *w, int node, int rec)
{
    sim_pending p = {.n = 0};
    return sim_commit_write(w, node, rec, &p, true);
}

/* Picks a listed conflict and writes a value for it: a sibling's value ("keep
 * mine"), a new value, or a clear; alive conflicts are resolved by a revive or
 * a delete. */
static int sim_step_resolve(sim_world *w, int node, int rec)
{
    fs_state *st = w->nodes[node].states[rec];
    fs_conflict *c = NULL;
    size_t nc = 0;
    sim_pending p = {.n = 0};
    fs_err err;
    /* the rep opens the conflicts list: any record of this replica that has one */
    for (int k = 0; k < w->nrecords; k++) {
        rec = (rec + (k > 0)) % w->nrecords;
        st = w->nodes[node].states[rec];
        if (fs_record_conflicts(st, &c, &nc, &err) != 0)
            return sim_fail(w, SIM_FAIL_API, "conflicts of %s at replica %d: %s", w->ids[rec], node,
                            fs_err_message(&err));
        if (nc > 0)
            break;
        fs_conflicts_free(c, nc);
        c = NULL;
    }
    if (nc == 0)
        return sim_step_write(w, node, rec);
    const fs_conflict *pick = &c[sim_below(&w->rng, nc)];
    uint32_t field = pick->field;
    bool tombstone = false;
    if (pick->nsiblings < 2) {
        fs_conflicts_free(c, nc);
        return sim_fail(w, SIM_FAIL_CONFLICTS, "conflict on field %u of %s lists %zu siblings",
                        field, w->ids[rec], pick->nsiblings);
    }
    if (field == FS_FIELD_ALIVE) {
        tombstone = sim_chance(&w->rng, 30);
    } else if (sim_chance(&w->rng, 50)) {
        const fs_sibling *s = &pick->siblings[sim_below(&w->rng, pick->nsiblings)];
        sim_pending_add(&p, field, s->cleared, 0, s->value, s->cleared ? 0 : s->value_len);
    } else {
        sim_pick_value(w, w->kinds[rec], field, &p);
    }
    fs_conflicts_free(c, nc);
    w->stats.resolutions++;
    sim_trace(w, "  r%d resolves field %u of %s\n", node, field, w->ids[rec]);
    return sim_commit_write(w, node, rec, &p, tombstone);
}

/* ------------------------------------------------------------------------- */
/* Join (with the deliberate faults) and the network */

static int sim_join(sim_world *w, fs_state **into, const fs_state *other, fs_err *err)
{
    fs_state *tmp = NULL, *out = NULL;
    int rc;
    switch (w->opt->brk) {
    case SIM_BREAK_DROP_THEIRS:
        return fs_vv_merge(&(*into)->vv, &other->vv);
    case SIM_BREAK_LWW:
        if (fs_record_hlc(other) <= fs_record_hlc(*into))
            return 0;
        if ((rc = fs_state_copy(&tmp, other, err)) != 0)
            return rc;
        fs_state_free(*into);
        *into = tmp;
        return 0;
    case SIM_BREAK_KEEP_SUPERSEDED:
        /* the other side's vv is hidden from the join, so nothing of ours is pruned */
        if ((rc = fs_state_copy(&tmp, other, err)) != 0)
            return rc;
        fs_vv_clear(&tmp->vv);
        fs_vv_init(&tmp->vv);
        rc = fs_record_join(&out, *into, tmp, err);
        if (rc == 0)
            rc = fs_vv_merge(&out->vv, &other->vv);
        fs_state_free(tmp);
        if (rc != 0) {
            fs_state_free(out);
            return rc;
        }
        fs_state_free(*into);
        *into = out;
        return 0;
    default:
        return fs_record_join_into(*into, other, err);
    }
}

static void sim_net_send(sim_world *w, int from, int to, int rec)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    fs_err err;
    if (fs_state_encode(w->nodes[from].states[rec], &buf, &len, &err) != 0) {
        sim_fail(w, SIM_FAIL_API, "encode of %s at node %d: %s", w->ids[rec], from,
                 fs_err_message(&err));
        return;
    }
    if (w->nnet == SIM_MAX_NET) { /* a full queue loses its oldest message */
        free(w->net[0].buf);
        memmove(w->net, w->net + 1, (SIM_MAX_NET - 1) * sizeof(w->net[0]));
        w->nnet--;
    }
    w->net[w->nnet++] = (sim_msg){.from = from, .to = to, .record = rec, .buf = buf, .len = len};
    sim_trace(w, "  send %s node %d -> node %d (%zu bytes)\n", w->ids[rec], from, to, len);
}

/* Node to receives a state of rec in wire form; the server answers a push. */
static int sim_receive(sim_world *w, int to, int from, int rec, const uint8_t *buf, size_t len,
                       bool answer)
{
    fs_state *in = NULL;
    fs_err err;
    if (fs_state_decode(&in, buf, len, &err) != 0)
        return sim_fail(w, SIM_FAIL_API, "decode of %s from node %d at node %d: %s", w->ids[rec],
                        from, to, fs_err_message(&err));
    if (in->kind != w->kinds[rec] || in->id == NULL || strcmp(in->id, w->ids[rec]) != 0) {
        fs_state_free(in);
        return sim_fail(w, SIM_FAIL_API, "state of %s decoded with another kind or id",
                        w->ids[rec]);
    }
    int rc = sim_join(w, &w->nodes[to].states[rec], in, &err);
    w->stats.joins++;
    if (rc != 0) {
        fs_state_free(in);
        return sim_fail(w, SIM_FAIL_API, "join of %s at node %d: %s", w->ids[rec], to,
                        fs_err_message(&err));
    }
    if (to != sim_server(w) && w->opt->brk != SIM_BREAK_OBSERVE)
        fs_hlc_observe(&w->nodes[to].clock, fs_record_hlc(in));
    fs_state_free(in);
    if (answer && to == sim_server(w))
        sim_net_send(w, to, from, rec);
    return w->fail == SIM_OK ? 0 : -1;
}

static int sim_step_deliver(sim_world *w)
{
    if (w->nnet == 0)
        return 0;
    size_t i = (size_t)sim_below(&w->rng, w->nnet); /* any order: reordering */
    sim_msg m = w->net[i];
    if (w->nodes[m.from].partitioned || w->nodes[m.to].partitioned) {
        if (sim_chance(&w->rng, 50))
            return 0; /* held back until the partition heals, or lost below */
    } else if (sim_chance(&w->rng, 12)) {
        w->stats.duplicated++;
        sim_trace(w, "  deliver (duplicate kept) %s node %d -> node %d\n", w->ids[m.record], m.from,
                  m.to);
        return sim_receive(w, m.to, m.from, m.record, m.buf, m.len, true);
    }
    w->net[i] = w->net[--w->nnet];
    int rc = 0;
    if (!w->nodes[m.from].partitioned && !w->nodes[m.to].partitioned) {
        w->stats.delivered++;
        sim_trace(w, "  deliver %s node %d -> node %d\n", w->ids[m.record], m.from, m.to);
        rc = sim_receive(w, m.to, m.from, m.record, m.buf, m.len, true);
    } else {
        w->stats.dropped++;
        sim_trace(w, "  lost in partition: %s node %d -> node %d\n", w->ids[m.record], m.from,
                  m.to);
    }
    free(m.buf);
    return rc;
}

static void sim_step_drop(sim_world *w)
{
    if (w->nnet == 0)
        return;
    size_t i = (size_t)sim_below(&w->rng, w->nnet);
    free(w->net[i].buf);
    w->net[i] = w->net[--w->nnet];
    w->stats.dropped++;
    sim_trace(w, "  network drops a message\n");
}

/* ------------------------------------------------------------------------- */
/* Schedule */

static int sim_step(sim_world *w)
{
    int node = (int)sim_below(&w->rng, (uint64_t)w->nreplicas);
    int rec = (int)sim_below(&w->rng, (uint64_t)w->nrecords);
    unsigned roll = (unsigned)sim_below(&w->rng, 100);

    if (w->lockstep)
        w->now_ms += sim_chance(&w->rng, 70) ? 0 : 1;
    else
        w->now_ms += sim_below(&w->rng, 5000);

    if (roll < 28)
        return sim_step_write(w, node, rec);
    if (roll < 32)
        return sim_step_delete(w, node, rec);
    if (roll < 40)
        return sim_step_resolve(w, node, rec);
    if (roll < 58) {
        sim_net_send(w, node, sim_server(w), rec); /* push */
    } else if (roll < 68) {
        sim_net_send(w, sim_server(w), node, rec); /* pull */
    } else if (roll < 94) {
        return sim_step_deliver(w);
    } else if (roll < 97) {
        sim_step_drop(w);
    } else if (roll < 99) {
        w->nodes[node].partitioned = !w->nodes[node].partitioned;
        sim_trace(w, "  r%d %s\n", node, w->nodes[node].partitioned ? "partitioned" : "rejoins");
    } else if (!w->lockstep) { /* a clock jumps (NTP step, manual change) */
        w->nodes[node].skew_ms += (int64_t)sim_below(&w->rng, 2 * 60000) - 60000;
    }
    return w->fail == SIM_OK ? 0 : -1;
}

static int sim_final_exchange(sim_world *w)
{
    int server = sim_server(w);
    uint8_t *buf = NULL;
    size_t len = 0;
    fs_err err;
    for (size_t i = 0; i < w->nnet; i++)
        free(w->net[i].buf);
    w->nnet = 0;
    sim_trace(w, "final exchange\n");
    for (int round = 0; round < 2; round++) {
        for (int dir = 0; dir < 2; dir++) {
            for (int n = 0; n < w->nreplicas; n++) {
                for (int rec = 0; rec < w->nrecords; rec++) {
                    int from = dir == 0 ? n : server, to = dir == 0 ? server : n;
                    if (fs_state_encode(w->nodes[from].states[rec], &buf, &len, &err) != 0)
                        return sim_fail(w, SIM_FAIL_API, "encode of %s at node %d: %s", w->ids[rec],
                                        from, fs_err_message(&err));
                    int rc = sim_receive(w, to, from, rec, buf, len, false);
                    free(buf);
                    if (rc != 0)
                        return -1;
                }
            }
        }
    }
    return 0;
}

static int sim_world_setup(sim_world *w, uint64_t seed, const sim_options *opt)
{
    fs_err err;
    memset(w, 0, sizeof(*w));
    w->seed = seed;
    w->rng.s = seed;
    w->opt = opt;
    w->nreplicas = 3 + (int)sim_below(&w->rng, 3);
    w->nrecords = 2 + (int)sim_below(&w->rng, SIM_MAX_RECORDS - 1);
    w->lockstep = sim_chance(&w->rng, 20);
    for (int i = 0; i < w->nrecords; i++) {
        w->kinds[i] =
            (fs_kind)(FS_KIND_MIN + (int)sim_below(&w->rng, FS_KIND_MAX - FS_KIND_MIN + 1));
        sim_gen_id(&w->rng, w->kinds[i], w->ids[i], sizeof(w->ids[i]));
        for (int j = 0; j < i; j++)
            if (strcmp(w->ids[i], w->ids[j]) == 0)
                snprintf(w->ids[i], sizeof(w->ids[i]), "%s-%d", fs_kind_name(w->kinds[i]), i);
    }
    for (int n = 0; n <= w->nreplicas; n++) {
        sim_node *node = &w->nodes[n];
        /* random ids, as enrollment mints them; small ones now and then to meet 0/1 edges */
        node->replica = sim_chance(&w->rng, 10) ? (uint64_t)n + 1 : sim_rand(&w->rng) | 1;
        for (int k = 0; k < n; k++)
            if (w->nodes[k].replica == node->replica)
                node->replica = sim_rand(&w->rng) | 1;
        if (!w->lockstep)
            node->skew_ms = (int64_t)sim_below(&w->rng, 2 * SIM_MAX_SKEW_MS) - SIM_MAX_SKEW_MS;
        for (int rec = 0; rec < w->nrecords; rec++)
            if (fs_state_new(&node->states[rec], w->kinds[rec], w->ids[rec], &err) != 0)
                return sim_fail(w, SIM_FAIL_API, "fs_state_new: %s", fs_err_message(&err));
    }
    w->nodes[sim_server(w)].replica = 0;
    return 0;
}

int sim_world_run(sim_world *w, uint64_t seed, const sim_options *opt)
{
    if (sim_world_setup(w, seed, opt) != 0)
        return -1;
    unsigned nsteps =
        opt->steps_min + (unsigned)sim_below(&w->rng, opt->steps_max - opt->steps_min + 1);
    sim_trace(w, "seed %llu: %d replicas, %d records, %u steps%s\n", (unsigned long long)seed,
              w->nreplicas, w->nrecords, nsteps, w->lockstep ? ", lockstep clocks" : "");
    for (unsigned i = 0; i < nsteps; i++) {
        sim_trace(w, "step %u\n", i);
        if (sim_step(w) != 0)
            return -1;
    }
    return sim_final_exchange(w);
}

void sim_world_dump(const sim_world *w, FILE *out)
{
    for (int rec = 0; rec < w->nrecords; rec++) {
        fprintf(out, "%s (%s):\n", w->ids[rec], fs_kind_name(w->kinds[rec]));
        for (int n = 0; n <= w->nreplicas; n++) {
            const fs_state *st = w->nodes[n].states[rec];
            fprintf(out, "  %s%d vv", n == sim_server(w) ? "server " : "r", n);
            for (size_t i = 0; i < st->vv.n; i++)
                fprintf(out, " r%d:%llu", sim_node_index(w, st->vv.entries[i].replica),
                        (unsigned long long)st->vv.entries[i].counter);
            fprintf(out, "\n");
            for (size_t i = 0; i < st->nevents; i++) {
                const fs_event *e = &st->events[i];
                uint32_t fl[64];
                int nf = sim_wire_fields(e->fields, e->fields_len, fl, 64);
                fprintf(out, "    (r%d,%llu) hlc %llx alive %d fields",
                        sim_node_index(w, e->dot.replica), (unsigned long long)e->dot.counter,
                        (unsigned long long)e->hlc, e->alive);
                for (int k = 0; k < nf; k++)
                    fprintf(out, " %u", fl[k]);
                for (size_t k = 0; k < e->ncleared; k++)
                    fprintf(out, " %u(cleared)", e->cleared[k]);
                fprintf(out, "\n");
            }
        }
    }
}

int sim_node_index(const sim_world *w, uint64_t replica)
{
    for (int n = 0; n < w->nreplicas; n++)
        if (w->nodes[n].replica == replica)
            return n;
    return -1;
}

void sim_world_clear(sim_world *w)
{
    for (int n = 0; n <= w->nreplicas; n++)
        for (int rec = 0; rec < w->nrecords; rec++)
            fs_state_free(w->nodes[n].states[rec]);
    for (size_t i = 0; i < w->nnet; i++)
        free(w->net[i].buf);
    for (size_t i = 0; i < w->nlog; i++) {
        for (size_t j = 0; j < w->log[i].nvalues; j++)
            free(w->log[i].values[j].bytes);
        free(w->log[i].values);
        fs_vv_clear(&w->log[i].seen);
    }
    free(w->log);
    w->log = NULL;
    w->nlog = w->caplog = 0;
    w->nnet = 0;
}
