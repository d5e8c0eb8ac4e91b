// What the crash tests (kill -9, power cut) send and what they check afterwards: rounds of
// new instances from several senders, with changed re-sends (same SOP Instance UID, other
// pixel data) of instances acknowledged before; a ledger of what each sender was told; and
// the audit of a stopped box's cache (its index opened directly, its files listed).
import * as path from 'node:path';
import { Status } from '../../firmware/dicom/dimse/status';
import { storeFiles } from '../../firmware/services/store-scu';
import { indexPath } from '../../storage/archive';
import { contentDigest } from '../../storage/content-digest';
import { Index } from '../../storage/index';
import { datasetBytes, listFiles } from './peers';
import { uid, writeSyntheticFile } from './synthetic';

export function peer(port: number): {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
} {
  return { host: '127.0.0.1', port, callingAeTitle: 'MODALITY', calledAeTitle: 'DICOM_EDGE' };
}

/** SHA-256 of a Part 10 file's data set: what the index's digest is of. */
export async function digestOf(file: string): Promise<string> {
  const digest = contentDigest();
  digest.update(await datasetBytes(file));
  return digest.digest();
}

export interface CacheAudit {
  rows: Map<string, { path: string; digest: string }>;
  files: string[];
  /** Files in the cache no row lists. */
  orphans: string[];
  /** Rows whose file is missing or holds other content than the row's digest. */
  mismatched: string[];
}

/** The cache as the index and the files say, with the index opened while the box is stopped. */
export async function cacheAudit(storageDir: string): Promise<CacheAudit> {
  const index = await Index.open(indexPath(storageDir));
  const rows = new Map<string, { path: string; digest: string }>();
  try {
    for (let after = ''; ;) {
      const page = await index.instances.instancesAfter(after, 500);
      if (page.length === 0) break;
      for (const r of page) {
        const row = await index.instances.getInstance(r.sopInstanceUid);
        rows.set(r.sopInstanceUid, { path: r.path, digest: row!.digest });
      }
      after = page[page.length - 1]!.path;
    }
  } finally {
    await index.close();
  }
  const files = (await listFiles(path.join(storageDir, 'cache'))).map((f) =>
    path.relative(storageDir, f),
  );
  const listed = new Set([...rows.values()].map((r) => r.path));
  const orphans = files.filter((f) => !listed.has(f));
  const mismatched: string[] = [];
  for (const [sop, r] of rows) {
    const file = path.join(storageDir, r.path);
    const actual = await digestOf(file).catch(() => 'missing');
    if (actual !== r.digest) mismatched.push(sop);
  }
  return { rows, files, orphans, mismatched };
}

export interface Sent {
  file: string;
  sop: string;
  digest: string;
}

export interface RoundOptions {
  /** Study number of the first sender; sender s sends study firstStudy + s. */
  firstStudy: number;
  senders: number;
  perSender: number;
  /** Acknowledged SOP Instance UIDs (made by `uid`) the last sender re-sends, changed. */
  resend: readonly string[];
  /** The next noise seed: every file gets its own, so every version has its own digest. */
  seed: { next: number };
  rows?: number;
}

/** One round's files: a new study per sender, the last sender also re-sending `resend` changed. */
export async function roundBatches(dir: string, o: RoundOptions): Promise<Sent[][]> {
  const size = o.rows ?? 192;
  const write = async (file: string, n: number, i: number): Promise<Sent> => {
    const sop = uid(n, 1, i);
    await writeSyntheticFile(file, {
      studyUid: uid(n),
      seriesUid: uid(n, 1),
      sopInstanceUid: sop,
      rows: size,
      columns: size,
      noiseSeed: o.seed.next++,
    });
    return { file, sop, digest: await digestOf(file) };
  };
  const batches: Sent[][] = [];
  for (let sender = 0; sender < o.senders; sender++) {
    const batch: Sent[] = [];
    for (let i = 1; i <= o.perSender; i++)
      batch.push(await write(path.join(dir, `s${sender}-${i}.dcm`), o.firstStudy + sender, i));
    batches.push(batch);
  }
  // The changed re-sends go between the last sender's new instances, one after each, so
  // that a crash early in the round finds some acknowledged and one in flight.
  const last = batches[o.senders - 1]!;
  for (const [k, sop] of o.resend.entries()) {
    // uid(n, 1, i): the study number and the instance number are the last parts but one.
    const parts = sop.split('.').map(Number);
    const [n, i] = [parts[parts.length - 3]!, parts[parts.length - 1]!];
    const changed = await write(path.join(dir, `changed-${n}-${i}.dcm`), n, i);
    last.splice(Math.min(2 * k + 1, last.length), 0, changed);
  }
  return batches;
}

/**
 * What the senders were told. Per SOP Instance UID, the digests the index may hold: the
 * version acknowledged last, and any version sent since and not answered (the box may have
 * made it durable and indexed it, then died before its response left).
 */
export class Ledger {
  readonly allowed = new Map<string, Set<string>>();
  readonly acknowledged = new Set<string>();
  /** Successes, of them for a changed re-send (a SOP acknowledged before), and the rest. */
  readonly counts = { acknowledged: 0, replaced: 0, unanswered: 0 };

  /** Sends one sender's batch in one association; resolves when it ended, however. */
  async send(port: number, batch: readonly Sent[]): Promise<void> {
    for (const item of batch) {
      const set = this.allowed.get(item.sop) ?? new Set<string>();
      set.add(item.digest);
      this.allowed.set(item.sop, set);
    }
    const bySop = new Map(batch.map((b) => [b.sop, b]));
    await storeFiles(
      peer(port),
      batch.map((b) => b.file),
      (r) => {
        const item = bySop.get(r.sopInstanceUid ?? '');
        if (!item) return;
        if (r.status === Status.Success) {
          this.allowed.set(item.sop, new Set([item.digest]));
          if (this.acknowledged.has(item.sop)) this.counts.replaced++;
          this.acknowledged.add(item.sop);
          this.counts.acknowledged++;
        } else this.counts.unanswered++;
      },
    ).catch(() => undefined);
  }

  /** Acknowledged instances the audit does not list with an allowed version. */
  lost(audit: CacheAudit): string[] {
    return [...this.acknowledged].filter((sop) => {
      const row = audit.rows.get(sop);
      return !row || !this.allowed.get(sop)!.has(row.digest);
    });
  }
}
