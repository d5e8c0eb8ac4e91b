// Replacing top-level elements of a streamed data set (firmware/dicom/dataset/
// element-replacement.ts): the output parses to the input's elements but the replaced
// ones, byte for byte, however the input is cut into chunks, in the three uncompressed
// encodings; a missing element is inserted in tag order; a group length is made true.
import { strict as assert } from 'node:assert';
import { parseDataset } from '../../firmware/dicom/dataset/dataset-parser';
import type { Encoding } from '../../firmware/dicom/dataset/dataset-scanner';
import { encodeDataset, type Element } from '../../firmware/dicom/dataset/dataset-writer';
import {
  ElementReplacementError,
  MAX_HELD_GROUP,
  replaceTopLevelElements,
  type ElementValue,
} from '../../firmware/dicom/dataset/element-replacement';
import { Tag } from '../../firmware/dicom/registry/tags';

const EXPLICIT_LE: Encoding = { explicitVr: true, littleEndian: true };
const IMPLICIT_LE: Encoding = { explicitVr: false, littleEndian: true };
const EXPLICIT_BE: Encoding = { explicitVr: true, littleEndian: false };

const text = (tag: number, vr: string, value: string): Element => ({ tag, vr, value });
const PATIENT_GROUP_LENGTH = (Tag.PatientName & 0xffff0000) >>> 0;

/** A data set with a nested sequence before the patient group and pixels after it. */
function instance(extra: Element[] = [], undefinedLength = true): Element[] {
  return [
    text(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 100'),
    text(Tag.SopClassUid, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    text(Tag.AccessionNumber, 'SH', 'ACC1'),
    {
      tag: Tag.ReferencedStudySequence,
      vr: 'SQ',
      undefinedLength,
      value: [
        [
          text(Tag.ReferencedSopClassUid, 'UI', '1.2.3'),
          {
            tag: Tag.ReferencedSopSequence,
            vr: 'SQ',
            undefinedLength,
            value: [[text(Tag.ReferencedSopInstanceUid, 'UI', '1.2.3.4')]],
          },
        ],
      ],
    },
    text(Tag.PatientName, 'PN', 'DOE^JON'),
    text(Tag.PatientId, 'LO', 'P1'),
    text(Tag.PatientSex, 'CS', 'F'),
    ...extra,
    text(Tag.StudyInstanceUid, 'UI', '1.2.3.4.5'),
    { tag: Tag.PixelData, vr: 'OW', value: Buffer.alloc(64, 7) },
  ].sort((a, b) => a.tag - b.tag);
}

async function replaced(
  input: Buffer,
  enc: Encoding,
  values: ElementValue[],
  cut: (i: number) => number = () => input.length,
): Promise<Buffer> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let off = 0, i = 0; off < input.length; i++) {
      const n = Math.max(1, cut(i));
      yield input.subarray(off, off + n);
      off += n;
    }
  }
  const out: Buffer[] = [];
  for await (const b of replaceTopLevelElements(chunks(), enc, values)) out.push(b);
  return Buffer.concat(out);
}

const pn = (s: string): ElementValue => ({
  tag: Tag.PatientName,
  vr: 'PN',
  value: Buffer.from(s.length % 2 ? `${s} ` : s, 'latin1'),
});
const birthDate: ElementValue = {
  tag: Tag.PatientBirthDate,
  vr: 'DA',
  value: Buffer.from('19800101'),
};

/** The elements of `ds` with `tag` set to `value` (or added), as the output should parse. */
function expected(ds: Element[], values: ElementValue[]): Element[] {
  const out = ds.filter((e) => !values.some((v) => v.tag === e.tag));
  return [...out, ...values.map((v) => ({ tag: v.tag, vr: v.vr, value: v.value }))].sort(
    (a, b) => a.tag - b.tag,
  );
}

