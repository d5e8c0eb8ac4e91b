// Which instances the JPEG-LS codec takes, read from cache files: the plan for a good
// one, and a reason (never a throw) for compressed, truncated, oversized and garbage ones.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { planCompression, type CompressibleInstance } from '../../firmware/codec/compress-instance';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { Cache } from '../../storage/cache';
import { tempDir } from '../support/peers';
import { uid, writeSyntheticFile } from '../support/synthetic';

describe('which instances JPEG-LS takes', () => {
  const storageDir = tempDir('plan');
  const cache = new Cache(storageDir);

  async function instance(
    name: string,
    options: Parameters<typeof writeSyntheticFile>[1] | Buffer,
    transferSyntaxUid?: string,
  ): Promise<CompressibleInstance> {
    const file = path.join(storageDir, name);
    if (Buffer.isBuffer(options)) await fs.writeFile(file, options);
    else await writeSyntheticFile(file, options);
    const bytes = await fs.readFile(file);
    let datasetOffset = 0;
    let ts = transferSyntaxUid ?? '1.2.840.10008.1.2.1';
    try {
      const head = parsePart10Header(bytes);
      datasetOffset = head.datasetOffset;
      ts = transferSyntaxUid ?? head.meta.transferSyntaxUid;
    } catch {
      // garbage: no header, the whole file taken as a data set
    }
    return {
      sopInstanceUid: '1.2.3',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUid: ts,
      path: name,
      datasetOffset,
      size: bytes.length,
    };
  }

  const ids = (n: number) => ({
    studyUid: uid(n),
    seriesUid: uid(n, 1),
    sopInstanceUid: uid(n, 1, 1),
  });

  it('plans a native 16-bit image frame by frame at its Bits Stored', async () => {
    const plan = await planCompression(
      cache,
      await instance('good.dcm', { ...ids(1), rows: 32, columns: 48, frames: 2 }),
    );
    assert.ok(!('skip' in plan));
    assert.deepEqual(
      { frames: plan.frames, frameBytes: plan.frameBytes, frame: plan.frame },
      {
        frames: 2,
        frameBytes: 32 * 48 * 2,
        frame: { width: 48, height: 32, bitsPerSample: 12, componentCount: 1 },
      },
    );
  });

  /** The file with its Pixel Data `extra` bytes longer than its frames. */
  function longer(file: Buffer, extra: number): Buffer {
    const pixelBytes = 32 * 48 * 2 * 2;
    const copy = Buffer.concat([file, Buffer.alloc(extra)]);
    copy.writeUInt32LE(pixelBytes + extra, file.length - pixelBytes - 4);
    return copy;
  }

  it('says why for what it does not take, and never throws', async () => {
    const good = await fs.readFile(path.join(storageDir, 'good.dcm'));
    const cases: Array<[string, Promise<CompressibleInstance>, RegExp]> = [
      [
        'compressed',
        instance('jls.dcm', { ...ids(2) }, '1.2.840.10008.1.2.4.80'),
        /not native little endian/,
      ],
      [
        'signed 12-bit',
        instance('signed.dcm', { ...ids(3), pixelRepresentation: 1 }),
        /signed and 12 of 16 bits/,
      ],
      [
        'truncated',
        instance('cut.dcm', good.subarray(0, good.length - 100)),
        /ends before its Pixel Data/,
      ],
      ['oversized', instance('long.dcm', longer(good, 6)), /Pixel Data is \d+ bytes, not 2 frames/],
      [
        'garbage',
        instance('garbage.dcm', Buffer.from('this is not DICOM at all, not even close'.repeat(20))),
        /.+/,
      ],
      ['no pixels', instance('empty.dcm', Buffer.alloc(0)), /no native Pixel Data/],
    ];
    for (const [what, made, reason] of cases) {
      const plan = await planCompression(cache, await made).catch((err: Error) => ({
        skip: `threw ${err.message}`,
      }));
      assert.ok('skip' in plan, what);
      assert.match(plan.skip, reason, what);
      assert.doesNotMatch(plan.skip, /^threw/, what);
    }
  });

  it('takes no sample above Bits Stored', async () => {
    const inst = await instance('high.dcm', { ...ids(4), rows: 8, columns: 8 });
    const bytes = await fs.readFile(path.join(storageDir, 'high.dcm'));
    bytes.writeUInt16LE(0xf000, bytes.length - 2); // the last sample: 16 bits of 12 stored
    await fs.writeFile(path.join(storageDir, 'high.dcm'), bytes);
    const plan = await planCompression(cache, inst);
    assert.ok('skip' in plan);
    assert.match(plan.skip, /samples above its Bits Stored \(12\)/);
  });
});
