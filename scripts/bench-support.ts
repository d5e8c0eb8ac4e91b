// What the benchmarks share: the set of CT-like instances they send, the box started as
// its own process, and storescu senders splitting a set between them.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
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

/**
 * `dicom-edge start` on a fresh storage directory and a free port, with `settings` added to
 * its config; resolves once it listens.
 */
export async function startBoxProcess(settings: Record<string, unknown> = {}): Promise<BoxProcess> {
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
    { env: { ...process.env, DICOM_EDGE_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
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
