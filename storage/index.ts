// The cache index: the only module that speaks SQL. SQLite in WAL mode with
// synchronous=FULL, so that a commit that returned is on disk (promise 1; with NORMAL a
// power cut may roll back the last commits). Writes from concurrent associations are
// grouped: while one transaction commits, the next batch gathers, and one fsync then
// covers the whole batch — durability per instance without one fsync per instance.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sqlite3 from 'sqlite3';
import { compileQuery, type Condition, type IndexQuery } from './query';

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

/** A queued forward job with what the worker needs to send the instance. */
export interface ForwardJob extends CachedInstance {
  readonly pk: number;
  readonly attempts: number;
  /** Times its own transfer failed while the destination worked (see setAside). */
  readonly suspectCount: number;
  readonly queuedAt: string;
}

/** A job that failed for good, with everything known about why. */
export interface FailedJob {
  readonly destination: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: string | null;
  readonly failedAt: string | null;
}

/** Which failed jobs a retry takes; all given must match, none given: every failed job. */
export interface RetryFilter {
  readonly destination?: string;
  readonly sopInstanceUid?: string;
  readonly studyInstanceUid?: string;
}

export interface DestinationSummary {
  readonly destination: string;
  readonly queued: number;
  readonly done: number;
  readonly failed: number;
  /** When the oldest job still waiting was queued (ISO time), if any. */
  readonly oldestQueuedAt: string | null;
  readonly lastDoneAt: string | null;
  /** Queued jobs set aside as suspects, not to be tried before their time. */
  readonly setAside: number;
  /** The most recent error of a job not delivered, and when it happened. */
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  /** The most recent job failed for good. */
  readonly lastFailedSop: string | null;
  readonly lastFailedAt: string | null;
  readonly lastFailedError: string | null;
}

export type JobOutcome =
  | { readonly state: 'done'; readonly status: number }
  | { readonly state: 'failed'; readonly status: number | null; readonly error: string };

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

export interface NewCommitment {
  readonly transactionUid: string;
  readonly requesterAe: string;
  readonly createdAt: string;
  readonly deadline: string;
  readonly items: ReadonlyArray<{ sopClassUid: string; sopInstanceUid: string }>;
}

export interface PendingCommitment {
  readonly transactionUid: string;
  readonly requesterAe: string;
  readonly createdAt: string;
  readonly deadline: string;
}

