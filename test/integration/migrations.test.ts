// The schema files and their order: a new index gets the newest schema; an index of an
// older version (a box updated in the field) is brought up to it and keeps its rows.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';
import { Index } from '../../storage/index';
import { currentSchemaVersion } from '../../storage/migrations';
import { tempDir } from '../support/peers';
import { instanceRecord } from '../support/records';

const SCHEMA = path.join(__dirname, '..', '..', '..', 'storage', 'schema');

/** Runs SQL on a file with the plain driver, as an older version of the box would have. */
async function raw(file: string, sql: string): Promise<void> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
  });
  await new Promise<void>((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve) => db.close(() => resolve()));
}

async function userVersion(file: string): Promise<number> {
  const db = new sqlite3.Database(file);
  const v = await new Promise<number>((resolve, reject) =>
    db.get<{ user_version: number }>('PRAGMA user_version', (e, row) =>
      e ? reject(e) : resolve(row.user_version),
    ),
  );
  await new Promise<void>((resolve) => db.close(() => resolve()));
  return v;
}

describe('index schema and migrations (storage/schema/NNN-*.sql)', () => {
  it('a new index is at the newest version and takes an instance with its jobs', async () => {
    const file = path.join(tempDir('schema-new'), 'index.sqlite');
    const index = await Index.open(file);
    await index.instances.storeInstance(
      instanceRecord(
        { studyInstanceUid: '1.2.1', seriesInstanceUid: '1.2.1.1', sopInstanceUid: '1.2.1.1.1' },
        { forwardTo: ['pacs'] },
      ),
    );
    assert.equal((await index.queue.queuedJobs('pacs', 10)).length, 1);
    await index.close();
    assert.equal(await userVersion(file), await currentSchemaVersion());
  });

  it('a version 4 index (the baseline, as boxes have it) is upgraded and keeps its queue', async () => {
    const file = path.join(tempDir('schema-v4'), 'index.sqlite');
    const baseline = await fs.readFile(path.join(SCHEMA, '004-baseline.sql'), 'utf8');
    await raw(
      file,
      `${baseline};
       INSERT INTO forward_jobs (sop_instance_uid, study_instance_uid, destination, state, queued_at)
       VALUES ('1.2.3', '1.2', 'pacs', 'failed', '2026-01-01T00:00:00Z');
       PRAGMA user_version = 4;`,
    );
    const index = await Index.open(file);
    try {
      assert.deepEqual(await index.queue.requeueFailed({ destination: 'pacs' }), [
        { sopInstanceUid: '1.2.3', destination: 'pacs' },
      ]);
      assert.equal((await index.queue.failedJobs(undefined, 10)).length, 0);
    } finally {
      await index.close();
    }
    assert.equal(await userVersion(file), await currentSchemaVersion());
  });

  it('a version 2 index (no commitment columns, no commitment tables) is brought up too', async () => {
    const file = path.join(tempDir('schema-v2'), 'index.sqlite');
    await raw(
      file,
      `CREATE TABLE patients (pk INTEGER PRIMARY KEY, patient_id TEXT NOT NULL UNIQUE,
         patient_name TEXT NOT NULL DEFAULT '', patient_birth_date TEXT NOT NULL DEFAULT '',
         patient_sex TEXT NOT NULL DEFAULT '');
       CREATE TABLE forward_jobs (pk INTEGER PRIMARY KEY, sop_instance_uid TEXT NOT NULL,
         study_instance_uid TEXT NOT NULL, destination TEXT NOT NULL,
         state TEXT NOT NULL CHECK (state IN ('queued', 'done', 'failed')), queued_at TEXT NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT, finished_at TEXT,
         UNIQUE (sop_instance_uid, destination));
       INSERT INTO forward_jobs (sop_instance_uid, study_instance_uid, destination, state, queued_at)
       VALUES ('1.2.3', '1.2', 'pacs', 'queued', '2026-01-01T00:00:00Z');
       PRAGMA user_version = 2;`,
    );
    const index = await Index.open(file);
    try {
      assert.deepEqual(
        (await index.queue.jobsOf('1.2.3')).map((j) => [j.destination, j.state, j.commitState]),
        [['pacs', 'queued', null]],
      );
      assert.deepEqual(await index.commitments.pendingCommitments(), []);
    } finally {
      await index.close();
    }
  });
});
