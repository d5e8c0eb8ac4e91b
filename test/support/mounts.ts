// Real small filesystems for the tests that need a full disk, an ext4 image or a power cut:
// mounted in a temp dir by the test (as root: CI runs as root), always unmounted by it.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { tempDir } from './peers';

export function requireRoot(what: string): void {
  assert.equal(
    process.getuid?.(),
    0,
    `${what} needs root (to mount a filesystem); CI runs as root, run make test as root`,
  );
}

/** A size-limited tmpfs mounted at `mount` (e.g. size '40m'). */
export function mountTmpfs(mount: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mount]);
}

/**
 * A loop-mounted ext4 image of `mb` MB at `mount`, as an SD card's filesystem is; with
 * `reservedPercent` root's reserve (mkfs's default 5 % when not given).
 */
export function mountExt4(mount: string, mb: number, reservedPercent?: number): void {
  const image = path.join(tempDir('ext4-image'), 'cache.ext4');
  execFileSync('truncate', ['-s', `${mb}M`, image]);
  const reserve = reservedPercent === undefined ? [] : ['-m', String(reservedPercent)];
  execFileSync('mkfs.ext4', ['-q', ...reserve, image]);
  execFileSync('mount', ['-o', 'loop', image, mount]);
}

/** Unmounts (lazily: a box that has not let go yet does not keep the test waiting). */
export function unmount(mount: string): void {
  execFileSync('umount', ['-l', mount]);
}
