// `make bench`, forwarding over a far WAN (issue 30), in one run on 127.0.0.1: a modelled
// line of 20 Mbit/s each way (test/support/wan-link.ts) at 50 ms and at 600 ms round trip,
// in front of the destination. For a study of small MR instances (10 KB) and one of CT
// slices (0.5 MB), the seconds until the destination holds all of it, and the share of the
// line that is:
//   storescu straight to storescp through the line (DCMTK both ends),
//   the box over DIMSE to storescp (--fork) with 1 association, 4 (the default) and 8,
//   the box with 4 associations to a destination that grants an operations window of 8
//   (the project's test SCP: DCMTK and Orthanc grant none),
//   the box over STOW-RS to Orthanc's DICOMweb plugin (batches of 50).
// The box is timed from when it starts to forward: the study is stored into it first, the
// line still down, and `queue retry` lets it go once the line is up.
// At 600 ms one association takes 0.6 s an instance: the MR study's two rows of one at a
// time (storescu, the box with 1) are two minutes each, as the issue's study would be.
// Targets with 4 associations: the MR study at least 35 % of the line at 50 ms and 3.5 ×
// faster than one association at 600 ms; the CT study at least 90 % of the line; never
// slower than one association.
import { promises as fs, rmSync } from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../firmware/control/control-client';
import { startOrthanc, type OrthancPeer } from '../test/support/orthanc';
import { freePort, startStorescp, tempDir } from '../test/support/peers';
import { startPoisonScp } from '../test/support/poison-scp';
import { MR_IMAGE_STORAGE, writeSyntheticStudy } from '../test/support/synthetic';
import { startWanLink, type WanLink } from '../test/support/wan-link';
import { sendWithStorescu, startBoxProcess, writeCtSet } from './bench-support';

const LINE = 2_500_000; // 20 Mbit/s, bytes per second each way
const DEADLINE_MS = 900_000;

interface Study {
  readonly name: string;
  readonly files: string[];
  readonly bytes: number;
}

type Way = 'storescu' | 'dimse-1' | 'dimse-4' | 'dimse-8' | 'window' | 'stow';
const WAYS: ReadonlyArray<[Way, string]> = [
  ['storescu', 'storescu straight to storescp'],
  ['dimse-1', 'the box over DIMSE, 1 association'],
  ['dimse-4', 'the box over DIMSE, 4 associations'],
  ['dimse-8', 'the box over DIMSE, 8 associations'],
  ['window', '4 associations × window 8 (test SCP)'],
  ['stow', 'the box over STOW-RS to Orthanc'],
];

/** The destination of each way of the box: what it is, and how many it holds now. */
interface Destination {
  readonly port: number;
  count(): Promise<number>;
  stop(): Promise<void>;
}

async function destinationFor(way: Way): Promise<Destination> {
  if (way === 'stow') {
    const orthanc = await startOrthanc({ ae: 'WEB', dicomweb: true });
    return {
      port: orthanc.httpPort,
      count: () => countIn(orthanc),
      stop: async () => {
        await orthanc.stop();
        rmSync(orthanc.dir, { recursive: true, force: true });
      },
    };
  }
  if (way === 'window') {
    // DCMTK and Orthanc grant no operations window: the project's own test SCP does.
    const scp = await startPoisonScp(new Set(), { window: 8 });
    return { port: scp.port, count: async () => scp.stored.length, stop: () => scp.down() };
  }
  const scp = await startStorescp(['--fork']);
  return {
    port: scp.port,
    count: () => countFiles(scp.dir),
    stop: async () => {
      await scp.stop();
      rmSync(scp.dir, { recursive: true, force: true });
    },
  };
}

const ASSOCIATIONS: Partial<Record<Way, number>> = { 'dimse-1': 1, 'dimse-8': 8 };

async function studyOf(name: string, files: string[]): Promise<Study> {
  const sizes = await Promise.all(files.map((f) => fs.stat(f)));
  return { name, files, bytes: sizes.reduce((a, s) => a + s.size, 0) };
}

