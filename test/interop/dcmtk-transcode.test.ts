// The transcoder against DCMTK's dcmconv as the reference: with undefined-length
// sequences and no group lengths (-e -g), both must write the very same bytes.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { transcode } from '../../firmware/dicom/dataset/transcoder';
import { DatasetParseError } from '../../firmware/dicom/errors';
import { run, tempDir } from '../support/peers';
import { uid, writeSyntheticFile } from '../support/synthetic';

const TS = {
  'Implicit VR LE': '1.2.840.10008.1.2',
  'Explicit VR LE': '1.2.840.10008.1.2.1',
  'Explicit VR BE': '1.2.840.10008.1.2.2',
} as const;
const DCMCONV_OPTION: Record<keyof typeof TS, string> = {
  'Implicit VR LE': '+ti',
  'Explicit VR LE': '+te',
  'Explicit VR BE': '+tb',
};

function binary(write: (b: Buffer) => void, size: number): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}

async function transcodeAll(
  input: Buffer,
  from: string,
  to: string,
  chunk: number,
): Promise<Buffer> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < input.length; i += chunk) yield input.subarray(i, i + chunk);
  }
  const out: Buffer[] = [];
  for await (const c of transcode(chunks(), from, to)) out.push(c);
  return Buffer.concat(out);
}

describe('transcoding between the uncompressed syntaxes (against dcmconv)', function () {
  this.timeout(60_000);
  const references = new Map<string, Buffer>();

  before(async () => {
    const dir = tempDir('transcode');
    const base = path.join(dir, 'base.dcm');
    await writeSyntheticFile(base, {
      studyUid: uid(80),
      seriesUid: uid(80, 1),
      sopInstanceUid: uid(80, 1, 1),
      rows: 32,
      columns: 32,
      extra: [
        { tag: 0x00181030, vr: 'LO', value: 'PROTOCOL' },
        { tag: 0x00280030, vr: 'DS', value: '0.5\\0.5' },
        {
          tag: 0x00081140,
          vr: 'SQ',
          value: [
            [{ tag: 0x00081150, vr: 'UI', value: '1.2.3' }],
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
        { tag: 0x00189087, vr: 'FD', value: binary((b) => b.writeDoubleLE(1000.5), 8) }, // 8-byte swap
        { tag: 0x00209057, vr: 'UL', value: binary((b) => b.writeUInt32LE(0x01020304), 4) }, // 4-byte swap
        { tag: 0x00280106, vr: 'US', value: binary((b) => b.writeUInt16LE(3), 2) }, // "US or SS" in the dictionary
        {
          tag: 0x00209165,
          vr: 'AT',
          value: binary((b) => (b.writeUInt16LE(0x0020, 0), b.writeUInt16LE(0x9057, 2)), 4),
        },
      ],
    });
    for (const [name, option] of Object.entries(DCMCONV_OPTION)) {
      const out = path.join(dir, `${option}.dcm`);
      const r = await run('dcmconv', ['-e', '-g', option, base, out]);
      assert.equal(r.code, 0, r.stderr);
      const b = await fs.readFile(out);
      references.set(name, b.subarray(parsePart10Header(b).datasetOffset));
    }
  });

  for (const from of Object.keys(TS) as Array<keyof typeof TS>) {
    for (const to of Object.keys(TS) as Array<keyof typeof TS>) {
      if (from === to) continue;
      it(`${from} -> ${to}: the same bytes as dcmconv, at any chunking`, async () => {
        for (const chunk of [1, 7, 37, 65536]) {
          const ours = await transcodeAll(references.get(from)!, TS[from], TS[to], chunk);
          assert.ok(ours.equals(references.get(to)!), `chunks of ${chunk}`);
        }
      });
    }
  }

  it('rejects a truncated or garbage data set with DatasetParseError', async () => {
    const input = references.get('Implicit VR LE')!;
    await assert.rejects(
      () =>
        transcodeAll(
          input.subarray(0, input.length - 5),
          TS['Implicit VR LE'],
          TS['Explicit VR LE'],
          64,
        ),
      DatasetParseError,
    );
    const garbage = Buffer.from('08001000zz00'.repeat(10), 'latin1');
    await assert.rejects(
      () => transcodeAll(garbage, TS['Explicit VR LE'], TS['Implicit VR LE'], 64),
      DatasetParseError,
    );
  });
});
