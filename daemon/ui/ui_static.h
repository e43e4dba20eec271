/*
 * ui_static.h: the UI's pages, styles and scripts (daemon/ui/web/), built into
 * the binary by embed.cmake (ui_assets.c, generated) and looked up by path
 * (ui_static.c). A fixed set: nothing on disk is ever served.
 */
#ifndef FS_UI_STATIC_H
#define FS_UI_STATIC_H

#include <stddef.h>

typedef struct fs_ui_asset {
    const char *path; /* "/app.js" */
    const unsigned char *data;
    size_t len;
} fs_ui_asset;

extern const fs_ui_asset fs_ui_assets[];
extern const size_t fs_ui_nassets;

/* The asset at path ("/" is /index.html); NULL when there is none. */
const fs_ui_asset *fs_ui_asset_find(const char *path);
/* Its Content-Type, from the name's extension. */
const char *fs_ui_asset_type(const fs_ui_asset *a);

#endif
