/*
 * sim_main.c: sim_convergence, the convergence simulator's command line.
 *
 * Runs schedules with seeds base, base+1, ... (each a pure function of its
 * seed), checks each one (sim_check.c) and prints "N passed, F failed". A
 * failure prints its seed and the command that replays it with a trace.
 *
 *   sim_convergence [--schedules N] [--seed S] [--steps MIN:MAX] [--verbose]
 *                   [--break-join drop-theirs|keep-superseded|lww]
 *                   [--break-visible] [--break-observe] [--expect CATEGORY]
 *                   [--dump-states DIR]
 *
 * Environment: FS_SIM_SCHEDULES and FS_SIM_SEED give defaults for --schedules
 * and --seed (CI runs longer by setting FS_SIM_SCHEDULES). With --expect, a
 * deliberate fault is being tested: success means the checker reported at
 * least one failure of that category.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define SIM_DEFAULT_SCHEDULES 10000
#define SIM_MAX_PRINTED_FAILURES 5

typedef struct sim_args {
    unsigned long schedules;
    uint64_t seed;
    bool seed_given;
    bool schedules_given;
    sim_options opt;
    enum sim_fail expect;
    const char *dump_dir;
    const char *brk_arg; /* the fault option as given, for the replay line */
    char brk_buf[64];
} sim_args;

static void sim_usage(void)
{
    fprintf(stderr,
            "usage: sim_convergence [--schedules N] [--seed S] [--steps MIN:MAX] [--verbose]\n"
            "                       [--break-join drop-theirs|keep-superseded|lww]\n"
            "                       [--break-visible] [--break-observe] [--expect CATEGORY]\n"
            "                       [--dump-states DIR]\n");
}

static int sim_parse_break(const char *s, enum sim_break *out)
{
    if (strcmp(s, "drop-theirs") == 0)
        *out = SIM_BREAK_DROP_THEIRS;
    else if (strcmp(s, "keep-superseded") == 0)
        *out = SIM_BREAK_KEEP_SUPERSEDED;
    else if (strcmp(s, "lww") == 0)
        *out = SIM_BREAK_LWW;
    else
        return -1;
    return 0;
}

static int sim_parse_args(int argc, char **argv, sim_args *a)
{
    const char *env = getenv("FS_SIM_SCHEDULES");
    a->schedules = env ? strtoul(env, NULL, 10) : SIM_DEFAULT_SCHEDULES;
    env = getenv("FS_SIM_SEED");
    a->seed = env ? strtoull(env, NULL, 10) : 1;
    a->opt.steps_min = 20;
    a->opt.steps_max = 200;
    a->expect = SIM_OK;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--verbose") == 0) {
            a->opt.trace = stdout;
            continue;
        }
        if (strcmp(arg, "--break-observe") == 0) {
            a->opt.brk = SIM_BREAK_OBSERVE;
            a->brk_arg = "--break-observe";
            continue;
        }
        if (strcmp(arg, "--break-visible") == 0) {
            a->opt.brk = SIM_BREAK_VISIBLE;
            a->brk_arg = "--break-visible";
            continue;
        }
        if (val == NULL)
            return -1;
        i++;
        if (strcmp(arg, "--schedules") == 0) {
            a->schedules = strtoul(val, NULL, 10);
            a->schedules_given = true;
        } else if (strcmp(arg, "--seed") == 0) {
            a->seed = strtoull(val, NULL, 10);
            a->seed_given = true;
        } else if (strcmp(arg, "--steps") == 0) {
            if (sscanf(val, "%u:%u", &a->opt.steps_min, &a->opt.steps_max) != 2 ||
                a->opt.steps_min > a->opt.steps_max)
                return -1;
        } else if (strcmp(arg, "--break-join") == 0) {
            if (sim_parse_break(val, &a->opt.brk) != 0)
                return -1;
            snprintf(a->brk_buf, sizeof(a->brk_buf), "--break-join %s", val);
            a->brk_arg = a->brk_buf;
        } else if (strcmp(arg, "--expect") == 0) {
            a->expect = sim_fail_from_name(val);
            if (a->expect == SIM_OK || a->expect == SIM_FAIL_COUNT)
                return -1;
        } else if (strcmp(arg, "--dump-states") == 0) {
            a->dump_dir = val;
        } else {
            return -1;
        }
    }
    if (a->seed_given && !a->schedules_given)
        a->schedules = 1; /* --seed S alone replays that one schedule */
    return 0;
}

