/*
 * error.c: the error table's texts and the fs_err helpers (see error.h).
 */
#include "fieldsync/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *fs_strerror(int code)
{
    switch (code) {
#define FS_ERROR_CASE(name, value, text)                                                           \
    case value:                                                                                    \
        return text;
        FS_ERROR_TABLE(FS_ERROR_CASE)
#undef FS_ERROR_CASE
    }
    return "unknown error";
}

int fs_err_set(fs_err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void fs_err_clear(fs_err *err)
{
    if (err == NULL)
        return;
    err->code = FS_OK;
    err->msg[0] = '\0';
}

const char *fs_err_message(const fs_err *err)
{
    if (err == NULL)
        return "";
    return err->msg[0] != '\0' ? err->msg : fs_strerror(err->code);
}
