// The cache lifecycle: keeps the disk below its high watermark by evicting whole studies,
// least recently used first (received or retrieved), down to the low watermark — only
// studies that exist elsewhere (storage/evictions.ts says which) — and admits each C-STORE
// on the disk as it is when the C-STORE arrives (statfs), less what the instances still
// being received will write. Crossing the high watermark starts eviction at once; when only
// eviction can make room for a C-STORE, the C-STORE waits for it (a few seconds at most);
// when nothing may be evicted and the free space is below the reserve, it is refused (A700)
// before the disk is actually full, and the next C-STORE after space frees is accepted.
// The refusal is logged once each way, not per instance.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { CacheConfig } from '../firmware/config/config';
import { log } from '../firmware/log';
import type { Cache } from './cache';
import { diskAfter, diskUse, type DiskUse } from './disk-use';
import { faultPoint } from './fault-points';
import type { CacheUsage, Index, StudyUse } from './index';
import { Reservations, type Admission, type Reservation } from './reservations';
import { OutOfResourcesError } from './store-errors';

export interface EvictionReport {
  readonly dryRun: boolean;
  readonly before: DiskUse;
  readonly after: DiskUse;
  readonly studies: ReadonlyArray<StudyUse>;
  readonly bytes: number;
}

const DAY_MS = 86_400_000;
const USAGE_TTL_MS = 10_000;
/** How long a C-STORE (or a write of one) waits for eviction to make room before A700. */
const ROOM_WAIT_MS = 5_000;
/** While space is plentiful, the disk is read again after this much was written. */
const STAT_EVERY_BYTES = 4 * 2 ** 20;
/** A write never takes the disk below this (the index's commit needs room too). */
const FLOOR_BYTES = 256 * 1024;

export class Evictor implements Admission {
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private stopped = false;
  private running: Promise<EvictionReport> | null = null;
  private again = false;
  private refusal: string | null = null;
  /** Studies a retrieve is reading: never evicted while leased. */
  private readonly leases = new Map<string, number>();
  private readonly reservations = new Reservations();
  /** The last reading of the free space, and what was written since it. */
  private seen = { freeBytes: 0, writtenSince: Number.POSITIVE_INFINITY };
  /** Studies and bytes evicted since start. */
  evictedStudies = 0;
  evictedBytes = 0;

  constructor(
    private readonly cache: Cache,
    private readonly index: Index,
    private readonly settings: () => CacheConfig,
  ) {}

  /** The disk now, as statfs reads it. */
  private async diskNow(): Promise<DiskUse> {
    const disk = await diskUse(this.cache.storageDir);
    this.seen = { freeBytes: disk.freeBytes, writtenSince: 0 };
    return disk;
  }

  /** The disk as it will be when the instances being received have written what they will. */
  private async diskCommitted(): Promise<DiskUse> {
    return diskAfter(await this.diskNow(), 0, this.reservations.pendingBytes);
  }

  private usageCache?: { at: number; value: Promise<CacheUsage> };

  /**
   * The cache's totals (storage/evictions.ts usage), at most USAGE_TTL_MS old: status asks
   * every second while a dashboard is attached, and on a large cache the pinned bytes take
   * a pass over the index.
   */
  usage(): Promise<CacheUsage> {
    const now = Date.now();
    if (!this.usageCache || now - this.usageCache.at > USAGE_TTL_MS) {
      const value = this.index.evictions.usage();
      this.usageCache = { at: now, value };
      value.catch(() => (this.usageCache = undefined));
    }
    return this.usageCache.value;
  }

  /** Why C-STORE is refused now, or null while the box accepts. */
  get refusing(): string | null {
    return this.refusal;
  }

  /**
   * Admits one incoming instance on the disk read now: the free space less what the
   * instances being received will still write must stay above the reserve. Over the high
   * watermark eviction starts at once; under the reserve the instance waits for eviction
   * (at most ROOM_WAIT_MS) and is refused only when eviction cannot make room.
   */
  async admit(): Promise<Reservation> {
    const s = this.settings();
    let disk = await this.diskCommitted();
    if (disk.usedPercent > s.evictAbovePercent) this.nudge();
    if (disk.freeBytes < s.minFreeBytes) disk = await this.waitForRoom(s.minFreeBytes, true);
    this.updateRefusal(disk, s);
    if (this.refusal) throw new OutOfResourcesError(this.refusal);
    return this.reservations.take();
  }