/** Polls until `count()` reaches n; seconds since `since`. */
async function until(n: number, count: () => Promise<number>, since: bigint): Promise<number> {
  const deadline = Date.now() + DEADLINE_MS;
  while ((await count()) < n) {
    if (Date.now() > deadline) throw new Error(`not all ${n} arrived in 15 minutes`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Number(process.hrtime.bigint() - since) / 1e9;
}

async function countFiles(dir: string): Promise<number> {
  return (await fs.readdir(dir)).length;
}

async function countIn(orthanc: OrthancPeer): Promise<number> {
  const stats = JSON.parse((await orthanc.rest('GET', '/statistics')).toString()) as {
    CountInstances: number;
  };
  return stats.CountInstances;
}

/** A line of `rttMs` in front of 127.0.0.1:target, on `port` (chosen before). */
function line(target: number, rttMs: number, port?: number): Promise<WanLink> {
  return startWanLink({
    targetPort: target,
    delayMs: rttMs / 2,
    bytesPerSecond: LINE,
    ...(port ? { port } : {}),
  });
}

/** One way of sending one study over one line: seconds until the destination has it all. */
async function timed(way: Way, study: Study, rttMs: number): Promise<number> {
  const n = study.files.length;
  if (way === 'storescu') {
    const scp = await startStorescp(['--fork']);
    const wan = await line(scp.port, rttMs);
    try {
      return await sendWithStorescu(wan.port, 'STORESCP', study.files);
    } finally {
      await wan.close();
      await scp.stop();
      rmSync(scp.dir, { recursive: true, force: true });
    }
  }
  const linePort = await freePort();
  const destination = await destinationFor(way);
  const node =
    way === 'stow'
      ? { name: 'pacs', kind: 'dicomweb', url: `http://127.0.0.1:${linePort}/dicom-web` }
      : {
          name: 'pacs',
          ae: 'PACS',
          host: '127.0.0.1',
          port: linePort,
          associations: ASSOCIATIONS[way] ?? 4,
        };
  // Only `queue retry` ends the backoff: the clock starts there.
  const box = await startBoxProcess({
    forwarding: { retryInitialSeconds: 3600, retryMaxSeconds: 3600, probeSeconds: 3600 },
    nodes: [{ ...node, forward: true }],
  });
  let wan: WanLink | undefined;
  try {
    await sendWithStorescu(box.port, 'DICOM_EDGE', study.files);
    wan = await line(destination.port, rttMs, linePort);
    const storageDir = path.join(box.dir, 'var');
    const started = process.hrtime.bigint();
    await controlRequest(storageDir, { command: 'retry', destination: 'pacs' });
    return await until(n, () => destination.count(), started);
  } finally {
    await box.stop();
    await wan?.close();
    await destination.stop();
  }
}

function share(study: Study, seconds: number): number {
  return study.bytes / LINE / seconds;
}

function row(label: string, seconds: number, study: Study): string {
  return `| ${label.padEnd(38)} | ${seconds.toFixed(1).padStart(7)} | ${`${Math.round(share(study, seconds) * 100)} %`.padStart(6)} |`;
}

function verdict(what: string, ok: boolean): string {
  return `${ok ? 'met' : 'MISSED'}: ${what}`;
}

async function main(): Promise<void> {
  const work = tempDir('bench-wan');
  try {
    process.stdout.write('generating 200 MR instances of 10 KB and 50 CT slices of 0.5 MB\n');
    const mr = await writeSyntheticStudy(path.join(work, 'mr'), 1101, 200, {
      modality: 'MR',
      sopClassUid: MR_IMAGE_STORAGE,
      rows: 70,
      columns: 70,
    });
    const ct = await writeCtSet(path.join(work, 'ct'), 50, 1102);
    const plans: Array<{ rttMs: number; study: Study }> = [
      { rttMs: 50, study: await studyOf('200 MR instances of 10 KB', mr) },
      { rttMs: 50, study: await studyOf('50 CT slices of 0.5 MB', ct) },
      { rttMs: 600, study: await studyOf('200 MR instances of 10 KB', mr) },
      { rttMs: 600, study: await studyOf('50 CT slices of 0.5 MB', ct) },
    ];
    // BENCH_WAN_RTT=50 runs only the plans of that round trip (trying a change quickly).
    const only = Number(process.env.BENCH_WAN_RTT ?? NaN);
    const verdicts: string[] = [];
    for (const { rttMs, study } of plans.filter((p) => !(only >= 0) || p.rttMs === only)) {
      const seconds = new Map<Way, number>();
      for (const [way] of WAYS) {
        process.stderr.write(`  ${study.name}, ${rttMs} ms: ${way}…\n`);
        seconds.set(way, await timed(way, study, rttMs));
      }
      process.stdout.write(
        `\n${study.name} (${(study.bytes / 1e6).toFixed(1)} MB), ${rttMs} ms round trip, 20 Mbit/s:\n`,
      );
      process.stdout.write(
        `| ${'way'.padEnd(38)} | seconds | line   |\n|${'-'.repeat(40)}|---------|--------|\n`,
      );
      for (const [way, label] of WAYS)
        process.stdout.write(`${row(label, seconds.get(way)!, study)}\n`);
      const one = seconds.get('dimse-1')!;
      const four = seconds.get('dimse-4')!;
      process.stdout.write(`4 associations / 1: ${(one / four).toFixed(1)} × faster\n`);
      const at = `${study.name}, ${rttMs} ms`;
      verdicts.push(verdict(`${at}: 4 associations never slower than 1`, four <= one * 1.05));
      if (/MR/.test(study.name) && rttMs === 50)
        verdicts.push(verdict(`${at}: ≥ 35 % of the line`, share(study, four) >= 0.35));
      if (/MR/.test(study.name) && rttMs === 600)
        verdicts.push(verdict(`${at}: ≥ 3.5 × faster than 1 association`, one / four >= 3.5));
      if (/CT/.test(study.name))
        verdicts.push(verdict(`${at}: ≥ 90 % of the line`, share(study, four) >= 0.9));
    }
    process.stdout.write(`\ntargets (4 associations):\n${verdicts.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