/* Writes the server's final states (fuzz seed corpus material). */
static void sim_dump_states(const sim_world *w, const char *dir)
{
    for (int rec = 0; rec < w->nrecords; rec++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        char path[4096];
        if (fs_state_encode(w->nodes[sim_server(w)].states[rec], &buf, &len, NULL) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/sim-%llu-%d.pb", dir, (unsigned long long)w->seed, rec);
        FILE *f = fopen(path, "wb");
        if (f != NULL) {
            fwrite(buf, 1, len, f);
            fclose(f);
        }
        free(buf);
    }
}

static void sim_stats_add(sim_stats *into, const sim_stats *s)
{
    into->writes += s->writes;
    into->msg_writes += s->msg_writes;
    into->unknown_field_writes += s->unknown_field_writes;
    into->deletes += s->deletes;
    into->resolutions += s->resolutions;
    into->delivered += s->delivered;
    into->duplicated += s->duplicated;
    into->dropped += s->dropped;
    into->joins += s->joins;
    into->final_siblings += s->final_siblings;
    into->final_conflicts += s->final_conflicts;
    into->final_alive_conflicts += s->final_alive_conflicts;
    into->final_deleted += s->final_deleted;
}

static void sim_stats_print(const sim_stats *s)
{
    printf("  exercised: %lu writes (%lu via messages, %lu with an unknown field), %lu deletes, "
           "%lu conflict resolutions;\n"
           "  network: %lu delivered, %lu duplicated, %lu lost; %lu joins;\n"
           "  final states: %lu siblings, %lu field conflicts, %lu alive conflicts, %lu records "
           "not visible (deleted or never written)\n",
           s->writes, s->msg_writes, s->unknown_field_writes, s->deletes, s->resolutions,
           s->delivered, s->duplicated, s->dropped, s->joins, s->final_siblings, s->final_conflicts,
           s->final_alive_conflicts, s->final_deleted);
}

static double sim_seconds(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    sim_args a = {0};
    unsigned long counts[SIM_FAIL_COUNT] = {0};
    unsigned long failed = 0, printed = 0;
    sim_stats total = {0};
    struct timespec t0;
    if (sim_parse_args(argc, argv, &a) != 0) {
        sim_usage();
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long i = 0; i < a.schedules; i++) {
        sim_world *w = calloc(1, sizeof(*w));
        if (w == NULL)
            return 1;
        uint64_t seed = a.seed + i;
        int rc = sim_world_run(w, seed, &a.opt);
        if (rc == 0)
            rc = sim_check(w);
        if (rc == 0 && a.dump_dir != NULL)
            sim_dump_states(w, a.dump_dir);
        sim_stats_add(&total, &w->stats);
        if (rc != 0 && a.opt.trace != NULL)
            sim_world_dump(w, a.opt.trace);
        if (rc != 0) {
            failed++;
            counts[w->fail]++;
            if (printed++ < SIM_MAX_PRINTED_FAILURES)
                printf("FAIL seed %llu [%s]: %s\n  replay: sim_convergence --seed %llu%s%s "
                       "--steps %u:%u --verbose\n",
                       (unsigned long long)seed, sim_fail_name(w->fail), w->why,
                       (unsigned long long)seed, a.brk_arg ? " " : "", a.brk_arg ? a.brk_arg : "",
                       a.opt.steps_min, a.opt.steps_max);
        }
        sim_world_clear(w);
        free(w);
    }
    printf("sim_convergence: %lu passed, %lu failed (seeds %llu..%llu, %.2f s)\n",
           a.schedules - failed, failed, (unsigned long long)a.seed,
           (unsigned long long)(a.seed + a.schedules - 1), sim_seconds(&t0));
    sim_stats_print(&total);
    if (a.expect == SIM_OK)
        return failed == 0 ? 0 : 1;
    for (int k = 1; k < SIM_FAIL_COUNT; k++)
        if (counts[k] > 0)
            printf("  %s: %lu\n", sim_fail_name((enum sim_fail)k), counts[k]);
    if (counts[a.expect] == 0) {
        printf("the checker did NOT report the deliberate fault as %s\n", sim_fail_name(a.expect));
        return 1;
    }
    printf("the checker caught the deliberate fault (%s) in %lu of %lu schedules\n",
           sim_fail_name(a.expect), counts[a.expect], a.schedules);
    return 0;
}
