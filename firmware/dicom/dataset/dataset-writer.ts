// Encodes small data sets (identifiers, test fixtures) in any of the uncompressed
// encodings (PS3.5 §7.1). Not for instances in transit: those are never re-encoded.
import { Tag } from '../registry/tags';
import { LONG_LENGTH_VRS } from '../registry/vr';
import type { Encoding } from './dataset-scanner';

export interface Element {
  readonly tag: number;
  readonly vr: string;
  /** Text (padded per VR), raw bytes, or the items of a sequence. */
  readonly value: string | Buffer | readonly (readonly Element[])[];
  /** Encode a sequence (and its items) with undefined length and delimiters. */
  readonly undefinedLength?: boolean;
}

const UNDEFINED = 0xffffffff;

function tagBytes(tag: number, enc: Encoding): Buffer {
  const b = Buffer.alloc(4);
  if (enc.littleEndian) {
    b.writeUInt16LE(tag >>> 16, 0);
    b.writeUInt16LE(tag & 0xffff, 2);
  } else {
    b.writeUInt16BE(tag >>> 16, 0);
    b.writeUInt16BE(tag & 0xffff, 2);
  }
  return b;
}

function u32(v: number, enc: Encoding): Buffer {
  const b = Buffer.alloc(4);
  if (enc.littleEndian) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

function header(tag: number, vr: string, length: number, enc: Encoding): Buffer {
  if (!enc.explicitVr) return Buffer.concat([tagBytes(tag, enc), u32(length, enc)]);
  if (LONG_LENGTH_VRS.has(vr))
    return Buffer.concat([
      tagBytes(tag, enc),
      Buffer.from(vr, 'latin1'),
      Buffer.alloc(2),
      u32(length, enc),
    ]);
  const len = Buffer.alloc(2);
  if (enc.littleEndian) len.writeUInt16LE(length);
  else len.writeUInt16BE(length);
  return Buffer.concat([tagBytes(tag, enc), Buffer.from(vr, 'latin1'), len]);
}

function textValue(vr: string, s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length % 2 === 0) return b;
  return Buffer.concat([b, Buffer.from([vr === 'UI' ? 0x00 : 0x20])]);
}

export function encodeElement(e: Element, enc: Encoding): Buffer {
  if (Array.isArray(e.value)) {
    const items = (e.value as readonly (readonly Element[])[]).map((item) => {
      const body = encodeDataset(item, enc);
      if (e.undefinedLength) {
        return Buffer.concat([
          tagBytes(Tag.Item, enc),
          u32(UNDEFINED, enc),
          body,
          tagBytes(Tag.ItemDelimitationItem, enc),
          u32(0, enc),
        ]);
      }
      return Buffer.concat([tagBytes(Tag.Item, enc), u32(body.length, enc), body]);
    });
    const body = Buffer.concat(items);
    if (e.undefinedLength) {
      return Buffer.concat([
        header(e.tag, e.vr, UNDEFINED, enc),
        body,
        tagBytes(Tag.SequenceDelimitationItem, enc),
        u32(0, enc),
      ]);
    }
    return Buffer.concat([header(e.tag, e.vr, body.length, enc), body]);
  }
  const value = typeof e.value === 'string' ? textValue(e.vr, e.value) : (e.value as Buffer);
  return Buffer.concat([header(e.tag, e.vr, value.length, enc), value]);
}

/** Elements are written in the order given; callers give them in ascending tag order. */
export function encodeDataset(elements: readonly Element[], enc: Encoding): Buffer {
  return Buffer.concat(elements.map((e) => encodeElement(e, enc)));
}
