// The instance index: patients -> studies -> series -> instances (PS3.4 C.6.1), and the
// queries C-FIND, retrieval and the start-up check run on it. Writes from concurrent
// associations are grouped: while one transaction commits, the next batch gathers, and
// one fsync then covers the whole batch — durability per instance without one fsync per
// instance. Each instance's forward jobs are written in its transaction (the forward
// queue's table), so an acknowledged instance always has its jobs.
import { compileQuery, type Condition, type IndexQuery } from './query';
import { attributesOf, type IndexedValues, type IndexTable } from './indexed-attributes';
import type { Params, Sqlite } from './sqlite';

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
  /** The values of the indexed attributes (storage/indexed-attributes.ts). */
  readonly attributes: IndexedValues;
  readonly specificCharacterSet: string;
  /** SHA-256 of the data set bytes, hex. */
  readonly digest: string;
  /** Names of the nodes this instance is to be forwarded to. */
  readonly forwardTo: readonly string[];
}

/** An instance's cache file: what sending it needs (the data set is bytes [datasetOffset, size)). */
export interface CachedInstance {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
  readonly studyInstanceUid: string;
  readonly path: string;
  readonly datasetOffset: number;
  readonly size: number;
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
  /** SHA-256 of the data set bytes, hex. */
  readonly digest: string;
}

/** An instance to be sent by a retrieve (C-MOVE / C-GET sub-operation). */
export type RetrievableInstance = CachedInstance;

export interface StoreOutcome {
  /**
   * The cache file no row lists once the transaction committed, to be deleted: the previous
   * copy's file when the content changed, or the new file when it is the same content as
   * the copy already stored (that file stays, as acknowledged before).
   */
  readonly unreferencedPath?: string;
}

/** What an instance's row says of its file: for checking the file against it. */
export interface InstanceFileRow {
  readonly sopInstanceUid: string;
  readonly path: string;
  readonly size: number;
  readonly datasetOffset: number;
  /** SHA-256 of the data set bytes, hex. */
  readonly digest: string;
}

interface Pending {
  record: InstanceRecord;
  resolve: (o: StoreOutcome) => void;
  reject: (e: Error) => void;
}

export class InstanceIndex {
  private queue: Pending[] = [];
  private writing = false;

  constructor(private readonly sql: Sqlite) {}

