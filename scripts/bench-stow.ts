// `make bench`, DICOMweb upstream, all in one run on 127.0.0.1:
//   (a) 400 CT-like slices (512x512, 12 bits in 16) stored into the box by DCMTK storescu and
//       forwarded to Orthanc over STOW-RS, against the same forwarded over C-STORE to
//       another Orthanc, and against storescu straight to Orthanc (the independent peer);
//   (b) a 100-slice study through a 2 MB/s cap, STOW-RS with and without lossless JPEG-LS
//       (the ratio is the point), the compression ratio, and the encoder's CPU per MB.
import { promises as fs, rmSync } from 'node:fs';
import * as path from 'node:path';
import { compressedDataset, planCompression } from '../firmware/codec/compress-instance';
import { parsePart10Header } from '../firmware/dicom/dataset/part10';
import { Cache } from '../storage/cache';
import { startOrthanc, type OrthancPeer } from '../test/support/orthanc';
import { tempDir } from '../test/support/peers';
import { sendWithStorescu, startBoxProcess, writeCtSet, type BoxProcess } from './bench-support';

const COUNT = 400;
const CAPPED = 100;
const CAP = 2_000_000;

async function countIn(orthanc: OrthancPeer): Promise<number> {
  const stats = JSON.parse((await orthanc.rest('GET', '/statistics')).toString()) as {
    CountInstances: number;
  };
  return stats.CountInstances;
}

