// Starting and stopping what tests talk to, all on 127.0.0.1 with their own temp dirs:
// the box itself (in-process), DCMTK tools and storescp. DCMTK runs with TCP_NODELAY=1
// (Debian's build leaves Nagle on, which crawls on loopback).
import { echo } from '../../firmware/services/echo-scu';
import { storeFiles } from '../../firmware/services/store-scu';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startAppliance, type RunningAppliance } from '../../firmware/appliance';
import {
  DEFAULTS,
  type CacheConfig,
  type Config,
  type ForwardingConfig,
} from '../../firmware/config/config';
import { setLogLevel } from '../../firmware/log';
import { logOutput } from './peer-logs';
import { waitFor } from './wait';

setLogLevel(
  (process.env.DICOM_EDGE_LOG as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'error',
);

export const PEER_ENV = { ...process.env, TCP_NODELAY: '1' };

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `dicom-edge-${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface TestBox extends RunningAppliance {
  readonly config: Config;
}

/** What a test may set: any key, and of `forwarding` only the settings it cares about. */
export type BoxOverrides = Partial<Omit<Config, 'forwarding' | 'cache'>> & {
  readonly forwarding?: Partial<ForwardingConfig>;
  readonly cache?: Partial<CacheConfig>;
};

export async function startBox(overrides: BoxOverrides = {}): Promise<TestBox> {
  const config: Config = {
    ...DEFAULTS,
    host: '127.0.0.1',
    port: await freePort(),
    storageDir: tempDir('box'),
    artimTimeout: 2,
    ...overrides,
    // A test names the forwarding settings it cares about; the rest are the defaults.
    forwarding: { ...DEFAULTS.forwarding, ...overrides.forwarding },
    cache: { ...DEFAULTS.cache, ...overrides.cache },
  };
  const box = await startAppliance(config);
  return { ...box, config, stop: () => box.stop() };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, with a time bound. */
/** DCMTK storescu sends the files to 127.0.0.1:port; it must exit 0. */
export async function storescu(
  port: number,
  files: readonly string[],
  options: readonly string[] = [],
  aec = 'DICOM_EDGE',
): Promise<void> {
  const r = await run(
    'storescu',
    [...options, '-aec', aec, '127.0.0.1', String(port), ...files],
    120_000,
  );
  if (r.code !== 0) throw new Error(`storescu exited ${r.code}: ${r.stderr}`);
}

export function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: PEER_ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** DCMTK's storescp writing into a temp dir; resolves once it accepts connections. */
export async function startStorescp(
  extraArgs: readonly string[] = [],
  /** A port chosen before (a destination that comes up later); a free one by default. */
  chosenPort?: number,
): Promise<{ port: number; pid: number; dir: string; stop: () => Promise<void> }> {
  const port = chosenPort ?? (await freePort());
  const dir = tempDir('storescp');
  const child: ChildProcess = spawn(
    'storescp',
    ['-od', dir, '-aet', 'STORESCP', ...extraArgs, String(port)],
    {
      env: PEER_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  logOutput(child, 'storescp');
  await waitForPort(port);
  return {
    port,
    pid: child.pid!,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The data set bytes of a Part 10 file (everything after the File Meta Information). */
export async function datasetBytes(file: string): Promise<Buffer> {
  const { parsePart10Header } = await import('../../firmware/dicom/dataset/part10');
  const buf = await fs.readFile(file);
  return buf.subarray(parsePart10Header(buf).datasetOffset);
}

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

/** C-ECHO to a box on this machine, as caller TESTER; resolves with the status. */
export function echoLocal(port: number, calledAeTitle = 'DICOM_EDGE'): Promise<number> {
  return echo({ host: '127.0.0.1', port, callingAeTitle: 'TESTER', calledAeTitle });
}

/**
 * Temp files holding bytes: what an interrupted or refused receive would leave. (The box
 * keeps one empty temp file opened ahead for the next instance; that holds nothing.)
 */
export async function partialTemps(storageDir: string): Promise<number> {
  const dir = path.join(storageDir, 'tmp');
  let n = 0;
  for (const f of await fs.readdir(dir)) if ((await fs.stat(path.join(dir, f))).size > 0) n++;
  return n;
}

/** Resolves once the box's queue for this destination is empty and nothing is in flight. */
export async function drained(
  box: TestBox,
  destination: string,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    `${destination} queue empty`,
    async () => {
      const r = (await box.forwarder.report()).find((d) => d.name === destination);
      return r !== undefined && r.queued === 0 && r.inFlight === null;
    },
    timeoutMs,
  );
}

/** Stores the files into a test box as a modality would (C-STORE); each must succeed. */
export async function storeInto(box: TestBox, files: readonly string[]): Promise<void> {
  const results = await storeFiles(
    { host: '127.0.0.1', port: box.port, callingAeTitle: 'MODALITY', calledAeTitle: 'DICOM_EDGE' },
    [...files],
    () => undefined,
  );
  const failed = results.filter((r) => r.status !== 0);
  if (failed.length > 0) throw new Error(`not stored: ${failed.map((r) => r.path).join(', ')}`);
}
