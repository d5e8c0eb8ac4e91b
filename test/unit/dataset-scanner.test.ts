// The streaming data set walk (PS3.5 §7): wanted values found in every encoding, at
// every split point; truncation and garbage reported as DatasetParseError.
import { strict as assert } from 'node:assert';
import { deflateRawSync } from 'node:zlib';
import { createDatasetReader } from '../../firmware/dicom/dataset/dataset-reader';
import { DatasetScanner, type Encoding } from '../../firmware/dicom/dataset/dataset-scanner';
import { encodeDataset, type Element } from '../../firmware/dicom/dataset/dataset-writer';
import { DatasetParseError } from '../../firmware/dicom/errors';
import { Tag } from '../../firmware/dicom/registry/tags';
import { transferSyntax } from '../../firmware/dicom/registry/transfer-syntaxes';

const ENCODINGS: Array<[string, Encoding]> = [
  ['Implicit VR LE', { explicitVr: false, littleEndian: true }],
  ['Explicit VR LE', { explicitVr: true, littleEndian: true }],
  ['Explicit VR BE', { explicitVr: true, littleEndian: false }],
];
const WANTED = new Set([Tag.PatientName, Tag.StudyInstanceUid, Tag.SopInstanceUid, Tag.Modality]);

function sampleElements(undefinedLength: boolean): Element[] {
  const nested: Element[] = [
    { tag: 0x00081150, vr: 'UI', value: '1.2.3' },
    // A nested sequence inside an item, to exercise the stack.
    {
      tag: 0x00081199,
      vr: 'SQ',
      value: [[{ tag: 0x00081155, vr: 'UI', value: '1.2.3.4' }]],
      undefinedLength,
    },
    // A wanted tag inside a sequence must not be taken for the top-level one.
    { tag: Tag.PatientName, vr: 'PN', value: 'NESTED^NAME' },
  ];
  return [
    { tag: Tag.SopInstanceUid, vr: 'UI', value: '1.2.840.99.1' },
    { tag: Tag.Modality, vr: 'CS', value: 'MR' },
    { tag: 0x00081140, vr: 'SQ', value: [nested, nested], undefinedLength },
    { tag: Tag.PatientName, vr: 'PN', value: 'DOE^JANE' },
    { tag: Tag.StudyInstanceUid, vr: 'UI', value: '1.2.840.99' },
    { tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(64, 0xab) },
  ];
}

function scan(enc: Encoding, bytes: Buffer, cut?: number): Map<number, Buffer> {
  const s = new DatasetScanner(enc, WANTED);
  if (cut === undefined) s.write(bytes);
  else {
    s.write(bytes.subarray(0, cut));
    s.write(bytes.subarray(cut));
  }
  return s.end();
}

function text(values: Map<number, Buffer>, tag: number): string | undefined {
  return values
    .get(tag)
    ?.toString('latin1')
    .replace(/[\0 ]+$/, '');
}

