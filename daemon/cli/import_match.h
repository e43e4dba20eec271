/*
 * import_match.h: which existing record an imported row is (import_match.c),
 * so importing the same CSV twice updates the records instead of making
 * duplicates.
 *
 * A row without an id is matched on its kind's key, compared without regard
 * to ASCII case: an account on its name; a contact on its account and name; a
 * visit on its account and planned time; an opportunity on its account and
 * title; a transaction on its account, date and amount. A row that lacks a
 * key field (other than the account) matches nothing. The
 * candidates are the kind's records under the row's account (or all of the
 * kind when the key has no account or the row names none), listed from the
 * daemon once per account and kept for the rest of the import, together with
 * the records the import itself creates.
 */
#ifndef FS_CLI_IMPORT_MATCH_H
#define FS_CLI_IMPORT_MATCH_H

#include <jansson.h>
#include <stddef.h>

#include "cli.h"
#include "fields.h"

typedef struct fs_import_match fs_import_match;

/* NULL when out of memory. fields: the kind's (borrowed for the matcher's life). */
fs_import_match *fs_import_match_new(fs_cli *cli, const fs_fields *fields);
void fs_import_match_free(fs_import_match *m);

/* The key's fields, for messages ("name", "account_id, title"). */
const char *fs_import_match_key(const fs_import_match *m);

/*
 * The existing records record (a row's fields, JSON form) is: *n of them
 * (0: a new record; 1: *id names it, borrowed; more: ambiguous). 0, or an exit
 * code when the daemon could not list the candidates (error printed).
 */
int fs_import_match_find(fs_import_match *m, const json_t *record, const char **id, size_t *n);
/* Adds a record the import created under id, so later rows match it. */
int fs_import_match_add(fs_import_match *m, const char *id, const json_t *record);

#endif
