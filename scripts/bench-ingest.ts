// `make bench`, ingest at the speed of the disk: 400 CT-like instances of 0.5 MB sent by
// DCMTK storescu — in one association, from 4 senders at once, from 20 — to DCMTK storescp
// (no fsync, no index), Orthanc (stock storage settings) and the box, all started here on
// 127.0.0.1 in the same run. Also "the durable floor": storescp's time plus, measured on
// the same disk, what durability costs at the least per instance (write the 0.5 MB, fsync
// it, rename it, fsync the directory). Prints MB/s and the ratios.
import { promises as fs, statSync } from 'node:fs';
import { startStorescp, tempDir } from '../test/support/peers';
import { startOrthanc } from '../test/support/orthanc';
import {
  durableCost,
  sendWithStorescu,
  settleDisk,
  startBoxProcess,
  writeCtSet,
} from './bench-support';

const COUNT = 400;

async function main(): Promise<void> {
  const work = tempDir('bench-ingest');
  const files = await writeCtSet(work, COUNT, 960);
  const mb = files.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
  process.stdout.write(`\n${COUNT} instances, ${mb.toFixed(0)} MB, storescu; MB/s (best of 2):\n`);
  for (const senders of [1, 4, 20]) {
    const best = { storescp: Infinity, orthanc: Infinity, box: Infinity };
    for (let round = 0; round < 2; round++) {
      settleDisk();
      const scp = await startStorescp();
      best.storescp = Math.min(
        best.storescp,
        await sendWithStorescu(scp.port, 'STORESCP', files, senders),
      );
      await scp.stop();
      await fs.rm(scp.dir, { recursive: true, force: true });
      settleDisk();
      const orthanc = await startOrthanc({ ae: 'ORTHANC' });
      best.orthanc = Math.min(
        best.orthanc,
        await sendWithStorescu(orthanc.dicomPort, 'ORTHANC', files, senders),
      );
      await orthanc.stop();
      await fs.rm(orthanc.dir, { recursive: true, force: true });
      settleDisk();
      const box = await startBoxProcess();
      best.box = Math.min(best.box, await sendWithStorescu(box.port, 'DICOM_EDGE', files, senders));
      await box.stop();
    }
    settleDisk();
    const floor = best.storescp + durableCost(COUNT, Math.round((mb * 1e6) / COUNT));
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