export interface CommitmentItemState {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly storedSopClassUid: string | null;
  readonly undelivered: number;
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

type Params = ReadonlyArray<string | number | null>;

interface Pending {
  record: InstanceRecord;
  resolve: (o: StoreOutcome) => void;
  reject: (e: Error) => void;
}

export class Index {
  private queue: Pending[] = [];
  private writing = false;
  /** One multi-statement transaction at a time on the connection. */
  private lock: Promise<unknown> = Promise.resolve();

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
    await index.migrate();
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
    return this.all(sql, params);
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
    const row = await this.get<{ instances: number; bytes: number | null }>(
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

  /** Brings an index written by an earlier version up to this schema (user_version). */
  private async migrate(): Promise<void> {
    const { user_version: version } = (await this.get<{ user_version: number }>(
      'PRAGMA user_version',
      [],
    ))!;
    if (version < 2) {
      const columns = await this.all<{ name: string }>('PRAGMA table_info(instances)', []);
      if (!columns.some((c) => c.name === 'digest')) {
        await this.exec("ALTER TABLE instances ADD COLUMN digest TEXT NOT NULL DEFAULT ''");
      }
    }
    if (version < 4) {
      const columns = await this.all<{ name: string }>('PRAGMA table_info(forward_jobs)', []);
      if (!columns.some((c) => c.name === 'commit_state')) {
        await this.exec(
          `ALTER TABLE forward_jobs ADD COLUMN commit_state TEXT CHECK (commit_state IN ('requested', 'committed', 'failed'));
           ALTER TABLE forward_jobs ADD COLUMN commit_transaction TEXT;
           ALTER TABLE forward_jobs ADD COLUMN commit_reason INTEGER;`,
        );
      }
    }
    if (version < 5) {
      const columns = await this.all<{ name: string }>('PRAGMA table_info(forward_jobs)', []);
      if (!columns.some((c) => c.name === 'suspect_count')) {
        await this.exec(
          `ALTER TABLE forward_jobs ADD COLUMN last_attempt_at TEXT;
           ALTER TABLE forward_jobs ADD COLUMN suspect_count INTEGER NOT NULL DEFAULT 0;
           ALTER TABLE forward_jobs ADD COLUMN not_before TEXT;`,
        );
      }
    }
    await this.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }

  // ---- forwarding queue -------------------------------------------------------------

  /**
   * Queued jobs of a destination, oldest study first and a study's instances together
   * (in arrival order), so that a PACS receives studies whole and in order.
   */
  queuedJobs(destination: string, limit: number): Promise<ForwardJob[]> {
    const now = new Date().toISOString();
    return this.all<ForwardJob>(
      `SELECT j.pk, j.sop_instance_uid AS sopInstanceUid, j.study_instance_uid AS studyInstanceUid,
              i.sop_class_uid AS sopClassUid, i.transfer_syntax_uid AS transferSyntaxUid, i.path,
              i.dataset_offset AS datasetOffset, i.size, j.attempts, j.suspect_count AS suspectCount,
              j.queued_at AS queuedAt
         FROM forward_jobs j
         JOIN instances i ON i.sop_instance_uid = j.sop_instance_uid
         JOIN (SELECT study_instance_uid, MIN(pk) AS first FROM forward_jobs
                WHERE destination = ? AND state = 'queued' AND ${READY} GROUP BY study_instance_uid) s
           ON s.study_instance_uid = j.study_instance_uid
        WHERE j.destination = ? AND j.state = 'queued' AND ${READY.replace(/not_before/g, 'j.not_before')}
        ORDER BY s.first, j.pk
        LIMIT ?`,
      [destination, now, destination, now, limit],
    );
  }

  /** When the earliest job set aside for this destination may be tried again, if any. */
  async nextSetAsideAt(destination: string): Promise<string | null> {
    const row = await this.get<{ at: string | null }>(
      `SELECT MIN(not_before) AS at FROM forward_jobs
        WHERE destination = ? AND state = 'queued' AND not_before > ?`,
      [destination, new Date().toISOString()],
    );
    return row?.at ?? null;
  }

  /**
   * A suspect: the instance's own transfer failed while the destination works (the attempt
   * itself is recorded by noteAttempt). The job stays queued but is set aside until
   * `until`, so that the rest of the queue flows.
   */
  async setAside(pk: number, until: string): Promise<void> {
    await this.run(
      `UPDATE forward_jobs SET suspect_count = suspect_count + 1, not_before = ?
        WHERE pk = ? AND state = 'queued'`,
      [until, pk],
    );
  }

  /**
   * Records the end of jobs: delivered, or refused for good. Delivered jobs are marked in
   * batches by the worker: a mark lost to a power cut only means one more (harmless)
   * re-send, as delivery is at least once.
   */
  async finishJobs(pks: readonly number[], outcome: JobOutcome): Promise<void> {
    if (pks.length === 0) return;
    await this.run(
      `UPDATE forward_jobs SET state = ?, last_status = ?, last_error = ?, finished_at = ?,
              last_attempt_at = ?, attempts = attempts + 1, not_before = NULL
        WHERE pk IN (${pks.map(() => '?').join(', ')}) AND state = 'queued'`,
      [
        outcome.state,
        outcome.status,
        outcome.state === 'failed' ? outcome.error : null,
        new Date().toISOString(),
        new Date().toISOString(),
        ...pks,
      ],
    );
  }

  /** Storage commitment was asked of the destination for these delivered jobs. */
  async markCommitRequested(pks: readonly number[], transactionUid: string): Promise<void> {
    if (pks.length === 0) return;
    await this.run(
      `UPDATE forward_jobs SET commit_state = 'requested', commit_transaction = ?, commit_reason = NULL
        WHERE pk IN (${pks.map(() => '?').join(', ')})`,
      [transactionUid, ...pks],
    );
  }

  /** Applies a destination's N-EVENT-REPORT; returns how many jobs it settled. */
  async applyCommitReport(
    transactionUid: string,
    committed: readonly string[],
    failed: ReadonlyArray<{ sopInstanceUid: string; reason: number }>,
  ): Promise<number> {
    let settled = 0;
    for (const sop of committed) {
      settled += await this.run(
        `UPDATE forward_jobs SET commit_state = 'committed', commit_reason = NULL
          WHERE commit_transaction = ? AND sop_instance_uid = ?`,
        [transactionUid, sop],
      );
    }
    for (const f of failed) {
      settled += await this.run(
        `UPDATE forward_jobs SET commit_state = 'failed', commit_reason = ?
          WHERE commit_transaction = ? AND sop_instance_uid = ?`,
        [f.reason, transactionUid, f.sopInstanceUid],
      );
    }
    return settled;
  }

  /** Keeps a storage commitment report received from a peer. */
  async recordCommitReport(transactionUid: string, peer: string, report: unknown): Promise<void> {
    await this.run(
      `INSERT OR REPLACE INTO commit_reports (transaction_uid, received_at, peer, report) VALUES (?, ?, ?, ?)`,
      [transactionUid, new Date().toISOString(), peer, JSON.stringify(report)],
    );
  }

  async commitReport(transactionUid: string): Promise<unknown> {
    const row = await this.get<{ report: string }>(
      'SELECT report FROM commit_reports WHERE transaction_uid = ?',
      [transactionUid],
    );
    return row ? (JSON.parse(row.report) as unknown) : null;
  }

  /** A transient failure: the job stays queued, the attempt and the error are recorded. */
  async noteAttempt(pk: number, error: string, status: number | null = null): Promise<void> {
    await this.run(
      `UPDATE forward_jobs SET attempts = attempts + 1, last_error = ?, last_status = ?, last_attempt_at = ?
        WHERE pk = ? AND state = 'queued'`,
      [error, status, new Date().toISOString(), pk],
    );
  }

  /** Puts failed jobs back in the queue; returns the SOP Instance UIDs and destinations. */
  async requeueFailed(
    filter: RetryFilter = {},
  ): Promise<Array<{ sopInstanceUid: string; destination: string }>> {
    const where = `state = 'failed' AND (? IS NULL OR destination = ?)
      AND (? IS NULL OR sop_instance_uid = ?) AND (? IS NULL OR study_instance_uid = ?)`;
    const params = [
      filter.destination ?? null,
      filter.destination ?? null,
      filter.sopInstanceUid ?? null,
      filter.sopInstanceUid ?? null,
      filter.studyInstanceUid ?? null,
      filter.studyInstanceUid ?? null,
    ];
    return this.exclusive(async () => {
      await this.exec('BEGIN IMMEDIATE');
      try {
        const jobs = await this.all<{ sopInstanceUid: string; destination: string }>(
          `SELECT sop_instance_uid AS sopInstanceUid, destination FROM forward_jobs WHERE ${where}
            ORDER BY destination, pk`,
          params,
        );
        await this.run(
          `UPDATE forward_jobs SET state = 'queued', attempts = 0, suspect_count = 0, not_before = NULL,
                  finished_at = NULL WHERE ${where}`,
          params,
        );
        await this.exec('COMMIT');
        return jobs;
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** Failed jobs, most recent first (of one destination, or all). */
  failedJobs(destination: string | undefined, limit: number): Promise<FailedJob[]> {
    return this.all<FailedJob>(
      `SELECT destination, sop_instance_uid AS sopInstanceUid, study_instance_uid AS studyInstanceUid,
              attempts, last_status AS lastStatus, last_error AS lastError,
              last_attempt_at AS lastAttemptAt, finished_at AS failedAt
         FROM forward_jobs WHERE state = 'failed' AND (? IS NULL OR destination = ?)
        ORDER BY finished_at DESC, pk DESC LIMIT ?`,
      [destination ?? null, destination ?? null, limit],
    );
  }

  async forwardSummary(): Promise<DestinationSummary[]> {
    const now = new Date().toISOString();
    const latest = (what: string, where: string): string =>
      `(SELECT ${what} FROM forward_jobs f WHERE f.destination = j.destination AND ${where}
         ORDER BY COALESCE(f.last_attempt_at, f.finished_at, f.queued_at) DESC, f.pk DESC LIMIT 1)`;
    const failed = "f.state = 'failed'";
    const errored = "f.last_error IS NOT NULL AND f.state <> 'done'";
    return this.all<DestinationSummary>(
      `SELECT destination,
              SUM(state = 'queued') AS queued, SUM(state = 'done') AS done, SUM(state = 'failed') AS failed,
              SUM(state = 'queued' AND not_before > ?) AS setAside,
              MIN(CASE WHEN state = 'queued' THEN queued_at END) AS oldestQueuedAt,
              MAX(CASE WHEN state = 'done' THEN finished_at END) AS lastDoneAt,
              ${latest('last_error', errored)} AS lastError,
              ${latest('COALESCE(f.last_attempt_at, f.finished_at)', errored)} AS lastErrorAt,
              ${latest('sop_instance_uid', failed)} AS lastFailedSop,
              ${latest('COALESCE(f.finished_at, f.last_attempt_at)', failed)} AS lastFailedAt,
              ${latest('last_error', failed)} AS lastFailedError
         FROM forward_jobs j GROUP BY destination ORDER BY destination`,
      [now],
    );
  }

  /** Jobs of one instance (for tests and the status API). */
  jobsOf(sopInstanceUid: string): Promise<
    Array<{
      destination: string;
      state: string;
      attempts: number;
      lastError: string | null;
      lastStatus: number | null;
      commitState: string | null;
      commitReason: number | null;
    }>
  > {
    return this.all(
      `SELECT destination, state, attempts, last_error AS lastError, last_status AS lastStatus,
              commit_state AS commitState, commit_reason AS commitReason
         FROM forward_jobs WHERE sop_instance_uid = ? ORDER BY destination`,
      [sopInstanceUid],
    );
  }

  // ---- storage commitment -----------------------------------------------------------

  /** Records a commitment request and its items in one transaction. */
  createCommitment(c: NewCommitment): Promise<void> {
    return this.exclusive(() => this.insertCommitment(c));
  }

  private async insertCommitment(c: NewCommitment): Promise<void> {
    await this.exec('BEGIN IMMEDIATE');
    try {
      await this.run(
        `INSERT INTO commitments (transaction_uid, requester_ae, state, created_at, deadline) VALUES (?, ?, 'pending', ?, ?)`,
        [c.transactionUid, c.requesterAe, c.createdAt, c.deadline],
      );
      for (const item of c.items) {
        await this.run(
          `INSERT INTO commitment_items (commitment_pk, sop_class_uid, sop_instance_uid)
           VALUES ((SELECT pk FROM commitments WHERE transaction_uid = ?), ?, ?)`,
          [c.transactionUid, item.sopClassUid, item.sopInstanceUid],
        );
      }
      await this.exec('COMMIT');
    } catch (err) {
      await this.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  pendingCommitments(): Promise<PendingCommitment[]> {
    return this.all<PendingCommitment>(
      `SELECT transaction_uid AS transactionUid, requester_ae AS requesterAe, created_at AS createdAt,
              deadline
         FROM commitments WHERE state = 'pending' ORDER BY pk`,
      [],
    );
  }

  /**
   * The items of a commitment with what decides them: the class the instance is stored
   * under (null: not stored) and how many of its forward jobs are not yet delivered.
   */
  commitmentItems(transactionUid: string): Promise<CommitmentItemState[]> {
    return this.all<CommitmentItemState>(
      `SELECT ci.sop_class_uid AS sopClassUid, ci.sop_instance_uid AS sopInstanceUid,
              i.sop_class_uid AS storedSopClassUid,
              (SELECT COUNT(*) FROM forward_jobs j WHERE j.sop_instance_uid = ci.sop_instance_uid AND j.state <> 'done')
                AS undelivered
         FROM commitment_items ci
         JOIN commitments c ON c.pk = ci.commitment_pk
         LEFT JOIN instances i ON i.sop_instance_uid = ci.sop_instance_uid
        WHERE c.transaction_uid = ? ORDER BY ci.pk`,
      [transactionUid],
    );
  }

  async markCommitmentReported(transactionUid: string, eventType: number): Promise<void> {
    await this.run(
      `UPDATE commitments SET state = 'reported', reported_at = ?, event_type = ? WHERE transaction_uid = ?`,
      [new Date().toISOString(), eventType, transactionUid],
    );
  }

  // ---- cache consistency ------------------------------------------------------------

  /** The rows whose file lies in one cache directory (`dir` relative, ending in '/'). */
  instancesIn(dir: string): Promise<Array<{ sopInstanceUid: string; path: string }>> {
    return this.all(
      `SELECT sop_instance_uid AS sopInstanceUid, path FROM instances
        WHERE path >= ? AND path < ? ORDER BY path`,
      [dir, `${dir}\uffff`],
    );
  }

  /** Rows in path order after `after`, a page at a time (for a walk over every row). */
  instancesAfter(
    after: string,
    limit: number,
  ): Promise<Array<{ sopInstanceUid: string; path: string }>> {
    return this.all(
      `SELECT sop_instance_uid AS sopInstanceUid, path FROM instances WHERE path > ? ORDER BY path LIMIT ?`,
      [after, limit],
    );
  }

  /**
   * Removes the rows of instances whose files are gone, in one transaction: their queued
   * jobs fail with `reason` (kept, visible), and series, studies and patients left without
   * instances go with them.
   */
  forgetInstances(sopInstanceUids: readonly string[], reason: string): Promise<void> {
    return this.exclusive(async () => {
      await this.exec('BEGIN IMMEDIATE');
      try {
        const now = new Date().toISOString();
        for (const sop of sopInstanceUids) {
          await this.run(
            `UPDATE forward_jobs SET state = 'failed', last_error = ?, finished_at = ?
              WHERE sop_instance_uid = ? AND state = 'queued'`,
            [reason, now, sop],
          );
          await this.run('DELETE FROM instances WHERE sop_instance_uid = ?', [sop]);
        }
        await this.exec(
          `DELETE FROM series WHERE pk NOT IN (SELECT series_pk FROM instances);
           DELETE FROM studies WHERE pk NOT IN (SELECT study_pk FROM series);
           DELETE FROM patients WHERE pk NOT IN (SELECT patient_pk FROM studies);`,
        );
        await this.exec('COMMIT');
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
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
        const outcomes = await this.exclusive(() => this.upsertBatch(batch.map((p) => p.record)));
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
          this.db.get<{ path: string; same: number }>(
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
            this.db.run(JOB_UPSERT, jobParams(r, destination), check);
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

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.exec(sql, (err) => (err ? reject(err) : resolve())),
    );
  }

  private run(sql: string, params: Params): Promise<number> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (err) {
        if (err) reject(err);
        else resolve(this.changes);
      }),
    );
  }

  private all<T>(sql: string, params: Params): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))),
    );
  }

  private get<T>(sql: string, params: Params): Promise<T | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as T | undefined))),
    );
  }
}

