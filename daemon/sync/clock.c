/*
 * clock.c: the server's clock as this device sees it, and the changes that
 * wait for it.
 *
 * The server refuses a new write dated more than its --clock-skew ahead of its
 * own clock (CLOCK_AHEAD, protocol.md); the change waits as a refused outbox
 * entry. At the start of each run such entries go back to pending once the
 * server's clock has reached their date. That clock is estimated from the Date
 * header of the server's last answer (whole seconds), kept as an offset from
 * this computer's clock (the store's, which dates the writes): a laptop whose
 * clock is still wrong does not send them again at every run only to have them
 * refused. Without an answer yet (the offset lives as long as the engine), this
 * computer's clock stands in for the server's.
 */
#include "sync_int.h"

#include "fieldsync/log.h"

void fs_sync_clock_observe(fs_sync *s, const fs_http_resp *r)
{
    if (r->outcome != FS_HTTP_OK || r->date_s <= 0)
        return;
    s->clock_offset_s = r->date_s - (int64_t)(fs_store_now_ms(s->st) / 1000);
    s->clock_known = true;
}

/* The server's clock now as estimated, Unix milliseconds. */
static uint64_t server_now_ms(const fs_sync *s)
{
    int64_t now = (int64_t)fs_store_now_ms(s->st);
    if (s->clock_known)
        now += s->clock_offset_s * 1000;
    return now > 0 ? (uint64_t)now : 0;
}

int fs_sync_clock_retry(fs_sync *s, fs_err *err)
{
    size_t n = 0;
    int rc = fs_outbox_retry_clock_ahead(s->st, server_now_ms(s), &n, err);
    if (rc == 0 && n > 0)
        fs_log(FS_LOG_INFO,
               "sync: sending %zu change(s) again that the server refused as dated ahead of its "
               "clock: its clock has reached them",
               n);
    return rc;
}

int fs_sync_clock_status(const fs_sync *s, fs_sync_status *out, fs_err *err)
{
    uint64_t until = 0;
    out->clock_known = s->clock_known;
    out->clock_offset_s = s->clock_known ? s->clock_offset_s : 0;
    int rc = fs_outbox_clock_ahead(s->st, &out->clock_waiting, &until, err);
    uint64_t now = server_now_ms(s);
    if (rc == 0 && until > now)
        out->clock_wait_s = (int64_t)((until - now + 999) / 1000);
    return rc;
}
