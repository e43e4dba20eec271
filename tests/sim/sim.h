/*
 * sim.h: the convergence simulator's private declarations (tests/sim/).
 *
 * The simulator drives the record model (include/fieldsync/record.h) the way the
 * daemon and the server do: replicas write, delete and resolve conflicts on a
 * few records, whole states travel through a lossy network to and from one
 * server, and every node joins what it receives. A ground-truth log of every
 * write event lets the checker (sim_check.c) decide, independently of the
 * library, what the final state must hold.
 *
 * Pieces: sim_util.c (seeded RNG, byte buffer, protobuf wire scanner),
 * sim_gen.c (random but realistic field values, built from the descriptors),
 * sim_world.c (nodes, network, steps, final exchange), sim_check.c (the
 * invariants), sim_main.c (command line, schedule loop, summary).
 */
#ifndef FS_SIM_H
#define FS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fieldsync/record.h"

/* ------------------------------------------------------------------------- */
/* Seeded RNG (splitmix64): a schedule is a pure function of its seed. */

typedef struct sim_rng {
    uint64_t s;
} sim_rng;

uint64_t sim_rand(sim_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t sim_below(sim_rng *r, uint64_t n);
/* True with probability percent/100. */
bool sim_chance(sim_rng *r, unsigned percent);

/* ------------------------------------------------------------------------- */
/* Growable byte buffer. The simulator is a test program: out of memory aborts. */

typedef struct sim_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
} sim_buf;

void sim_buf_put(sim_buf *b, const void *data, size_t n);
void sim_buf_varint(sim_buf *b, uint64_t v);
void sim_buf_tag(sim_buf *b, uint32_t field, unsigned wire_type);
/* A length-delimited field: tag, length, bytes. */
void sim_buf_lendelim(sim_buf *b, uint32_t field, const void *data, size_t n);
void sim_buf_free(sim_buf *b);
/* malloc'd copy of n bytes (never NULL, even for n = 0). */
uint8_t *sim_memdup(const void *p, size_t n);

/* ------------------------------------------------------------------------- */
/* Protobuf wire scanner, written here so the checker does not trust the
 * library's own walker. */

#define SIM_WIRE_VARINT 0
#define SIM_WIRE_FIXED64 1
#define SIM_WIRE_LEN 2
#define SIM_WIRE_FIXED32 5

/* Reads the field at *pos: 1 with *field set and *pos past it, 0 at the end,
 * -1 on malformed input. */
int sim_wire_next(const uint8_t *buf, size_t len, size_t *pos, uint32_t *field);
/* Appends every occurrence (tag and value) of field in buf, in order, to out.
 * Returns the number of occurrences, -1 on malformed input. */
int sim_wire_extract(const uint8_t *buf, size_t len, uint32_t field, sim_buf *out);
/* The distinct field numbers of buf, ascending, at most max. Returns the count,
 * -1 on malformed input or more than max. */
int sim_wire_fields(const uint8_t *buf, size_t len, uint32_t *out, int max);

/* ------------------------------------------------------------------------- */
/* Value generator (sim_gen.c) */

/* A field number no record kind knows: written as raw wire bytes. */
#define SIM_FIELD_UNKNOWN 1000u

/* Appends a random, realistic value of fd (1 to 3 occurrences when repeated). */
void sim_gen_field(sim_rng *r, const ProtobufCFieldDescriptor *fd, sim_buf *out);
/* Appends a value for a field this build does not know (number field). */
void sim_gen_unknown(sim_rng *r, uint32_t field, sim_buf *out);
/* A record id for kind ("account-3f2a"), written into out (size n). */
void sim_gen_id(sim_rng *r, fs_kind kind, char *out, size_t n);

/* ------------------------------------------------------------------------- */
/* The world: replicas, server, network, ground truth (sim_world.c) */

#define SIM_MAX_REPLICAS 5
#define SIM_MAX_RECORDS 4
#define SIM_MAX_NET 64

/* Deliberate faults, to prove the checker can fail. */
enum sim_break {
    SIM_BREAK_NONE,
    SIM_BREAK_DROP_THEIRS,     /* join keeps only its own siblings, takes the vv */
    SIM_BREAK_KEEP_SUPERSEDED, /* join ignores the other side's vv when pruning */
    SIM_BREAK_LWW,             /* join keeps the whole state with the newest HLC */
    SIM_BREAK_VISIBLE,         /* the checker expects the least sibling to win */
    SIM_BREAK_OBSERVE,         /* replicas never fs_hlc_observe what they receive */
};

