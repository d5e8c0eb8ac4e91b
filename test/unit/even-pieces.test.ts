// Data set fragments are sent with even lengths (DCMTK aborts on an odd one); a chunk of
// odd length carries its last byte into the next. The carry copies at most one PDV.
import { strict as assert } from 'node:assert';
import { evenPieces } from '../../firmware/dicom/dimse/dimse-channel';

describe('data set fragments of even length', () => {
  it('cuts odd chunks of any length into even pieces of at most max, bytes in order', () => {
    const data = Buffer.from(Array.from({ length: 1001 }, (_, i) => i % 251));
    for (const sizes of [
      [7, 1, 300, 93, 600],
      [1, 1, 1, 998],
      [1000, 1],
      [13, 988],
    ]) {
      let carry: Buffer | null = null;
      const out: Buffer[] = [];
      let off = 0;
      for (const n of sizes) {
        const r: { pieces: Buffer[]; carry: Buffer | null } = evenPieces(
          data.subarray(off, off + n),
          carry,
          64,
        );
        off += n;
        out.push(...r.pieces);
        carry = r.carry;
      }
      for (const p of out) {
        assert.equal(p.length % 2, 0, `piece of ${p.length}`);
        assert.ok(p.length > 0 && p.length <= 64);
      }
      assert.deepEqual(Buffer.concat([...out, ...(carry ? [carry] : [])]), data);
    }
  });

  it('a carried byte copies one PDV of the next chunk, the rest stays a view of it', () => {
    const chunk = Buffer.alloc(1 << 20, 1);
    const r = evenPieces(chunk, Buffer.from([9]), 16384);
    assert.equal(r.pieces[0]!.length, 16384);
    assert.equal(r.pieces[1]!.buffer, chunk.buffer, 'a view, not a copy');
    assert.equal(r.carry?.length, 1);
  });
});
