// The transfer syntaxes of STOW-RS parts, against a strict origin server of the test's
// (test/support/stow-receiver.ts) that answers by PS3.18 rather than accepting anything as
// Orthanc does. PS3.18 §8.7.3: Implicit VR Little Endian and Explicit VR Big Endian shall
// not be used with web services, so the box sends such instances as Explicit VR Little
// Endian: the same elements, as DCMTK's dcmdump reads them, and says so in its log; an
// Explicit VR Little Endian or compressed instance still goes byte for byte. A destination
// that refuses JPEG-LS (Failure Reason 0xC122) is sent the originals at once from then on,
// until its configuration changes.
import { strict as assert } from 'node:assert';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DicomwebNodeConfig } from '../../firmware/config/config';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { onLogLine } from '../../firmware/log';
import {
  datasetBytes,
  drained,
  freePort,
  run,
  startBox,
  storeInto,
  tempDir,
  type TestBox,
} from '../support/peers';
import {
  NOT_FOR_WEB_SERVICES,
  startStowReceiver,
  type StowReceiver,
} from '../support/stow-receiver';
import { uid, writeSyntheticFile, writeSyntheticStudy } from '../support/synthetic';
import { waitFor } from '../support/wait';
import { cloud, cloudReport } from '../support/dicomweb-node';

const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';
const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

function sopOf(file: Buffer): string {
  return parsePart10Header(file).meta.mediaStorageSopInstanceUid;
}

/** A binary value of `size` bytes, written little endian by `write`. */
function binary(write: (b: Buffer) => void, size: number): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}

/**
 * An instance with what an endianness or VR change can get wrong: a nested sequence,
 * numbers of 2, 4 and 8 bytes, an AT, a "US or SS" tag. In `syntax`, made by dcmconv.
 */