  /** Indexes an instance whose file is already durable. Resolves once the row is committed. */
  storeInstance(record: InstanceRecord): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.writing) void this.drainQueue();
    });
  }

  async getInstance(sopInstanceUid: string): Promise<StoredInstance | undefined> {
    return this.sql.get<StoredInstance>(
      `SELECT i.sop_instance_uid AS sopInstanceUid, i.sop_class_uid AS sopClassUid,
              i.transfer_syntax_uid AS transferSyntaxUid, i.path, i.size, i.dataset_offset AS datasetOffset,
              st.study_instance_uid AS studyInstanceUid, se.series_instance_uid AS seriesInstanceUid,
              p.patient_id AS patientId, p.patient_name AS patientName, i.digest
         FROM instances i JOIN series se ON se.pk = i.series_pk
         JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk
        WHERE i.sop_instance_uid = ?`,
      [sopInstanceUid],
    );
  }

  /** Runs a C-FIND style query (compiled to SQL with bound parameters only). */
  find(query: IndexQuery): Promise<Array<Record<string, string | number | null>>> {
    const { sql, params } = compileQuery(query);
    return this.sql.all(sql, params);
  }

  /** The instances a retrieve matched, with what is needed to send them. */
  async retrievable(conditions: readonly Condition[]): Promise<RetrievableInstance[]> {
    const rows = await this.find({
      level: 'IMAGE',
      conditions,
      select: [
        'sopInstanceUid',
        'sopClassUid',
        'transferSyntaxUid',
        'path',
        'datasetOffset',
        'size',
        'studyInstanceUid',
      ],
    });
    return rows as unknown as RetrievableInstance[];
  }

  /** Instances and data set bytes received since `since` (ISO time). */
  async receivedSince(since: string): Promise<{ instances: number; bytes: number }> {
    const row = await this.sql.get<{ instances: number; bytes: number | null }>(
      'SELECT COUNT(*) AS instances, SUM(size - dataset_offset) AS bytes FROM instances WHERE received_at >= ?',
      [since],
    );
    return { instances: row?.instances ?? 0, bytes: row?.bytes ?? 0 };
  }

  async counts(): Promise<{
    patients: number;
    studies: number;
    series: number;
    instances: number;
  }> {
    const row = await this.sql.get<{
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

  /** The rows whose file lies in one cache directory (`dir` relative, ending in '/'). */
  instancesIn(dir: string): Promise<Array<{ sopInstanceUid: string; path: string }>> {
    return this.sql.all(
      `SELECT sop_instance_uid AS sopInstanceUid, path FROM instances
        WHERE path >= ? AND path < ? ORDER BY path`,
      [dir, `${dir}\uffff`],
    );
  }

  /** Rows in path order after `after`, a page at a time (for a walk over every row). */
  instancesAfter(after: string, limit: number): Promise<InstanceFileRow[]> {
    return this.sql.all(
      `SELECT sop_instance_uid AS sopInstanceUid, path, size, dataset_offset AS datasetOffset, digest
         FROM instances WHERE path > ? ORDER BY path LIMIT ?`,
      [after, limit],
    );
  }

  /**
   * Removes the rows of instances whose files are gone, in one transaction: their queued
   * jobs fail with `reason` (kept, visible), and series, studies and patients left without
   * instances go with them.
   */
  forgetInstances(sopInstanceUids: readonly string[], reason: string): Promise<void> {
    return this.sql.exclusive(async () => {
      await this.sql.exec('BEGIN IMMEDIATE');
      try {
        const now = new Date().toISOString();
        for (const sop of sopInstanceUids) {
          await this.sql.run(
            `UPDATE forward_jobs SET state = 'failed', last_error = ?, finished_at = ?
              WHERE sop_instance_uid = ? AND state = 'queued'`,
            [reason, now, sop],
          );
          await this.sql.run('DELETE FROM instances WHERE sop_instance_uid = ?', [sop]);
        }
        await this.sql.exec(
          `DELETE FROM series WHERE pk NOT IN (SELECT series_pk FROM instances);
           DELETE FROM studies WHERE pk NOT IN (SELECT study_pk FROM series);
           DELETE FROM patients WHERE pk NOT IN (SELECT patient_pk FROM studies);`,
        );
        await this.sql.exec('COMMIT');
      } catch (err) {
        await this.sql.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** Empties the index (reindex rebuilds it from the files). */
  async clear(): Promise<void> {
    await this.sql.exec(
      'BEGIN IMMEDIATE; DELETE FROM instances; DELETE FROM series; DELETE FROM studies; DELETE FROM patients; COMMIT',
    );
  }

  private async drainQueue(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        const outcomes = await this.sql.exclusive(() =>
          this.upsertBatch(batch.map((p) => p.record)),
        );
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
      } catch (err) {
        await this.sql.exec('ROLLBACK').catch(() => undefined);
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
      this.sql.db.serialize(() => {
        this.sql.db.run('BEGIN IMMEDIATE', check);
        records.forEach((r, i) => {
          for (const [sql, params] of parentUpserts(r)) this.sql.db.run(sql, params, check);
          this.sql.db.get<{ path: string; same: number }>(
            PREVIOUS_COPY,
            [r.digest, r.transferSyntaxUid, r.sopInstanceUid],
            (err, row) => {
              check(err);
              if (row && row.path !== r.path)
                outcomes[i] = { unreferencedPath: row.same ? r.path : row.path };
            },
          );
          // Jobs before the instance row, so that "same digest as the stored copy" still
          // sees the previous row: an identical re-send does not requeue a delivered job.
          for (const destination of r.forwardTo)
            this.sql.db.run(JOB_UPSERT, jobParams(r, destination), check);
          const [sql, params] = instanceUpsert(r);
          this.sql.db.run(sql, params, check);
        });
        // COMMIT only if every statement before it succeeded; otherwise the caller rolls back.
        this.sql.db.run('SELECT 1', (err) => {
          check(err);
          if (failed) return reject(failed);
          this.sql.db.run('COMMIT', (commitErr) =>
            commitErr ? reject(commitErr) : resolve(outcomes),
          );
        });
      });
    });
  }
}

const PREVIOUS_COPY = `SELECT path, (digest = ? AND transfer_syntax_uid = ?) AS same
  FROM instances WHERE sop_instance_uid = ?`;

const JOB_UPSERT = `
  INSERT INTO forward_jobs (sop_instance_uid, study_instance_uid, destination, state, queued_at)
  VALUES (?, ?, ?, 'queued', ?)
  ON CONFLICT (sop_instance_uid, destination) DO UPDATE SET
    state = 'queued', attempts = 0, last_error = NULL, last_status = NULL, finished_at = NULL,
    suspect_count = 0, not_before = NULL,
    queued_at = excluded.queued_at, study_instance_uid = excluded.study_instance_uid
  WHERE NOT (forward_jobs.state = 'done' AND EXISTS (
    SELECT 1 FROM instances WHERE sop_instance_uid = excluded.sop_instance_uid AND digest = ?))`;

function jobParams(r: InstanceRecord, destination: string): Params {
  return [r.sopInstanceUid, r.studyInstanceUid, destination, r.receivedAt, r.digest];
}

/**
 * "INSERT ... ON CONFLICT (key) DO UPDATE" for a parent table: its keys first (the parent
 * row found by its key), then its indexed attributes, then any extra column.
 */
function upsertSql(
  table: IndexTable,
  keys: ReadonlyArray<readonly [column: string, value: string]>,
  conflictKey: string,
  extra: ReadonlyArray<readonly [column: string, value: string, onConflict: string]> = [],
): string {
  const attrs = attributesOf(table).map((a) => a.column);
  const columns = [...keys.map(([c]) => c), ...attrs, ...extra.map(([c]) => c)];
  const values = [...keys.map(([, v]) => v), ...attrs.map(() => '?'), ...extra.map(([, v]) => v)];
  const updates = [
    ...keys.map(([c]) => c).filter((c) => c !== conflictKey),
    ...attrs.filter((c) => c !== conflictKey),
  ].map((c) => `${c} = excluded.${c}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values.join(', ')})
    ON CONFLICT (${conflictKey}) DO UPDATE SET ${[...updates, ...extra.map(([, , u]) => u)].join(', ')}`;
}

const PATIENT_UPSERT = upsertSql('patients', [], 'patient_id');
const STUDY_UPSERT = upsertSql(
  'studies',
  [
    ['patient_pk', '(SELECT pk FROM patients WHERE patient_id = ?)'],
    ['study_instance_uid', '?'],
  ],
  'study_instance_uid',
  [['last_used_at', '?', 'last_used_at = max(studies.last_used_at, excluded.last_used_at)']],
);
const SERIES_UPSERT = upsertSql(
  'series',
  [
    ['study_pk', '(SELECT pk FROM studies WHERE study_instance_uid = ?)'],
    ['series_instance_uid', '?'],
  ],
  'series_instance_uid',
);

function valuesOf(r: InstanceRecord, table: IndexTable): string[] {
  return attributesOf(table).map((a) => r.attributes[a.name]);
}

/** Patient, study and series rows for an instance; each parent is found by its key. */
function parentUpserts(r: InstanceRecord): Array<[string, Params]> {
  return [
    [PATIENT_UPSERT, valuesOf(r, 'patients')],
    [
      STUDY_UPSERT,
      [r.attributes.patientId, r.studyInstanceUid, ...valuesOf(r, 'studies'), r.receivedAt],
    ],
    [SERIES_UPSERT, [r.studyInstanceUid, r.seriesInstanceUid, ...valuesOf(r, 'series')]],
  ];
}

const SAME_CONTENT =
  'instances.digest = excluded.digest AND instances.transfer_syntax_uid = excluded.transfer_syntax_uid';

const INSTANCE_ATTRIBUTES = attributesOf('instances').map((a) => a.column);

const INSTANCE_UPSERT = `INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid,
       ${INSTANCE_ATTRIBUTES.join(', ')}, specific_character_set, transfer_syntax_uid, path, size,
       dataset_offset, received_at, calling_ae, digest)
     VALUES ((SELECT pk FROM series WHERE series_instance_uid = ?), ?, ?,
       ${INSTANCE_ATTRIBUTES.map(() => '?').join(', ')}, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sop_instance_uid) DO UPDATE SET series_pk = excluded.series_pk,
       sop_class_uid = excluded.sop_class_uid,
       ${INSTANCE_ATTRIBUTES.map((c) => `${c} = excluded.${c}`).join(', ')},
       specific_character_set = excluded.specific_character_set,
       transfer_syntax_uid = excluded.transfer_syntax_uid,
       -- The same content again keeps the file acknowledged before (see PREVIOUS_COPY).
       path = CASE WHEN ${SAME_CONTENT} THEN instances.path ELSE excluded.path END,
       size = CASE WHEN ${SAME_CONTENT} THEN instances.size ELSE excluded.size END,
       dataset_offset = CASE WHEN ${SAME_CONTENT} THEN instances.dataset_offset ELSE excluded.dataset_offset END,
       received_at = excluded.received_at, calling_ae = excluded.calling_ae, digest = excluded.digest`;

function instanceUpsert(r: InstanceRecord): [string, Params] {
  return [
    INSTANCE_UPSERT,
    [
      r.seriesInstanceUid,
      r.sopInstanceUid,
      r.sopClassUid,
      ...valuesOf(r, 'instances'),
      r.specificCharacterSet,
      r.transferSyntaxUid,
      r.path,
      r.size,
      r.datasetOffset,
      r.receivedAt,
      r.callingAeTitle,
      r.digest,
    ],
  ];
}
