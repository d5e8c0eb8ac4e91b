-- Schema version 5: one bad instance never stalls its destination (forward queue), and
-- the start-up check finds a directory's rows by path.
-- When the last transfer of a job was tried (whatever its outcome).
ALTER TABLE forward_jobs ADD COLUMN last_attempt_at TEXT;
-- Times the instance's own transfer failed (abort, reset, timeout) while the destination
-- otherwise worked; at forwarding.instanceAttempts the job fails.
ALTER TABLE forward_jobs ADD COLUMN suspect_count INTEGER NOT NULL DEFAULT 0;
-- A suspect job is set aside until then, so the rest of the queue flows.
ALTER TABLE forward_jobs ADD COLUMN not_before TEXT;
CREATE INDEX IF NOT EXISTS instances_path ON instances(path);