describe('replacing top-level elements of a streamed data set', () => {
  for (const [name, enc] of [
    ['Explicit VR LE', EXPLICIT_LE],
    ['Implicit VR LE', IMPLICIT_LE],
    ['Explicit VR BE', EXPLICIT_BE],
  ] as const) {
    it(`${name}: a name replaced and a birth date inserted; every other byte as it was`, async () => {
      const ds = instance();
      const input = encodeDataset(ds, enc);
      const values = [pn('DOE^JOHN'), birthDate];
      const out = await replaced(input, enc, values);
      assert.deepEqual(
        parseDataset(out, enc),
        parseDataset(encodeDataset(expected(ds, values), enc), enc),
      );
      // The bytes before the name, and from the sex on, are the input's own.
      const nameAt = input.indexOf(Buffer.from('DOE^JON'));
      const headerBytes = enc.explicitVr ? 8 : 8;
      assert.ok(
        out.subarray(0, nameAt - headerBytes).equals(input.subarray(0, nameAt - headerBytes)),
      );
      const tail = input.subarray(input.indexOf(Buffer.from('P1')) + 2);
      assert.ok(out.subarray(out.length - tail.length).equals(tail));
    });
  }

  it('gives the same bytes however the input is cut (one byte at a time, odd pieces)', async () => {
    for (const undefinedLength of [true, false]) {
      const input = encodeDataset(instance([], undefinedLength), EXPLICIT_LE);
      const values = [pn('ROE^RICHARD'), birthDate];
      const whole = await replaced(input, EXPLICIT_LE, values);
      assert.ok((await replaced(input, EXPLICIT_LE, values, () => 1)).equals(whole));
      assert.ok((await replaced(input, EXPLICIT_LE, values, (i) => (i * 7) % 13)).equals(whole));
    }
  });

  it('rewrites the group length of the group it changes (PS3.5 §7.2)', async () => {
    const ds = instance();
    const groupBytes = encodeDataset(
      ds.filter((e) => e.tag >>> 16 === 0x0010),
      EXPLICIT_LE,
    ).length;
    const ul = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    const withLength = [...ds, { tag: PATIENT_GROUP_LENGTH, vr: 'UL', value: ul(groupBytes) }].sort(
      (a, b) => a.tag - b.tag,
    );
    const values = [pn('DOE^JOHNATHAN'), birthDate];
    const out = parseDataset(
      await replaced(encodeDataset(withLength, EXPLICIT_LE), EXPLICIT_LE, values, () => 5),
      EXPLICIT_LE,
    );
    const group = out.filter((e) => e.tag >>> 16 === 0x0010 && e.tag !== PATIENT_GROUP_LENGTH);
    const length = out.find((e) => e.tag === PATIENT_GROUP_LENGTH)!.value as Buffer;
    assert.equal(length.readUInt32LE(0), encodeDataset(group, EXPLICIT_LE).length);
    assert.notEqual(length.readUInt32LE(0), groupBytes);
  });

  it('inserts at the end a value whose tag is above every element', async () => {
    const ds = [text(Tag.PatientId, 'LO', 'P1')];
    const out = await replaced(encodeDataset(ds, EXPLICIT_LE), EXPLICIT_LE, [birthDate]);
    assert.deepEqual(
      parseDataset(out, EXPLICIT_LE),
      parseDataset(encodeDataset(expected(ds, [birthDate]), EXPLICIT_LE), EXPLICIT_LE),
    );
  });

  it('past the last group replaced, the rest is passed on unread', async () => {
    const input = encodeDataset(instance(), EXPLICIT_LE);
    // Bytes no parser would take, after Pixel Data: not walked, so not refused.
    const trailer = Buffer.from([0xde, 0xad, 0xbe]);
    const out = await replaced(Buffer.concat([input, trailer]), EXPLICIT_LE, [pn('X')], () => 16);
    assert.ok(out.subarray(out.length - 3).equals(trailer));
  });

  it('a group too long to hold for its group length is refused, not buffered', async () => {
    const big = Buffer.alloc(MAX_HELD_GROUP + 2, 0x41);
    const ds = [
      { tag: PATIENT_GROUP_LENGTH, vr: 'UL', value: Buffer.alloc(4) },
      { tag: Tag.PatientName, vr: 'PN', value: 'A' },
      { tag: Tag.Allergies, vr: 'UT', value: big },
    ];
    await assert.rejects(
      replaced(encodeDataset(ds, EXPLICIT_LE), EXPLICIT_LE, [pn('B')], () => 65536),
      ElementReplacementError,
    );
  });
});
