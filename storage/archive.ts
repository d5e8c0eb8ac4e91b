// The archive: the cache's one face, owning its lifecycle as Orthanc's ServerIndex does.
// It opens the cache and its index and makes them agree (temp files, files the index no
// longer lists, the start-up check); receives instances with admission and eviction
// inside; hands out what a retrieve sends under a lease that also marks the studies used;
// answers queries; protects, evicts, checks and reports; and says when an instance is
// stored. The forward queue is forward/'s and the commitments services/commitment's: the
// archive only carries them to their one user.
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import type { CacheConfig } from '../firmware/config/config';
import { log } from '../firmware/log';
import { Cache } from './cache';
import {
  checkCacheAtStart,
  markCleanStop,
  verifyCache,
  type ConsistencyReport,
  type VerifyReport,
} from './consistency';
import { diskUse, type DiskUse } from './disk-use';
import { Evictor, type EvictionReport } from './evictor';
import {
  Index,
  type CacheUsage,
  type Commitments,
  type ForwardQueue,
  type PinnedStudy,
  type RetrievableInstance,
  type StudyUse,
  type WorklistStore,
} from './index';
import type { Condition, IndexQuery } from './query';
import {
  InstanceStore,
  type ArrivalCheck,
  type IncomingInstance,
  type ReceivedInstance,
  type Router,
} from './instance-store';

/** The index file of a storage directory. */
export function indexPath(storageDir: string): string {
  return path.join(storageDir, 'index.sqlite');
}

export type ArchiveEvents = {
  /** An instance is durable and indexed, with the destinations it is to be forwarded to. */
  stored: [destinations: readonly string[]];
};

/** What `cache` shows: the facts behind eviction. */
export interface CacheReport {
  readonly usage: CacheUsage;
  readonly disk: DiskUse;
  readonly evictAbovePercent: number;
  readonly evictToPercent: number;
  readonly minFreeBytes: number;
  /** Studies that may be evicted now, least recently used first (up to 20). */
  readonly evictable: readonly StudyUse[];
  /** Studies that may not be evicted, and why (up to 50). */
  readonly pinned: readonly PinnedStudy[];
  readonly refusing: string | null;
}

/** A retrieve's instances, held against eviction until released. */
export interface RetrieveLease {
  readonly instances: readonly RetrievableInstance[];
  release(): void;
}

/** At a hundred instances a second, a look at the disk per instance would queue behind the
 * next instance's commit: the looks after stores are folded to one per interval. */
const LOOK_AT_DISK_MS = 500;

export class Archive extends EventEmitter<ArchiveEvents> {
  private lookSoon?: NodeJS.Timeout;

  private constructor(
    readonly cache: Cache,
    private readonly index: Index,
    private readonly store: InstanceStore,
    private readonly evictor: Evictor,
    private readonly settings: () => CacheConfig,
    /** What the start-up check found (checked: false after a clean stop). */
    readonly startupCheck: ConsistencyReport,
  ) {
    super();
    store.admission = evictor;
    store.onStored = (destinations) => {
      this.lookAtDiskSoon();
      this.emit('stored', destinations);
    };
  }

  /**
   * Opens the cache in `storageDir` and makes its files and index agree; `router` names the
   * destinations of each instance stored (and of an orphan file adopted at start).
   */
  static async open(
    storageDir: string,
    settings: () => CacheConfig,
    router: Router,
  ): Promise<Archive> {
    const cache = new Cache(storageDir);
    const removed = await cache.init();
    if (removed > 0) log.info('removed temp files left by an interrupted run', { count: removed });
    const index = await Index.open(indexPath(storageDir));
    try {
      const evictor = new Evictor(cache, index, () => settings());
      const store = new InstanceStore(cache, index, router);
      // Files the index no longer lists (an eviction or a re-send a crash interrupted) go
      // first: they are no orphans to adopt.
      const unlisted = await evictor.deleteUnlisted();
      if (unlisted > 0)
        log.info('deleted cache files the index no longer lists', { files: unlisted });
      const check = await checkCacheAtStart(store);
      logStartupCheck(check);
      log.info('cache durability', {
        mode: cache.durability.mode,
        fs: cache.durability.fsType,
        mount: cache.durability.mountPoint,
      });
      return new Archive(cache, index, store, evictor, settings, check);
    } catch (err) {
      await index.close();
      throw err;
    }
  }

  /** The forward queue, for forward/ alone. */
  get queue(): ForwardQueue {
    return this.index.queue;
  }

  /** Storage commitments, for services/commitment alone. */
  get commitments(): Commitments {
    return this.index.commitments;
  }

  /** The worklist copy, for firmware/worklist alone. */
  get worklist(): WorklistStore {
    return this.index.worklist;
  }

  /** What looks at each instance received before it is indexed (the worklist's check). */
  set arrivalCheck(check: ArrivalCheck) {
    this.store.arrivalCheck = check;
  }

  /**
   * The elements a forwarded copy of an instance carries instead of its own (a worklist
   * rule coerced them on arrival); undefined: it goes as it is.
   */
  coercionFor(sopInstanceUid: string): ReturnType<WorklistStore['coercionFor']> {
    return this.index.worklist.coercionFor(sopInstanceUid);
  }

  /** Starts the eviction timer. */
  start(): void {
    this.evictor.start();
  }

  // ---- receive ---------------------------------------------------------------------------

  /** Streams one instance in (admitted on the disk as it is); resolves once it is durable. */
  receive(incoming: IncomingInstance, dataset: AsyncIterable<Buffer>): Promise<ReceivedInstance> {
    return this.store.receive(incoming, dataset);
  }

