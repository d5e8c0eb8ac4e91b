// The cache lifecycle: keeps the disk below its high watermark by evicting whole studies,
// least recently used first (received or retrieved), down to the low watermark — only
// studies that exist elsewhere (storage/evictions.ts says which). When nothing may be
// evicted and the free space falls below the reserve, C-STORE is refused (A700) before the
// disk is actually full, and accepted again as soon as space frees; the change is logged
// once each way, not per instance.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { CacheConfig } from '../firmware/config/config';
import { log } from '../firmware/log';
import type { Cache } from './cache';
import { faultPoint } from './fault-points';
import type { CacheUsage, Index, StudyUse } from './index';

export interface DiskUse {
  readonly totalBytes: number;
  readonly freeBytes: number;
  readonly usedPercent: number;
}

export interface EvictionReport {
  readonly dryRun: boolean;
  readonly before: DiskUse;
  readonly after: DiskUse;
  readonly studies: ReadonlyArray<StudyUse>;
  readonly bytes: number;
}

const DAY_MS = 86_400_000;
const USAGE_TTL_MS = 10_000;

export class Evictor {
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private stopped = false;
  private running: Promise<EvictionReport> | null = null;
  private again = false;
  private refusal: string | null = null;
  /** Studies a retrieve is reading: never evicted while leased. */
  private readonly leases = new Map<string, number>();
  /** Studies and bytes evicted since start. */
  evictedStudies = 0;
  evictedBytes = 0;

  constructor(
    private readonly cache: Cache,
    private readonly index: Index,
    private readonly settings: () => CacheConfig,
  ) {}

  /** Disk use of the storage directory. */
  private diskUse(): Promise<DiskUse> {
    return statDisk(this.cache.storageDir);
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
    const before = await this.diskUse();
    const now = Date.now();
    // A study used within inUseSeconds is in use (an instance may be arriving for it).
    const inUse = new Date(now - s.inUseSeconds * 1000).toISOString();
    const chosen: StudyUse[] = [];
    let freed = 0;
    // What the disk would be with the chosen studies gone (a dry run deletes nothing).
    const projected = (): DiskUse => project(before, freed);
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
    const after = dryRun ? projected() : await this.diskUse();
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

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}

function project(d: DiskUse, freed: number): DiskUse {
  const freeBytes = Math.min(d.totalBytes, d.freeBytes + freed);
  return {
    totalBytes: d.totalBytes,
    freeBytes,
    usedPercent: d.totalBytes ? ((d.totalBytes - freeBytes) / d.totalBytes) * 100 : 0,
  };
}

export async function statDisk(dir: string): Promise<DiskUse> {
  const s = await fs.statfs(dir);
  const totalBytes = s.blocks * s.bsize;
  const freeBytes = s.bavail * s.bsize;
  const used = (s.blocks - s.bfree) * s.bsize;
  return { totalBytes, freeBytes, usedPercent: totalBytes ? (used / totalBytes) * 100 : 0 };
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
