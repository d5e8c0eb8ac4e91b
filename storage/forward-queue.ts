// The forward queue: one job per (instance, destination node), written with the instance
// (storage/instances.ts), taken by the destination workers oldest study first, never
// deleted ('done' and 'failed' stay visible; 'failed' can be requeued).
import type { CachedInstance } from './instances';
import type { Sqlite } from './sqlite';

/** A queued forward job with what the worker needs to send the instance. */
export interface ForwardJob extends CachedInstance {
  readonly pk: number;
  readonly attempts: number;
  /** Times its own transfer failed while the destination worked (see setAside). */
  readonly suspectCount: number;
  readonly queuedAt: string;
}

/** Which copy of the instance a job sent: its cache file (each copy stored has its own). */
export type SentCopy = Pick<ForwardJob, 'pk' | 'path'>;

/**
 * SQL: the job's instance has not been replaced by another copy since the one sent (the
 * parameter: a JSON object of job pk -> the cache file sent). An instance no longer in
 * the index has no other copy either.
 */
const STILL_THE_COPY_SENT = `NOT EXISTS (SELECT 1 FROM instances i
    WHERE i.sop_instance_uid = forward_jobs.sop_instance_uid
      AND i.path <> json_extract(?, '$."' || forward_jobs.pk || '"'))`;

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

export class ForwardQueue {
  constructor(private readonly sql: Sqlite) {}

  /**
   * Queued jobs of a destination, oldest study first and a study's instances together
   * (in arrival order), so that a PACS receives studies whole and in order.
   */
  queuedJobs(destination: string, limit: number): Promise<ForwardJob[]> {
    const now = new Date().toISOString();
    return this.sql.all<ForwardJob>(
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
    const row = await this.sql.get<{ at: string | null }>(
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
  async setAside(job: SentCopy, until: string): Promise<void> {
    await this.sql.run(
      `UPDATE forward_jobs SET suspect_count = suspect_count + 1, not_before = ?
        WHERE pk = ? AND state = 'queued' AND ${STILL_THE_COPY_SENT}`,
      [until, job.pk, JSON.stringify({ [job.pk]: job.path })],
    );
  }

  /**
   * Records the end of jobs: delivered, or refused for good, durably (one flush a batch:
   * delivered jobs are marked in batches by the worker). A mark lost to a power cut before
   * it means one more (harmless) re-send of those few, as delivery is at least once.
   *
   * Each job is finished only if the copy it sent is still the instance's: a changed copy
   * stored while it was on its way (or delivered and not yet marked) requeued the job
   * (storage/instances.ts), and the destination must get that copy too. Returns the jobs
   * not finished, for the worker to take up again.
   */
  async finishJobs(
    jobs: readonly SentCopy[],
    outcome: JobOutcome,
    /** When it happened, if not now (deliveries are marked a little after, together). */
    at: string = new Date().toISOString(),
  ): Promise<number[]> {
    if (jobs.length === 0) return [];
    const sentPaths = JSON.stringify(Object.fromEntries(jobs.map((j) => [j.pk, j.path])));
    const finished = await this.sql.all<{ pk: number }>(
      `UPDATE forward_jobs SET state = ?, last_status = ?, last_error = ?, finished_at = ?,
              last_attempt_at = ?, attempts = attempts + 1, not_before = NULL
        WHERE pk IN (${jobs.map(() => '?').join(', ')}) AND state = 'queued'
          AND ${STILL_THE_COPY_SENT}
        RETURNING pk`,
      [
        outcome.state,
        outcome.status,
        outcome.state === 'failed' ? outcome.error : null,
        at,
        at,
        ...jobs.map((j) => j.pk),
        sentPaths,
      ],
    );
    await this.sql.durable();
    const done = new Set(finished.map((r) => r.pk));
    return jobs.filter((j) => !done.has(j.pk)).map((j) => j.pk);
  }

  /** Storage commitment was asked of the destination for these delivered jobs. */
  async markCommitRequested(pks: readonly number[], transactionUid: string): Promise<void> {
    if (pks.length === 0) return;
    await this.sql.run(
      `UPDATE forward_jobs SET commit_state = 'requested', commit_transaction = ?, commit_reason = NULL
        WHERE pk IN (${pks.map(() => '?').join(', ')})`,
      [transactionUid, ...pks],
    );
    await this.sql.durable();
  }

  /** Applies a destination's N-EVENT-REPORT; returns how many jobs it settled. */
  async applyCommitReport(
    transactionUid: string,
    committed: readonly string[],
    failed: ReadonlyArray<{ sopInstanceUid: string; reason: number }>,
  ): Promise<number> {
    let settled = 0;
    for (const sop of committed) {
      settled += await this.sql.run(
        `UPDATE forward_jobs SET commit_state = 'committed', commit_reason = NULL
          WHERE commit_transaction = ? AND sop_instance_uid = ?`,
        [transactionUid, sop],
      );
    }
    for (const f of failed) {
      settled += await this.sql.run(
        `UPDATE forward_jobs SET commit_state = 'failed', commit_reason = ?
          WHERE commit_transaction = ? AND sop_instance_uid = ?`,
        [f.reason, transactionUid, f.sopInstanceUid],
      );
    }
    await this.sql.durable();
    return settled;
  }

  /** A transient failure: the job stays queued, the attempt and the error are recorded. */
  async noteAttempt(pk: number, error: string, status: number | null = null): Promise<void> {
    await this.sql.run(
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
    return this.sql.exclusive(async () => {
      await this.sql.exec('BEGIN IMMEDIATE');
      try {
        const jobs = await this.sql.all<{ sopInstanceUid: string; destination: string }>(
          `SELECT sop_instance_uid AS sopInstanceUid, destination FROM forward_jobs WHERE ${where}
            ORDER BY destination, pk`,
          params,
        );
        await this.sql.run(
          `UPDATE forward_jobs SET state = 'queued', attempts = 0, suspect_count = 0, not_before = NULL,
                  finished_at = NULL WHERE ${where}`,
          params,
        );
        await this.sql.exec('COMMIT');
        return jobs;
      } catch (err) {
        await this.sql.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** Failed jobs, most recent first (of one destination, or all). */
  failedJobs(destination: string | undefined, limit: number): Promise<FailedJob[]> {
    return this.sql.all<FailedJob>(
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
    return this.sql.all<DestinationSummary>(
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
    return this.sql.all(
      `SELECT destination, state, attempts, last_error AS lastError, last_status AS lastStatus,
              commit_state AS commitState, commit_reason AS commitReason
         FROM forward_jobs WHERE sop_instance_uid = ? ORDER BY destination`,
      [sopInstanceUid],
    );
  }
}

/** A queued job that is not set aside (not_before is when a suspect may be tried again). */
const READY = '(not_before IS NULL OR not_before <= ?)';
