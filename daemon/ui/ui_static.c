/*
 * ui_static.c: finds an embedded web file by path and names its type (see
 * ui_static.h). Served with X-Content-Type-Options: nosniff, so the type
 * given here is the one the browser uses.
 */
#include "ui_static.h"

#include <string.h>

const fs_ui_asset *fs_ui_asset_find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < fs_ui_nassets; i++)
        if (strcmp(path, fs_ui_assets[i].path) == 0)
            return &fs_ui_assets[i];
    return NULL;
}

const char *fs_ui_asset_type(const fs_ui_asset *a)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(a->path, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}
