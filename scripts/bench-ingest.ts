// `make bench`, ingest at the speed of the disk: 400 CT-like instances of 0.5 MB sent by
// DCMTK storescu — in one association, from 4 senders at once, from 20 — to DCMTK storescp
// (no fsync, no index), Orthanc (stock storage settings) and the box, all started here on
// 127.0.0.1 in the same run. Also "the durable floor": storescp's time plus, measured on
// the same disk, what durability costs at the least per instance (write the 0.5 MB, fsync
// it, rename it, fsync the directory). Prints MB/s and the ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { freePort, run, startStorescp, tempDir, waitForPort } from '../test/support/peers';
import { startOrthanc } from '../test/support/orthanc';
import { uid, writeSyntheticFile } from '../test/support/synthetic';

const COUNT = 400;
const ROOT = path.join(__dirname, '..', '..');

async function startBox(): Promise<{ port: number; stop: () => Promise<void>; dir: string }> {
  const dir = tempDir('ingest-box');
  const port = await freePort();
  const config = path.join(dir, 'dicom-edge.json');
  await fs.writeFile(config, JSON.stringify({ host: '127.0.0.1', port, storageDir: './var' }));
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'dicom-edge'), 'start', '--config', config],
    { env: { ...process.env, DICOM_EDGE_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port);
  return {
    port,
    dir,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sends the files split among `senders` storescu processes at once; seconds until all end. */
async function send(port: number, aec: string, files: string[], senders: number): Promise<number> {
  const groups = Array.from({ length: senders }, (_, i) =>
    files.filter((_, j) => j % senders === i),
  );
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    groups.map((g) => run('storescu', ['-aec', aec, '127.0.0.1', String(port), ...g], 600_000)),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const failed = results.find((r) => r.code !== 0);
  if (failed) throw new Error(`storescu to ${aec}: ${failed.stderr.slice(-300)}`);
  return seconds;
}

/** What durability costs at the least: per instance, write, fsync, rename, directory fsync. */
async function durableCost(bytesPerInstance: number): Promise<number> {
  const dir = tempDir('floor');
  const target = path.join(dir, 'cache');
  await fs.mkdir(target);
  const data = Buffer.alloc(bytesPerInstance, 7);
  const started = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i++) {
    const temp = path.join(dir, `${i}.part`);
    const h = await fs.open(temp, 'w');
    await h.write(data);
    await h.sync();
    await h.close();
    await fs.rename(temp, path.join(target, `${i}.dcm`));
    const d = await fs.open(target, 'r');
    await d.sync();
    await d.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await fs.rm(dir, { recursive: true, force: true });
  return seconds;
}

async function main(): Promise<void> {
  const work = tempDir('bench-ingest');
  const files: string[] = [];
  for (let i = 1; i <= COUNT; i++) {
    const f = path.join(work, `${i}.dcm`);
    await writeSyntheticFile(f, {
      studyUid: uid(960),
      seriesUid: uid(960, 1),
      sopInstanceUid: uid(960, 1, i),
      rows: 512,
      columns: 512,
      instanceNumber: i,
    });
    files.push(f);
  }
  const mb = files.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
  process.stdout.write(`\n${COUNT} instances, ${mb.toFixed(0)} MB, storescu; MB/s (best of 2):\n`);
  for (const senders of [1, 4, 20]) {
    const best = { storescp: Infinity, orthanc: Infinity, box: Infinity };
    for (let round = 0; round < 2; round++) {
      const scp = await startStorescp();
      best.storescp = Math.min(best.storescp, await send(scp.port, 'STORESCP', files, senders));
      await scp.stop();
      await fs.rm(scp.dir, { recursive: true, force: true });
      const orthanc = await startOrthanc({ ae: 'ORTHANC' });
      best.orthanc = Math.min(
        best.orthanc,
        await send(orthanc.dicomPort, 'ORTHANC', files, senders),
      );
      await orthanc.stop();
      await fs.rm(orthanc.dir, { recursive: true, force: true });
      const box = await startBox();
      best.box = Math.min(best.box, await send(box.port, 'DICOM_EDGE', files, senders));
      await box.stop();
    }
    const floor = best.storescp + (await durableCost(Math.round((mb * 1e6) / COUNT)));
    const rate = (s: number): string => `${(mb / s).toFixed(0).padStart(4)} MB/s`;
    process.stdout.write(
      `${String(senders).padStart(2)} sender(s): storescp ${rate(best.storescp)}  durable floor ${rate(floor)}  ` +
        `Orthanc ${rate(best.orthanc)}  dicom-edge ${rate(best.box)}  ` +
        `box/floor ${(floor / best.box).toFixed(2)}  box/Orthanc ${(best.orthanc / best.box).toFixed(2)}  ` +
        `box/storescp ${(best.storescp / best.box).toFixed(2)}\n`,
    );
  }
  await fs.rm(work, { recursive: true, force: true });
}

void main();
