/*
 * records.h: what the record commands share (commands_records.c holds show,
 * add, edit, rm and the dispatch; commands_list.c holds list): the command's
 * kind, its fields and its option table, built at run time from the kind's
 * descriptor.
 */
#ifndef FS_CLI_RECORDS_H
#define FS_CLI_RECORDS_H

#include "cli.h"
#include "fields.h"

#define FS_RECORD_MAX_OPTS (FS_FIELDS_MAX * 2 + 24)

typedef struct fs_kind_cmd {
    fs_cli *cli;
    const fs_kind_info *kind;
    fs_fields fields;
    fs_opt opts[FS_RECORD_MAX_OPTS];
    int leaf_of[FS_RECORD_MAX_OPTS]; /* leaf index of a field flag, -1 otherwise */
    char alias_help[FS_FIELDS_MAX][FS_LEAF_NAME_MAX + 340];
    size_t nopts;
} fs_kind_cmd;

/* Appends an option (leaf: the field it sets, or -1). */
void fs_kind_cmd_add_opt(fs_kind_cmd *kc, const char *name, fs_opt_kind k, const char *meta,
                         const char *help, int leaf);
/* Appends the global options the table does not define yet. */
void fs_kind_cmd_add_globals(fs_kind_cmd *kc);

/* `KIND list` (commands_list.c). */
int fs_kind_cmd_list(fs_kind_cmd *kc, int argc, char **argv);

#endif
