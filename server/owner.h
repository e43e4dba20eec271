/*
 * owner.h: the server keeps an account's `owner` field equal to its territory
 * (docs/server.md, "Who owns an account").
 *
 * The territory table decides who may write an account; the `owner` field
 * inside the account's state is what every device shows and lists by, and the
 * manager's team table groups by. A device cannot know the territory (an
 * import, a typo, a reassignment made on the server), so the server writes the
 * field itself whenever the two differ: when a rep pushes the account and when
 * an administrator reassigns it.
 */
#ifndef SRV_OWNER_H
#define SRV_OWNER_H

#include <stdbool.h>

#include "fieldsync/record.h"

/*
 * When st is a visible account whose owner is not owner, writes owner into it:
 * a write of that one field by a replica id minted for it (random, as every
 * replica id; the server keeps no replica of its own) with an HLC after every
 * event of the state. A deleted account is left alone (the write would revive
 * it), as are other kinds. *stamped says whether st changed.
 */
int srv_owner_stamp(fs_state *st, const char *owner, bool *stamped, fs_err *err);

#endif
