// Decoding one data element header (PS3.5 §7.1): tag, VR (explicit VR only) and value
// length. Item and delimiter tags (FFFE,xxxx) have no VR in any encoding (§7.5).
// Explicit VR headers are 8 bytes, or 12 for the VRs with a 4-byte length; callers read
// 8 bytes first and call again with 12 when asked to.
import { DatasetParseError } from '../errors';
import { LONG_LENGTH_VRS } from '../registry/vr';
import type { Encoding } from './dataset-scanner';

export type ElementHeader =
  | { readonly complete: false }
  | {
      readonly complete: true;
      readonly tag: number;
      /** The VR in explicit VR encodings; undefined for implicit VR and for items/delimiters. */
      readonly vr: string | undefined;
      readonly length: number;
    };

/** The tag as 8 upper-case hex digits, as the DICOM JSON model keys it (PS3.18 F.2.1.1.2). */
export function tagHex(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

export function formatTag(tag: number): string {
  const h = tagHex(tag);
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

/**
 * Decodes the header in the first `have` bytes of `h` (8 or 12). `at` is the header's
 * offset in the data set, for error messages. Returns { complete: false } when 12 bytes
 * are needed and only 8 were given.
 */
export function decodeElementHeader(
  h: Buffer,
  have: number,
  enc: Encoding,
  at: number,
): ElementHeader {
  const group = enc.littleEndian ? h.readUInt16LE(0) : h.readUInt16BE(0);
  const elem = enc.littleEndian ? h.readUInt16LE(2) : h.readUInt16BE(2);
  const tag = ((group << 16) | elem) >>> 0;
  if (group === 0xfffe || !enc.explicitVr) {
    return {
      complete: true,
      tag,
      vr: undefined,
      length: enc.littleEndian ? h.readUInt32LE(4) : h.readUInt32BE(4),
    };
  }
  const vr = h.toString('latin1', 4, 6);
  if (!/^[A-Z]{2}$/.test(vr)) {
    throw new DatasetParseError(
      `invalid VR bytes 0x${h.subarray(4, 6).toString('hex')} for ${formatTag(tag)}`,
      at,
    );
  }
  if (!LONG_LENGTH_VRS.has(vr)) {
    return {
      complete: true,
      tag,
      vr,
      length: enc.littleEndian ? h.readUInt16LE(6) : h.readUInt16BE(6),
    };
  }
  if (have < 12) return { complete: false };
  return {
    complete: true,
    tag,
    vr,
    length: enc.littleEndian ? h.readUInt32LE(8) : h.readUInt32BE(8),
  };
}

export type CompleteHeader = Extract<ElementHeader, { complete: true }>;

/**
 * Assembles element headers from a byte stream split anywhere: 8 bytes, or 12 for the
 * long explicit-VR form, copied into one small buffer (value bytes never pass through it).
 */
export class HeaderAssembler {
  private readonly buf = Buffer.alloc(12);
  private fill = 0;
  private need = 8;
  private start = 0;

  /** True while part of a header has been taken. */
  get inProgress(): boolean {
    return this.fill > 0;
  }

  /**
   * Takes header bytes from chunk[off..]; `pos` is the data-set offset of chunk[off].
   * Returns how many bytes it used, and the header once it is whole (with its offset).
   */
  take(
    chunk: Buffer,
    off: number,
    pos: number,
    enc: Encoding,
  ): { used: number; header?: CompleteHeader; at: number } {
    if (this.fill === 0) this.start = pos;
    const used = Math.min(this.need - this.fill, chunk.length - off);
    chunk.copy(this.buf, this.fill, off, off + used);
    this.fill += used;
    if (this.fill < this.need) return { used, at: this.start };
    const header = decodeElementHeader(this.buf, this.need, enc, this.start);
    if (!header.complete) {
      this.need = 12;
      return { used, at: this.start };
    }
    this.fill = 0;
    this.need = 8;
    return { used, header, at: this.start };
  }
}
