/*
 * labels.h: the words a rep reads for the socket API's machine names in the
 * CLI's tables (labels.c): pipeline stages ("first_meeting_set" -> "first
 * meeting set"), the weekly funnel's steps ("meetings" -> "meetings held") and
 * the accounts' funnel stages ("funnel_target" -> "target"). `--json` keeps
 * the machine names; the web UI has its own table (ui/web/format.js).
 */
#ifndef FS_CLI_LABELS_H
#define FS_CLI_LABELS_H

/* The label of a machine name; a name the table does not know (a newer
 * daemon's) is returned as it is, and NULL as "". */
const char *fs_label(const char *name);
/* A stage's column title: upper case, short where the label is long
 * ("SALES OPP.", "1ST MEETING"); for other names, their label. */
const char *fs_label_title(const char *name);

#endif
