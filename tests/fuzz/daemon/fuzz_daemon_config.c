/*
 * fuzz_daemon_config.c: bytes -> fieldsyncd's config file parser. Any input
 * must give 0 or FS_EINVAL with a message, never a crash, and a parsed
 * configuration must resolve and clear cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fs_config c;
    fs_config_init(&c);
    fs_err err = {0};
    int rc = fs_config_parse(&c, (const char *)data, size, "fuzz", &err);
    if (rc != 0 && (rc != FS_EINVAL || err.msg[0] == '\0'))
        abort();
    fs_env env = {.home = "/home/fuzz", .xdg_runtime_dir = "/run/user/1"};
    if (rc == 0)
        fs_config_resolve(&c, &env, &err);
    fs_config_clear(&c);
    return 0;
}