const SCHEMA_VERSION = 5;
/** A queued job that is not set aside (not_before is when a suspect may be tried again). */
const READY = '(not_before IS NULL OR not_before <= ?)';

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

const SAME_CONTENT =
  'instances.digest = excluded.digest AND instances.transfer_syntax_uid = excluded.transfer_syntax_uid';

function instanceUpsert(r: InstanceRecord): [string, Params] {
  return [
    `INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid, instance_number, number_of_frames,
                            specific_character_set, transfer_syntax_uid, path, size, dataset_offset, received_at,
                            calling_ae, digest)
     VALUES ((SELECT pk FROM series WHERE series_instance_uid = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sop_instance_uid) DO UPDATE SET series_pk = excluded.series_pk,
       sop_class_uid = excluded.sop_class_uid, instance_number = excluded.instance_number,
       number_of_frames = excluded.number_of_frames, specific_character_set = excluded.specific_character_set,
       transfer_syntax_uid = excluded.transfer_syntax_uid,
       -- The same content again keeps the file acknowledged before (see PREVIOUS_COPY).
       path = CASE WHEN ${SAME_CONTENT} THEN instances.path ELSE excluded.path END,
       size = CASE WHEN ${SAME_CONTENT} THEN instances.size ELSE excluded.size END,
       dataset_offset = CASE WHEN ${SAME_CONTENT} THEN instances.dataset_offset ELSE excluded.dataset_offset END,
       received_at = excluded.received_at, calling_ae = excluded.calling_ae, digest = excluded.digest`,
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
      r.digest,
    ],
  ];
}
