/*
 * kinds.c: the record kinds, mapped to their protobuf-c descriptors and their
 * names. The one table every kind-generic function looks kinds up in: adding a
 * record kind (docs/schema-evolution.md) adds a line here.
 */
#include <string.h>

#include "fieldsync/record.h"

static const struct {
    fs_kind kind;
    const char *name;
    const ProtobufCMessageDescriptor *desc;
} kinds[] = {
    {FIELDSYNC__RECORD_KIND__ACCOUNT, "account", &fieldsync__account__descriptor},
    {FIELDSYNC__RECORD_KIND__CONTACT, "contact", &fieldsync__contact__descriptor},
    {FIELDSYNC__RECORD_KIND__VISIT, "visit", &fieldsync__visit__descriptor},
    {FIELDSYNC__RECORD_KIND__OPPORTUNITY, "opportunity", &fieldsync__opportunity__descriptor},
    {FIELDSYNC__RECORD_KIND__TRANSACTION, "transaction", &fieldsync__transaction__descriptor},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const ProtobufCMessageDescriptor *fs_kind_descriptor(fs_kind kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].desc;
    return NULL;
}

const char *fs_kind_name(fs_kind kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return NULL;
}

fs_kind fs_kind_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return kinds[i].kind;
    return 0;
}
