// Brings an index to the current schema. The schema is storage/schema/NNN-name.sql: the
// baseline (version 4) and one file per later version, applied in order, each in its own
// transaction with PRAGMA user_version set to its number (Orthanc's PrepareDatabase.sql
// and Upgrade*.sql are the model). An index from before the baseline (versions 1-3) is
// first brought to version 4 by the steps those versions needed.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Sqlite } from './sqlite';

/** storage/schema, from dist/storage at run time. */
const SCHEMA_DIR = path.join(__dirname, '..', '..', 'storage', 'schema');
const BASELINE = 4;

interface Migration {
  readonly version: number;
  readonly file: string;
}

async function migrations(): Promise<Migration[]> {
  const files = (await fs.readdir(SCHEMA_DIR)).filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f));
  return files
    .map((file) => ({ version: Number(file.slice(0, 3)), file }))
    .sort((a, b) => a.version - b.version);
}

async function columnsOf(db: Sqlite, table: string): Promise<Set<string>> {
  const rows = await db.all<{ name: string }>(`PRAGMA table_info(${table})`, []);
  return new Set(rows.map((r) => r.name));
}

/** Versions 1-3 to 4: the baseline's tables (created if missing) and the columns added since. */
async function upgradeToBaseline(db: Sqlite, baselineSql: string): Promise<void> {
  await db.exec(baselineSql);
  if (!(await columnsOf(db, 'instances')).has('digest'))
    await db.exec("ALTER TABLE instances ADD COLUMN digest TEXT NOT NULL DEFAULT ''");
  if (!(await columnsOf(db, 'forward_jobs')).has('commit_state')) {
    await db.exec(
      `ALTER TABLE forward_jobs ADD COLUMN commit_state TEXT CHECK (commit_state IN ('requested', 'committed', 'failed'));
       ALTER TABLE forward_jobs ADD COLUMN commit_transaction TEXT;
       ALTER TABLE forward_jobs ADD COLUMN commit_reason INTEGER;`,
    );
  }
}

/** The version the newest schema file makes. */
export async function currentSchemaVersion(): Promise<number> {
  const all = await migrations();
  return all[all.length - 1]!.version;
}

export async function migrate(db: Sqlite): Promise<void> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version', []);
  let version = row?.user_version ?? 0;
  const hasTables = (await db.all('SELECT name FROM sqlite_master WHERE type = ?', ['table']))
    .length;
  for (const m of await migrations()) {
    if (m.version <= version) continue;
    const sql = await fs.readFile(path.join(SCHEMA_DIR, m.file), 'utf8');
    await db.transaction(async () => {
      if (m.version === BASELINE && version > 0 && hasTables) await upgradeToBaseline(db, sql);
      else await db.exec(sql);
      await db.exec(`PRAGMA user_version = ${m.version}`);
    });
    version = m.version;
  }
}