/* What went wrong, first failure of a schedule. */
#define SIM_FAIL_TABLE(X)                                                                          \
    X(SIM_OK, "ok")                                                                                \
    X(SIM_FAIL_API, "api-error")                                                                   \
    X(SIM_FAIL_UNKNOWN_SIBLING, "unknown-sibling")                                                 \
    X(SIM_FAIL_LOST_WRITE, "lost-write")                                                           \
    X(SIM_FAIL_ZOMBIE, "superseded-survived")                                                      \
    X(SIM_FAIL_VV, "version-vector")                                                               \
    X(SIM_FAIL_HLC, "hlc-order")                                                                   \
    X(SIM_FAIL_VISIBLE, "visible-value")                                                           \
    X(SIM_FAIL_CONFLICTS, "conflicts")                                                             \
    X(SIM_FAIL_DIVERGED, "diverged")

enum sim_fail {
#define SIM_FAIL_ENUM(name, text) name,
    SIM_FAIL_TABLE(SIM_FAIL_ENUM)
#undef SIM_FAIL_ENUM
        SIM_FAIL_COUNT
};

const char *sim_fail_name(enum sim_fail f);
/* The category named name, or SIM_FAIL_COUNT. */
enum sim_fail sim_fail_from_name(const char *name);

/* One field a write set, cleared, or (field FS_FIELD_ALIVE) its alive sibling. */
typedef struct sim_value {
    uint32_t field;
    bool cleared;
    int alive;      /* FS_ALIVE_TRUE / FS_ALIVE_FALSE for FS_FIELD_ALIVE */
    uint8_t *bytes; /* every wire occurrence of the field, tags included */
    size_t len;
    bool present; /* checker scratch: the final state holds this sibling */
} sim_value;

/* One write event of the ground truth. */
typedef struct sim_write {
    int record;
    int node;
    fs_dot dot;
    uint64_t hlc;
    fs_vv seen; /* the writer's vv before the write: its causal past */
    sim_value *values;
    size_t nvalues;
} sim_write;

typedef struct sim_node {
    uint64_t replica; /* 0 for the server, which never writes */
    int64_t skew_ms;  /* this node's wall clock minus true time */
    fs_hlc clock;
    bool partitioned;
    fs_state *states[SIM_MAX_RECORDS];
} sim_node;

typedef struct sim_msg {
    int from;
    int to;
    int record;
    uint8_t *buf;
    size_t len;
} sim_msg;

/* What a schedule exercised, summed over a run so a reader can see the sim
 * actually reaches concurrency, conflicts and network faults. */
typedef struct sim_stats {
    unsigned long writes, msg_writes, unknown_field_writes, deletes, resolutions;
    unsigned long delivered, duplicated, dropped, joins;
    unsigned long final_siblings, final_conflicts, final_alive_conflicts, final_deleted;
} sim_stats;

typedef struct sim_options {
    unsigned steps_min;
    unsigned steps_max;
    enum sim_break brk;
    FILE *trace; /* step-by-step log, or NULL */
} sim_options;

typedef struct sim_world {
    uint64_t seed;
    sim_rng rng;
    const sim_options *opt;
    int nreplicas; /* nodes[0..nreplicas-1]; nodes[nreplicas] is the server */
    int nrecords;
    fs_kind kinds[SIM_MAX_RECORDS];
    char ids[SIM_MAX_RECORDS][32];
    sim_node nodes[SIM_MAX_REPLICAS + 1];
    uint64_t now_ms;
    bool lockstep; /* every clock agrees and often stands still: equal HLCs */
    sim_msg net[SIM_MAX_NET];
    size_t nnet;
    sim_write *log;
    size_t nlog;
    size_t caplog;
    sim_stats stats;
    enum sim_fail fail;
    char why[768];
} sim_world;

/* Records the first failure of the schedule; returns -1. */
int sim_fail(sim_world *w, enum sim_fail kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The server's node index. */
int sim_server(const sim_world *w);

/* Sets up the world for seed, runs its random steps and the final exchange.
 * 0, or -1 with w->fail and w->why set. Free with sim_world_clear either way. */
int sim_world_run(sim_world *w, uint64_t seed, const sim_options *opt);
void sim_world_clear(sim_world *w);
/* Every node's state of every record, events and fields, for --verbose. */
void sim_world_dump(const sim_world *w, FILE *out);
/* The node index of a replica id, -1 when none has it. */
int sim_node_index(const sim_world *w, uint64_t replica);

/* ------------------------------------------------------------------------- */
/* The checker (sim_check.c): 0 when every invariant holds after the final
 * exchange, else -1 with the failure recorded in w. */
int sim_check(sim_world *w);

#endif
