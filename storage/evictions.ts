// Eviction in the index: which studies may go (never one with an instance not yet
// delivered everywhere it is routed, or delivered nowhere at all — routed to no node, the
// box's copy is the only one — not yet committed where a commitment was asked, in a
// pending storage commitment, or protected), least recently used first; and the
// removal of a study's rows in one transaction that also lists its files, so that a
// crash before the files are deleted leaves a list, not orphans (see consistency.ts).
import type { Sqlite } from './sqlite';

export interface StudyUse {
  readonly studyInstanceUid: string;
  readonly lastUsedAt: string;
  readonly instances: number;
  readonly bytes: number;
}

export interface PinnedStudy extends StudyUse {
  readonly protected: boolean;
  /** Forward jobs still queued, failed, and delivered but not (yet) committed. */
  readonly undelivered: number;
  readonly failed: number;
  readonly uncommitted: number;
  /** Instances named by a storage commitment not yet reported. */
  readonly inCommitment: number;
  /** Instances no destination has a copy of (routed nowhere, or not yet delivered). */
  readonly onlyCopy: number;
}

export interface CacheUsage {
  readonly studies: number;
  readonly instances: number;
  readonly bytes: number;
  readonly pinnedStudies: number;
  readonly pinnedBytes: number;
  readonly oldestUsedAt: string | null;
}

/** The jobs that keep an instance in the cache: not delivered, or delivered uncommitted. */
const HOLDING_JOB = `(j.state <> 'done' OR (j.commit_state IS NOT NULL AND j.commit_state <> 'committed'))`;

/** Instances of the study (st) of which no destination has a copy: the box's is the only one. */
const ONLY_COPY = `SELECT 1 FROM instances i JOIN series se ON se.pk = i.series_pk
  WHERE se.study_pk = st.pk AND NOT EXISTS (
    SELECT 1 FROM forward_jobs j WHERE j.sop_instance_uid = i.sop_instance_uid AND j.state = 'done')`;

/** A study that may not be evicted now (st is the studies row). */
const PINNED = `(st.protected <> 0
  OR EXISTS (SELECT 1 FROM forward_jobs j WHERE j.study_instance_uid = st.study_instance_uid AND ${HOLDING_JOB})
  OR EXISTS (${ONLY_COPY})
  OR EXISTS (SELECT 1 FROM commitment_items ci JOIN commitments c ON c.pk = ci.commitment_pk
               JOIN instances i ON i.sop_instance_uid = ci.sop_instance_uid
               JOIN series se ON se.pk = i.series_pk
              WHERE c.state = 'pending' AND se.study_pk = st.pk))`;

const STUDY_SIZE = `(SELECT COUNT(*) FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.study_pk = st.pk) AS instances,
  (SELECT COALESCE(SUM(i.size), 0) FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.study_pk = st.pk) AS bytes`;

export class Evictions {
  constructor(private readonly sql: Sqlite) {}

  /** Studies that may be evicted, least recently used first, last used before `usedBefore`. */
  candidates(usedBefore: string, limit: number): Promise<StudyUse[]> {
    return this.sql.all<StudyUse>(
      `SELECT st.study_instance_uid AS studyInstanceUid, st.last_used_at AS lastUsedAt, ${STUDY_SIZE}
         FROM studies st
        WHERE st.last_used_at < ? AND NOT ${PINNED}
        ORDER BY st.last_used_at, st.pk LIMIT ?`,
      [usedBefore, limit],
    );
  }

  /** Studies that may not be evicted, with why, least recently used first. */
  async pinned(limit: number): Promise<PinnedStudy[]> {
    const rows = await this.sql.all<Omit<PinnedStudy, 'protected'> & { protected: number }>(
      `SELECT st.study_instance_uid AS studyInstanceUid, st.last_used_at AS lastUsedAt, st.protected AS protected,
              ${STUDY_SIZE},
              (SELECT COUNT(*) FROM forward_jobs j WHERE j.study_instance_uid = st.study_instance_uid AND j.state = 'queued') AS undelivered,
              (SELECT COUNT(*) FROM forward_jobs j WHERE j.study_instance_uid = st.study_instance_uid AND j.state = 'failed') AS failed,
              (SELECT COUNT(*) FROM forward_jobs j WHERE j.study_instance_uid = st.study_instance_uid AND j.state = 'done'
                  AND j.commit_state IS NOT NULL AND j.commit_state <> 'committed') AS uncommitted,
              (SELECT COUNT(*) FROM commitment_items ci JOIN commitments c ON c.pk = ci.commitment_pk
                  JOIN instances i ON i.sop_instance_uid = ci.sop_instance_uid JOIN series se ON se.pk = i.series_pk
                 WHERE c.state = 'pending' AND se.study_pk = st.pk) AS inCommitment,
              (SELECT COUNT(*) FROM (${ONLY_COPY})) AS onlyCopy
         FROM studies st WHERE ${PINNED}
        ORDER BY st.last_used_at, st.pk LIMIT ?`,
      [limit],
    );
    return rows.map((r) => ({ ...r, protected: r.protected !== 0 }));
  }

