/*
 * crash.h: named crash points for crash-safety tests.
 *
 * Code that must survive a crash between two steps (key file rewrites, rekey,
 * store commits) calls fs_crash_point("module.operation.step") between them. A
 * test forks a child with FIELDSYNC_CRASH_AT set to one of those names; the child
 * is killed with SIGKILL when it reaches that point, so nothing after it runs
 * (no atexit, no stdio flush, no cleanup), as in a power cut of the process.
 *
 * FIELDSYNC_CRASH_AT=name     kills at the first time name is reached;
 * FIELDSYNC_CRASH_AT=name@N   kills at the N-th time (N >= 1) name is reached.
 *
 * Unset (always, outside tests) it costs one getenv per call and does nothing.
 * Names are lower case, dot-separated, and documented beside the code that
 * calls them (see docs/keyfile.md for the key file's).
 */
#ifndef FIELDSYNC_CRASH_H
#define FIELDSYNC_CRASH_H

/* The environment variable that arms a crash point. */
#define FS_CRASH_ENV "FIELDSYNC_CRASH_AT"

/* Raises SIGKILL if FIELDSYNC_CRASH_AT names this point (and hit count). */
void fs_crash_point(const char *name);

#endif
