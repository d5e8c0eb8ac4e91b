// The cache index: the only module that speaks SQL. SQLite in WAL mode with
// synchronous=FULL, so that a commit that returned is on disk (promise 1; with NORMAL a
// power cut may roll back the last commits). Writes from concurrent associations are
// grouped: while one transaction commits, the next batch gathers, and one fsync then
// covers the whole batch — durability per instance without one fsync per instance.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';

export interface InstanceRecord {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** Relative to the storage directory. */
  readonly path: string;
  readonly size: number;
  readonly datasetOffset: number;
  readonly receivedAt: string;
  readonly callingAeTitle: string;
  readonly patient: { id: string; name: string; birthDate: string; sex: string };
  readonly study: {
    date: string;
    time: string;
    accessionNumber: string;
    studyId: string;
    description: string;
    referringPhysicianName: string;
  };
  readonly series: {
    modality: string;
    number: string;
    description: string;
    date: string;
    time: string;
    bodyPartExamined: string;
  };
  readonly instanceNumber: string;
  readonly numberOfFrames: string;
  readonly specificCharacterSet: string;
}

export interface StoredInstance {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
  readonly path: string;
  readonly size: number;
  readonly datasetOffset: number;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly patientId: string;
  readonly patientName: string;
}

export interface StoreOutcome {
  /** The cache file of a previous copy that now lies elsewhere and may be deleted. */
  readonly supersededPath?: string;
}

type Params = ReadonlyArray<string | number | null>;

interface Pending {
  record: InstanceRecord;
  resolve: (o: StoreOutcome) => void;
  reject: (e: Error) => void;
}

export class Index {
  private queue: Pending[] = [];
  private writing = false;

  private constructor(private readonly db: sqlite3.Database) {}

  static async open(file: string): Promise<Index> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
    });
    const index = new Index(db);
    await index.exec('PRAGMA journal_mode = WAL');
    await index.exec('PRAGMA synchronous = FULL');
    await index.exec('PRAGMA busy_timeout = 5000');
    await index.exec(
      await fs.readFile(path.join(__dirname, '..', '..', 'storage', 'schema.sql'), 'utf8'),
    );
    return index;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.close((err) => (err ? reject(err) : resolve())),
    );
  }

  /** Indexes an instance whose file is already durable. Resolves once the row is committed. */
  storeInstance(record: InstanceRecord): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.writing) void this.drainQueue();
    });
  }

  async getInstance(sopInstanceUid: string): Promise<StoredInstance | undefined> {
    return this.get<StoredInstance>(
      `SELECT i.sop_instance_uid AS sopInstanceUid, i.sop_class_uid AS sopClassUid,
              i.transfer_syntax_uid AS transferSyntaxUid, i.path, i.size, i.dataset_offset AS datasetOffset,
              st.study_instance_uid AS studyInstanceUid, se.series_instance_uid AS seriesInstanceUid,
              p.patient_id AS patientId, p.patient_name AS patientName
         FROM instances i JOIN series se ON se.pk = i.series_pk
         JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk
        WHERE i.sop_instance_uid = ?`,
      [sopInstanceUid],
    );
  }

  async counts(): Promise<{
    patients: number;
    studies: number;
    series: number;
    instances: number;
  }> {
    const row = await this.get<{
      patients: number;
      studies: number;
      series: number;
      instances: number;
    }>(
      `SELECT (SELECT COUNT(*) FROM patients) AS patients, (SELECT COUNT(*) FROM studies) AS studies,
              (SELECT COUNT(*) FROM series) AS series, (SELECT COUNT(*) FROM instances) AS instances`,
      [],
    );
    return row!;
  }

  /** Empties the index (reindex rebuilds it from the files). */
  async clear(): Promise<void> {
    await this.exec(
      'BEGIN IMMEDIATE; DELETE FROM instances; DELETE FROM series; DELETE FROM studies; DELETE FROM patients; COMMIT',
    );
  }

  private async drainQueue(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        const outcomes = await this.upsertBatch(batch.map((p) => p.record));
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
        for (const p of batch) p.reject(err as Error);
      }
    }
    this.writing = false;
  }

  /**
   * One transaction for the batch. The statements are queued on the connection in order
   * (serialized mode) and only the COMMIT is awaited, so the batch costs one round trip
   * and one WAL fsync, however many instances it holds.
   */
  private upsertBatch(records: readonly InstanceRecord[]): Promise<StoreOutcome[]> {
    return new Promise((resolve, reject) => {
      const outcomes: StoreOutcome[] = records.map(() => ({}));
      let failed: Error | null = null;
      const check = (err: Error | null): void => {
        failed ??= err;
      };
      this.db.serialize(() => {
        this.db.run('BEGIN IMMEDIATE', check);
        records.forEach((r, i) => {
          for (const [sql, params] of parentUpserts(r)) this.db.run(sql, params, check);
          this.db.get<{ path: string }>(PREVIOUS_PATH, [r.sopInstanceUid], (err, row) => {
            check(err);
            if (row && row.path !== r.path) outcomes[i] = { supersededPath: row.path };
          });
          const [sql, params] = instanceUpsert(r);
          this.db.run(sql, params, check);
        });
        // COMMIT only if every statement before it succeeded; otherwise the caller rolls back.
        this.db.run('SELECT 1', (err) => {
          check(err);
          if (failed) return reject(failed);
          this.db.run('COMMIT', (commitErr) => (commitErr ? reject(commitErr) : resolve(outcomes)));
        });
      });
    });
  }

  private exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.exec(sql, (err) => (err ? reject(err) : resolve())),
    );
  }

  private get<T>(sql: string, params: Params): Promise<T | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as T | undefined))),
    );
  }
}

