// `cache`: what the cache holds, the disk, what may be evicted now and what is pinned and
// why — the facts behind eviction, for `dicom-edge cache`, the console and the dashboard.
import type { Config } from '../config/config';
import { diskUse, type DiskUse } from '../../storage/disk-use';
import type { Evictor } from '../../storage/evictor';
import type { CacheUsage, Index, PinnedStudy } from '../../storage/index';

export interface CacheReport {
  readonly usage: CacheUsage;
  readonly disk: DiskUse;
  readonly evictAbovePercent: number;
  readonly evictToPercent: number;
  readonly minFreeBytes: number;
  /** Studies that may be evicted now, least recently used first (up to 20). */
  readonly evictable: ReadonlyArray<{
    studyInstanceUid: string;
    lastUsedAt: string;
    bytes: number;
  }>;
  /** Studies that may not be evicted, and why (up to 50). */
  readonly pinned: readonly PinnedStudy[];
  readonly refusing: string | null;
}

export async function cacheReport(
  index: Index,
  evictor: Evictor,
  config: Config,
): Promise<CacheReport> {
  const [usage, disk, evictable, pinned] = await Promise.all([
    index.evictions.usage(),
    diskUse(config.storageDir),
    index.evictions.candidates(
      new Date(Date.now() - config.cache.inUseSeconds * 1000).toISOString(),
      20,
    ),
    index.evictions.pinned(50),
  ]);
  return {
    usage,
    disk,
    evictAbovePercent: config.cache.evictAbovePercent,
    evictToPercent: config.cache.evictToPercent,
    minFreeBytes: config.cache.minFreeBytes,
    evictable,
    pinned,
    refusing: evictor.refusing,
  };
}
