/*
 * fieldsync-demo: loads a generated book of business (demo.h) into a running
 * fieldsyncd through its socket, as a UI shell would: one record.put per record,
 * accounts before what hangs off them. For demos, training and the README's run
 * command; never needed in production.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fieldsync/demo.h"
#include "fieldsync/record.h"
#include "json_record.h"
#include "rpc_client.h"

typedef struct loader {
    fs_rpcc *rpc;
    size_t count[FS_KIND_MAX + 1];
    size_t total;
    int quiet;
} loader;

static const char *record_id(const ProtobufCMessage *m)
{
    /* field 1 is `id` in every kind */
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(m->descriptor, 1);
    return *(char *const *)((const char *)m + f->offset);
}

static int put_record(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *m)
{
    loader *l = ctx;
    json_t *params = json_pack("{s:s, s:s, s:o}", "kind", fs_kind_name(kind), "id", record_id(m),
                               "record", fs_json_from_msg(m));
    json_t *result = NULL;
    fs_rpcc_error derr;
    fs_err err = {0};
    int rc = fs_rpcc_call(l->rpc, "record.put", params, &result, &derr, &err);
    if (rc == 1) {
        fprintf(stderr, "fieldsync-demo: %s %s refused: %s\n", fs_kind_name(kind), record_id(m),
                derr.message);
        return -1;
    }
    if (rc != 0) {
        fprintf(stderr, "fieldsync-demo: %s\n", err.msg);
        return -1;
    }
    json_decref(result);
    l->count[kind]++;
    if (++l->total % 500 == 0 && !l->quiet)
        fprintf(stderr, "\rfieldsync-demo: %zu records loaded", l->total);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: fieldsync-demo [--socket PATH] [--accounts N] [--seed N] [--owner NAME] "
                 "[--quiet]\n\n"
                 "Loads a generated, realistic book of business into a running fieldsyncd:\n"
                 "accounts across the tiers, their contacts, a season of visits with notes and\n"
                 "next steps, opportunities across the pipeline and transactions. The same seed\n"
                 "always gives the same records. The store must be unlocked.\n\n"
                 "  --socket PATH   fieldsyncd's socket (default $FIELDSYNC_SOCKET, then\n"
                 "                  $XDG_RUNTIME_DIR/fieldsync/fieldsyncd.sock)\n"
                 "  --accounts N    number of accounts (default 300)\n"
                 "  --seed N        generator seed (default 1)\n"
                 "  --owner NAME    the rep named as owner (default rep)\n"
                 "  --quiet         no progress line (none unless stderr is a terminal)\n");
}

/* 0 to go on, -1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, fs_demo_opts *o, const char **socket, int *quiet)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
                                         {"accounts", required_argument, NULL, 'a'},
                                         {"seed", required_argument, NULL, 'r'},
                                         {"owner", required_argument, NULL, 'o'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            *socket = optarg;
            break;
        case 'a':
            o->accounts = strtoul(optarg, &end, 10);
            if (*end != '\0' || o->accounts == 0 || o->accounts > 1000000) {
                fprintf(stderr, "fieldsync-demo: --accounts takes 1 to 1000000\n");
                return 2;
            }
            break;
        case 'r':
            o->seed = strtoull(optarg, &end, 10);
            if (*end != '\0') {
                fprintf(stderr, "fieldsync-demo: --seed takes a number\n");
                return 2;
            }
            break;
        case 'o':
            o->owner = optarg;
            break;
        case 'q':
            *quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    fs_demo_opts o = fs_demo_opts_default();
    const char *socket = getenv("FIELDSYNC_SOCKET");
    char fallback[4096];
    loader l = {0};
    l.quiet = !isatty(2); /* the progress line is for a person at a terminal */
    int rc = parse_args(argc, argv, &o, &socket, &l.quiet);
    if (rc != 0)
        return rc < 0 ? 0 : rc; /* -1: --help was answered */
    if (socket == NULL && getenv("XDG_RUNTIME_DIR") != NULL) {
        snprintf(fallback, sizeof(fallback), "%s/fieldsync/fieldsyncd.sock",
                 getenv("XDG_RUNTIME_DIR"));
        socket = fallback;
    }
    if (socket == NULL) {
        fprintf(stderr, "fieldsync-demo: no socket: give --socket or set XDG_RUNTIME_DIR\n");
        return 3;
    }
    fs_err err = {0};
    if (fs_rpcc_connect(&l.rpc, socket, 30000, &err) != 0) {
        fprintf(stderr, "fieldsync-demo: %s\n", err.msg);
        return 3;
    }
    time_t start = time(NULL);
    rc = fs_demo_generate(&o, put_record, &l, &err);
    fs_rpcc_free(l.rpc);
    if (!l.quiet)
        fprintf(stderr, "\r");
    if (rc != 0) {
        fprintf(stderr, "fieldsync-demo: stopped after %zu records\n", l.total);
        return 1;
    }
    printf("loaded %zu records in %lds: %zu accounts, %zu contacts, %zu visits, "
           "%zu opportunities, %zu transactions\n",
           l.total, (long)(time(NULL) - start), l.count[FIELDSYNC__RECORD_KIND__ACCOUNT],
           l.count[FIELDSYNC__RECORD_KIND__CONTACT], l.count[FIELDSYNC__RECORD_KIND__VISIT],
           l.count[FIELDSYNC__RECORD_KIND__OPPORTUNITY],
           l.count[FIELDSYNC__RECORD_KIND__TRANSACTION]);
    return 0;
}
