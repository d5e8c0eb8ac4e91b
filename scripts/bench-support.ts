// What the benchmarks share: the set of CT-like instances they send, the box started as
// its own process, storescu senders splitting a set between them, the durable floor, and
// what a process used (CPU time, peak RSS) read from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  promises as fs,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import * as path from 'node:path';
import { freePort, run, tempDir, waitForPort } from '../test/support/peers';
import { uid, writeSyntheticFile } from '../test/support/synthetic';

const ROOT = path.join(__dirname, '..', '..');

/** `count` CT-like instances (512x512x16-bit, 0.5 MB) of one series of study n, in dir. */
/** CT-like instances of study n; `phantom`: slices that compress as CT does (see synthetic.ts). */
export async function writeCtSet(
  dir: string,
  count: number,
  n: number,
  phantom = false,
): Promise<string[]> {
  const files: string[] = [];
  for (let i = 1; i <= count; i++) {
    const f = path.join(dir, `${i}.dcm`);
    await writeSyntheticFile(f, {
      studyUid: uid(n),
      seriesUid: uid(n, 1),
      sopInstanceUid: uid(n, 1, i),
      rows: 512,
      columns: 512,
      instanceNumber: i,
      ...(phantom ? { phantomSeed: i } : {}),
    });
    files.push(f);
  }
  return files;
}

export interface BoxProcess {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** SIGTERM, then its storage directory is removed. */
  stop(): Promise<void>;
}

/** One multi-frame instance of `frames` 512x512x16-bit frames (600: 315 MB) of study n. */
export async function writeMultiFrame(file: string, n: number, frames: number): Promise<void> {
  await writeSyntheticFile(file, {
    studyUid: uid(n),
    seriesUid: uid(n, 1),
    sopInstanceUid: uid(n, 1, 1),
    rows: 512,
    columns: 512,
    frames,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.7.3',
  });
}

/**
 * `dicom-edge start` on a fresh storage directory and a free port, with `settings` added to
 * its config and `env` to its environment; resolves once it listens.
 */
export async function startBoxProcess(
  settings: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<BoxProcess> {
  const dir = tempDir('bench-box');
  const port = await freePort();
  const config = path.join(dir, 'dicom-edge.json');
  await fs.writeFile(
    config,
    JSON.stringify({ port, host: '127.0.0.1', storageDir: './var', ...settings }),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'dicom-edge'), 'start', '--config', config],
    {
      env: { ...process.env, DICOM_EDGE_LOG: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await waitForPort(port);
  return {
    port,
    pid: child.pid!,
    dir,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** The files split between `senders` storescu processes at once; seconds until all ended. */
export async function sendWithStorescu(
  port: number,
  aec: string,
  files: readonly string[],
  senders = 1,
  /** More storescu options (TLS). */
  extraArgs: readonly string[] = [],
): Promise<number> {
  const groups = Array.from({ length: senders }, (_, i) =>
    files.filter((_, j) => j % senders === i),
  );
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    groups.map((g) =>
      run('storescu', [...extraArgs, '-aec', aec, '127.0.0.1', String(port), ...g], 600_000),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const failed = results.find((r) => r.code !== 0);
  if (failed) throw new Error(`storescu to ${aec}: ${failed.stderr.slice(-300)}`);
  return seconds;
}

/**
 * Writes back what the previous run left dirty. storescp and Orthanc do not fsync all they
 * write: their data would otherwise be written back during the next receiver's run, and its
 * fsyncs would wait for the writeback of someone else's data.
 */
export function settleDisk(): void {
  execFileSync('sync');
}

/**
 * Seconds that durability costs at the least for `count` instances of `bytes`, on the disk
 * of the temp dir: per instance write, fsync, rename, fsync the directory, in synchronous
 * calls (no thread-pool hop between them), as a receiver that waits for each would do.
 */
export function durableCost(count: number, bytes: number): number {
  const dir = tempDir('floor');
  const target = path.join(dir, 'cache');
  mkdirSync(target);
  const data = Buffer.alloc(bytes, 7);
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const temp = path.join(dir, `${i}.part`);
    const fd = openSync(temp, 'w');
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, path.join(target, `${i}.dcm`));
    const d = openSync(target, 'r');
    fsyncSync(d);
    closeSync(d);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

/** The peak resident set of a running process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU time a running process has used so far, all its threads, user + system, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: state is
  // the first, utime and stime (fields 14 and 15 of proc(5)) the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}
