// The instance index: patients -> studies -> series -> instances (PS3.4 C.6.1), and the
// queries C-FIND, retrieval and the start-up check run on it. Writes from concurrent
// associations are grouped: while one commit runs, the next batch gathers, and one fsync
// then covers the whole batch — durability per instance without one fsync per instance.
// A batch is one statement: an INSERT into the view `arrivals`, whose trigger files each
// row into patients, studies, series, instances and the forward queue, so that an
// acknowledged instance always has its jobs. One statement is one trip to the driver's
// thread: with a statement per table, the trips cost more than the commit's fsync.
import { compileQuery, type Condition, type IndexQuery } from './query';
import {
  attributesOf,
  INDEXED_ATTRIBUTES,
  type IndexedValues,
  type IndexTable,
} from './indexed-attributes';
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
  resolve: (stored: StoredOutcome) => void;
  reject: (e: Error) => void;
}

/** What indexing an instance did to the index. */
export interface StoredOutcome {
  /** It replaced an acknowledged copy of other content (a changed re-send). */
  readonly changed: boolean;
}

export class InstanceIndex {
  private queue: Pending[] = [];
  private writing = false;

  constructor(private readonly sql: Sqlite) {}

  /** Makes the connection's view `arrivals` and its trigger (see ARRIVALS; once, at open). */
  static async prepare(sql: Sqlite): Promise<void> {
    await sql.exec(ARRIVALS);
  }

  /**
   * Indexes an instance whose file is already durable; resolves once the row is committed.
   * A re-send lists the copy it leaves unreferenced in unlisted_files (the previous copy's
   * file when the content changed, the new file when it is the same content as the copy
   * acknowledged before, which stays); the evictor deletes them (unlistedFiles).
   */
  storeInstance(record: InstanceRecord): Promise<StoredOutcome> {
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

  /** Cache files no row lists any more (evicted, or replaced by a re-send), to be deleted. */
  async unlistedFiles(limit: number): Promise<string[]> {
    const rows = await this.sql.all<{ path: string }>('SELECT path FROM unlisted_files LIMIT ?', [
      limit,
    ]);
    return rows.map((r) => r.path);
  }

  async unlistedFilesDeleted(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    // One statement for the lot: an eviction lists a whole study's files.
    await this.sql.run(
      'DELETE FROM unlisted_files WHERE path IN (SELECT value FROM json_each(?))',
      [JSON.stringify(paths)],
    );
  }

  private async drainQueue(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const changed = await this.sql.exclusive(async () => {
          const found = await changedCopiesOf(
            this.sql,
            batch.map((p) => p.record),
          );
          await this.sql.run(
            arrivalsInsert(batch.length),
            batch.flatMap((p) => arrivalValues(p.record)),
          );
          return found;
        });
        for (const p of batch) p.resolve({ changed: changed.has(p.record.sopInstanceUid) });
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
      }
    }
    this.writing = false;
  }
}

/** Of the records about to be indexed, those whose instance is listed with other content. */
async function changedCopiesOf(
  sql: Sqlite,
  records: readonly InstanceRecord[],
): Promise<Set<string>> {
  const rows = await sql.all<{ sop: string }>(
    `SELECT i.sop_instance_uid AS sop FROM instances i
       JOIN json_each(?) a ON i.sop_instance_uid = json_extract(a.value, '$[0]')
      WHERE NOT (i.digest = json_extract(a.value, '$[1]')
                 AND i.transfer_syntax_uid = json_extract(a.value, '$[2]'))`,
    [JSON.stringify(records.map((r) => [r.sopInstanceUid, r.digest, r.transferSyntaxUid]))],
  );
  return new Set(rows.map((r) => r.sop));
}

/** Instances in one INSERT at most (about 40 bound values each; SQLite allows 32766). */
const MAX_BATCH = 200;

/** Whether the copy arriving has the content of the row stored (SQL over two row names). */
function sameContent(stored: string, arriving: string): string {
  return `${stored}.digest = ${arriving}.digest AND ${stored}.transfer_syntax_uid = ${arriving}.transfer_syntax_uid`;
}
const KEEPS_STORED_FILE = sameContent('instances', 'excluded');

/** The columns of a row of `arrivals`: one received instance, as arrivalValues gives them. */
const ARRIVAL_COLUMNS = [
  'sop_instance_uid',
  'sop_class_uid',
  'study_instance_uid',
  'series_instance_uid',
  ...INDEXED_ATTRIBUTES.map((a) => a.column),
  'specific_character_set',
  'transfer_syntax_uid',
  'path',
  'size',
  'dataset_offset',
  'received_at',
  'calling_ae',
  'digest',
  /** The destinations, a JSON array of node names. */
  'forward_to',
];

function arrivalValues(r: InstanceRecord): Params {
  return [
    r.sopInstanceUid,
    r.sopClassUid,
    r.studyInstanceUid,
    r.seriesInstanceUid,
    ...INDEXED_ATTRIBUTES.map((a) => r.attributes[a.name]),
    r.specificCharacterSet,
    r.transferSyntaxUid,
    r.path,
    r.size,
    r.datasetOffset,
    r.receivedAt,
    r.callingAeTitle,
    r.digest,
    JSON.stringify(r.forwardTo),
  ];
}

function arrivalsInsert(rows: number): string {
  const row = `(${ARRIVAL_COLUMNS.map(() => '?').join(', ')})`;
  return `INSERT INTO arrivals (${ARRIVAL_COLUMNS.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}`;
}

