/*
 * gzip.c: whether a request's Accept-Encoding allows a gzip answer. The
 * compression itself is common/gzip.c.
 */
#include "gzip.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int srv_gzip_accepted(const char *accept_encoding)
{
    if (accept_encoding == NULL)
        return 0;
    const char *p = accept_encoding;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        size_t tok = strcspn(p, ",; ");
        int is_gzip = tok == 4 && strncasecmp(p, "gzip", 4) == 0;
        p += tok;
        while (*p == ' ')
            p++;
        double q = 1.0;
        if (*p == ';') {
            const char *qs = strstr(p, "q=");
            const char *next = strchr(p, ',');
            if (qs != NULL && (next == NULL || qs < next))
                q = strtod(qs + 2, NULL);
        }
        if (is_gzip && q > 0.0)
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}
