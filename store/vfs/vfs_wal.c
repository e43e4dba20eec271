/*
 * vfs_wal.c: I/O on the WAL file of an encrypted database.
 *
 * WAL layout: a 32-byte header, then frames of a 24-byte header (page number,
 * commit size, salts, checksums) and one page image. Headers pass through in
 * the clear; page images are sealed like database pages (same associated data,
 * no salts: SQLite writes frames with zero salts during a cache spill and
 * rewrites the headers at commit, see docs/encryption.md).
 *
 * Writes: SQLite writes a frame as its header, then the page image at
 * frame + 24; the header just written names the page. When a page changes again
 * after a cache spill wrote it in the open transaction, SQLite rewrites only the
 * image in place (and the headers' checksums at commit): the page number is then
 * read from the frame header already in the file. Anything else (a page split in
 * two, as without POWERSAFE_OVERWRITE, a write off the frame grid) is refused: it
 * could not be sealed and must never go out in the clear.
 * Reads come as the image alone (frame + 24: lookups and checkpoints) or as the
 * whole frame (recovery, checksum rewrites); both are read as the whole frame so
 * the page number comes with the same system call. Within a checkpoint's copy
 * loop the image goes out sealed, to be written to the database as it is
 * (vfs_main.c explains why that is safe).
 *
 * Where the log ends (docs/encryption.md gives the argument against wal.c): a
 * process killed between a frame's header write and its image write leaves a
 * new header over an old image (after a WAL restart, the previous generation's
 * frame at that place), which fails authentication. Recovery reads the WAL
 * header, then whole frames in order until one is invalid; a frame after the
 * last commit is not part of the log. So while recovery scans (whole-frame reads
 * since the header read, nothing else in between: the checksum rewrite at commit
 * always follows frame writes) a frame that fails authentication is handed to
 * SQLite as zeros, which it takes for the end of the log, unless the frames
 * after it continue its checksum chain up to a commit frame. Anywhere else,
 * including such a frame with a commit after it and every image-only read of a
 * frame SQLite has accepted, failing authentication is an error naming the page.
 */
#include "vfs_internal.h"

#include <string.h>

#include <sodium.h>

#include "fieldsync/crash.h"

/* The WAL's page size, from its header (read once if we did not see it). */
static uint32_t wal_page_size(fs_vfs_file *f)
{
    if (f->wal_page_size == 0) {
        uint8_t hdr[FS_WAL_HDR_BYTES];
        if (fs_vfs_raw_read(f, hdr, sizeof(hdr), 0) == SQLITE_OK &&
            fs_page_size_valid(fs_vfs_get32(hdr + 8)))
            f->wal_page_size = fs_vfs_get32(hdr + 8);
    }
    return f->wal_page_size;
}

/* Frame-relative position of off: 0 at a frame header, FS_WAL_FRAME_HDR_BYTES at
 * a page image, anything else inside one; -1 inside the WAL header. */
static sqlite3_int64 frame_pos(uint32_t psz, sqlite3_int64 off)
{
    if (off < FS_WAL_HDR_BYTES || psz == 0)
        return -1;
    return (off - FS_WAL_HDR_BYTES) % (psz + FS_WAL_FRAME_HDR_BYTES);
}

/* The main file's checkpoint slot sized for psz; NULL without memory. */
static uint8_t *checkpoint_slot(fs_vfs_file *db, uint32_t psz)
{
    db->ck_pgno = 0;
    if (db->ck_size != psz) {
        sqlite3_free(db->ck_sealed);
        db->ck_sealed = sqlite3_malloc64(psz);
        db->ck_size = db->ck_sealed != NULL ? psz : 0;
    }
    return db->ck_sealed;
}

/* During a checkpoint's copy loop (see vfs_main.c): the page image goes out
 * sealed, as it is in the WAL, and is remembered for the database write. */
static int checkpoint_read(fs_vfs_file *f, uint8_t *buf, const uint8_t *frame, uint32_t psz)
{
    uint8_t *slot = checkpoint_slot(f->db, psz);
    if (slot == NULL)
        return -1; /* no memory: decrypt as usual */
    memcpy(slot, frame + FS_WAL_FRAME_HDR_BYTES, psz);
    memcpy(buf, slot, psz);
    f->db->ck_pgno = fs_vfs_get32(frame);
    return 0;
}

