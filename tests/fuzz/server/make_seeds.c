/*
 * make_seeds.c: writes the seed corpora of the server fuzz targets into
 * tests/fuzz/corpus/fuzz_server_{enroll,push,pull}/ (run by hand when the
 * messages change; the seeds are committed):
 *   make_seeds CORPUS_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fieldsync.pb-c.h"
#include "srv_test_util.h"

static void put(const char *dir, const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n)
        exit(1);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *dir = argv[1];
    Fieldsync__EnrollRequest er = FIELDSYNC__ENROLL_REQUEST__INIT;
    uint8_t buf[256];
    er.code = "7QKD-M2XA-9F0R-HC3V";
    er.device_name = "laptop";
    put(dir, "fuzz_server_enroll", "code", buf, fieldsync__enroll_request__pack(&er, buf));
    er.code = "7qkdm2xa9f0rhc3v";
    er.device_name = NULL;
    put(dir, "fuzz_server_enroll", "code_lower", buf, fieldsync__enroll_request__pack(&er, buf));

    size_t len;
    uint8_t *b = tu_pull_body(0, 0, &len);
    put(dir, "fuzz_server_pull", "from_zero", b, len);
    free(b);
    b = tu_pull_body(3, 2, &len);
    put(dir, "fuzz_server_pull", "cursor_limit", b, len);
    free(b);
    b = tu_pull_body(1u << 30, 100000, &len);
    put(dir, "fuzz_server_pull", "far_cursor", b, len);
    free(b);
    b = tu_pull_snapshot_body(2, false, NULL, 0, &len);
    put(dir, "fuzz_server_pull", "snapshot_begin", b, len);
    free(b);
    Fieldsync__SnapshotPosition sp = FIELDSYNC__SNAPSHOT_POSITION__INIT;
    Fieldsync__RecordRef after = FIELDSYNC__RECORD_REF__INIT;
    sp.has_seq = sp.has_records = 1;
    sp.seq = 5;
    sp.records = 1;
    after.has_kind = 1;
    after.kind = FIELDSYNC__RECORD_KIND__ACCOUNT;
    after.id = "acc-1";
    sp.after = &after;
    b = tu_pull_snapshot_body(2, false, buf, fieldsync__snapshot_position__pack(&sp, buf), &len);
    put(dir, "fuzz_server_pull", "snapshot_on", b, len);
    free(b);

    fs_state *acc = tu_account(11, "acc-1", "Brenner Logistik");
    fs_state *con = tu_contact(11, "con-1", "acc-1", "Eva Kraus");
    fs_state *other = tu_contact(11, "con-2", "acc-bob", "Spy");
    tu_rename(acc, 12, "Brenner GmbH");
    fs_state *del = tu_account(11, "acc-2", "Gone");
    tu_delete(del, 11);
    fs_state *one[] = {acc};
    b = tu_push_body(one, 1, &len);
    put(dir, "fuzz_server_push", "account", b, len);
    free(b);
    fs_state *batch[] = {con, acc, other, del};
    b = tu_push_body(batch, 4, &len);
    put(dir, "fuzz_server_push", "batch", b, len);
    free(b);
    fs_state_free(acc);
    fs_state_free(con);
    fs_state_free(other);
    fs_state_free(del);
    return 0;
}