const PREVIOUS_PATH = 'SELECT path FROM instances WHERE sop_instance_uid = ?';

/** Patient, study and series rows for an instance; each parent is found by its key. */
function parentUpserts(r: InstanceRecord): Array<[string, Params]> {
  return [
    [
      `INSERT INTO patients (patient_id, patient_name, patient_birth_date, patient_sex) VALUES (?, ?, ?, ?)
       ON CONFLICT (patient_id) DO UPDATE SET patient_name = excluded.patient_name,
         patient_birth_date = excluded.patient_birth_date, patient_sex = excluded.patient_sex`,
      [r.patient.id, r.patient.name, r.patient.birthDate, r.patient.sex],
    ],
    [
      `INSERT INTO studies (patient_pk, study_instance_uid, study_date, study_time, accession_number, study_id,
                            study_description, referring_physician_name)
       VALUES ((SELECT pk FROM patients WHERE patient_id = ?), ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (study_instance_uid) DO UPDATE SET patient_pk = excluded.patient_pk,
         study_date = excluded.study_date, study_time = excluded.study_time,
         accession_number = excluded.accession_number, study_id = excluded.study_id,
         study_description = excluded.study_description, referring_physician_name = excluded.referring_physician_name`,
      [
        r.patient.id,
        r.studyInstanceUid,
        r.study.date,
        r.study.time,
        r.study.accessionNumber,
        r.study.studyId,
        r.study.description,
        r.study.referringPhysicianName,
      ],
    ],
    [
      `INSERT INTO series (study_pk, series_instance_uid, modality, series_number, series_description, series_date,
                           series_time, body_part_examined)
       VALUES ((SELECT pk FROM studies WHERE study_instance_uid = ?), ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (series_instance_uid) DO UPDATE SET study_pk = excluded.study_pk, modality = excluded.modality,
         series_number = excluded.series_number, series_description = excluded.series_description,
         series_date = excluded.series_date, series_time = excluded.series_time,
         body_part_examined = excluded.body_part_examined`,
      [
        r.studyInstanceUid,
        r.seriesInstanceUid,
        r.series.modality,
        r.series.number,
        r.series.description,
        r.series.date,
        r.series.time,
        r.series.bodyPartExamined,
      ],
    ],
  ];
}

function instanceUpsert(r: InstanceRecord): [string, Params] {
  return [
    `INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid, instance_number, number_of_frames,
                            specific_character_set, transfer_syntax_uid, path, size, dataset_offset, received_at,
                            calling_ae)
     VALUES ((SELECT pk FROM series WHERE series_instance_uid = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sop_instance_uid) DO UPDATE SET series_pk = excluded.series_pk,
       sop_class_uid = excluded.sop_class_uid, instance_number = excluded.instance_number,
       number_of_frames = excluded.number_of_frames, specific_character_set = excluded.specific_character_set,
       transfer_syntax_uid = excluded.transfer_syntax_uid, path = excluded.path, size = excluded.size,
       dataset_offset = excluded.dataset_offset, received_at = excluded.received_at, calling_ae = excluded.calling_ae`,
    [
      r.seriesInstanceUid,
      r.sopInstanceUid,
      r.sopClassUid,
      r.instanceNumber,
      r.numberOfFrames,
      r.specificCharacterSet,
      r.transferSyntaxUid,
      r.path,
      r.size,
      r.datasetOffset,
      r.receivedAt,
      r.callingAeTitle,
    ],
  ];
}
