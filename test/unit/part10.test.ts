// Part 10 File Meta Information (PS3.10 §7.1).
import { strict as assert } from 'node:assert';
import { encodePart10Header, parsePart10Header } from '../../firmware/dicom/dataset/part10';
import { Part10Error } from '../../firmware/dicom/errors';
import { IMPLEMENTATION_CLASS_UID } from '../../firmware/dicom/registry/uid';

describe('Part 10 header', () => {
  const meta = {
    mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    mediaStorageSopInstanceUid: '1.2.3.4.5',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    sourceApplicationEntityTitle: 'MODALITY',
  };

  it('writes preamble, DICM and a group length that covers the meta exactly', () => {
    const h = encodePart10Header(meta);
    assert.equal(
      h.subarray(0, 128).every((b) => b === 0),
      true,
    );
    assert.equal(h.toString('latin1', 128, 132), 'DICM');
    assert.equal(h.readUInt32LE(140), h.length - 144);
    const parsed = parsePart10Header(h);
    assert.equal(parsed.datasetOffset, h.length);
    assert.deepEqual(parsed.meta, {
      ...meta,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: 'DICOM_EDGE_01',
    });
  });

  it('finds the data set offset with trailing data present', () => {
    const h = encodePart10Header(meta);
    const parsed = parsePart10Header(Buffer.concat([h, Buffer.from([0x08, 0x00, 0x16, 0x00])]));
    assert.equal(parsed.datasetOffset, h.length);
  });

  it('rejects a file without DICM, and every truncation of the meta', () => {
    assert.throws(() => parsePart10Header(Buffer.alloc(200)), Part10Error);
    const h = encodePart10Header(meta);
    for (let n = 0; n < h.length; n++)
      assert.throws(() => parsePart10Header(h.subarray(0, n)), Part10Error, `cut at ${n}`);
  });
});
