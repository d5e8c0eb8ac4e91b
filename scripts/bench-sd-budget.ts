// `make bench`, the SD-card budget: an SD card wears out by bytes written and is slow at
// fsync. 400 CT-like instances of 0.5 MB in one storescu association, received by
// (a) DCMTK storescp, (b) the box, (c) the box forwarding each instance to a storescp whose
// files go to memory (/dev/shm), each under strace counting fsync/fdatasync. Printed per
// instance: fsync-type calls, and bytes written per byte received — by the process
// (/proc/PID/io write_bytes: files, index, WAL, checkpoints) and by the whole block device
// (/sys/block/DEV/stat: the filesystem's journal and metadata too; the machine is
// otherwise idle, so this is near the box's own). Needs strace (Debian's package).
import { spawn, execFileSync } from 'node:child_process';
import { promises as fs, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { freePort, run, tempDir, waitForPort } from '../test/support/peers';
import { sendWithStorescu, writeCtSet } from './bench-support';

const COUNT = 400;
const ROOT = path.join(__dirname, '..', '..');
const SECTOR = 512;

/** The block device a directory lives on (for /sys/block/DEV/stat). */
function blockDevice(dir: string): string | null {
  const dev = statSync(dir).dev;
  const major = Math.floor(dev / 256);
  const minor = dev % 256;
  try {
    const link = execFileSync('readlink', ['-f', `/sys/dev/block/${major}:${minor}`])
      .toString()
      .trim();
    // A partition's stat is its own; a whole disk's is too. Either counts its writes.
    return link;
  } catch {
    return null;
  }
}

function deviceWrittenBytes(sysPath: string | null): number {
  if (!sysPath) return NaN;
  const fields = readFileSync(path.join(sysPath, 'stat'), 'utf8').trim().split(/\s+/);
  return Number(fields[6]) * SECTOR;
}

function processWrittenBytes(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/write_bytes: (\d+)/.exec(io)?.[1] ?? NaN);
}

interface Traced {
  readonly pid: number;
  stop(): Promise<number>;
}

/** Starts a command under strace -c for the fsync family; stop() resolves with the call count. */
async function traced(cmd: string, args: string[], port: number, env = {}): Promise<Traced> {
  const summary = path.join(tempDir('strace'), 'summary.txt');
  const child = spawn(
    'strace',
    [
      '-f',
      '-qq',
      '-c',
      '-e',
      'trace=fsync,fdatasync,sync_file_range,syncfs',
      '-o',
      summary,
      cmd,
      ...args,
    ],
    { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1', DICOM_EDGE_LOG: 'warn', ...env } },
  );
  await waitForPort(port, 30_000);
  const pid = Number(
    execFileSync('pgrep', ['-P', String(child.pid)])
      .toString()
      .trim()
      .split('\n')[0],
  );
  return {
    pid,
    async stop() {
      process.kill(pid, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const text = await fs.readFile(summary, 'utf8');
      let calls = 0;
      for (const m of text.matchAll(
        /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync|sync_file_range|syncfs)\s*$/gm,
      ))
        calls += Number(m[1]);
      return calls;
    },
  };
}

async function measure(
  label: string,
  start: () => Promise<Traced>,
  storageDir: string,
  files: string[],
  port: number,
  aec: string,
  settle: () => Promise<void> = async () => undefined,
  senders = 1,
): Promise<void> {
  const device = blockDevice(storageDir);
  const receiver = await start();
  execFileSync('sync');
  const before = { process: processWrittenBytes(receiver.pid), device: deviceWrittenBytes(device) };
  await sendWithStorescu(port, aec, files, senders);
  await settle();
  execFileSync('sync');
  const after = { process: processWrittenBytes(receiver.pid), device: deviceWrittenBytes(device) };
  const fsyncs = await receiver.stop();
  let received = 0;
  for (const f of files) received += statSync(f).size;
  process.stdout.write(
    `${label.padEnd(34)} ${(fsyncs / files.length).toFixed(2).padStart(6)} fsync/inst  ` +
      `${((after.process - before.process) / received).toFixed(3).padStart(6)} written/received (process)  ` +
      `${((after.device - before.device) / received).toFixed(3).padStart(6)} (device)\n`,
  );
}

async function main(): Promise<void> {
  const work = tempDir('bench-sd');
  const files = await writeCtSet(path.join(work, 'ct'), COUNT, 950);
  process.stdout.write(`\n${COUNT} instances of 0.5 MB, storescu, one association:\n`);

  // (a) DCMTK storescp on the same disk.
  {
    const port = await freePort();
    const dir = tempDir('sd-storescp');
    await measure(
      'DCMTK storescp (no fsync, no index)',
      () => traced('storescp', ['-od', dir, '-aet', 'STORESCP', String(port)], port),
      dir,
      files,
      port,
      'STORESCP',
    );
  }
  // (b) the box; (c) the box forwarding to a storescp writing to memory.
  for (const [forward, senders] of [
    [false, 1],
    [false, 4],
    [true, 1],
  ] as const) {
    const port = await freePort();
    const dir = tempDir('sd-box');
    const storageDir = path.join(dir, 'var');
    let upstream: { port: number; stop: () => Promise<void> } | undefined;
    const nodes = [];
    if (forward) {
      const upPort = await freePort();
      const shm = await fs.mkdtemp('/dev/shm/dicom-edge-bench-');
      const child = spawn('storescp', ['-od', shm, '-aet', 'PACS', String(upPort)], {
        stdio: 'ignore',
        env: { ...process.env, TCP_NODELAY: '1' },
      });
      await waitForPort(upPort);
      upstream = {
        port: upPort,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
          await fs.rm(shm, { recursive: true, force: true });
        },
      };
      nodes.push({ name: 'pacs', ae: 'PACS', host: '127.0.0.1', port: upPort, forward: true });
    }
    const config = path.join(dir, 'dicom-edge.json');
    await fs.writeFile(config, JSON.stringify({ host: '127.0.0.1', port, storageDir, nodes }));
    await fs.mkdir(storageDir, { recursive: true });
    await measure(
      forward
        ? 'dicom-edge, forwarding to a PACS'
        : `dicom-edge, ${senders} sender${senders > 1 ? 's' : ''}`,
      () =>
        traced(
          process.execPath,
          [path.join(ROOT, 'bin', 'dicom-edge'), 'start', '--config', config],
          port,
        ),
      storageDir,
      files,
      port,
      'DICOM_EDGE',
      async () => {
        if (!upstream) return;
        // Until every instance is delivered (the forward jobs' writes count too).
        const deadline = Date.now() + 120_000;
        for (;;) {
          const r = await run(process.execPath, [
            path.join(ROOT, 'bin', 'dicom-edge'),
            'queue',
            '--config',
            config,
          ]);
          if (/^pacs .* 0 +0 +400 /m.test(r.stdout) || Date.now() > deadline) break;
          await new Promise((res) => setTimeout(res, 200));
        }
      },
      senders,
    );
    await upstream?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
  await fs.rm(work, { recursive: true, force: true });
}

void main();