  /**
   * Before an admitted instance writes `bytes` more. The free space is read again after
   * every STAT_EVERY_BYTES written, and before each write once it nears the reserve; a
   * write that would leave less than FLOOR_BYTES waits for eviction, so that ENOSPC is never
   * met while something may be evicted, and fails the instance (A700) when nothing may.
   */
  async room(r: Reservation, bytes: number): Promise<void> {
    const s = this.settings();
    const floor = Math.min(s.minFreeBytes, FLOOR_BYTES);
    const guess = this.seen.freeBytes - this.seen.writtenSince - bytes;
    if (this.seen.writtenSince + bytes > STAT_EVERY_BYTES || guess < s.minFreeBytes) {
      const disk = await this.diskNow();
      // The file's last block, allocated already, takes the start of this write.
      const need = newBlocksBytes(r.written, bytes, disk.blockBytes);
      if (disk.freeBytes - need < s.minFreeBytes) this.nudge();
      if (disk.freeBytes - need < floor) {
        const after = await this.waitForRoom(floor + need, false);
        if (after.freeBytes < floor + need)
          throw new OutOfResourcesError(
            `cache full while receiving: ${mb(after.freeBytes)} free and nothing in it may be evicted yet`,
          );
      }
    }
    this.seen.writtenSince += bytes;
    r.written += bytes;
  }

  release(r: Reservation, stored: boolean): void {
    this.reservations.release(r, stored);
  }

