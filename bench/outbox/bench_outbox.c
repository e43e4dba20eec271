/*
 * bench_outbox.c: what a long offline stretch of edits costs the store. N local
 * puts go to M records (whole records of the demo book, as a form's save writes
 * them, round robin) on an encrypted store with no server, the way fieldsyncd
 * writes them (maintenance deferred, then run once as when the daemon goes
 * idle); then the figures: the store's files on disk, the outbox's entries and
 * the bytes of their changes, and the write rate.
 *
 *   bench_outbox [--writes N] [--records M]    (defaults 20,000 and 260)
 *
 * FS_BENCH_DIR picks the directory (default $TMPDIR or /tmp).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fieldsync/demo.h"
#include "fieldsync/outbox.h"
#include "fieldsync/store.h"

typedef struct book {
    fs_kind *kinds;
    ProtobufCMessage **msgs;
    size_t n, max;
} book;

static void die(const char *what, const fs_err *err)
{
    fprintf(stderr, "bench_outbox: %s: %s\n", what, err ? fs_err_message(err) : strerror(errno));
    exit(1);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps a copy of the first max records the generator emits. */
static int keep(void *ctx, Fieldsync__RecordKind kind, const ProtobufCMessage *record)
{
    book *b = ctx;
    if (b->n == b->max)
        return 1;
    size_t len = protobuf_c_message_get_packed_size(record);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        die("out of memory", NULL);
    protobuf_c_message_pack(record, buf);
    b->kinds[b->n] = kind;
    b->msgs[b->n] = protobuf_c_message_unpack(record->descriptor, NULL, len, buf);
    free(buf);
    if (b->msgs[b->n] == NULL)
        die("copying a demo record", NULL);
    b->n++;
    return 0;
}

static void book_load(book *b, size_t records)
{
    fs_err err;
    b->max = records;
    b->kinds = calloc(records, sizeof(*b->kinds));
    b->msgs = calloc(records, sizeof(*b->msgs));
    if (b->kinds == NULL || b->msgs == NULL)
        die("out of memory", NULL);
    fs_demo_opts o = fs_demo_opts_default();
    o.accounts = records / 10 + 1;
    if (fs_demo_generate(&o, keep, b, &err) < 0)
        die("generating the book", &err);
}

static double file_mb(const char *dir, const char *name)
{
    char path[4096];
    struct stat s;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &s) == 0 ? (double)s.st_size / 1e6 : 0.0;
}

static size_t arg(int argc, char **argv, const char *name, size_t def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return (size_t)strtoull(argv[i + 1], NULL, 10);
    return def;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("usage: bench_outbox [--writes N] [--records M]\n");
        return 0;
    }
    size_t writes = arg(argc, argv, "--writes", 20000), records = arg(argc, argv, "--records", 260);
    const char *base = getenv("FS_BENCH_DIR") ? getenv("FS_BENCH_DIR")
                       : getenv("TMPDIR")     ? getenv("TMPDIR")
                                              : "/tmp";
    char dir[4096], db[4200], key[4200];
    snprintf(dir, sizeof(dir), "%s/bench_outbox.XXXXXX", base);
    if (records == 0 || mkdtemp(dir) == NULL)
        die("making the directory (or --records 0)", NULL);
    snprintf(db, sizeof(db), "%s/store.db", dir);
    snprintf(key, sizeof(key), "%s/store.key", dir);

    book b = {0};
    book_load(&b, records);
    fs_store *st = NULL;
    fs_err err;
    if (fs_store_open(&st, db, key, NULL, 0, FS_STORE_CREATE, &err) != 0 ||
        fs_store_defer_maintenance(st, true, &err) != 0)
        die("opening the store", &err);
    char(*ids)[FS_STORE_NEW_ID_LEN + 1] = calloc(b.n, sizeof(*ids));
    for (size_t i = 0; ids != NULL && i < b.n; i++)
        fs_store_new_id(ids[i]);
    /* the machine is shared: the CPU time per put is the steadier figure */
    double t0 = clock_s(CLOCK_MONOTONIC), cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t w = 0; w < writes; w++)
        if (fs_store_put(st, b.kinds[w % b.n], ids[w % b.n], b.msgs[w % b.n], NULL, 0, &err) != 0)
            die("a put", &err);
    double secs = clock_s(CLOCK_MONOTONIC) - t0;
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    if (fs_store_maintain(st, NULL, &err) != 0)
        die("maintenance", &err);

    size_t entries = 0;
    if (fs_outbox_count(st, -1, &entries, &err) != 0)
        die("counting the outbox", &err);
    double dbmb = file_mb(dir, "store.db"), walmb = file_mb(dir, "store.db-wal");
    printf("bench_outbox: %zu writes to %zu records, no server (schema %d)\n", writes, b.n,
           FS_STORE_SCHEMA_VERSION);
    printf("  %-8s %10.1f MB   (database %.1f MB + WAL %.1f MB)\n", "store", dbmb + walmb, dbmb,
           walmb);
    printf("  %-8s %10zu entries (%.1f per record)\n", "outbox", entries,
           (double)entries / (double)b.n);
    printf("  %-8s %10.0f writes/s (%.0f us of CPU each)\n", "puts", (double)writes / secs,
           cpu * 1e6 / (double)writes);
    fs_store_close(st);
    printf("  %-8s %10.1f MB   after close (WAL checkpointed)\n", "closed",
           file_mb(dir, "store.db") + file_mb(dir, "store.db-wal"));
    for (size_t i = 0; i < b.n; i++)
        protobuf_c_message_free_unpacked(b.msgs[i], NULL);
    free(b.msgs);
    free(b.kinds);
    free(ids);
    unlink(db);
    unlink(key);
    rmdir(dir);
    return 0;
}
