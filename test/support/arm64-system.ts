// An arm64 Debian system for the package's tests: build/arm64-root (made once by
// scripts/package/arm64-root.sh) seen through an overlay, so each test run starts from the
// pristine root and leaves it so. Its programs run under qemu-user (binfmt_misc), chrooted,
// on this machine's network: a box in it listens on 127.0.0.1 here.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { run, tempDir, type RunResult } from './peers';

export const REPO = path.join(__dirname, '..', '..', '..');

/** What a command in the root sees: no variable of this machine's but these. */
const ROOT_ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'TCP_NODELAY=1'];

export class Arm64System {
  private constructor(
    /** The merged root, where the system's files are seen. */
    readonly dir: string,
    private readonly mounts: readonly string[],
    /** The overlay's own folders (what the test changed), deleted at close. */
    private readonly base: string,
  ) {}

  /** Mounts a fresh overlay over the root (and /proc inside it). */
  static async open(root: string): Promise<Arm64System> {
    const base = tempDir('arm64');
    const [upper, work, dir] = ['upper', 'work', 'root'].map((d) => path.join(base, d));
    for (const d of [upper!, work!, dir!]) await fs.mkdir(d);
    const overlay = await run('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${root},upperdir=${upper},workdir=${work}`,
      dir!,
    ]);
    if (overlay.code !== 0) throw new Error(`overlay mount: ${overlay.stderr}`);
    const proc = await run('mount', ['-t', 'proc', 'proc', path.join(dir!, 'proc')]);
    if (proc.code !== 0) {
      await run('umount', [dir!]);
      throw new Error(`proc mount: ${proc.stderr}`);
    }
    return new Arm64System(dir!, [path.join(dir!, 'proc'), dir!], base);
  }

  /** A path inside the system, as seen from here. */
  file(inside: string): string {
    return path.join(this.dir, inside);
  }

  /** Runs a command inside the system (as root, or as `user`). */
  exec(args: readonly string[], user?: string, timeoutMs = 300_000): Promise<RunResult> {
    return run('chroot', this.chrootArgs(args, user), timeoutMs);
  }

  /** Starts a long-running command inside the system. */
  spawn(args: readonly string[], user?: string): ChildProcess {
    return spawn('chroot', this.chrootArgs(args, user), { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Copies a file of this machine into the system's /tmp; returns its path inside. */
  async copyIn(file: string): Promise<string> {
    const inside = path.join('/tmp', path.basename(file));
    await fs.copyFile(file, this.file(inside));
    return inside;
  }

  async close(): Promise<void> {
    for (const m of this.mounts) {
      const r = await run('umount', [m]);
      if (r.code !== 0) throw new Error(`umount ${m}: ${r.stderr}`);
    }
    await fs.rm(this.base, { recursive: true, force: true });
  }

  private chrootArgs(args: readonly string[], user?: string): string[] {
    return [
      ...(user ? [`--userspec=${user}:${user}`] : []),
      this.dir,
      '/usr/bin/env',
      '-i',
      ...ROOT_ENV,
      ...args,
    ];
  }
}