/** Seconds from the start of storescu to the box until `count` instances are in `orthanc`. */
async function forwarded(
  box: BoxProcess,
  orthanc: OrthancPeer,
  files: string[],
  count: number,
): Promise<number> {
  const t = process.hrtime.bigint();
  await sendWithStorescu(box.port, 'DICOM_EDGE', files);
  const deadline = Date.now() + 900_000;
  while ((await countIn(orthanc)) < count) {
    if (Date.now() > deadline) throw new Error('forwarding did not finish in 15 minutes');
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function stowBox(orthanc: OrthancPeer, extra: Record<string, unknown>): Promise<BoxProcess> {
  return startBoxProcess({
    nodes: [
      {
        name: 'cloud',
        kind: 'dicomweb',
        url: `http://127.0.0.1:${orthanc.httpPort}/dicom-web`,
        forward: true,
        ...extra,
      },
    ],
  });
}

/** CPU seconds (this process and its encoder thread) to compress the files, and the sizes. */
async function compressionCost(
  files: string[],
): Promise<{ cpu: number; inBytes: number; outBytes: number }> {
  const dir = path.dirname(files[0]!);
  const cache = new Cache(dir);
  let inBytes = 0;
  let outBytes = 0;
  const before = process.cpuUsage();
  for (const f of files) {
    const head = parsePart10Header(await fs.readFile(f));
    const instance = {
      sopInstanceUid: head.meta.mediaStorageSopInstanceUid,
      sopClassUid: head.meta.mediaStorageSopClassUid,
      transferSyntaxUid: head.meta.transferSyntaxUid,
      path: path.basename(f),
      datasetOffset: head.datasetOffset,
      size: (await fs.stat(f)).size,
    };
    const plan = await planCompression(cache, instance);
    if ('skip' in plan) throw new Error(`not compressible: ${plan.skip}`);
    inBytes += instance.size - instance.datasetOffset;
    for await (const chunk of compressedDataset(cache, instance, plan)) outBytes += chunk.length;
  }
  const used = process.cpuUsage(before);
  return { cpu: (used.user + used.system) / 1e6, inBytes, outBytes };
}

async function main(): Promise<void> {
  const work = tempDir('bench-stow');
  const peers: OrthancPeer[] = [];
  const boxes: BoxProcess[] = [];
  try {
    process.stdout.write(`generating ${COUNT} CT-like slices (512x512, 12 bits stored)\n`);
    const files = await writeCtSet(path.join(work, 'ct'), COUNT, 960, true);
    const mb =
      (await Promise.all(files.map((f) => fs.stat(f)))).reduce((a, s) => a + s.size, 0) / 1e6;

    const direct = await startOrthanc({ ae: 'DIRECT' });
    peers.push(direct);
    const directSeconds = await sendWithStorescu(direct.dicomPort, direct.ae, files);

    const viaDimse = await startOrthanc({ ae: 'UPSTREAM' });
    peers.push(viaDimse);
    const dimseBox = await startBoxProcess({
      nodes: [
        {
          name: 'pacs',
          ae: 'UPSTREAM',
          host: '127.0.0.1',
          port: viaDimse.dicomPort,
          forward: true,
        },
      ],
    });
    boxes.push(dimseBox);
    const dimseSeconds = await forwarded(dimseBox, viaDimse, files, COUNT);

    const viaStow = await startOrthanc({ ae: 'WEB', dicomweb: true });
    peers.push(viaStow);
    const webBox = await stowBox(viaStow, {});
    boxes.push(webBox);
    const stowSeconds = await forwarded(webBox, viaStow, files, COUNT);

    process.stdout.write(
      `\n(a) ${COUNT} instances (${mb.toFixed(0)} MB), storescu -> box -> Orthanc:\n`,
    );
    process.stdout.write(
      `storescu -> Orthanc directly (DCMTK, Orthanc)  ${directSeconds.toFixed(2)} s\n`,
    );
    process.stdout.write(
      `box forwarding over C-STORE                    ${dimseSeconds.toFixed(2)} s\n`,
    );
    process.stdout.write(
      `box forwarding over STOW-RS                    ${stowSeconds.toFixed(2)} s\n`,
    );
    process.stdout.write(
      `ratio STOW-RS / C-STORE: ${(stowSeconds / dimseSeconds).toFixed(2)}; STOW-RS / direct: ${(stowSeconds / directSeconds).toFixed(2)}\n`,
    );

    const study = files.slice(0, CAPPED);
    const studyMb =
      (await Promise.all(study.map((f) => fs.stat(f)))).reduce((a, s) => a + s.size, 0) / 1e6;
    const plainPeer = await startOrthanc({ ae: 'PLAIN', dicomweb: true });
    peers.push(plainPeer);
    const plainBox = await stowBox(plainPeer, { maxBytesPerSecond: CAP });
    boxes.push(plainBox);
    const plainSeconds = await forwarded(plainBox, plainPeer, study, CAPPED);
    const jlsPeer = await startOrthanc({ ae: 'JLS', dicomweb: true });
    peers.push(jlsPeer);
    const jlsBox = await stowBox(jlsPeer, { maxBytesPerSecond: CAP, compress: 'jpeg-ls-lossless' });
    boxes.push(jlsBox);
    const jlsSeconds = await forwarded(jlsBox, jlsPeer, study, CAPPED);
    const cost = await compressionCost(study);

    process.stdout.write(
      `\n(b) ${CAPPED} instances (${studyMb.toFixed(0)} MB) through a ${CAP / 1e6} MB/s cap, over STOW-RS:\n`,
    );
    process.stdout.write(`as they are             ${plainSeconds.toFixed(2)} s\n`);
    process.stdout.write(`lossless JPEG-LS        ${jlsSeconds.toFixed(2)} s\n`);
    process.stdout.write(
      `time ratio plain / JPEG-LS: ${(plainSeconds / jlsSeconds).toFixed(2)}; size ratio: ${(cost.inBytes / cost.outBytes).toFixed(2)} (${(cost.inBytes / 1e6).toFixed(1)} -> ${(cost.outBytes / 1e6).toFixed(1)} MB)\n`,
    );
    process.stdout.write(
      `encoder CPU: ${((cost.cpu / (cost.inBytes / 1e6)) * 1000).toFixed(1)} ms per MB of pixels in (${cost.cpu.toFixed(2)} s for ${(cost.inBytes / 1e6).toFixed(1)} MB, this machine)\n`,
    );
  } finally {
    for (const b of boxes) await b.stop();
    for (const p of peers) await p.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0), // the encoder thread idles for a while before it ends
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
