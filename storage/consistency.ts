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
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, parseInstancePath } from './cache';
import { contentDigest } from './content-digest';
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
  const { index } = store;
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
  const orphans: Array<{ rel: string; sop: string }> = [];
  await forEachSeriesDir(store, async ({ dir, files, rows }) => {
    visited.add(dir);
    rowsSeen += rows.length;
    const listed = new Set(rows.map((r) => r.path));
    for (const f of files) if (!listed.has(f.rel)) orphans.push(f);
    report.files += files.length;
    const present = new Set(files.map((f) => f.rel));
    for (const row of rows) if (!present.has(row.path)) report.missing.push(row.sopInstanceUid);
  });
  for (const o of orphans) await settleOrphan(store, o.rel, o.sop, report);
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
    await quarantine(store, rel);
    report.quarantined.push({ path: rel, reason: (err as Error).message });
    return;
  }
  await store.index.instances.storeInstance(record);
  store.onStored(record.forwardTo);
  report.adopted.push(rel);
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** One series directory: the cache's files in it (by name) and the rows of files there. */
interface SeriesDir {
  readonly dir: string;
  readonly files: ReadonlyArray<{ rel: string; sop: string }>;
  readonly rows: ReadonlyArray<{ sopInstanceUid: string; path: string }>;
}

/**
 * Calls fn for every series directory of the cache with its files and its rows. The
 * directories are listed, and their rows read, several at a time: the listings wait on
 * the disk, the queries on SQLite, and a walk one directory at a time would add the two.
 * Names that are not files the cache makes are left out (and left alone).
 */
async function forEachSeriesDir(
  store: InstanceStore,
  fn: (series: SeriesDir) => Promise<void>,
): Promise<void> {
  const { cache, index } = store;
  const studies = await subdirectories(cache.cacheDir);
  const seriesDirs = (
    await mapPool(studies, 16, async (study) =>
      (await subdirectories(path.join(cache.cacheDir, study))).map(
        (series) => path.join('cache', study, series) + path.sep,
      ),
    )
  ).flat();
  await mapPool(seriesDirs, 16, async (dir) => {
    const [names, rows] = await Promise.all([
      fs.readdir(cache.absolute(dir)),
      index.instances.instancesIn(dir),
    ]);
    const files = names.flatMap((name) => {
      const named = parseInstancePath(dir + name);
      return named ? [{ rel: dir + name, sop: named.sopInstanceUid }] : [];
    });
    await fn({ dir, files, rows });
  });
}

export interface VerifyOptions {
  /** Also hash every file's data set and compare it with the digest its row holds. */
  readonly digest: boolean;
  /** Repair what differs, as the start-up check does; else only report. */
  readonly repair: boolean;
}

export interface VerifyReport {
  readonly instances: number;
  readonly files: number;
  readonly missing: string[];
  /** SOP Instance UIDs whose file is not the size its row says, or not its digest. */
  readonly wrongSize: string[];
  readonly wrongDigest: string[];
  /** Files no row lists (older than a minute: newer ones may be arriving). */
  readonly orphans: string[];
  readonly repaired: boolean;
  readonly ms: number;
}

/** A file younger than this may be a copy being received: not taken for an orphan. */
const ARRIVING_MS = 60_000;

/**
 * `dicom-edge check`: the index against the files — each row's file exists and has its
 * size (and, with digest, its SHA-256), and each file has a row. Safe while the box runs:
 * it reads, and repairs only what it found (a damaged file goes to quarantine/ and its
 * row is removed, its queued jobs failing with the reason, so the loss shows).
 */
export async function verifyCache(
  store: InstanceStore,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const started = Date.now();
  const { cache, index } = store;
  const report = {
    instances: 0,
    files: 0,
    missing: [] as string[],
    wrongSize: [] as string[],
    wrongDigest: [] as string[],
    orphans: [] as string[],
    repaired: options.repair,
    ms: 0,
  };
  const damaged: Array<{ sop: string; path: string }> = [];
  for (let after = ''; ;) {
    const page = await index.instances.instancesAfter(after, 500);
    if (page.length === 0) break;
    for (const row of page) {
      report.instances++;
      let size: number;
      try {
        size = (await fs.stat(cache.absolute(row.path))).size;
      } catch {
        report.missing.push(row.sopInstanceUid);
        continue;
      }
      if (size !== row.size) {
        report.wrongSize.push(row.sopInstanceUid);
        damaged.push({ sop: row.sopInstanceUid, path: row.path });
      } else if (
        options.digest &&
        (await datasetDigest(cache.absolute(row.path), row.datasetOffset, row.digest)) !==
          row.digest
      ) {
        report.wrongDigest.push(row.sopInstanceUid);
        damaged.push({ sop: row.sopInstanceUid, path: row.path });
      }
    }
    after = page[page.length - 1]!.path;
  }
  const now = Date.now();
  const orphans: Array<{ rel: string; sop: string }> = [];
  await forEachSeriesDir(store, async ({ files, rows }) => {
    report.files += files.length;
    const listed = new Set(rows.map((r) => r.path));
    for (const f of files) {
      if (listed.has(f.rel)) continue;
      const mtime = (await fs.stat(cache.absolute(f.rel)).catch(() => undefined))?.mtimeMs;
      if (mtime !== undefined && now - mtime >= ARRIVING_MS) orphans.push(f);
    }
  });
  report.orphans.push(...orphans.map((o) => o.rel));
  if (options.repair) {
    for (const d of damaged) await quarantine(store, d.path, 'damaged');
    const lost = [...report.missing, ...damaged.map((d) => d.sop)];
    if (lost.length > 0)
      await index.instances.forgetInstances(
        lost,
        'cache file missing or damaged (dicom-edge check)',
      );
    const settled = {
      adopted: [] as string[],
      removed: [] as string[],
      quarantined: [] as Array<{ path: string; reason: string }>,
    };
    for (const o of orphans) await settleOrphan(store, o.rel, o.sop, settled);
  }
  report.ms = Date.now() - started;
  return report;
}

/** The digest of a file's data set, by the algorithm of the stored one (`like`). */
async function datasetDigest(file: string, start: number, like: string): Promise<string> {
  const hash = contentDigest(like);
  for await (const chunk of createReadStream(file, { start })) hash.update(chunk as Buffer);
  return hash.digest();
}

/** Moves a cache file to quarantine/ (its name, and why when given: "x.dcm.damaged"). */
async function quarantine(store: InstanceStore, rel: string, why?: string): Promise<string> {
  const name = why ? `${path.basename(rel)}.${why}` : path.basename(rel);
  const target = path.join(store.cache.storageDir, QUARANTINE, name);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.rename(store.cache.absolute(rel), target);
  return target;
}

/** fn over items, at most `limit` at a time; results in the order of the items. */
async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
