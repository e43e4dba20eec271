/*
 * json_record.h: the generic mapping between record messages and JSON
 * (json_record.c), written once over the protobuf-c descriptors for every kind.
 * The rules are those of docs/socket-api.md "Records": .proto field names,
 * enums as lower-case value names, nested messages as objects, repeated fields as
 * arrays, 64-bit integers as JSON integers, dates as checked "YYYY-MM-DD".
 */
#ifndef FS_DAEMON_JSON_RECORD_H
#define FS_DAEMON_JSON_RECORD_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "fieldsync/error.h"

/* Longest dotted field path reported for a bad field ("purchase_plan.budget.currency"). */
#define FS_JSON_FIELD_MAX 128

/* A JSON string of the text s (NUL-terminated) in which bytes that are not
 * valid UTF-8 are replaced by U+FFFD. NULL only when out of memory. */
json_t *fs_json_text(const char *s);
/* fs_json_text of s, or JSON null when s is NULL. */
json_t *fs_json_text_or_null(const char *s);

/* The JSON object of msg's present fields. NULL only when out of memory. */
json_t *fs_json_from_msg(const ProtobufCMessage *msg);
/* One present field's JSON value (NULL when absent or out of memory). */
json_t *fs_json_from_field(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);

/*
 * A partial update from obj: *out is a new message of desc (free with
 * protobuf_c_message_free_unpacked(*out, NULL)) with the fields obj sets;
 * cleared (capacity desc->n_fields) receives the numbers of top-level fields given
 * as null or as an empty array. The top-level field number 1 (`id`) is skipped.
 * A bad field: FS_EINVAL, its dotted path in field (FS_JSON_FIELD_MAX bytes) and
 * the reason in err.
 */
int fs_json_to_msg(ProtobufCMessage **out, uint32_t *cleared, size_t *ncleared,
                   const ProtobufCMessageDescriptor *desc, json_t *obj, char *field, fs_err *err);

/* "quoted" <-> value of an enum ("QUOTED"). from_name: 0 ok, -1 unknown. */
int fs_json_enum_from_name(const ProtobufCEnumDescriptor *e, const char *name, int *value);
/* The lower-case name into buf (size >= 64); NULL when value has no name. */
const char *fs_json_enum_name(const ProtobufCEnumDescriptor *e, int value, char *buf, size_t n);

/* True for "YYYY-MM-DD" naming a real calendar day. */
bool fs_json_valid_date(const char *s);
/* True when a string field of this name holds a date (`date`, `*_date`). */
bool fs_json_is_date_field(const char *name);

#endif
