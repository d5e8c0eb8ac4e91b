// The box as its own process (bin/dicom-edge start), for what an in-process box cannot
// show: kill -9 at any instant, a fault point to stop at, signals, exit codes.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { freePort, PEER_ENV, tempDir, type BoxOverrides } from './peers';
import { waitFor } from './wait';

export const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'dicom-edge');

export interface BoxProcess {
  readonly port: number;
  readonly storageDir: string;
  readonly configFile: string;
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves when the output has a line matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill9(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  terminate(): Promise<number | null>;
}

/** Writes a config file for a box on 127.0.0.1 (a free port, a temp storage dir). */
export async function boxConfig(overrides: BoxOverrides = {}): Promise<{
  file: string;
  port: number;
  storageDir: string;
}> {
  const dir = tempDir('boxproc');
  const port = overrides.port ?? (await freePort());
  const storageDir = overrides.storageDir ?? path.join(dir, 'var');
  const file = path.join(dir, 'dicom-edge.json');
  await fs.writeFile(
    file,
    JSON.stringify({ host: '127.0.0.1', artimTimeout: 2, ...overrides, port, storageDir }),
  );
  return { file, port, storageDir };
}

/** Starts `dicom-edge start --config file`; resolves once it listens. */
export async function startBoxProcess(
  config: { file: string; port: number; storageDir: string },
  env: Record<string, string> = {},
): Promise<BoxProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--config', config.file], {
    env: { ...PEER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const box: BoxProcess = {
    port: config.port,
    storageDir: config.storageDir,
    configFile: config.file,
    child,
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 20_000) {
      await waitFor(
        `${pattern} in the box's output`,
        async () => pattern.test(output) || (child.exitCode !== null ? undefined : false),
        timeoutMs,
        20,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- box output ---\n${output}`);
      });
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  await box.waitForOutput(/INFO {2}listening/);
  return box;
}