  /** Why C-STORE is refused now (the cache is full), or null. */
  get refusing(): string | null {
    return this.evictor.refusing;
  }

  // ---- retrieve and find -----------------------------------------------------------------

  /**
   * What a C-MOVE or C-GET asks for. The studies are used now (eviction takes the least
   * recently used first) and are not evicted until the lease is released.
   */
  async retrieve(conditions: readonly Condition[]): Promise<RetrieveLease> {
    const instances = await this.index.instances.retrievable(conditions);
    const studies = [...new Set(instances.map((i) => i.studyInstanceUid))];
    const release = this.evictor.lease(studies);
    try {
      await this.index.evictions.touch(studies, new Date().toISOString());
    } catch (err) {
      release();
      throw err;
    }
    return { instances, release };
  }

  /** C-FIND's matches (storage/query.ts). */
  find(query: IndexQuery): ReturnType<Index['instances']['find']> {
    return this.index.instances.find(query);
  }

  /** One instance's row, or undefined when the cache no longer holds it. */
  instance(sopInstanceUid: string): ReturnType<Index['instances']['getInstance']> {
    return this.index.instances.getInstance(sopInstanceUid);
  }

  // ---- lifecycle: protect, evict, check --------------------------------------------------

  /** Protects a study from eviction, or lets it go; false when no such study is cached. */
  async protect(studyInstanceUid: string, on: boolean): Promise<boolean> {
    const found = await this.index.evictions.protect(studyInstanceUid, on);
    if (found) this.evictor.nudge();
    return found;
  }

  /**
   * An eviction pass now, or what it would do (`dryRun`); `force` evicts down to the low
   * watermark whatever the high one (an operator's `cache evict --now`).
   */
  evict(dryRun: boolean, force: boolean): Promise<EvictionReport> {
    return this.evictor.run(dryRun, force);
  }

  /** Something may have become evictable (delivered, committed, configuration changed). */
  lookAtDisk(): void {
    this.evictor.nudge();
  }

  /** Files against the index: what is missing, extra or changed (and repaired if asked). */
  check(options: { digest: boolean; repair: boolean }): Promise<VerifyReport> {
    return verifyCache(this.store, options);
  }

  // ---- reports ---------------------------------------------------------------------------

  /** The cache's totals, at most a few seconds old. */
  usage(): Promise<CacheUsage> {
    return this.evictor.usage();
  }

  /** Patients, studies, series and instances held. */
  counts(): ReturnType<Index['instances']['counts']> {
    return this.index.instances.counts();
  }

  /** Instances and bytes received since `iso`. */
  receivedSince(iso: string): ReturnType<Index['instances']['receivedSince']> {
    return this.index.instances.receivedSince(iso);
  }

  /** Studies and bytes evicted since start. */
  get evicted(): { studies: number; bytes: number } {
    return { studies: this.evictor.evictedStudies, bytes: this.evictor.evictedBytes };
  }

  /** `cache`: the use, the disk, the watermarks, what may go now and what may not, and why. */
  async report(): Promise<CacheReport> {
    const s = this.settings();
    const inUse = new Date(Date.now() - s.inUseSeconds * 1000).toISOString();
    const [usage, disk, evictable, pinned] = await Promise.all([
      this.index.evictions.usage(),
      diskUse(this.cache.storageDir),
      this.index.evictions.candidates(inUse, 20),
      this.index.evictions.pinned(50),
    ]);
    return {
      usage,
      disk,
      evictAbovePercent: s.evictAbovePercent,
      evictToPercent: s.evictToPercent,
      minFreeBytes: s.minFreeBytes,
      evictable,
      pinned,
      refusing: this.refusing,
    };
  }

  /** Throws unless the index can take its write lock now (readiness). */
  probeWrite(): Promise<void> {
    return this.index.probeWrite();
  }

  // ---- close -----------------------------------------------------------------------------

  /**
   * Waits for receives under way, stops eviction, closes the index and the cache, and —
   * only when all that went well — records the clean stop, so the next start may skip the
   * check.
   */
  async close(): Promise<void> {
    clearTimeout(this.lookSoon);
    await this.idle();
    await this.evictor.stop();
    await this.index.close();
    await this.cache.close();
    await markCleanStop(this.cache.storageDir);
  }

  /** Resolves when every receive under way has finished (its commit, or its failure). */
  idle(): Promise<void> {
    return this.store.idle();
  }

  private lookAtDiskSoon(): void {
    if (this.lookSoon) return;
    // The look also deletes the copies re-sends replaced (evictor.deleteUnlisted).
    this.lookSoon = setTimeout(() => {
      this.lookSoon = undefined;
      this.evictor.nudge();
    }, LOOK_AT_DISK_MS);
    this.lookSoon.unref();
  }
}

function logStartupCheck(check: ConsistencyReport): void {
  const repaired =
    check.adopted.length + check.removed.length + check.quarantined.length + check.missing.length;
  if (!check.checked || (check.files === 0 && repaired === 0)) return;
  (repaired > 0 ? log.warn : log.info)('no clean stop recorded: cache and index checked', {
    files: check.files,
    adopted: check.adopted.length,
    removed: check.removed.length,
    quarantined: check.quarantined.length,
    ms: check.ms,
  });
  for (const q of check.quarantined)
    log.error('cache file unreadable, moved to quarantine', { path: q.path, reason: q.reason });
  if (check.missing.length > 0)
    log.error('cache files missing: their rows were removed and their forward jobs failed', {
      count: check.missing.length,
      sops: check.missing.slice(0, 10).join(','),
    });
}