/* A 32-bit word of the WAL in the byte order its header's magic names. */
static uint32_t wal_word(const uint8_t *p, int big_endian)
{
    return big_endian
               ? fs_vfs_get32(p)
               : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* SQLite's WAL checksum (wal.c, walChecksumBytes) of n bytes, n a multiple of 8,
 * carried on from sum. */
static void wal_checksum(const uint8_t *p, size_t n, int big_endian, uint32_t sum[2])
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        sum[0] += wal_word(p + i, big_endian) + sum[1];
        sum[1] += wal_word(p + i + 4, big_endian) + sum[0];
    }
}

/*
 * Whether SQLite would reach a commit frame after the frame at off, had that
 * frame been what its header says: from its stored checksum on, each next frame
 * must carry the header's salts and a page number, open, and continue the
 * checksum chain (walDecodeFrame), up to a frame with a commit size. Frames
 * left from an earlier transaction that never committed break the chain, so a
 * commit frame among them does not count. Unsure (I/O, memory) counts as yes:
 * fail rather than drop.
 */
static int commit_follows(fs_vfs_file *f, sqlite3_int64 off, const uint8_t *frame,
                          const uint8_t *wal_hdr)
{
    uint32_t psz = f->wal_page_size, step = psz + FS_WAL_FRAME_HDR_BYTES;
    uint32_t sum[2] = {fs_vfs_get32(frame + 16), fs_vfs_get32(frame + 20)};
    int big_endian = (int)(fs_vfs_get32(wal_hdr) & 1), found = 0;
    sqlite3_int64 size = 0;
    uint8_t *next = sqlite3_malloc64(step);
    if (next == NULL || f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) {
        sqlite3_free(next);
        return 1;
    }
    for (off += step; off + step <= size; off += step) {
        if (fs_vfs_raw_read(f, next, (int)step, off) != SQLITE_OK) {
            found = 1;
            break;
        }
        uint8_t *image = next + FS_WAL_FRAME_HDR_BYTES;
        if (memcmp(next + 8, wal_hdr + 16, 8) != 0 || fs_vfs_get32(next) == 0 ||
            fs_vfs_open_page(f, fs_vfs_get32(next), image, (int)psz) != 0)
            break;
        wal_checksum(next, 8, big_endian, sum);
        wal_checksum(image, psz, big_endian, sum);
        if (sum[0] != fs_vfs_get32(next + 16) || sum[1] != fs_vfs_get32(next + 20))
            break;
        if (fs_vfs_get32(next + 4) != 0) {
            found = 1;
            break;
        }
    }
    sodium_memzero(next, step); /* the pages opened, in the clear */
    sqlite3_free(next);
    return found;
}

/* During recovery: whether the frame at off, whose image failed authentication,
 * lies after the WAL's last commit (see the file comment). */
static int after_last_commit(fs_vfs_file *f, const uint8_t *frame, sqlite3_int64 off)
{
    uint8_t hdr[FS_WAL_HDR_BYTES];
    if (fs_vfs_raw_read(f, hdr, sizeof(hdr), 0) != SQLITE_OK)
        return 0;
    if (memcmp(frame + 8, hdr + 16, 8) != 0)
        return 1; /* another generation's salts: SQLite ends the log here anyway */
    return !commit_follows(f, off, frame, hdr);
}

