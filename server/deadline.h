/*
 * deadline.h: the header deadline of fieldsync-server's connections.
 *
 * libmicrohttpd times a connection out only after a stretch of silence, so a
 * client that opens a connection and sends its request headers a byte at a
 * time, or a TLS handshake that never finishes, holds a connection slot for as
 * long as it likes. srv_deadline gives every request a deadline for its
 * headers, counted from the moment the connection is ready for a request (it
 * was accepted, or its previous answer went out): past it, the connection is
 * shut down and libmicrohttpd closes it as if the peer had.
 *
 * Wiring (http.c): srv_deadline_notify is MHD_OPTION_NOTIFY_CONNECTION's
 * callback; srv_deadline_request is called when a request's headers are in
 * (begun) and when the request is over (not begun).
 */
#ifndef SRV_DEADLINE_H
#define SRV_DEADLINE_H

#include <microhttpd.h>
#include <stdbool.h>

#include "fieldsync/error.h"

typedef struct srv_deadline srv_deadline;

/* Starts the watcher thread; timeout_s > 0. */
int srv_deadline_start(srv_deadline **out, unsigned timeout_s, fs_err *err);
/* Stops the thread and frees; call after the HTTP daemon stopped. NULL is a no-op. */
void srv_deadline_stop(srv_deadline *d);

/* MHD_NotifyConnectionCallback (cls: the srv_deadline). */
void srv_deadline_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                         enum MHD_ConnectionNotificationCode code);
/* The request on c has its headers (begun) or is over (the connection waits
 * for the next one, under a new deadline). */
void srv_deadline_request(srv_deadline *d, struct MHD_Connection *c, bool begun);

#endif
