/*
 * main.c: fieldsync-server's entry point; everything else is in the
 * fieldsync_server_core library (cli.c wires the parts).
 */
#include "cli.h"

int main(int argc, char **argv)
{
    return srv_cli_main(argc, argv);
}
