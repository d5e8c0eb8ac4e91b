// The cache index: one SQLite file (WAL, synchronous=FULL) and one module per concern over
// a shared connection (storage/sqlite.ts): the instance index (instances.ts), the forward
// queue (forward-queue.ts), storage commitments (commitments.ts), eviction
// (evictions.ts) and the worklist copy (worklist.ts). The schema and each migration are storage/schema/NNN-*.sql
// (migrations.ts). Nothing outside storage/ speaks SQL.
import { Commitments } from './commitments';
import { Evictions } from './evictions';
import { ForwardQueue } from './forward-queue';
import { InstanceIndex } from './instances';
import { migrate } from './migrations';
import { Sqlite } from './sqlite';
import { WorklistStore } from './worklist';

export type * from './commitments';
export type * from './evictions';
export type * from './forward-queue';
export type * from './instances';
export type * from './worklist';

export class Index {
  private constructor(
    private readonly sql: Sqlite,
    readonly instances: InstanceIndex,
    readonly queue: ForwardQueue,
    readonly commitments: Commitments,
    readonly evictions: Evictions,
    readonly worklist: WorklistStore,
  ) {}

  static async open(file: string): Promise<Index> {
    const sql = await Sqlite.open(file);
    await migrate(sql);
    await InstanceIndex.prepare(sql);
    return new Index(
      sql,
      new InstanceIndex(sql),
      new ForwardQueue(sql),
      new Commitments(sql),
      new Evictions(sql),
      new WorklistStore(sql),
    );
  }

  /** Throws unless the index can take its write lock now (readiness: /readyz). */
  async probeWrite(): Promise<void> {
    await this.sql.exclusive(async () => {
      await this.sql.exec('BEGIN IMMEDIATE');
      await this.sql.exec('ROLLBACK');
    });
  }

  /** Every commit so far made durable (see sqlite.ts): before deleting files, say. */
  durable(): Promise<void> {
    return this.sql.durable();
  }

  close(): Promise<void> {
    return this.sql.close();
  }
}
