/*
 * maintain.c: work that SQLite would otherwise do inside a commit, moved to when
 * the owner is idle (store.h "Maintenance").
 *
 * Two things make an occasional write slow: the WAL checkpoint, which SQLite
 * runs inside the commit that passes wal_autocheckpoint (and which pays the
 * database fsync), and FTS5's automatic segment merges, which run inside the
 * insert that completes a level (and grow with the index: with 100,000 notes a
 * merge took 100-200 ms). A deferring owner hands checkpoints to a thread of
 * their own (checkpoint.c), turns FTS automerge off (crisismerge still bounds
 * the segment count), and calls fs_store_maintain when writes pause: one
 * bounded merge step, a checkpoint asked of that thread, and the page cache's
 * memory handed back, so a large working cache costs memory only while the
 * owner works. The owner goes on calling it while it says there is more:
 * records waiting for their search rows, or a merge step that did work. Indexing a pulled book
 * leaves segments at every step; they are merged once the last record is indexed, not as they
 * come; left unmerged, the next writes paid for merging them (a catch-up of 100 changes right
 * after a 100,000-record pull took 0.10 s instead of 0.02).
 */
#include "store_int.h"

#include <stdio.h>

/* Pages of FTS5 merge work one maintenance step may do (about 2 MiB). */
#define FS_STORE_FTS_MERGE_PAGES 500
/* FTS5's own automerge default, restored when maintenance is no longer deferred. */
#define FS_STORE_FTS_AUTOMERGE 4
/* FTS5's crisis merge: an insert that leaves this many segments on a level
 * merges them (FTS5's default). */
#define FS_STORE_FTS_CRISIS 16
/* ... while a search backlog is indexed and merged: each step leaves segments,
 * and merging them as they came redid the work at every level (a fifth of
 * indexing a pulled book); they are merged once, after the last record. */
#define FS_STORE_FTS_CRISIS_BACKLOG 64

/* The connection's wal_autocheckpoint setting (SQLite's default when unreadable). */
static int autocheckpoint_limit(fs_store *st)
{
    sqlite3_stmt *s = NULL;
    int pages = 1000;
    if (sqlite3_prepare_v2(st->db, "PRAGMA wal_autocheckpoint", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        pages = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return pages;
}

/* Sets one of FTS5's options (stored in the index's config table). */
static int set_fts_option(fs_store *st, const char *name, int value, fs_err *err)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "INSERT INTO search(search, rank) VALUES('%s', %d)", name, value);
    return fs_store_exec(st, sql, err);
}

/* Raises or restores the crisis merge level (a crash may have left it raised). */
static int set_fts_crisis(fs_store *st, bool raised, fs_err *err)
{
    int rc = set_fts_option(st, "crisismerge",
                            raised ? FS_STORE_FTS_CRISIS_BACKLOG : FS_STORE_FTS_CRISIS, err);
    if (rc == 0)
        st->fts_crisis_raised = raised;
    return rc;
}

int fs_store_apply_maintenance_mode(fs_store *st, fs_err *err)
{
    if (!st->defer_maintenance || st->db == NULL)
        return 0;
    int rc = fs_store_ckpt_start(st, err);
    if (rc == 0)
        rc = set_fts_crisis(st, false, err);
    return rc == 0 ? set_fts_option(st, "automerge", 0, err) : rc;
}

int fs_store_defer_maintenance(fs_store *st, bool defer, fs_err *err)
{
    if (st->db == NULL)
        return fs_err_set(err, FS_ESTATE, "%s is not open: close the store and open it again",
                          st->path);
    if (defer && !st->defer_maintenance)
        st->autocheckpoint_pages = autocheckpoint_limit(st);
    st->defer_maintenance = defer;
    if (defer)
        return fs_store_apply_maintenance_mode(st, err);
    fs_store_ckpt_stop(st);
    sqlite3_wal_autocheckpoint(st->db, st->autocheckpoint_pages);
    int rc = set_fts_crisis(st, false, err);
    return rc == 0 ? set_fts_option(st, "automerge", FS_STORE_FTS_AUTOMERGE, err) : rc;
}

/* One bounded FTS5 merge step; *merged says whether it did any work. FTS5's
 * documentation: a 'merge' that changes sqlite3_total_changes() by less than
 * 2 was a no-op, so the index has nothing left to merge at that size. */
static int fts_merge_step(fs_store *st, bool *merged, fs_err *err)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "INSERT INTO search(search, rank) VALUES('merge', %d)",
             FS_STORE_FTS_MERGE_PAGES);
    sqlite3_int64 before = sqlite3_total_changes64(st->db);
    int rc = fs_store_exec(st, sql, err);
    *merged = rc == 0 && sqlite3_total_changes64(st->db) - before >= 2;
    return rc;
}

/* Whether any record waits for its search row, not how many (a count reads
 * them all). */
static int search_waits(fs_store *st, bool *waits, fs_err *err)
{
    return fs_store_has_row(st, "SELECT 1 FROM search_backlog LIMIT 1", 0, waits,
                            "reading the search backlog", err);
}

int fs_store_maintain(fs_store *st, bool *more, fs_err *err)
{
    if (more != NULL)
        *more = false;
    if (st->db == NULL)
        return fs_err_set(err, FS_ESTATE, "%s is not open: close the store and open it again",
                          st->path);
    bool merged = false, backlog = false;
    int rc = fs_store_load_flush(st, err); /* the checkpoint must see it committed */
    if (rc == 0)
        rc = search_waits(st, &backlog, err);
    if (rc == 0 && backlog && st->defer_maintenance && !st->fts_crisis_raised)
        rc = set_fts_crisis(st, true, err);
    if (rc == 0 && backlog)
        rc = fs_store_index_backlog(st, FS_STORE_SEARCH_STEP, err);
    if (rc == 0 && backlog)
        rc = search_waits(st, &backlog, err);
    /* records first: a merge makes none of them findable */
    if (rc == 0 && !backlog)
        rc = fts_merge_step(st, &merged, err);
    /* merged to the end: the next write's crisis merge guards the level again */
    if (rc == 0 && !backlog && !merged && st->fts_crisis_raised)
        rc = set_fts_crisis(st, false, err);
    if (rc != 0)
        return rc;
    if (more != NULL)
        *more = backlog || merged;
    /* idle: the WAL is copied in, and the next write starts it again from its
     * first frame; a deferring owner's thread does it, this one goes on */
    if (st->ckpt != NULL) {
        fs_store_ckpt_wake(st);
    } else {
        rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK)
            return fs_store_sqlerr(st, rc, err, "checkpoint");
    }
    /* idle: the page cache's memory goes back to the heap; the cache refills
     * from the next reads */
    sqlite3_db_release_memory(st->db);
    return 0;
}

int fs_store_set_cache_kib(fs_store *st, unsigned kib, fs_err *err)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%u", kib);
    return fs_store_exec(st, sql, err);
}
