/*
 * gzip.h: gzip bodies on the wire. Responses are compressed when the device
 * accepts gzip; request bodies may arrive compressed and are inflated with a
 * cap on the decompressed size (fs_gzip_decompress), so a small zip bomb cannot
 * make the server allocate more than the body limit.
 */
#ifndef SRV_GZIP_H
#define SRV_GZIP_H

#include "fieldsync/gzip.h"

/* True when an Accept-Encoding header value lists gzip with a non-zero q. */
int srv_gzip_accepted(const char *accept_encoding);

#endif
