// The one reading of the cache's disk that every figure comes from: status, the dashboard,
// `cache`, the metrics, eviction and admission. It is the disk as the service's user sees
// it, as df shows it: ext4 keeps blocks (5 % by default) that only root may write, and the
// box runs as the user "dicom-edge", so those blocks are neither free nor part of the size.
// A reading that counted them free would let eviction wait until the user's writes fail.
import { promises as fs } from 'node:fs';

export interface DiskUse {
  /** What the service's user can ever hold: used plus available (df's Size less root's reserve). */
  readonly totalBytes: number;
  /** What the service's user can still write (f_bavail). */
  readonly freeBytes: number;
  /** Used of totalBytes, 0-100 (df's Use%, unrounded). */
  readonly usedPercent: number;
  /** The unit space is allocated in (a file takes whole blocks). */
  readonly blockBytes: number;
}

/** The disk holding `dir`, now (statfs: a few microseconds, no I/O on the medium). */
export async function diskUse(dir: string): Promise<DiskUse> {
  const s = await fs.statfs(dir);
  return fromUsedAndFree((s.blocks - s.bfree) * s.bsize, s.bavail * s.bsize, s.bsize);
}

/**
 * The disk as it would be with `freedBytes` more free (studies evicted) and `pendingBytes`
 * less (instances being received that will still write that much).
 */
export function diskAfter(d: DiskUse, freedBytes: number, pendingBytes = 0): DiskUse {
  const free = Math.min(d.totalBytes, Math.max(0, d.freeBytes + freedBytes - pendingBytes));
  return fromUsedAndFree(d.totalBytes - free, free, d.blockBytes);
}

function fromUsedAndFree(used: number, free: number, blockBytes: number): DiskUse {
  const total = used + free;
  const usedPercent = total ? (used / total) * 100 : 0;
  return { totalBytes: total, freeBytes: free, usedPercent, blockBytes };
}
