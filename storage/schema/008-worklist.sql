-- Schema version 8: the modality worklist (issue 29). The box keeps a copy of what the
-- worklist source (the RIS's MWL SCP) lists, replicated on an interval, and answers the
-- clinic's modalities from it through WAN outages (firmware/worklist/). Only
-- storage/worklist.ts reads or writes these tables.

-- One row per Scheduled Procedure Step the source listed, as the source sent it (dataset:
-- the identifier re-encoded in Explicit VR Little Endian, values as sent, in the item's
-- own Specific Character Set) and with the values matched on (decoded to text). An item
-- is known across replications by item_key (Study Instance UID, Accession Number,
-- Requested Procedure ID, Scheduled Procedure Step ID); digest tells whether it changed.
CREATE TABLE IF NOT EXISTS worklist_items (
  pk                                  INTEGER PRIMARY KEY,
  item_key                            TEXT NOT NULL UNIQUE,
  digest                              TEXT NOT NULL,
  dataset                             BLOB NOT NULL,
  specific_character_set              TEXT NOT NULL DEFAULT '',
  patient_name                        TEXT NOT NULL DEFAULT '',
  patient_id                          TEXT NOT NULL DEFAULT '',
  issuer_of_patient_id                TEXT NOT NULL DEFAULT '',
  patient_birth_date                  TEXT NOT NULL DEFAULT '',
  patient_sex                         TEXT NOT NULL DEFAULT '',
  accession_number                    TEXT NOT NULL DEFAULT '',
  study_instance_uid                  TEXT NOT NULL DEFAULT '',
  requested_procedure_id              TEXT NOT NULL DEFAULT '',
  requested_procedure_description     TEXT NOT NULL DEFAULT '',
  referring_physician_name            TEXT NOT NULL DEFAULT '',
  admission_id                        TEXT NOT NULL DEFAULT '',
  -- The Scheduled Procedure Step Sequence's item (PS3.4 K.6.1.2.2: one per answer).
  scheduled_station_ae_title          TEXT NOT NULL DEFAULT '',
  scheduled_station_name              TEXT NOT NULL DEFAULT '',
  sps_start_date                      TEXT NOT NULL DEFAULT '',
  sps_start_time                      TEXT NOT NULL DEFAULT '',
  modality                            TEXT NOT NULL DEFAULT '',
  scheduled_performing_physician_name TEXT NOT NULL DEFAULT '',
  sps_id                              TEXT NOT NULL DEFAULT '',
  sps_description                     TEXT NOT NULL DEFAULT '',
  sps_location                        TEXT NOT NULL DEFAULT '',
  sps_status                          TEXT NOT NULL DEFAULT '',
  -- When the source first listed it, when its content last changed, when it was last listed.
  first_seen_at                       TEXT NOT NULL,
  changed_at                          TEXT NOT NULL,
  last_seen_at                        TEXT NOT NULL,
  -- The replication that last listed it: a complete replication removes the older ones.
  sweep                               INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS worklist_items_accession ON worklist_items(accession_number);
CREATE INDEX IF NOT EXISTS worklist_items_study ON worklist_items(study_instance_uid);
CREATE INDEX IF NOT EXISTS worklist_items_date ON worklist_items(sps_start_date);
CREATE INDEX IF NOT EXISTS worklist_items_sweep ON worklist_items(sweep);

-- The replication's state, one row: kept across restarts, so that a box restarted during
-- a WAN outage still knows how old its copy is.
CREATE TABLE IF NOT EXISTS worklist_source (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  source          TEXT NOT NULL DEFAULT '',
  sweep           INTEGER NOT NULL DEFAULT 0,
  last_success_at TEXT,
  last_attempt_at TEXT,
  failing_since   TEXT,
  last_error      TEXT,
  -- The last complete replication stopped at worklist.maxItems.
  truncated       INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO worklist_source (id) VALUES (1);

-- Instances received whose patient differs from the worklist item their Accession Number
-- or Study Instance UID names (checked where a rule asks, worklist.checks). Written before
-- the instance's row, so that its forward jobs never exist without it; `coercion`, when a
-- rule coerces, holds the elements to put in the forwarded copy (the cached file is never
-- changed): JSON [{ "tag", "vr", "value": base64 }].
CREATE TABLE IF NOT EXISTS worklist_mismatches (
  sop_instance_uid   TEXT PRIMARY KEY,
  study_instance_uid TEXT NOT NULL,
  accession_number   TEXT NOT NULL,
  calling_ae         TEXT NOT NULL,
  received_at        TEXT NOT NULL,
  matched_by         TEXT NOT NULL CHECK (matched_by IN ('accession', 'study')),
  item_key           TEXT NOT NULL,
  -- JSON [{ "attribute", "received", "scheduled" }]
  differences        TEXT NOT NULL,
  coercion           TEXT,
  -- Why an element that differs was not coerced (a character set that cannot hold it).
  note               TEXT
);
CREATE INDEX IF NOT EXISTS worklist_mismatches_received ON worklist_mismatches(received_at);
