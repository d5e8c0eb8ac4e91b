// Storage commitment (PS3.4 Annex J) as SCP: each N-ACTION request is a transaction with
// its referenced instances, reported (N-EVENT-REPORT) once every item is decided; and as
// SCU: the reports peers send for the commitments the box asked for. Kept across restarts.
import type { Sqlite } from './sqlite';

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

/** A storage commitment report a peer sent to the box, as kept. */
export interface StoredCommitReport {
  readonly eventTypeId: number;
  readonly committed: string[];
  readonly failed: Array<{ sopInstanceUid: string; reason: number }>;
}

export class Commitments {
  constructor(private readonly sql: Sqlite) {}

  /** Records a commitment request and its items in one transaction, durably. */
  async createCommitment(c: NewCommitment): Promise<void> {
    await this.sql.exclusive(() => this.insertCommitment(c));
    await this.sql.durable();
  }

  private async insertCommitment(c: NewCommitment): Promise<void> {
    await this.sql.exec('BEGIN IMMEDIATE');
    try {
      await this.sql.run(
        `INSERT INTO commitments (transaction_uid, requester_ae, state, created_at, deadline) VALUES (?, ?, 'pending', ?, ?)`,
        [c.transactionUid, c.requesterAe, c.createdAt, c.deadline],
      );
      for (const item of c.items) {
        await this.sql.run(
          `INSERT INTO commitment_items (commitment_pk, sop_class_uid, sop_instance_uid)
           VALUES ((SELECT pk FROM commitments WHERE transaction_uid = ?), ?, ?)`,
          [c.transactionUid, item.sopClassUid, item.sopInstanceUid],
        );
      }
      await this.sql.exec('COMMIT');
    } catch (err) {
      await this.sql.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  pendingCommitments(): Promise<PendingCommitment[]> {
    return this.sql.all<PendingCommitment>(
      `SELECT transaction_uid AS transactionUid, requester_ae AS requesterAe, created_at AS createdAt,
              deadline
         FROM commitments WHERE state = 'pending' ORDER BY pk`,
      [],
    );
  }

  /** Commitments asked of the box: how many wait for their report, how many were reported. */
  async commitmentCounts(): Promise<{ pending: number; reported: number }> {
    const row = await this.sql.get<{ pending: number | null; reported: number | null }>(
      `SELECT SUM(state = 'pending') AS pending, SUM(state = 'reported') AS reported FROM commitments`,
      [],
    );
    return { pending: row?.pending ?? 0, reported: row?.reported ?? 0 };
  }

  /**
   * The items of a commitment with what decides them: the class the instance is stored
   * under (null: not stored) and how many of its forward jobs are not yet delivered.
   */
  commitmentItems(transactionUid: string): Promise<CommitmentItemState[]> {
    return this.sql.all<CommitmentItemState>(
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
    await this.sql.run(
      `UPDATE commitments SET state = 'reported', reported_at = ?, event_type = ? WHERE transaction_uid = ?`,
      [new Date().toISOString(), eventType, transactionUid],
    );
    await this.sql.durable();
  }

  /** Keeps a storage commitment report received from a peer. */
  async recordCommitReport(
    transactionUid: string,
    peer: string,
    report: StoredCommitReport,
  ): Promise<void> {
    await this.sql.run(
      `INSERT OR REPLACE INTO commit_reports (transaction_uid, received_at, peer, report) VALUES (?, ?, ?, ?)`,
      [transactionUid, new Date().toISOString(), peer, JSON.stringify(report)],
    );
  }

  async commitReport(transactionUid: string): Promise<StoredCommitReport | null> {
    const row = await this.sql.get<{ report: string }>(
      'SELECT report FROM commit_reports WHERE transaction_uid = ?',
      [transactionUid],
    );
    return row ? (JSON.parse(row.report) as StoredCommitReport) : null;
  }
}