async function instanceIn(dir: string, n: number, option: '+ti' | '+tb'): Promise<string> {
  const base = path.join(dir, `base-${n}.dcm`);
  await writeSyntheticFile(base, {
    studyUid: uid(n),
    seriesUid: uid(n, 1),
    sopInstanceUid: uid(n, 1, 1),
    rows: 32,
    columns: 32,
    extra: [
      { tag: 0x00181030, vr: 'LO', value: 'PROTOCOL' },
      {
        tag: 0x00081140,
        vr: 'SQ',
        value: [
          [
            { tag: 0x00081150, vr: 'UI', value: '1.2.3' },
            {
              tag: 0x00400100,
              vr: 'SQ',
              value: [[{ tag: 0x00180050, vr: 'DS', value: '1.25' }]],
            },
          ],
        ],
      },
      { tag: 0x00189087, vr: 'FD', value: binary((b) => b.writeDoubleLE(1000.5), 8) },
      { tag: 0x00209057, vr: 'UL', value: binary((b) => b.writeUInt32LE(0x01020304), 4) },
      { tag: 0x00280106, vr: 'US', value: binary((b) => b.writeUInt16LE(3), 2) },
      {
        tag: 0x00209165,
        vr: 'AT',
        value: binary((b) => (b.writeUInt16LE(0x0020, 0), b.writeUInt16LE(0x9057, 2)), 4),
      },
    ],
  });
  const out = path.join(dir, `${option.slice(1)}-${n}.dcm`);
  const r = await run('dcmconv', [option, base, out]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

/**
 * The data set's elements as DCMTK's dcmdump reads them: tag, VR and value, without the
 * meta information, lengths, or how a sequence's end is encoded (a length or delimiters).
 */
async function elements(file: string): Promise<string[]> {
  const r = await run('dcmdump', ['-q', '+L', file]);
  assert.equal(r.code, 0, r.stderr);
  const dataset = r.stdout.split('# Dicom-Data-Set\n')[1] ?? '';
  return dataset
    .split('\n')
    .filter((l) => /^\s*\(/.test(l) && !/\(fffe,e0[0d]d\)/.test(l))
    .map((l) =>
      l
        .replace(/#.*$/, '')
        .replace(/with (explicit|undefined) length/, 'with a length')
        .trimEnd(),
    );
}

describe('STOW-RS transfer syntaxes, to a strict origin server', function () {
  this.timeout(120_000);
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });

  async function box(node: DicomwebNodeConfig): Promise<TestBox> {
    const b = await startBox({
      nodes: [node],
      forwarding: { retryInitialSeconds: 0.2, retryMaxSeconds: 1 },
    });
    cleanups.push(() => b.stop());
    return b;
  }

  async function receiver(refuses: (ts: string) => boolean, port = 0): Promise<StowReceiver> {
    const r = await startStowReceiver(refuses, port);
    cleanups.push(r.close);
    return r;
  }

  function logLines(): string[] {
    const lines: string[] = [];
    const stop = onLogLine((line) => lines.push(line));
    cleanups.push(async () => stop());
    return lines;
  }

  it('Implicit VR LE and Explicit VR BE instances go as Explicit VR LE, the same elements, said in the log', async () => {
    const strict = await receiver((ts) => NOT_FOR_WEB_SERVICES.includes(ts));
    const b = await box(cloud(strict.url));
    const dir = tempDir('stow-ts');
    const originals = [
      await instanceIn(dir, 120, '+ti'),
      await instanceIn(dir, 121, '+ti'),
      await instanceIn(dir, 122, '+tb'),
    ];
    const lines = logLines();
    await storeInto(b, originals);
    await drained(b, 'cloud');
    const r = (await b.forwarder.report())[0]!;
    assert.deepEqual([r.done, r.failed], [3, 0], r.lastFailedError ?? '');
    for (const original of originals) {
      const bytes = await fs.readFile(original);
      const sop = sopOf(bytes);
      const from = parsePart10Header(bytes).meta.transferSyntaxUid;
      const held = strict.stored.get(sop);
      assert.ok(held, `${sop} was stored`);
      assert.equal(held.transferSyntaxUid, EXPLICIT_VR_LE);
      const delivered = path.join(dir, `delivered-${sop}.dcm`);
      await fs.writeFile(delivered, held.file);
      assert.deepEqual(await elements(delivered), await elements(original), `${sop}'s elements`);
      assert.ok(
        lines.some((l) =>
          l.includes(
            `transcoding for destination dest=cloud sop=${sop} from=${from} to=${EXPLICIT_VR_LE}`,
          ),
        ),
        `the log says ${sop} was transcoded:\n${lines.join('\n')}`,
      );
    }
    // Nothing was refused: each instance went once, in a syntax the server takes.
    const parts = strict.requests.flat();
    assert.equal(parts.length, 3);
    assert.ok(parts.every((p) => p.stored));
  });

  it('Explicit VR LE and compressed (RLE) instances still go byte for byte', async () => {
    const strict = await receiver((ts) => NOT_FOR_WEB_SERVICES.includes(ts));
    const b = await box(cloud(strict.url));
    const dir = tempDir('stow-ts-verbatim');
    const [explicit, toCompress] = await writeSyntheticStudy(dir, 123, 2);
    const rle = path.join(dir, 'rle.dcm');
    const c = await run('dcmcrle', [toCompress!, rle]);
    assert.equal(c.code, 0, c.stderr);
    const lines = logLines();
    await storeInto(b, [explicit!, rle]);
    await drained(b, 'cloud');
    for (const [file, ts] of [
      [explicit!, EXPLICIT_VR_LE],
      [rle, RLE_LOSSLESS],
    ] as const) {
      const held = strict.stored.get(sopOf(await fs.readFile(file)));
      assert.ok(held);
      assert.equal(held.transferSyntaxUid, ts);
      assert.ok(
        held.file
          .subarray(parsePart10Header(held.file).datasetOffset)
          .equals(await datasetBytes(file)),
        `${file} went byte for byte`,
      );
    }
    assert.ok(!lines.some((l) => l.includes('transcoding for destination')), lines.join('\n'));
  });

  it('an instance whose cached data set cannot be transcoded fails alone, saying why; the rest go', async () => {
    const port = await freePort();
    const b = await box(cloud(`http://127.0.0.1:${port}/dicom-web`));
    const dir = tempDir('stow-ts-unreadable');
    const files = [
      await instanceIn(dir, 127, '+ti'),
      await instanceIn(dir, 128, '+ti'),
      await instanceIn(dir, 129, '+ti'),
    ];
    await storeInto(b, files);
    await waitFor('the queue waits', async () => (await cloudReport(b)).state === 'backing-off');
    // Damaged on the card after it was stored: Study Description's length now runs past
    // the end of the data set, which the transcoder finds only when it gets there.
    const bad = sopOf(await fs.readFile(files[1]!));
    const cached = path.join(b.config.storageDir, (await b.archive.instance(bad))!.path);
    const bytes = await fs.readFile(cached);
    const at = bytes.indexOf(Buffer.from([0x08, 0x00, 0x30, 0x10])); // (0008,1030), implicit VR
    assert.ok(at > 0);
    bytes.writeUInt32LE(0x00fffff0, at + 4);
    await fs.writeFile(cached, bytes);
    const strict = await receiver((ts) => NOT_FOR_WEB_SERVICES.includes(ts), port);
    await drained(b, 'cloud');
    const r = await cloudReport(b);
    assert.deepEqual([r.done, r.failed, r.lastFailedSop], [2, 1, bad]);
    assert.match(r.lastFailedError ?? '', /^cannot transcode for cloud: /);
    assert.deepEqual(
      [...strict.stored.keys()].sort(),
      [files[0]!, files[2]!].map((f) => sopOf(readFileSync(f))).sort(),
    );
  });

  describe('a destination that refuses JPEG-LS (0xC122)', () => {
    const N = 6;

    async function refusingJpegLs(): Promise<{ strict: StowReceiver; b: TestBox }> {
      const strict = await receiver((ts) => ts === JPEG_LS_LOSSLESS);
      const b = await box(
        cloud(strict.url, {
          compress: 'jpeg-ls-lossless',
          // One instance a request: each request says what the box did with one instance.
          batch: { maxInstances: 1, maxBytes: 64 * 1024 * 1024 },
        }),
      );
      return { strict, b };
    }

    it('is sent the originals at once after its first refusal: N+1 parts for N instances', async () => {
      const { strict, b } = await refusingJpegLs();
      const files = await writeSyntheticStudy(tempDir('stow-jls-refused'), 124, N);
      await storeInto(b, files);
      await drained(b, 'cloud');
      const r = (await b.forwarder.report())[0]!;
      assert.deepEqual([r.done, r.failed], [N, 0]);
      const parts = strict.requests.flat();
      assert.deepEqual(
        parts.map((p) => p.transferSyntaxUid),
        [JPEG_LS_LOSSLESS, ...Array<string>(N).fill(EXPLICIT_VR_LE)],
        'one refused JPEG-LS part, then each original once',
      );
      for (const f of files) {
        const held = strict.stored.get(sopOf(await fs.readFile(f)))!;
        assert.ok(
          held.file
            .subarray(parsePart10Header(held.file).datasetOffset)
            .equals(await datasetBytes(f)),
        );
      }
    });

    it('a request refused compressed goes again as it is in one request, and the next as they are', async () => {
      // The destination is down while the study comes in: the first request is a whole one.
      const port = await freePort();
      const b = await box(
        cloud(`http://127.0.0.1:${port}/dicom-web`, {
          compress: 'jpeg-ls-lossless',
          batch: { maxInstances: 4, maxBytes: 64 * 1024 * 1024 },
        }),
      );
      await storeInto(b, await writeSyntheticStudy(tempDir('stow-jls-batch'), 130, 8));
      await waitFor('the queue waits', async () => (await cloudReport(b)).state === 'backing-off');
      const strict = await receiver((ts) => ts === JPEG_LS_LOSSLESS, port);
      await drained(b, 'cloud');
      assert.deepEqual([(await cloudReport(b)).done, (await cloudReport(b)).failed], [8, 0]);
      const form = (ts: string): string => (ts === JPEG_LS_LOSSLESS ? 'JPEG-LS' : 'original');
      assert.deepEqual(
        strict.requests.map((parts) => parts.map((p) => form(p.transferSyntaxUid))),
        [
          Array<string>(4).fill('JPEG-LS'),
          Array<string>(4).fill('original'),
          Array<string>(4).fill('original'),
        ],
      );
    });

    it('is tried compressed again once its configuration changes', async () => {
      const { strict, b } = await refusingJpegLs();
      const dir = tempDir('stow-jls-again');
      await storeInto(b, await writeSyntheticStudy(dir, 125, 2));
      await drained(b, 'cloud');
      assert.equal(strict.requests.flat().length, 3);
      const node = b.liveConfig.get().nodes[0] as DicomwebNodeConfig;
      const changed = await b.liveConfig.change({
        nodes: [{ ...node, timeoutSeconds: node.timeoutSeconds + 1 }],
      });
      assert.deepEqual(changed.changed, ['nodes']);
      await storeInto(b, await writeSyntheticStudy(dir, 126, 2));
      await drained(b, 'cloud');
      assert.deepEqual(
        strict.requests
          .flat()
          .slice(3)
          .map((p) => p.transferSyntaxUid),
        [JPEG_LS_LOSSLESS, EXPLICIT_VR_LE, EXPLICIT_VR_LE],
        'compressed tried once more, refused, then the originals',
      );
    });
  });
});
