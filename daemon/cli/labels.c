/*
 * labels.c: one table of the labels and column titles the CLI's reports
 * show for the socket API's machine names (labels.h). The names are those of
 * proto/fieldsync.proto's enums and of report.weekly's funnel steps
 * (docs/socket-api.md).
 */
#include "labels.h"

#include <stddef.h>
#include <string.h>

static const struct label {
    const char *name, *label;
    const char *title; /* for the names tables have as columns: the stages */
} labels[] = {
    /* the stages of an opportunity */
    {"sales_opportunity", "sales opportunity", "SALES OPP."},
    {"first_meeting_set", "first meeting set", "1ST MEETING"},
    {"pct_25", "25%", "25%"},
    {"pct_50", "50%", "50%"},
    {"pct_90", "90%", "90%"},
    {"closed", "closed", "CLOSED"},
    {"lost", "lost", "LOST"},
    /* the steps of the weekly funnel that are no stage */
    {"calls", "calls", NULL},
    {"connections", "connections", NULL},
    {"meetings", "meetings held", NULL},
    /* the funnel stages of an account */
    {"target_group", "target group", NULL},
    {"funnel_target", "target", NULL},
    {"funnel_prospect", "prospect", NULL},
    {"information", "information", NULL},
    {"lead", "lead", NULL},
    {"funnel_opportunity", "opportunity", NULL},
    {"quote", "quote", NULL},
    {"contract", "contract", NULL},
};

static const struct label *find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strcmp(labels[i].name, name) == 0)
            return &labels[i];
    return NULL;
}

const char *fs_label(const char *name)
{
    const struct label *l = find(name);
    return l != NULL ? l->label : name != NULL ? name : "";
}

const char *fs_label_title(const char *name)
{
    const struct label *l = find(name);
    return l != NULL && l->title != NULL ? l->title : fs_label(name);
}
