// Minimal big-endian cursor helpers for the PDU codecs (PS3.8 §9.3.1: all multi-byte
// fields of the upper layer are big endian). Reads are bounds-checked: a short buffer is
// a decode error, never an exception from Node's Buffer.
import { PduDecodeError } from '../errors';

export class ByteReader {
  constructor(
    readonly buf: Buffer,
    public offset = 0,
    readonly end = buf.length,
  ) {}

  remaining(): number {
    return this.end - this.offset;
  }

  need(n: number, what: string): void {
    if (this.offset + n > this.end) {
      throw new PduDecodeError(`${what}: needs ${n} bytes, ${this.remaining()} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.offset += n;
  }
}

/** Writes an item header (type, reserved, 2-byte length) followed by its body. */
export function item(type: number, body: Buffer): Buffer {
  if (body.length > 0xffff) throw new RangeError(`item 0x${type.toString(16)} too long`);
  const head = Buffer.alloc(4);
  head[0] = type;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/** A PDU: type, reserved, 4-byte length, body. */
export function pdu(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head[0] = type;
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** AE titles are 16 bytes, space padded (PS3.8 §9.3.2); leading/trailing spaces are not significant. */
export function encodeAeTitle(ae: string): Buffer {
  const b = Buffer.alloc(16, 0x20);
  b.write(ae.slice(0, 16), 'latin1');
  return b;
}

export function decodeAeTitle(b: Buffer): string {
  return b.toString('latin1').replace(/\0/g, ' ').trim();
}

/** UIDs in items carry no padding on the wire, but some peers add a NUL: strip it. */
export function decodeUidField(b: Buffer): string {
  return b.toString('latin1').replace(/[\0 ]+$/, '');
}
