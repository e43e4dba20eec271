/*
 * fuzz_wire_parses.c: differential fuzz target for fs_wire_parses
 * (proto/wire_check.c), the check that a write's values parse as the record
 * kind's message. It must answer exactly as protobuf-c's
 * protobuf_c_message_unpack(desc, NULL, size, data) does, for every input and
 * every message descriptor reachable from the record kinds, from the sync
 * messages and from the test-only fstest messages (every field type, required
 * fields, a oneof). This target is what keeps the two identical: on a
 * disagreement it names the descriptor and both answers and aborts.
 *
 * fstest.Tree is left out on purpose: it nests itself, and fs_wire_parses
 * refuses nesting deeper than FS_WIRE_MAX_DEPTH where protobuf-c has no bound
 * (test_wire_parses.c pins that one difference down).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fieldsync/record.h"
#include "wire.h"
#include "wire_types.pb-c.h"

#define FUZZ_MAX_DESCRIPTORS 64

static const ProtobufCMessageDescriptor *descs[FUZZ_MAX_DESCRIPTORS];
static size_t ndescs;

/* d and every message type its fields hold, once each. */
static void fuzz_add(const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < ndescs; i++)
        if (descs[i] == d)
            return;
    if (ndescs == FUZZ_MAX_DESCRIPTORS) {
        fprintf(stderr, "fuzz_wire_parses: more than %d descriptors\n", FUZZ_MAX_DESCRIPTORS);
        abort();
    }
    descs[ndescs++] = d;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            fuzz_add(d->fields[i].descriptor);
}

static void fuzz_collect(void)
{
    const ProtobufCEnumDescriptor *kinds = &fieldsync__record_kind__descriptor;
    for (unsigned i = 0; i < kinds->n_values; i++) {
        const ProtobufCMessageDescriptor *d = fs_kind_descriptor(kinds->values[i].value);
        if (d != NULL)
            fuzz_add(d);
    }
    fuzz_add(&fieldsync__push_request__descriptor);
    fuzz_add(&fieldsync__push_response__descriptor);
    fuzz_add(&fieldsync__pull_response__descriptor);
    fuzz_add(&fstest__all_types__descriptor);
    fuzz_add(&fstest__required__descriptor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ndescs == 0)
        fuzz_collect();
    for (size_t i = 0; i < ndescs; i++) {
        ProtobufCMessage *m = protobuf_c_message_unpack(descs[i], NULL, size, data);
        bool unpacked = m != NULL, parses = fs_wire_parses(descs[i], data, size);
        protobuf_c_message_free_unpacked(m, NULL);
        if (unpacked != parses) {
            fprintf(stderr,
                    "fuzz_wire_parses: %s: protobuf-c unpack %s but fs_wire_parses %s "
                    "(%zu bytes)\n",
                    descs[i]->name, unpacked ? "accepts" : "refuses",
                    parses ? "accepts" : "refuses", size);
            abort();
        }
    }
    return 0;
}
