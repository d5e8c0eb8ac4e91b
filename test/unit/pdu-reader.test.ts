// The incremental PDU reader: any chunking gives the same PDUs; limits are enforced
// from the header, before any allocation.
import { strict as assert } from 'node:assert';
import { PduDecodeError } from '../../firmware/dicom/errors';
import { encodeAReleaseRq, encodePDataTf } from '../../firmware/dicom/pdu';
import { PduReader, type RawPdu } from '../../firmware/dicom/pdu-reader';

const limits = { maxPDataLength: 1024, maxOtherLength: 4096 };

const bodyLength = (p: RawPdu): number => p.body.reduce((n, b) => n + b.length, 0);

function collect(reader: PduReader): RawPdu[] {
  const out: RawPdu[] = [];
  for (let p = reader.next(); p; p = reader.next()) out.push(p);
  return out;
}

describe('PduReader (TCP chunks in, whole PDUs out)', () => {
  const stream = Buffer.concat([
    encodePDataTf([{ contextId: 1, isCommand: true, isLast: true, data: Buffer.from('abcdefgh') }]),
    encodeAReleaseRq(),
    encodePDataTf([{ contextId: 3, isCommand: false, isLast: true, data: Buffer.alloc(300, 7) }]),
  ]);

  it('gives the same PDUs whatever the split point (every byte, two chunks)', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new PduReader(limits);
      r.push(stream.subarray(0, cut));
      const got = collect(r);
      r.push(stream.subarray(cut));
      got.push(...collect(r));
      assert.deepEqual(
        got.map((p) => [p.type, bodyLength(p)]),
        [
          [4, 14],
          [5, 4],
          [4, 306],
        ],
        `cut at ${cut}`,
      );
      assert.equal(r.pending, 0);
    }
  });

  it('gives the same PDUs when fed one byte at a time', () => {
    const r = new PduReader(limits);
    const got: RawPdu[] = [];
    for (const byte of stream) {
      r.push(Buffer.from([byte]));
      got.push(...collect(r));
    }
    assert.deepEqual(Buffer.concat(got.flatMap((p) => p.body)).length, 14 + 4 + 306);
  });

  it('hands out a view, not a copy, when a PDU lies within one chunk', () => {
    const r = new PduReader(limits);
    r.push(stream);
    const first = r.next()!;
    assert.equal(first.body.length, 1);
    assert.equal(first.body[0]!.buffer, stream.buffer);
  });

  it('hands out views of the chunks, not a copy, when a PDU spans chunks', () => {
    const r = new PduReader(limits);
    // Cut inside the first P-DATA-TF (20 bytes) and inside the last (306 + 6); each chunk
    // a memory of its own (not the pool's), as socket reads are.
    const chunks = [
      [0, 9],
      [9, 60],
      [60, stream.length],
    ].map(([from, to]) => {
      const c = Buffer.alloc(to! - from!);
      stream.copy(c, 0, from, to);
      return c;
    });
    const got: RawPdu[] = [];
    for (const c of chunks) {
      r.push(c);
      got.push(...collect(r));
    }
    assert.deepEqual(
      got.map((p) => [p.type, p.body.length]),
      [
        [4, 2],
        [5, 1],
        [4, 2],
      ],
      'the two P-DATA-TFs each come in two views',
    );
    const memories: ArrayBufferLike[] = chunks.map((c) => c.buffer);
    for (const view of got.flatMap((p) => p.body))
      assert.ok(memories.includes(view.buffer), 'a view of a chunk, not a copy');
    assert.deepEqual(Buffer.concat(got.flatMap((p) => p.body)).length, 14 + 4 + 306);
  });

  it('refuses a P-DATA-TF longer than the maximum length announced, from its header alone', () => {
    const r = new PduReader(limits);
    const header = Buffer.from([0x04, 0, 0, 0, 0x04, 0x01]); // 1025 > 1024
    r.push(header);
    assert.throws(
      () => r.next(),
      (e: unknown) => e instanceof PduDecodeError && e.abortReason === 6,
    );
  });

  it('refuses a 4 GB length without allocating it', () => {
    const r = new PduReader({ maxPDataLength: 0, maxOtherLength: 4096 });
    r.push(Buffer.from([0x01, 0, 0xff, 0xff, 0xff, 0xff]));
    assert.throws(() => r.next(), PduDecodeError);
  });

  it('refuses an unknown PDU type at once', () => {
    const r = new PduReader(limits);
    r.push(Buffer.from('GET / HTTP/1.1\r\n'));
    assert.throws(
      () => r.next(),
      (e: unknown) => e instanceof PduDecodeError && e.abortReason === 1,
    );
  });

  it('waits, holding what it has, while a PDU is incomplete', () => {
    const r = new PduReader(limits);
    r.push(stream.subarray(0, 10));
    assert.equal(r.next(), undefined);
    assert.equal(r.pending, 10);
  });
});
