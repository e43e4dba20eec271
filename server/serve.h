/*
 * serve.h: `fieldsync-server serve`: opens the database and its connection
 * pool, starts the HTTP server, writes the bound port to a file if asked, and
 * runs until SIGINT or SIGTERM.
 */
#ifndef SRV_SERVE_H
#define SRV_SERVE_H

#include "http.h"

int srv_serve(const char *db_path, const srv_http_opts *opts, const char *port_file, fs_err *err);

#endif
