-- Schema version 7: one list of the cache files the index no longer lists, to be deleted.
-- Eviction lists a study's files in the transaction that removes its rows (version 6); a
-- re-send now lists the copy it made unreferenced (the old file when the content changed,
-- the new one when it is the same) in the transaction that acknowledges it, instead of
-- the receiver learning it by a query of its own. Deleting them is the evictor's, after
-- every commit that may have listed some and at every start.
ALTER TABLE evicted_files RENAME TO unlisted_files;
