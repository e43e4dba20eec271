/*
 * fields.h: what a record kind's fields look like on the command line and in
 * CSV (fields.c), derived once from the protobuf-c descriptors so every kind
 * gets the same treatment and a field added to the .proto appears without
 * touching the CLI.
 *
 * A "leaf" is one settable thing: a scalar field, reached through singular
 * nested messages ("address.city"), a Money value ("amount", written
 * "1250.00 EUR"), a repeated scalar ("tags", one value per flag or ';'-separated
 * in CSV), the phones list ("phone", "mobile", "fax": [KIND:]NUMBER), or another
 * repeated message as a JSON array ("competitors"). Each leaf has its dotted
 * path, a flag name (path with '-': "address-city") and, when the last part of
 * the path is unambiguous, a short alias ("city"). Names match with '-', '_',
 * ' ' and case ignored, so CSV headers like "Postal Code" work.
 */
#ifndef FS_CLI_FIELDS_H
#define FS_CLI_FIELDS_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum fs_leaf_type {
    FS_LEAF_STRING,
    FS_LEAF_DATE, /* string "YYYY-MM-DD" (fields `date`, `*_date`) */
    FS_LEAF_INT,
    FS_LEAF_UINT,
    FS_LEAF_TIME, /* int64 Unix seconds (fields `*_at`) */
    FS_LEAF_BOOL,
    FS_LEAF_ENUM,
    FS_LEAF_MONEY,
    FS_LEAF_PHONES,
    FS_LEAF_JSON, /* repeated message other than phones: a JSON array */
} fs_leaf_type;

#define FS_LEAF_NAME_MAX 96
#define FS_FIELDS_MAX 64

typedef struct fs_leaf {
    char path[FS_LEAF_NAME_MAX];  /* "address.city" */
    char flag[FS_LEAF_NAME_MAX];  /* "address-city" */
    char alias[FS_LEAF_NAME_MAX]; /* "city", or "" */
    char help[320];
    fs_leaf_type type;
    bool repeated;          /* values accumulate into an array */
    bool csv;               /* a column of CSV export */
    const char *phone_kind; /* FS_LEAF_PHONES: default kind ("office") */
    const ProtobufCFieldDescriptor *fd;
} fs_leaf;

typedef struct fs_kind_info {
    const char *name;   /* "account": the socket API's kind */
    const char *plural; /* "accounts": the command */
    const ProtobufCMessageDescriptor *desc;
} fs_kind_info;

typedef struct fs_fields {
    const fs_kind_info *kind;
    fs_leaf leaves[FS_FIELDS_MAX];
    size_t n;
} fs_fields;

/* The five kinds, and lookup by singular or plural name (NULL when unknown). */
extern const fs_kind_info fs_kinds[];
extern const size_t fs_nkinds;
const fs_kind_info *fs_kind_find(const char *name);

/* Collects kind's leaves. 0, or -1 if the schema has more than FS_FIELDS_MAX. */
int fs_fields_init(fs_fields *f, const fs_kind_info *kind);
/* The leaf named name (path, flag or alias), or NULL. */
const fs_leaf *fs_fields_find(const fs_fields *f, const char *name);

/*
 * Converts text to the leaf's JSON value: *out is a new reference. For
 * repeated leaves (and phones) it is an array of the elements in text (split at
 * ';' when split is true, else one element). -1 with a one-sentence reason in
 * why ("tier: \"hot\" is not one of quoted, ...") when text does not fit.
 */
int fs_fields_convert(const fs_leaf *l, const char *text, bool split, json_t **out, char *why,
                      size_t whylen);
/* Sets value (stolen) at l's path in record; arrays append to repeated leaves. */
int fs_fields_apply(json_t *record, const fs_leaf *l, json_t *value);

/* The text form of the value at l's path in record (the inverse of convert with
 * split): malloc'd, NULL when absent. */
char *fs_fields_format(const fs_leaf *l, const json_t *record);

/* The value at a dotted path (borrowed), or NULL. */
json_t *fs_json_path(const json_t *obj, const char *path);

/* json_dumps into malloc'd memory (json_dumps' own result belongs to jansson's
 * allocator, which the CLI replaces with a wiping one). NULL on failure. */
char *fs_json_dump(const json_t *v, size_t flags);

/* Money: "1250.00 EUR" <-> {"minor_units":125000,"currency":"EUR"}. */
int fs_money_parse(const char *text, json_t **out);
char *fs_money_format(const json_t *money);

/* Dates: "YYYY-MM-DD" (a real day), "today", "tomorrow", "+N" days, these in
 * the local time zone (calendar.h). out >= 11. */
int fs_date_parse(const char *text, char *out);
/* Instants: Unix seconds, or "YYYY-MM-DD[ HH:MM[:SS]]" ("T" allowed) in the
 * local time zone, or in the zone that follows: "Z" or "UTC", "+HH:MM", or the
 * local zone's abbreviation as fs_cli_time shows it ("CET", "CEST"). */
int fs_time_parse(const char *text, long long *out);

#endif
