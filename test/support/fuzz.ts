// A seeded mutation fuzzer: valid inputs (a C-STORE exchange, its data set) mutated the ways
// a broken or hostile peer would: bit flips, truncation, lengths set to 0, huge or off by
// one, PDU types and VRs swapped, an undefined-length sequence never closed, sequences
// nested 10,000 deep. The same seed gives the same cases, so a failure can be replayed.
// FUZZ_CASES scales the counts (`make fuzz` runs many more than `make test`).
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import { encodeCommandSet } from '../../firmware/dicom/dimse/command-set';
import { encodeAReleaseRq, encodePDataTf } from '../../firmware/dicom/pdu';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../firmware/dicom/registry/transfer-syntaxes';
import { associateRq } from './raw-peer';
import { CT_IMAGE_STORAGE, syntheticDataset, uid } from './synthetic';

/** How many cases of each kind: `base` in `make test`, times FUZZ_CASES/100 in `make fuzz`. */
export function caseCount(base: number): number {
  const scale = Number(process.env.FUZZ_CASES ?? '0');
  return scale > 0 ? Math.max(base, Math.round((base * scale) / 100)) : base;
}

/** mulberry32: small, fast, and the same on every machine. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const VRS = ['AE', 'CS', 'DA', 'LO', 'OB', 'OW', 'PN', 'SQ', 'UI', 'UL', 'UN', 'US', 'UT', 'ZZ'];

export type Mutation = (input: Buffer, r: Random) => Buffer;

export const MUTATIONS: Record<string, Mutation> = {
  'bit flips': (b, r) => {
    const out = Buffer.from(b);
    for (let n = 1 + r.int(8); n > 0; n--) {
      const i = r.int(out.length);
      out[i] = out[i]! ^ (1 << r.int(8));
    }
    return out;
  },
  truncation: (b, r) => b.subarray(0, r.int(b.length)),
  'a length 0, huge or off by one': (b, r) => {
    const out = Buffer.from(b);
    // Lengths sit at even offsets in PDU, PDV and element headers; any 4 bytes will do.
    const i = r.int(Math.max(1, out.length - 4)) & ~1;
    const was = out.readUInt32LE(i);
    const value = r.pick([0, 0xffffffff, 0x7fffffff, was + 1, Math.max(0, was - 1)]) >>> 0;
    if (r.next() < 0.5) out.writeUInt32LE(value, i);
    else out.writeUInt32BE(value, i);
    return out;
  },
  'a type swapped': (b, r) => {
    const out = Buffer.from(b);
    const i = r.int(out.length - 2);
    if (r.next() < 0.5)
      out[i] = r.int(256); // a PDU or item type
    else out.write(r.pick(VRS), i, 'latin1'); // a VR
    return out;
  },
  'an undefined-length sequence never closed': (b) =>
    Buffer.concat([b, sequenceOpen(), itemOpen(), Buffer.from([0x08, 0x00, 0x50, 0x00])]),
  'sequences nested 10,000 deep': (b) =>
    Buffer.concat([
      b,
      ...Array.from({ length: 10_000 }, () => [sequenceOpen(), itemOpen()]).flat(),
    ]),
};

/** (0008,1115) SQ of undefined length, explicit VR little endian. */
function sequenceOpen(): Buffer {
  return Buffer.from([0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff]);
}

/** An item of undefined length. */
function itemOpen(): Buffer {
  return Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
}

/** A small valid data set (explicit VR little endian) of instance n. */
export function validDataset(n: number): Buffer {
  return syntheticDataset({
    studyUid: uid(9000, n),
    seriesUid: uid(9000, n, 1),
    sopInstanceUid: uid(9000, n, 1, 1),
    rows: 8,
    columns: 8,
  });
}

/** A whole valid exchange: A-ASSOCIATE-RQ, a C-STORE of instance n in P-DATA, A-RELEASE-RQ. */
export function validExchange(n: number): Buffer {
  const command = encodeCommandSet({
    commandField: CommandField.CStoreRq,
    messageId: 1,
    affectedSopClassUid: CT_IMAGE_STORAGE,
    affectedSopInstanceUid: uid(9000, n, 1, 1),
    priority: 0,
    hasDataSet: true,
  });
  return Buffer.concat([
    associateRq([
      { id: 1, abstractSyntax: CT_IMAGE_STORAGE, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] },
    ]),
    encodePDataTf([{ contextId: 1, isCommand: true, isLast: true, data: command }]),
    encodePDataTf([{ contextId: 1, isCommand: false, isLast: true, data: validDataset(n) }]),
    encodeAReleaseRq(),
  ]);
}

/** Case i of a seeded run: which mutation, and the mutated bytes. */
export function mutated(input: Buffer, seed: number, i: number): { name: string; bytes: Buffer } {
  const r = new Random(seed * 1_000_003 + i);
  const name = r.pick(Object.keys(MUTATIONS));
  return { name, bytes: MUTATIONS[name]!(input, r) };
}
