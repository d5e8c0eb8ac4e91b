// `make bench`, forwarding: 400 CT-like instances (512x512x16-bit) from DCMTK storescu
//   (a) directly to Orthanc, and
//   (b) to the box, which forwards them to a fresh Orthanc,
// in the same run on 127.0.0.1. Prints the total time of each and their ratio, and the lag
// between the box's last C-STORE-RSP (storescu exits) and the last instance landing in
// Orthanc. Target: (b) adds under 20% to (a).
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, rmSync } from 'node:fs';
import * as path from 'node:path';
import { freePort, tempDir, waitForPort } from '../test/support/peers';
import { startOrthanc, type OrthancPeer } from '../test/support/orthanc';
import { sendWithStorescu, writeCtSet } from './bench-support';

const COUNT = 400;
const ROOT = path.join(__dirname, '..', '..');

async function countIn(orthanc: OrthancPeer): Promise<number> {
  const stats = JSON.parse((await orthanc.rest('GET', '/statistics')).toString()) as {
    CountInstances: number;
  };
  return stats.CountInstances;
}

async function main(): Promise<void> {
  const work = tempDir('bench-fwd');
  const children: ChildProcess[] = [];
  const peers: OrthancPeer[] = [];
  try {
    process.stdout.write(`generating ${COUNT} CT-like instances (512x512x16-bit)\n`);
    const files = await writeCtSet(path.join(work, 'ct'), COUNT, 950);

    const direct = await startOrthanc({ ae: 'DIRECT' });
    peers.push(direct);
    let t = process.hrtime.bigint();
    await sendWithStorescu(direct.dicomPort, direct.ae, files);
    const directSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    if ((await countIn(direct)) !== COUNT)
      throw new Error('Orthanc (direct) does not hold every instance');

    const upstream = await startOrthanc({ ae: 'UPSTREAM' });
    peers.push(upstream);
    const port = await freePort();
    const boxDir = path.join(work, 'box');
    await fs.mkdir(boxDir, { recursive: true });
    const config = path.join(boxDir, 'dicom-edge.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        port,
        host: '127.0.0.1',
        storageDir: './var',
        nodes: [
          {
            name: 'pacs',
            ae: upstream.ae,
            host: '127.0.0.1',
            port: upstream.dicomPort,
            forward: true,
          },
        ],
      }),
    );
    const box = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'dicom-edge'), 'start', '--config', config],
      {
        env: { ...process.env, DICOM_EDGE_LOG: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    children.push(box);
    await waitForPort(port);
    t = process.hrtime.bigint();
    await sendWithStorescu(port, 'DICOM_EDGE', files);
    const acknowledgedSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    const deadline = Date.now() + 600_000;
    while ((await countIn(upstream)) < COUNT) {
      if (Date.now() > deadline) throw new Error('forwarding did not finish in 10 minutes');
      await new Promise((r) => setTimeout(r, 20));
    }
    const landedSeconds = Number(process.hrtime.bigint() - t) / 1e9;

    const mb =
      (await Promise.all(files.map((f) => fs.stat(f)))).reduce((a, s) => a + s.size, 0) / 1e6;
    process.stdout.write(
      `\n${COUNT} instances (${mb.toFixed(0)} MB), one storescu association each way:\n`,
    );
    process.stdout.write(`storescu -> Orthanc directly          ${directSeconds.toFixed(2)} s\n`);
    process.stdout.write(
      `storescu -> box (all acknowledged)    ${acknowledgedSeconds.toFixed(2)} s\n`,
    );
    process.stdout.write(`storescu -> box -> Orthanc (landed)   ${landedSeconds.toFixed(2)} s\n`);
    process.stdout.write(
      `lag after the box's last C-STORE-RSP  ${(landedSeconds - acknowledgedSeconds).toFixed(2)} s\n`,
    );
    process.stdout.write(
      `ratio via box / direct: ${(landedSeconds / directSeconds).toFixed(2)} (target < 1.20: the box adds under 20%)\n`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    for (const p of peers) await p.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
