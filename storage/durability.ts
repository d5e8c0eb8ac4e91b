// How a received file is made durable, data and name, before it is acknowledged. On ext4
// with ordered (or journalled) data — the SD card's and the SSD's filesystem here — the
// file is renamed into place first and then fsync'd: the fsync writes the file's data and
// commits the journal transaction holding its inode, and with it every earlier metadata
// change, the rename and any new directory included (ext4 journals all metadata in one
// sequence of transactions; ordered mode writes a file's data before the commit that
// names its blocks). One flush per instance. Elsewhere (another filesystem, ext4 with
// data=writeback, a filesystem we cannot identify) POSIX alone is relied on: fsync the
// file, rename it, fsync the directory, and fsync a parent after each mkdir.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export type DurabilityMode = 'journal' | 'strict';

export interface Durability {
  readonly mode: DurabilityMode;
  /** The filesystem type and mount point found, for the log. */
  readonly fsType: string;
  readonly mountPoint: string;
}

/** The durability mode of the filesystem holding `dir` (read from /proc/self/mounts). */
export async function durabilityOf(dir: string): Promise<Durability> {
  let mounts: string;
  let real: string;
  try {
    [mounts, real] = await Promise.all([
      fs.readFile('/proc/self/mounts', 'utf8'),
      fs.realpath(dir),
    ]);
  } catch {
    return { mode: 'strict', fsType: 'unknown', mountPoint: '?' };
  }
  const entry = mountOf(mounts, real);
  if (!entry) return { mode: 'strict', fsType: 'unknown', mountPoint: '?' };
  const mode = modeFor(entry.fsType, entry.options);
  // ext4 may be made without a journal (mkfs -O ^has_journal): then nothing carries the
  // rename, and only the strict protocol holds.
  if (mode === 'journal' && !(await hasJournal(real)))
    return { mode: 'strict', fsType: 'ext4 (no journal)', mountPoint: entry.mountPoint };
  return { mode, ...entry };
}

/**
 * Whether the filesystem holding `file` runs a jbd2 journal: the kernel lists each one as
 * /proc/fs/jbd2/<device>-8, the device named as in /sys/dev/block/<major>:<minor>/uevent.
 */
async function hasJournal(file: string): Promise<boolean> {
  try {
    const { dev } = await fs.stat(file);
    // glibc's encoding of a dev_t (gnu_dev_major/minor), for the numbers a JS number holds.
    const major = Math.floor(dev / 256) & 0xfff;
    const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
    const uevent = await fs.readFile(`/sys/dev/block/${major}:${minor}/uevent`, 'utf8');
    const name = /^DEVNAME=(.+)$/m.exec(uevent)?.[1];
    if (!name) return false;
    await fs.access(`/proc/fs/jbd2/${name.replace(/\//g, '!')}-8`);
    return true;
  } catch {
    return false;
  }
}

/** ext4 with ordered or journalled data: one fsync of a renamed file carries its name. */
export function modeFor(fsType: string, options: readonly string[]): DurabilityMode {
  return fsType === 'ext4' && !options.includes('data=writeback') ? 'journal' : 'strict';
}

/** The mount (longest mount point that holds `file`) in /proc/self/mounts' text. */
export function mountOf(
  mounts: string,
  file: string,
): { fsType: string; mountPoint: string; options: string[] } | undefined {
  let best: { fsType: string; mountPoint: string; options: string[] } | undefined;
  for (const line of mounts.split('\n')) {
    const [, rawPoint, fsType, options] = line.split(' ');
    if (!rawPoint || !fsType || !options) continue;
    // Spaces and the like are written as octal escapes (\040).
    const mountPoint = rawPoint.replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
    const inside =
      file === mountPoint ||
      file.startsWith(mountPoint.endsWith(path.sep) ? mountPoint : mountPoint + path.sep);
    if (inside && (!best || mountPoint.length >= best.mountPoint.length))
      best = { fsType, mountPoint, options: options.split(',') };
  }
  return best;
}
