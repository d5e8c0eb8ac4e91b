// `make bench`: the box against DCMTK's storescp on the same work, in the same run.
//  1. 400 CT-like instances (512x512x16-bit), one storescu association, to (a) storescp
//     and (b) the box (fsync durability on): instances/s, MB/s, ratio.
//  2. The box's peak RSS while it receives one ~300 MB multi-frame instance.
// Everything on 127.0.0.1; DCMTK with TCP_NODELAY=1. Each side runs twice, alternating;
// the faster run of each counts.
import { promises as fs, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStorescp, tempDir } from '../test/support/peers';
import {
  peakRssMb,
  sendWithStorescu,
  startBoxProcess,
  writeCtSet,
  writeMultiFrame,
} from './bench-support';

const COUNT = 400;
const BIG_FRAMES = 600; // 600 x 512 x 512 x 2 bytes = 315 MB

async function main(): Promise<void> {
  const work = tempDir('bench');
  try {
    process.stdout.write(`generating ${COUNT} CT-like instances (512x512x16-bit) in ${work}\n`);
    const files = await writeCtSet(path.join(work, 'ct'), COUNT, 900);
    let bytes = 0;
    for (const f of files) bytes += (await fs.stat(f)).size;
    const mb = bytes / 1e6;

    const best = { storescp: Infinity, box: Infinity };
    for (let round = 0; round < 2; round++) {
      const scp = await startStorescp();
      best.storescp = Math.min(best.storescp, await sendWithStorescu(scp.port, 'STORESCP', files));
      await scp.stop();
      rmSync(scp.dir, { recursive: true, force: true });
      const box = await startBoxProcess();
      best.box = Math.min(best.box, await sendWithStorescu(box.port, 'DICOM_EDGE', files));
      await box.stop();
      rmSync(box.dir, { recursive: true, force: true });
    }
    const line = (name: string, s: number): string =>
      `${name.padEnd(26)} ${s.toFixed(2).padStart(6)} s  ${(COUNT / s).toFixed(1).padStart(7)} inst/s  ${(mb / s).toFixed(1).padStart(7)} MB/s\n`;
    process.stdout.write(
      `\nstorescu -> 400 instances (${mb.toFixed(0)} MB), one association, best of 2:\n`,
    );
    process.stdout.write(line('DCMTK storescp (no fsync)', best.storescp));
    process.stdout.write(line('dicom-edge (fsync, index)', best.box));
    process.stdout.write(
      `ratio box/storescp throughput: ${(best.storescp / best.box).toFixed(2)} (target >= 1.0)\n`,
    );

    rmSync(path.join(work, 'ct'), { recursive: true, force: true });
    const big = path.join(work, 'big.dcm');
    await writeMultiFrame(big, 901, BIG_FRAMES);
    const bigMb = (await fs.stat(big)).size / 1e6;
    const box = await startBoxProcess();
    const idleRss = peakRssMb(box.pid);
    const seconds = await sendWithStorescu(box.port, 'DICOM_EDGE', [big]);
    const peak = peakRssMb(box.pid);
    await box.stop();
    rmSync(box.dir, { recursive: true, force: true });
    process.stdout.write(
      `\none ${bigMb.toFixed(0)} MB multi-frame instance: ${seconds.toFixed(2)} s, box peak RSS ${peak.toFixed(0)} MB ` +
        `(at start ${idleRss.toFixed(0)} MB; target < 120 MB)\n`,
    );
    process.stdout.write(
      `machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