  /**
   * Evicts now until `needBytes` are free (counting what the receives under way will write
   * when `committed`), for at most ROOM_WAIT_MS: a pass at a time, and while no pass frees
   * anything, again as studies leave the in-use window. Returns the disk as it is then.
   */
  private async waitForRoom(needBytes: number, committed: boolean): Promise<DiskUse> {
    const deadline = Date.now() + ROOM_WAIT_MS;
    const read = (): Promise<DiskUse> => (committed ? this.diskCommitted() : this.diskNow());
    for (;;) {
      const report = await this.run(false);
      const disk = await read();
      if (disk.freeBytes >= needBytes || Date.now() >= deadline) return disk;
      if (report.bytes > 0) continue;
      // Nothing was evictable now: wait only for studies that will be once out of use.
      if (!(await this.evictableSoon())) return disk;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Whether a study that may not be evicted now will be once the in-use window passes. */
  private async evictableSoon(): Promise<boolean> {
    const all = await this.index.evictions.candidates(new Date(Date.now() + 1).toISOString(), 50);
    return all.some((c) => !this.leases.has(c.studyInstanceUid));
  }

  /**
   * Deletes the cache files the index no longer lists: those of a re-send's replaced copy
   * (listed in the commit that acknowledged the new one), and of an eviction a crash
   * interrupted. At start (before the start-up check: they are no orphans to adopt) and
   * at the start of each pass. Returns how many.
   */
  async deleteUnlisted(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const files = await this.index.instances.unlistedFiles(500);
      if (files.length === 0) return deleted;
      // The commits that unlisted them must survive a power cut before the files go.
      await this.index.durable();
      for (const f of files) await this.cache.remove(f);
      await this.index.instances.unlistedFilesDeleted(files);
      deleted += files.length;
    }
  }

  start(intervalMs = 30_000): void {
    this.timer = setInterval(() => this.nudge(), intervalMs);
    this.timer.unref();
    this.nudge();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Something changed (stored, delivered, configuration): look again, soon. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.run(false).catch((err: unknown) =>
      log.error('eviction failed', { reason: (err as Error).message }),
    );
  }

  /** Holds studies against eviction while a retrieve reads them; call the result to let go. */
  lease(studyInstanceUids: readonly string[]): () => void {
    for (const uid of studyInstanceUids) this.leases.set(uid, (this.leases.get(uid) ?? 0) + 1);
    return () => {
      for (const uid of studyInstanceUids) {
        const n = (this.leases.get(uid) ?? 1) - 1;
        if (n <= 0) this.leases.delete(uid);
        else this.leases.set(uid, n);
      }
    };
  }

  /**
   * One pass now (or what a pass would do, with dryRun); waits for a pass under way. With
   * `force` (an operator's `cache evict --now`) it evicts down to the low watermark even
   * when the high one is not crossed.
   */
  async run(dryRun: boolean, force = false): Promise<EvictionReport> {
    while (this.running) await this.running.catch(() => undefined);
    const pass = this.pass(dryRun, force);
    this.running = pass;
    try {
      return await pass;
    } finally {
      this.running = null;
      if (this.again && this.timer) {
        this.again = false;
        this.nudge();
      }
    }
  }

  private async pass(dryRun: boolean, force: boolean): Promise<EvictionReport> {
    if (!dryRun) await this.deleteUnlisted();
    const s = this.settings();
    const before = await this.diskCommitted();
    const now = Date.now();
    // A study used within inUseSeconds is in use (an instance may be arriving for it).
    const inUse = new Date(now - s.inUseSeconds * 1000).toISOString();
    const chosen: StudyUse[] = [];
    let freed = 0;
    // What the disk would be with the chosen studies gone (a dry run deletes nothing).
    const projected = (): DiskUse => diskAfter(before, freed);
    const pressing = (): boolean => {
      const d = projected();
      return d.usedPercent > s.evictToPercent || d.freeBytes < s.minFreeBytes;
    };
    const take = async (usedBefore: string, enough: () => boolean): Promise<void> => {
      for (;;) {
        if (enough()) return;
        const seen = new Set(chosen.map((c) => c.studyInstanceUid));
        const candidates = (await this.index.evictions.candidates(usedBefore, 50)).filter(
          (c) => !this.leases.has(c.studyInstanceUid) && !seen.has(c.studyInstanceUid),
        );
        if (candidates.length === 0) return;
        for (const c of candidates) {
          if (enough()) return;
          if (!dryRun && !(await this.evict(c, usedBefore))) continue;
          chosen.push(c);
          freed += c.bytes;
        }
        if (dryRun && candidates.length < 50) return;
      }
    };
    // Too old to keep, pressure or not.
    if (s.maxAgeDays > 0)
      await take(new Date(now - s.maxAgeDays * DAY_MS).toISOString(), () => false);
    // Over the high watermark (or the reserve): down to the low one, older than keepDays first.
    if (force || before.usedPercent > s.evictAbovePercent || before.freeBytes < s.minFreeBytes) {
      if (s.keepDays > 0)
        await take(new Date(now - s.keepDays * DAY_MS).toISOString(), () => !pressing());
      await take(inUse, () => !pressing());
    }
    const after = dryRun ? projected() : await this.diskCommitted();
    if (!dryRun) {
      this.updateRefusal(after, s);
      // Still refusing, or still over the high watermark: studies may become evictable any
      // moment (delivered, out of the in-use window): look again soon, not in 30 s.
      if (this.timer && (this.refusal || after.usedPercent > s.evictAbovePercent)) {
        clearTimeout(this.soon);
        this.soon = setTimeout(() => this.nudge(), Math.min(5000, s.inUseSeconds * 1000 + 100));
        this.soon.unref();
      }
    }
    return { dryRun, before, after, studies: chosen, bytes: freed };
  }

  /** Rows first, in one transaction; then the files. False when the study is pinned after all. */
  private async evict(study: StudyUse, usedBefore: string): Promise<boolean> {
    const files = await this.index.evictions.removeStudy(study.studyInstanceUid, usedBefore);
    if (!files) return false;
    await this.index.durable();
    await faultPoint('evicted-rows');
    for (const f of files) await this.cache.remove(f);
    await this.index.instances.unlistedFilesDeleted(files);
    for (const dir of new Set(files.map((f) => path.dirname(f))))
      await removeEmptyDirs(this.cache, dir);
    this.evictedStudies++;
    this.evictedBytes += study.bytes;
    log.info('study evicted', {
      study: study.studyInstanceUid,
      instances: study.instances,
      bytes: study.bytes,
      lastUsed: study.lastUsedAt,
    });
    return true;
  }

  private updateRefusal(disk: DiskUse, s: CacheConfig): void {
    const full = disk.freeBytes < s.minFreeBytes;
    if (full && !this.refusal) {
      this.refusal = `cache full: ${mb(disk.freeBytes)} free, below the ${mb(s.minFreeBytes)} reserve, and nothing in it may be evicted yet (not yet delivered, in a commitment, or protected)`;
      log.error('refusing C-STORE until space frees', {
        free: disk.freeBytes,
        reserve: s.minFreeBytes,
      });
    } else if (!full && this.refusal) {
      this.refusal = null;
      log.info('accepting C-STORE again', { free: disk.freeBytes });
    }
  }
}

/** The space `bytes` more take in a file of `written` bytes, allocated in whole blocks. */
function newBlocksBytes(written: number, bytes: number, block: number): number {
  const blocks = (n: number): number => Math.ceil(n / block);
  return (blocks(written + bytes) - blocks(written)) * block;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}

/** Removes a series directory and then its study directory, when they are empty. */
async function removeEmptyDirs(cache: Cache, seriesDir: string): Promise<void> {
  for (const dir of [seriesDir, path.dirname(seriesDir)]) {
    if (!dir.startsWith('cache' + path.sep)) return;
    try {
      await fs.rmdir(cache.absolute(dir));
      cache.forgetDir(cache.absolute(dir));
    } catch {
      return; // not empty (or already gone)
    }
  }
}
