/*
 * fuzz_keyfile.h: what the key file fuzz target and its seed generator share.
 */
#ifndef FIELDSYNC_FUZZ_KEYFILE_H
#define FIELDSYNC_FUZZ_KEYFILE_H

/* The passphrase of the seed files (a test value, guarding test keys only). */
#define FUZZ_KEYFILE_PASS "fuzz passphrase"

#endif