describe('DatasetScanner (streaming walk of a data set)', () => {
  for (const [name, enc] of ENCODINGS) {
    for (const undefinedLength of [false, true]) {
      const label = `${name}, ${undefinedLength ? 'undefined' : 'defined'}-length sequences`;
      const bytes = encodeDataset(sampleElements(undefinedLength), enc);

      it(`finds the top-level values: ${label}`, () => {
        const v = scan(enc, bytes);
        assert.equal(text(v, Tag.PatientName), 'DOE^JANE');
        assert.equal(text(v, Tag.StudyInstanceUid), '1.2.840.99');
        assert.equal(text(v, Tag.SopInstanceUid), '1.2.840.99.1');
        assert.equal(text(v, Tag.Modality), 'MR');
      });

      it(`gives the same result at every split point: ${label}`, () => {
        for (let cut = 0; cut <= bytes.length; cut++) {
          assert.equal(text(scan(enc, bytes, cut), Tag.PatientName), 'DOE^JANE', `cut at ${cut}`);
        }
      });

      it(`reports every truncation as DatasetParseError: ${label}`, () => {
        for (let n = 1; n < bytes.length; n++) {
          const s = new DatasetScanner(enc, WANTED);
          s.write(bytes.subarray(0, n));
          // Cuts that fall exactly between top-level elements are complete (shorter) data sets.
          try {
            s.end();
          } catch (err) {
            assert.ok(err instanceof DatasetParseError, `cut at ${n}: ${String(err)}`);
          }
        }
        const cutMidPixelData = new DatasetScanner(enc, WANTED);
        cutMidPixelData.write(bytes.subarray(0, bytes.length - 10));
        assert.throws(() => cutMidPixelData.end(), /ends inside the value of \(7FE0,0010\)/);
      });
    }
  }

  it('walks encapsulated pixel data (undefined length, fragments, sequence delimiter)', () => {
    const enc = { explicitVr: true, littleEndian: true };
    const head = encodeDataset([{ tag: Tag.SopInstanceUid, vr: 'UI', value: '1.2.3' }], enc);
    const pixel = Buffer.from(
      'e07f1000 4f420000 ffffffff feff00e0 00000000 feff00e0 04000000 01020304 feffdde0 00000000'.replace(
        / /g,
        '',
      ),
      'hex',
    );
    // (7FE0,0010) OB, undefined length: empty offset table, one 4-byte fragment, delimiter.
    const s = new DatasetScanner(enc, WANTED);
    s.write(Buffer.concat([head, pixel]));
    assert.equal(text(s.end(), Tag.SopInstanceUid), '1.2.3');
  });

  it('reads the inside of an undefined-length UN as Implicit VR Little Endian (CP-246)', () => {
    const enc = { explicitVr: true, littleEndian: true };
    const implicitItem = encodeDataset([{ tag: 0x00081150, vr: 'UI', value: '1.2.3' }], {
      explicitVr: false,
      littleEndian: true,
    });
    const un = Buffer.concat([
      Buffer.from('0900 1010 554e 0000 ffffffff'.replace(/ /g, ''), 'hex'),
      Buffer.from('feff00e0', 'hex'),
      Buffer.from([implicitItem.length, 0, 0, 0]),
      implicitItem,
      Buffer.from('feffdde0 00000000'.replace(/ /g, ''), 'hex'),
    ]);
    const tail = encodeDataset([{ tag: Tag.PatientName, vr: 'PN', value: 'AFTER^UN' }], enc);
    const s = new DatasetScanner(enc, WANTED);
    s.write(Buffer.concat([un, tail]));
    assert.equal(text(s.end(), Tag.PatientName), 'AFTER^UN');
  });

  it('reads a Deflated Explicit VR LE data set through the inflater', async () => {
    const plain = encodeDataset(sampleElements(true), { explicitVr: true, littleEndian: true });
    const deflated = deflateRawSync(plain);
    const reader = createDatasetReader(transferSyntax('1.2.840.10008.1.2.1.99')!, WANTED);
    for (let i = 0; i < deflated.length; i += 7) {
      const w = reader.write(deflated.subarray(i, i + 7));
      if (w) await w;
    }
    assert.equal(text(await reader.end(), Tag.PatientName), 'DOE^JANE');
  });

  it('rejects a deflated data set that is not deflate, and one cut short', async () => {
    const ts = transferSyntax('1.2.840.10008.1.2.1.99')!;
    const garbage = createDatasetReader(ts, WANTED);
    await garbage.write(Buffer.from('this is not a deflate stream, not at all'));
    await assert.rejects(() => garbage.end(), DatasetParseError);
    const plain = encodeDataset(sampleElements(false), { explicitVr: true, littleEndian: true });
    const short = createDatasetReader(ts, WANTED);
    await short.write(deflateRawSync(plain).subarray(0, 40));
    await assert.rejects(() => short.end(), DatasetParseError);
  });

  describe('deflated streams and their padding (PS3.5 §A.5)', () => {
    const ts = transferSyntax('1.2.840.10008.1.2.1.99')!;
    const plain = encodeDataset(sampleElements(true), { explicitVr: true, littleEndian: true });
    const deflated = deflateRawSync(plain);

    async function feed(parts: Buffer[]): Promise<Map<number, Buffer>> {
      const reader = createDatasetReader(ts, WANTED);
      for (const p of parts) {
        const w = reader.write(p);
        if (w) await w;
        // Let zlib run between writes, as the network does: its 'end' may come before end().
        await new Promise((r) => setImmediate(r));
      }
      return reader.end();
    }

    it('ends on the stream marker when the NULL pad byte comes in the same chunk', async () => {
      const values = await feed([Buffer.concat([deflated, Buffer.from([0])])]);
      assert.equal(text(values, Tag.PatientName), 'DOE^JANE');
    });

    it('ends when the pad byte comes in a chunk of its own, after the stream ended', async () => {
      const values = await feed([deflated, Buffer.from([0])]);
      assert.equal(text(values, Tag.PatientName), 'DOE^JANE');
    });

    it('ends with no pad byte at all (an odd stream from a sender that did not pad)', async () => {
      const values = await feed([deflated.subarray(0, 10), deflated.subarray(10)]);
      assert.equal(text(values, Tag.PatientName), 'DOE^JANE');
    });

    it('refuses more than one byte, or a non-NULL byte, after the end of the stream', async () => {
      await assert.rejects(
        () => feed([deflated, Buffer.from([0, 0])]),
        /2 byte\(s\) after the end of the deflated stream/,
      );
      await assert.rejects(
        () => feed([Buffer.concat([deflated, Buffer.from([7])])]),
        DatasetParseError,
      );
      await assert.rejects(() => feed([deflated, Buffer.alloc(5000, 7)]), DatasetParseError);
    });
  });

  describe('bad input', () => {
    it('rejects an invalid VR in explicit VR', () => {
      const s = new DatasetScanner({ explicitVr: true, littleEndian: true }, WANTED);
      // (0008,0010) with VR bytes "zz"
      assert.throws(
        () => s.write(Buffer.from([8, 0, 0x10, 0, 0x7a, 0x7a, 4, 0])),
        DatasetParseError,
      );
    });
    it('rejects delimiters and items outside sequences', () => {
      const s = new DatasetScanner({ explicitVr: false, littleEndian: true }, WANTED);
      assert.throws(
        () => s.write(Buffer.from('feff0de000000000', 'hex')),
        /item delimiter outside an item/,
      );
      const t = new DatasetScanner({ explicitVr: false, littleEndian: true }, WANTED);
      assert.throws(() => t.write(Buffer.from('feff00e000000000', 'hex')), /outside a sequence/);
    });
    it('rejects sequences nested beyond the depth limit', () => {
      const s = new DatasetScanner({ explicitVr: false, littleEndian: true }, WANTED);
      const open = Buffer.from('08004011ffffffff feff00e0ffffffff'.replace(/ /g, ''), 'hex');
      assert.throws(
        () => s.write(Buffer.concat(Array.from({ length: 40 }, () => open))),
        /nested deeper/,
      );
    });
    it('never throws anything but DatasetParseError on random bytes', () => {
      let seed = 99;
      const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
      for (const [, enc] of ENCODINGS) {
        for (let i = 0; i < 500; i++) {
          const s = new DatasetScanner(enc, WANTED);
          try {
            s.write(Buffer.from(Array.from({ length: 1 + (i % 300) }, rand)));
            s.end();
          } catch (err) {
            assert.ok(err instanceof DatasetParseError, String(err));
          }
        }
      }
    });
    it('keeps only bounded values: an oversized wanted value is skipped, not collected', () => {
      const enc = { explicitVr: true, littleEndian: true };
      const big = encodeDataset([{ tag: Tag.PatientName, vr: 'PN', value: 'X'.repeat(5000) }], enc);
      const s = new DatasetScanner(enc, WANTED);
      s.write(big);
      assert.equal(s.end().has(Tag.PatientName), false);
    });
  });
});
