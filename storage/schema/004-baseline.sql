-- Schema version 4, the baseline: the cache index (patients -> studies -> series ->
-- instances, PS3.4 C.6.1), the forward queue, storage commitments. A new index is created
-- from this file and then upgraded by the numbered files after it; an index older than
-- version 4 is brought to it by storage/migrations.ts. Only the modules of storage/ that
-- are named after these tables read or write them.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS patients (
  pk                 INTEGER PRIMARY KEY,
  patient_id         TEXT NOT NULL UNIQUE,
  patient_name       TEXT NOT NULL DEFAULT '',
  patient_birth_date TEXT NOT NULL DEFAULT '',
  patient_sex        TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS studies (
  pk                       INTEGER PRIMARY KEY,
  patient_pk               INTEGER NOT NULL REFERENCES patients(pk),
  study_instance_uid       TEXT NOT NULL UNIQUE,
  study_date               TEXT NOT NULL DEFAULT '',
  study_time               TEXT NOT NULL DEFAULT '',
  accession_number         TEXT NOT NULL DEFAULT '',
  study_id                 TEXT NOT NULL DEFAULT '',
  study_description        TEXT NOT NULL DEFAULT '',
  referring_physician_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS studies_patient ON studies(patient_pk);

CREATE TABLE IF NOT EXISTS series (
  pk                  INTEGER PRIMARY KEY,
  study_pk            INTEGER NOT NULL REFERENCES studies(pk),
  series_instance_uid TEXT NOT NULL UNIQUE,
  modality            TEXT NOT NULL DEFAULT '',
  series_number       TEXT NOT NULL DEFAULT '',
  series_description  TEXT NOT NULL DEFAULT '',
  series_date         TEXT NOT NULL DEFAULT '',
  series_time         TEXT NOT NULL DEFAULT '',
  body_part_examined  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS series_study ON series(study_pk);

CREATE TABLE IF NOT EXISTS instances (
  pk                     INTEGER PRIMARY KEY,
  series_pk              INTEGER NOT NULL REFERENCES series(pk),
  sop_instance_uid       TEXT NOT NULL UNIQUE,
  sop_class_uid          TEXT NOT NULL,
  instance_number        TEXT NOT NULL DEFAULT '',
  number_of_frames       TEXT NOT NULL DEFAULT '',
  specific_character_set TEXT NOT NULL DEFAULT '',
  transfer_syntax_uid    TEXT NOT NULL,
  -- Relative to the storage directory; the data set starts at dataset_offset.
  path                   TEXT NOT NULL,
  size                   INTEGER NOT NULL,
  dataset_offset         INTEGER NOT NULL,
  received_at            TEXT NOT NULL,
  calling_ae             TEXT NOT NULL DEFAULT '',
  -- SHA-256 of the data set bytes: an identical re-send is recognised and not forwarded again.
  digest                 TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS instances_series ON instances(series_pk);

-- One forward job per (instance, destination node), written in the same transaction as
-- the instance row, so an acknowledged instance always has its jobs. Jobs are never
-- deleted: 'done' and 'failed' stay visible; 'failed' can be requeued by command.
CREATE TABLE IF NOT EXISTS forward_jobs (
  pk                 INTEGER PRIMARY KEY,
  sop_instance_uid   TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  destination        TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('queued', 'done', 'failed')),
  queued_at          TEXT NOT NULL,
  attempts           INTEGER NOT NULL DEFAULT 0,
  last_status        INTEGER,
  last_error         TEXT,
  finished_at        TEXT,
  -- Storage commitment asked of the destination after delivery ("requestCommit").
  commit_state       TEXT CHECK (commit_state IN ('requested', 'committed', 'failed')),
  commit_transaction TEXT,
  commit_reason      INTEGER,
  UNIQUE (sop_instance_uid, destination)
);
CREATE INDEX IF NOT EXISTS forward_jobs_queue ON forward_jobs(destination, state, study_instance_uid, queued_at);

-- Storage Commitment Push Model (PS3.4 Annex J): each N-ACTION request is a transaction
-- with its referenced instances; it is reported (N-EVENT-REPORT) once every item is
-- decided or its deadline passes. Kept across restarts.
CREATE TABLE IF NOT EXISTS commitments (
  pk               INTEGER PRIMARY KEY,
  transaction_uid  TEXT NOT NULL UNIQUE,
  requester_ae     TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('pending', 'reported')),
  created_at       TEXT NOT NULL,
  deadline         TEXT NOT NULL,
  reported_at      TEXT,
  event_type       INTEGER
);

CREATE TABLE IF NOT EXISTS commitment_items (
  pk               INTEGER PRIMARY KEY,
  commitment_pk    INTEGER NOT NULL REFERENCES commitments(pk),
  sop_class_uid    TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS commitment_items_commitment ON commitment_items(commitment_pk);

-- Storage commitment reports received from peers (for the `commit` command's requests,
-- which a peer may report to the box's listener rather than on the requesting association).
CREATE TABLE IF NOT EXISTS commit_reports (
  transaction_uid TEXT PRIMARY KEY,
  received_at     TEXT NOT NULL,
  peer            TEXT NOT NULL,
  report          TEXT NOT NULL -- JSON: { committed: [uid], failed: [{ sopInstanceUid, reason }] }
);
