-- Schema version 6: the cache lifecycle. Studies are evicted least recently used first
-- (received or retrieved), never while protected; the files of an eviction are listed
-- in the transaction that removes their rows, so that a crash before they are deleted
-- leaves the start-up check a list of what to delete, not orphans to adopt.
ALTER TABLE studies ADD COLUMN last_used_at TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;
UPDATE studies SET last_used_at = COALESCE(
  (SELECT MAX(i.received_at) FROM instances i JOIN series se ON se.pk = i.series_pk
    WHERE se.study_pk = studies.pk), '');
CREATE INDEX IF NOT EXISTS studies_last_used ON studies(last_used_at);
CREATE INDEX IF NOT EXISTS forward_jobs_study ON forward_jobs(study_instance_uid, state);
CREATE TABLE IF NOT EXISTS evicted_files (
  path TEXT PRIMARY KEY
);
