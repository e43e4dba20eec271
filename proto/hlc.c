/*
 * hlc.c: the hybrid logical clock that timestamps local writes.
 *
 * Layout: Unix milliseconds in the top 48 bits, a logical counter in the low 16.
 * Because the two parts are adjacent bits of one integer, "advance the logical
 * counter, and when it overflows carry into the milliseconds" is plain +1, and
 * comparing timestamps is comparing integers. A clock that reached UINT64_MAX
 * (only a hostile remote timestamp can get it there) stays there rather than
 * wrap: ties are then broken by (replica, counter), which is still total.
 */
#include "fieldsync/record.h"

#define WALL_MAX ((UINT64_C(1) << (64 - FS_HLC_LOGICAL_BITS)) - 1)

uint64_t fs_hlc_now(fs_hlc *clock, uint64_t wall_ms)
{
    if (wall_ms > WALL_MAX)
        wall_ms = WALL_MAX;
    uint64_t physical = wall_ms << FS_HLC_LOGICAL_BITS;
    if (physical > clock->last)
        clock->last = physical;
    else if (clock->last != UINT64_MAX)
        clock->last++;
    return clock->last;
}

void fs_hlc_observe(fs_hlc *clock, uint64_t remote)
{
    if (remote > clock->last)
        clock->last = remote;
}

uint64_t fs_hlc_wall_ms(uint64_t hlc)
{
    return hlc >> FS_HLC_LOGICAL_BITS;
}
