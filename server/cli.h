/*
 * cli.h: the fieldsync-server command line (docs/server.md): serve and the
 * administrator's commands. Returns the process exit code.
 */
#ifndef SRV_CLI_H
#define SRV_CLI_H

/* Exit codes (docs/server.md "Exit codes"). */
#define SRV_EXIT_OK 0
#define SRV_EXIT_ERROR 1    /* the operation failed (database, network, ...) */
#define SRV_EXIT_USAGE 2    /* bad command line or configuration */
#define SRV_EXIT_NOTFOUND 3 /* unknown user, device or account */
#define SRV_EXIT_EXISTS 4   /* the user already exists */

int srv_cli_main(int argc, char **argv);

#endif
