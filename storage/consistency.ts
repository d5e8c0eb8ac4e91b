// The start-up check: after a stop that was not clean (kill, crash, power cut), the index
// and the cache files are compared so that the index lists exactly the files in the cache.
//
// What a crash can leave, and what is done with it:
// - a file no row lists, of an instance the index does not know: it was complete and
//   fsync'd (files are renamed into the cache only then) but the sender got no Success.
//   It is adopted: indexed and queued for forwarding like a received copy. The sender,
//   having no answer, will likely send it again; that identical re-send is recognised by
//   its digest and not forwarded twice. Adopting keeps an image the modality may already
//   have deleted, and costs nothing when it is sent again.
// - a file no row lists, of an instance the index does know: a re-send whose commit never
//   happened, or an old copy whose deletion did not. Never acknowledged (or no longer
//   listed), it is deleted: the acknowledged copy stays the one served (promise 2).
// - a file that does not read as the instance its name says: moved to quarantine/.
// - a row whose file is gone (a damaged card, a file deleted by hand): the row is removed
//   and its queued forward jobs fail with the reason, so the loss is visible, not hidden.
//
// A clean stop leaves a marker; the next start removes it and skips the walk, so a box
// with half a million files restarts at once. Only a start without the marker walks the
// cache: one directory listing and one indexed query per series directory, no stat of
// each file.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, parseInstancePath } from './cache';
import type { InstanceStore } from './instance-store';
import { recordOfFile } from './reindex';

const CLEAN_STOP_MARKER = 'clean-stop';
const QUARANTINE = 'quarantine';

export interface ConsistencyReport {
  /** False when the last stop was clean and nothing needed checking. */
  readonly checked: boolean;
  readonly files: number;
  readonly adopted: string[];
  readonly removed: string[];
  readonly quarantined: Array<{ path: string; reason: string }>;
  /** SOP Instance UIDs whose rows were removed because their files are gone. */
  readonly missing: string[];
  readonly ms: number;
}

/** Records that the box stopped with nothing in flight (the last step of a stop). */
export async function markCleanStop(storageDir: string): Promise<void> {
  const marker = path.join(storageDir, CLEAN_STOP_MARKER);
  const handle = await fs.open(marker, 'w');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDir(storageDir);
}

/**
 * Takes the clean-stop marker away (durably, before anything is received) and says whether
 * it was there. From here until the next clean stop, a crash means a check at next start.
 */
async function takeCleanStopMarker(storageDir: string): Promise<boolean> {
  try {
    await fs.unlink(path.join(storageDir, CLEAN_STOP_MARKER));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await fsyncDir(storageDir);
  return true;
}

/** Runs the check unless the last stop was clean (or `force`). Call before receiving. */
export async function checkCacheAtStart(
  store: InstanceStore,
  force = false,
): Promise<ConsistencyReport> {
  const clean = await takeCleanStopMarker(store.cache.storageDir);
  if (clean && !force) {
    return {
      checked: false,
      files: 0,
      adopted: [],
      removed: [],
      quarantined: [],
      missing: [],
      ms: 0,
    };
  }
  return checkCache(store);
}

/** Compares every cache directory with the index and repairs what differs (see above). */
export async function checkCache(store: InstanceStore): Promise<ConsistencyReport> {
  const started = Date.now();
  const { cache, index } = store;
  const report = {
    checked: true,
    files: 0,
    adopted: [] as string[],
    removed: [] as string[],
    quarantined: [] as Array<{ path: string; reason: string }>,
    missing: [] as string[],
    ms: 0,
  };
  const visited = new Set<string>();
  let rowsSeen = 0;
  for (const study of await subdirectories(cache.cacheDir)) {
    for (const series of await subdirectories(path.join(cache.cacheDir, study))) {
      const dir = path.join('cache', study, series) + path.sep;
      visited.add(dir);
      const names = await fs.readdir(cache.absolute(dir));
      const rows = await index.instances.instancesIn(dir);
      rowsSeen += rows.length;
      const listed = new Set(rows.map((r) => r.path));
      const present = new Set<string>();
      for (const name of names) {
        const rel = dir + name;
        const named = parseInstancePath(rel);
        if (!named) continue; // not a file the cache makes: left alone
        report.files++;
        present.add(rel);
        if (!listed.has(rel)) await settleOrphan(store, rel, named.sopInstanceUid, report);
      }
      for (const row of rows) if (!present.has(row.path)) report.missing.push(row.sopInstanceUid);
    }
  }
  const { instances } = await index.instances.counts();
  if (rowsSeen + report.adopted.length !== instances) {
    // Some rows name directories that are not there at all.
    for (let after = ''; ;) {
      const page = await index.instances.instancesAfter(after, 1000);
      if (page.length === 0) break;
      for (const row of page) {
        if (!visited.has(row.path.slice(0, row.path.lastIndexOf(path.sep) + 1)))
          report.missing.push(row.sopInstanceUid);
      }
      after = page[page.length - 1]!.path;
    }
  }
  if (report.missing.length > 0)
    await index.instances.forgetInstances(report.missing, 'cache file missing at start-up check');
  report.ms = Date.now() - started;
  return report;
}

async function settleOrphan(
  store: InstanceStore,
  rel: string,
  sopInstanceUid: string,
  report: {
    adopted: string[];
    removed: string[];
    quarantined: Array<{ path: string; reason: string }>;
  },
): Promise<void> {
  if (await store.index.instances.getInstance(sopInstanceUid)) {
    await store.cache.remove(rel);
    report.removed.push(rel);
    return;
  }
  let record;
  try {
    record = await recordOfFile(store, rel);
  } catch (err) {
    const reason = (err as Error).message;
    const target = path.join(store.cache.storageDir, QUARANTINE, path.basename(rel));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(store.cache.absolute(rel), target);
    report.quarantined.push({ path: rel, reason });
    return;
  }
  await store.index.instances.storeInstance(record);
  if (record.forwardTo.length > 0) store.onIndexed(record.forwardTo);
  report.adopted.push(rel);
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}