/**
 * "INSERT ... ON CONFLICT (key) DO UPDATE" of a parent table from the arriving row: its
 * keys first (the parent row found by its key), then its indexed attributes, then any
 * extra column.
 */
function upsertSql(
  table: IndexTable,
  keys: ReadonlyArray<readonly [column: string, value: string]>,
  conflictKey: string,
  extra: ReadonlyArray<readonly [column: string, value: string, onConflict: string]> = [],
): string {
  const attrs = attributesOf(table).map((a) => a.column);
  const columns = [...keys.map(([c]) => c), ...attrs, ...extra.map(([c]) => c)];
  const values = [
    ...keys.map(([, v]) => v),
    ...attrs.map((c) => `NEW.${c}`),
    ...extra.map(([, v]) => v),
  ];
  const updates = [
    ...keys.map(([c]) => c).filter((c) => c !== conflictKey),
    ...attrs.filter((c) => c !== conflictKey),
  ].map((c) => `${c} = excluded.${c}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values.join(', ')})
    ON CONFLICT (${conflictKey}) DO UPDATE SET ${[...updates, ...extra.map(([, , u]) => u)].join(', ')}`;
}

const INSTANCE_ATTRIBUTES = attributesOf('instances').map((a) => a.column);

/**
 * The view `arrivals` and the trigger that files each row inserted into it, in this order:
 * patient, study and series (each parent found by its key); the copy the arrival leaves
 * unreferenced, listed for deletion; the forward jobs, before the instance row, so that
 * "same digest as the stored copy" still sees the previous row and an identical re-send
 * does not requeue a delivered job; the instance row, which keeps the file acknowledged
 * before when the content is the same. Temporary (this connection's), made at each open
 * from INDEXED_ATTRIBUTES, so that it never disagrees with the code that fills it.
 */
const ARRIVALS = `
  CREATE TEMP VIEW arrivals AS SELECT ${ARRIVAL_COLUMNS.map((c) => `NULL AS ${c}`).join(', ')};
  CREATE TEMP TRIGGER arrivals_index INSTEAD OF INSERT ON arrivals BEGIN
    ${upsertSql('patients', [], 'patient_id')};
    ${upsertSql(
      'studies',
      [
        ['patient_pk', '(SELECT pk FROM patients WHERE patient_id = NEW.patient_id)'],
        ['study_instance_uid', 'NEW.study_instance_uid'],
      ],
      'study_instance_uid',
      [
        [
          'last_used_at',
          'NEW.received_at',
          'last_used_at = max(studies.last_used_at, excluded.last_used_at)',
        ],
      ],
    )};
    ${upsertSql(
      'series',
      [
        ['study_pk', '(SELECT pk FROM studies WHERE study_instance_uid = NEW.study_instance_uid)'],
        ['series_instance_uid', 'NEW.series_instance_uid'],
      ],
      'series_instance_uid',
    )};
    INSERT OR IGNORE INTO unlisted_files (path)
      SELECT CASE WHEN ${sameContent('i', 'NEW')} THEN NEW.path ELSE i.path END FROM instances i
       WHERE i.sop_instance_uid = NEW.sop_instance_uid AND i.path <> NEW.path;
    INSERT INTO forward_jobs (sop_instance_uid, study_instance_uid, destination, state, queued_at)
      SELECT NEW.sop_instance_uid, NEW.study_instance_uid, d.value, 'queued', NEW.received_at
        FROM json_each(NEW.forward_to) d WHERE true
      ON CONFLICT (sop_instance_uid, destination) DO UPDATE SET
        state = 'queued', attempts = 0, last_error = NULL, last_status = NULL, finished_at = NULL,
        suspect_count = 0, not_before = NULL,
        queued_at = excluded.queued_at, study_instance_uid = excluded.study_instance_uid
      WHERE NOT (forward_jobs.state = 'done' AND EXISTS (
        SELECT 1 FROM instances WHERE sop_instance_uid = NEW.sop_instance_uid AND digest = NEW.digest));
    INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid,
         ${INSTANCE_ATTRIBUTES.join(', ')}, specific_character_set, transfer_syntax_uid, path, size,
         dataset_offset, received_at, calling_ae, digest)
      VALUES ((SELECT pk FROM series WHERE series_instance_uid = NEW.series_instance_uid),
         NEW.sop_instance_uid, NEW.sop_class_uid, ${INSTANCE_ATTRIBUTES.map((c) => `NEW.${c}`).join(', ')},
         NEW.specific_character_set, NEW.transfer_syntax_uid, NEW.path, NEW.size, NEW.dataset_offset,
         NEW.received_at, NEW.calling_ae, NEW.digest)
      ON CONFLICT (sop_instance_uid) DO UPDATE SET series_pk = excluded.series_pk,
        sop_class_uid = excluded.sop_class_uid,
        ${INSTANCE_ATTRIBUTES.map((c) => `${c} = excluded.${c}`).join(', ')},
        specific_character_set = excluded.specific_character_set,
        transfer_syntax_uid = excluded.transfer_syntax_uid,
        path = CASE WHEN ${KEEPS_STORED_FILE} THEN instances.path ELSE excluded.path END,
        size = CASE WHEN ${KEEPS_STORED_FILE} THEN instances.size ELSE excluded.size END,
        dataset_offset = CASE WHEN ${KEEPS_STORED_FILE} THEN instances.dataset_offset ELSE excluded.dataset_offset END,
        received_at = excluded.received_at, calling_ae = excluded.calling_ae, digest = excluded.digest;
  END;`;
