// For the start-up benchmarks: the box started as its own process on a storage directory,
// timed until it listens, with its peak RSS then and what it logged.
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../test/support/peers';

const ROOT = path.join(__dirname, '..', '..');

export interface TimedStart {
  readonly ms: number;
  readonly peakMb: number;
  /** What the box wrote on stderr until it listened. */
  readonly output: string;
}

export async function timedStart(storageDir: string): Promise<TimedStart> {
  const config = path.join(path.dirname(storageDir), 'dicom-edge.json');
  await fs.writeFile(
    config,
    JSON.stringify({ host: '127.0.0.1', port: await freePort(), storageDir }),
  );
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'dicom-edge'), 'start', '--config', config],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  while (!/INFO {2}listening/.test(output)) {
    if (child.exitCode !== null) throw new Error(output);
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = Date.now() - started;
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const peakMb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { ms, peakMb, output };
}