  /** Totals for status and the dashboard: one pass over the pinned studies, not one per study. */
  async usage(): Promise<CacheUsage> {
    const row = await this.sql.get<CacheUsage>(
      `WITH pinned AS (
         SELECT st.pk FROM studies st WHERE st.protected <> 0
         UNION SELECT st.pk FROM studies st JOIN forward_jobs j ON j.study_instance_uid = st.study_instance_uid
                WHERE ${HOLDING_JOB}
         UNION SELECT se.study_pk FROM instances i JOIN series se ON se.pk = i.series_pk
                WHERE NOT EXISTS (SELECT 1 FROM forward_jobs j WHERE j.sop_instance_uid = i.sop_instance_uid AND j.state = 'done')
         UNION SELECT se.study_pk FROM commitment_items ci JOIN commitments c ON c.pk = ci.commitment_pk
                JOIN instances i ON i.sop_instance_uid = ci.sop_instance_uid JOIN series se ON se.pk = i.series_pk
                WHERE c.state = 'pending')
       SELECT (SELECT COUNT(*) FROM studies) AS studies,
              (SELECT COUNT(*) FROM instances) AS instances,
              (SELECT COALESCE(SUM(size), 0) FROM instances) AS bytes,
              (SELECT COUNT(*) FROM pinned) AS pinnedStudies,
              (SELECT COALESCE(SUM(i.size), 0) FROM instances i JOIN series se ON se.pk = i.series_pk
                WHERE se.study_pk IN (SELECT pk FROM pinned)) AS pinnedBytes,
              (SELECT MIN(last_used_at) FROM studies) AS oldestUsedAt`,
      [],
    );
    return row!;
  }

  /**
   * Removes a study's rows and lists its files as evicted, in one transaction; resolves
   * with the files to delete. Null when the study was pinned or used since it was chosen
   * (the check is repeated inside the transaction) or is gone.
   */
  removeStudy(studyInstanceUid: string, usedBefore: string): Promise<string[] | null> {
    return this.sql.transaction(async () => {
      const study = await this.sql.get<{ pk: number }>(
        `SELECT st.pk FROM studies st
          WHERE st.study_instance_uid = ? AND st.last_used_at < ? AND NOT ${PINNED}`,
        [studyInstanceUid, usedBefore],
      );
      if (!study) return null;
      const files = (
        await this.sql.all<{ path: string }>(
          `SELECT i.path FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.study_pk = ?`,
          [study.pk],
        )
      ).map((r) => r.path);
      await this.sql.run(
        `INSERT OR IGNORE INTO unlisted_files (path)
         SELECT i.path FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.study_pk = ?`,
        [study.pk],
      );
      await this.sql.run(
        'DELETE FROM instances WHERE series_pk IN (SELECT pk FROM series WHERE study_pk = ?)',
        [study.pk],
      );
      await this.sql.run('DELETE FROM series WHERE study_pk = ?', [study.pk]);
      const patient = await this.sql.get<{ patient_pk: number }>(
        'SELECT patient_pk FROM studies WHERE pk = ?',
        [study.pk],
      );
      await this.sql.run('DELETE FROM studies WHERE pk = ?', [study.pk]);
      await this.sql.run(
        'DELETE FROM patients WHERE pk = ? AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_pk = ?)',
        [patient!.patient_pk, patient!.patient_pk],
      );
      return files;
    });
  }

  /** Protects a study from eviction (or ends that); false when there is no such study. */
  async protect(studyInstanceUid: string, on: boolean): Promise<boolean> {
    const changed = await this.sql.run(
      'UPDATE studies SET protected = ? WHERE study_instance_uid = ?',
      [on ? 1 : 0, studyInstanceUid],
    );
    await this.sql.durable();
    return changed > 0;
  }

  /** Marks studies as used now (a retrieve reads them). */
  async touch(studyInstanceUids: readonly string[], at: string): Promise<void> {
    if (studyInstanceUids.length === 0) return;
    await this.sql.run(
      `UPDATE studies SET last_used_at = max(last_used_at, ?)
        WHERE study_instance_uid IN (${studyInstanceUids.map(() => '?').join(', ')})`,
      [at, ...studyInstanceUids],
    );
  }
}
