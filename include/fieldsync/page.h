/*
 * page.h: the page cipher of the encrypted store (crypto/page.c).
 *
 * One database page (main file, WAL frame image or rollback-journal record) is
 * sealed with XChaCha20-Poly1305 under the data key. The last FS_PAGE_RESERVE_BYTES
 * bytes of every page are SQLite's reserved area: the plaintext must hold zeros
 * there, and the sealed page holds the 24-byte random nonce and the 16-byte tag.
 *
 * Page 1 is special: bytes 0-15 (SQLite's magic string) hold the database id in
 * the clear, bytes 16-23 (page size, format versions, reserve size) stay in the
 * clear so that anyone can learn the page size, but are authenticated; the rest
 * is encrypted. Opening page 1 restores "SQLite format 3\0".
 *
 * Associated data: format version, page number and database id (plus bytes 16-23
 * of page 1). Neither the file (db, WAL, journal) nor the offset is bound, so the
 * same sealed image is valid wherever the page travels; see docs/encryption.md.
 */
#ifndef FIELDSYNC_PAGE_H
#define FIELDSYNC_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "fieldsync/error.h"
#include "fieldsync/secret.h"

#define FS_PAGE_KEY_BYTES 32
#define FS_PAGE_NONCE_BYTES 24
#define FS_PAGE_TAG_BYTES 16
/* Reserved bytes every encrypted page needs: nonce + tag. */
#define FS_PAGE_RESERVE_BYTES (FS_PAGE_NONCE_BYTES + FS_PAGE_TAG_BYTES)
#define FS_PAGE_DBID_BYTES 16
/* Page 1 bytes left in the clear: database id (0-15) and header bytes 16-23. */
#define FS_PAGE1_CLEAR_BYTES 24
#define FS_PAGE_MIN_SIZE 512
#define FS_PAGE_MAX_SIZE 65536
/* On-disk format version, bound into every page's associated data. */
#define FS_PAGE_FORMAT_VERSION 1
/* SQLite's header string, which page 1 holds in memory. */
#define FS_PAGE1_MAGIC "SQLite format 3"
/* Offset of the reserve-size byte in page 1's header. */
#define FS_PAGE1_RESERVE_OFFSET 20

/* True if size is a valid SQLite page size (a power of two in 512..65536). */
int fs_page_size_valid(size_t size);

/*
 * Reads the page size and reserve size from the first bytes of page 1 (clear in
 * both plain and sealed form). len must be at least FS_PAGE1_CLEAR_BYTES.
 * FS_ECORRUPT if the page size is not valid or the reserve leaves no room.
 */
int fs_page1_header(const uint8_t *hdr, size_t len, uint32_t *page_size, uint32_t *reserve);

/*
 * Seals page number pgno (>= 1) of size page_size from in to out (which must not
 * overlap). The last FS_PAGE_RESERVE_BYTES of in must be zero (FS_EINVAL
 * otherwise: SQLite would have data there that the nonce and tag overwrite).
 * On failure out is zero-filled.
 */
int fs_page_seal(uint8_t *out, const uint8_t *in, size_t page_size, uint32_t pgno,
                 const uint8_t dbid[FS_PAGE_DBID_BYTES], const fs_secret *key);

/*
 * Verifies and decrypts page pgno in place: on success page holds the plaintext
 * with a zero reserve area (and the SQLite magic for page 1); FS_EAUTH when the
 * tag does not verify (wrong key, other database or page, damaged data), in which
 * case page is zero-filled.
 */
int fs_page_open(uint8_t *page, size_t page_size, uint32_t pgno,
                 const uint8_t dbid[FS_PAGE_DBID_BYTES], const fs_secret *key);

#endif