/* Reads the frame at frame_off whole, opens its image, copies what was asked. */
static int read_frame(fs_vfs_file *f, uint8_t *buf, int amt, sqlite3_int64 frame_off,
                      int with_header)
{
    uint32_t psz = f->wal_page_size;
    uint8_t *frame = fs_vfs_scratch(f, psz + FS_WAL_FRAME_HDR_BYTES);
    if (frame == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = fs_vfs_raw_read(f, frame, (int)psz + FS_WAL_FRAME_HDR_BYTES, frame_off);
    if (rc != SQLITE_OK) {
        memset(buf, 0, (size_t)amt);
        return rc;
    }
    if (!with_header && f->db->in_checkpoint && checkpoint_read(f, buf, frame, psz) == 0)
        return SQLITE_OK;
    uint8_t *image = frame + FS_WAL_FRAME_HDR_BYTES;
    uint32_t pgno = fs_vfs_get32(frame);
    if (fs_vfs_open_page(f, pgno, image, (int)psz) != 0) {
        memset(buf, 0, (size_t)amt);
        if (with_header && f->wal_scan && after_last_commit(f, frame, frame_off))
            return SQLITE_OK; /* an all-zero frame: SQLite's recovery stops before it */
        return fs_vfs_auth_failed(f, pgno);
    }
    memcpy(buf, with_header ? frame : image, (size_t)amt);
    return SQLITE_OK;
}

int fs_vfs_wal_read(fs_vfs_file *f, void *buf, int amt, sqlite3_int64 off)
{
    int scan = f->wal_scan;
    f->wal_scan = 0;
    if (off == 0 && amt == FS_WAL_HDR_BYTES) {
        int rc = fs_vfs_raw_read(f, buf, amt, off);
        uint32_t psz = fs_vfs_get32((uint8_t *)buf + 8);
        if (rc == SQLITE_OK && fs_page_size_valid(psz))
            f->wal_page_size = psz;
        f->wal_scan = rc == SQLITE_OK; /* recovery reads the frames next */
        return rc;
    }
    /* within the WAL header or a frame header, which are clear (the checksum
     * rewrite at commit reads the previous frame's checksums: 8 bytes at +16) */
    if (off + amt <= FS_WAL_HDR_BYTES)
        return fs_vfs_raw_read(f, buf, amt, off);
    uint32_t psz = wal_page_size(f);
    sqlite3_int64 pos = frame_pos(psz, off);
    if (pos >= 0 && pos + amt <= FS_WAL_FRAME_HDR_BYTES)
        return fs_vfs_raw_read(f, buf, amt, off);
    if (pos == 0 && (uint32_t)amt == psz + FS_WAL_FRAME_HDR_BYTES) {
        f->wal_scan = scan;
        return read_frame(f, buf, amt, off, 1);
    }
    if (pos == FS_WAL_FRAME_HDR_BYTES && (uint32_t)amt == psz)
        return read_frame(f, buf, amt, off - FS_WAL_FRAME_HDR_BYTES, 0);
    memset(buf, 0, (size_t)amt);
    return fs_vfs_fail(f->db, SQLITE_IOERR_READ,
                       "refused a read of %d bytes at offset %lld of %s: not a WAL header, "
                       "frame or page image",
                       amt, (long long)off, f->name);
}

static int refuse_write(fs_vfs_file *f, int amt, sqlite3_int64 off)
{
    f->prev_amt = 0;
    return fs_vfs_fail(f->db, SQLITE_IOERR_WRITE,
                       "refused a write of %d bytes at offset %lld of %s: not a whole WAL "
                       "frame header or page image (it would go out in the clear)",
                       amt, (long long)off, f->name);
}

int fs_vfs_wal_write(fs_vfs_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    const uint8_t *in = buf;
    f->wal_scan = 0;
    if (off == 0 && amt == FS_WAL_HDR_BYTES) {
        uint32_t psz = fs_vfs_get32(in + 8);
        if (!fs_page_size_valid(psz))
            return refuse_write(f, amt, off);
        f->wal_page_size = psz;
        f->prev_amt = 0;
        return fs_vfs_raw_write(f, buf, amt, off);
    }
    uint32_t psz = wal_page_size(f);
    sqlite3_int64 pos = frame_pos(psz, off);
    if (pos == 0 && amt == FS_WAL_FRAME_HDR_BYTES) {
        f->prev_off = off;
        f->prev_amt = amt;
        f->prev_pgno = fs_vfs_get32(in);
        int rc = fs_vfs_raw_write(f, buf, amt, off);
        /* tests: killed here, the frame's image is never written */
        fs_crash_point("store.vfs.wal_frame_header");
        return rc;
    }
    if (pos != FS_WAL_FRAME_HDR_BYTES || (uint32_t)amt != psz)
        return refuse_write(f, amt, off);
    uint32_t pgno = f->prev_pgno;
    if (f->prev_amt != FS_WAL_FRAME_HDR_BYTES || f->prev_off != off - FS_WAL_FRAME_HDR_BYTES) {
        /* a frame of the open transaction rewritten in place (the page changed
         * again after a cache spill): its header is already in the file */
        uint8_t hdr[FS_WAL_FRAME_HDR_BYTES];
        if (fs_vfs_raw_read(f, hdr, sizeof(hdr), off - FS_WAL_FRAME_HDR_BYTES) != SQLITE_OK ||
            (pgno = fs_vfs_get32(hdr)) == 0)
            return refuse_write(f, amt, off);
    }
    f->prev_amt = 0;
    uint8_t *out = fs_vfs_scratch(f, psz);
    if (out == NULL)
        return SQLITE_IOERR_NOMEM;
    int rc = fs_vfs_seal(f, pgno, in, amt, out);
    if (rc != SQLITE_OK)
        return rc;
    return fs_vfs_raw_write(f, out, amt, off);
}
