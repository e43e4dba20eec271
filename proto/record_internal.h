/*
 * record_internal.h (private to proto/): the pieces state.c, write.c, join.c and
 * visible.c share: events viewed as lists of siblings, and state plumbing.
 */
#ifndef FS_PROTO_RECORD_INTERNAL_H
#define FS_PROTO_RECORD_INTERNAL_H

#include "fieldsync/record.h"

/*
 * One sibling held by an event, other than `alive`: field `field` either has a
 * value (all its wire-format occurrences, tags included, borrowed from the
 * event's fields) or was cleared by the write.
 */
typedef struct fs_sib {
    uint32_t field;
    bool cleared;
    const uint8_t *value;
    size_t len;
} fs_sib;

/* -1, 0, 1 by (replica, counter). */
int fs_dot_cmp(fs_dot a, fs_dot b);
/* -1, 0, 1 by (hlc, replica, counter): the order that picks the visible sibling. */
int fs_event_order(const fs_event *a, const fs_event *b);

void fs_event_clear(fs_event *ev);
int fs_event_copy(fs_event *dst, const fs_event *src);
/* True when the event holds no live sibling at all. */
bool fs_event_empty(const fs_event *ev);
/* The siblings of ev (alive excepted), ascending by field. ev must be canonical
 * (FS_ECORRUPT otherwise). *out is malloc'd. */
int fs_event_sibs(const fs_event *ev, fs_sib **out, size_t *n);
/* Sets ev's fields and cleared from sibs ascending by field (copies the bytes). */
int fs_event_set_sibs(fs_event *ev, const fs_sib *sibs, size_t n);
/* The deterministic pick between two siblings with the same field and dot that
 * disagree (only a faulty or hostile peer makes them): a clearing sorts before any
 * value, values compare as bytes, a prefix first. */
int fs_sib_cmp_value(const fs_sib *a, const fs_sib *b);

/* Flag for fs_event_set_values: the values of a stored state (record.h,
 * fs_state_decode_stored), canonical and parsing: copied as they are. */
#define FS_EVENT_STORED 0x100u
/*
 * Sets ev's sibling values from fields (wire format, any order) and cleared (any
 * order, duplicates allowed), in canonical form. Refuses (FS_ECORRUPT, *why) bad
 * wire format, field 1 unless FS_WIRE_STRIP_ID is in flags, values that do not
 * parse as desc's message, cleared numbers out of range or also set. With
 * FS_EVENT_STORED, copies both unchecked (only FS_ENOMEM can fail).
 */
int fs_event_set_values(fs_event *ev, const ProtobufCMessageDescriptor *desc, const uint8_t *fields,
                        size_t fields_len, const uint32_t *cleared, size_t ncleared, unsigned flags,
                        const char **why);

/* Longest dotted field path in a limit's message ("purchase_plan.budget."). */
#define FS_RECORD_PATH_MAX 128
/* The limits of record.h on the values of one write (wire format of desc): 0, or
 * FS_EINVAL with the field and the reason in why (validate.c). */
int fs_values_check(const ProtobufCMessageDescriptor *desc, const uint8_t *fields, size_t len,
                    char *why, size_t whylen);

void fs_events_free(fs_event *ev, size_t n);
/* Frees dst's contents and moves src's into it; src is left empty. */
void fs_state_move(fs_state *dst, fs_state *src);

#endif
