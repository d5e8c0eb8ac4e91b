// P-DATA-TF PDU (0x04) and its Presentation Data Value items, PS3.8 §9.3.5 and Annex E.
// Decoding returns views into the PDU's buffers: PDV data is never copied here.
import { PduDecodeError } from '../errors';
import { PduType } from './pdu-types';

/**
 * A fragment of a message (PS3.8 E.1) as one PDV item brought it, or part of one: an item
 * whose data arrived across TCP chunks comes out as consecutive Pdvs, one per chunk, so
 * that its data is never copied; only the last of them carries the item's last-fragment
 * bit. A message's bytes are the concatenation of its Pdvs' data either way.
 */
export interface Pdv {
  readonly contextId: number;
  /** Message control header bit 0 (PS3.8 E.2). */
  readonly isCommand: boolean;
  /** Message control header bit 1. */
  readonly isLast: boolean;
  readonly data: Buffer;
}

export interface PDataTf {
  readonly type: typeof PduType.PDataTf;
  readonly pdvs: readonly Pdv[];
}

/** Bytes a single-PDV P-DATA-TF adds around its data: PDU header (6) + PDV header (6). */
export const PDATA_OVERHEAD = 12;
/** Bytes of the PDV item header counted by the maximum length (4 length + 1 id + 1 control). */
export const PDV_HEADER_LENGTH = 6;

/** A read position in a body held as several buffers (the chunks a PDU arrived in). */
class PartsCursor {
  private part = 0;
  private offset = 0;
  private left: number;
  private readonly small = Buffer.alloc(PDV_HEADER_LENGTH);

  constructor(private readonly parts: readonly Buffer[]) {
    this.left = parts.reduce((n, p) => n + p.length, 0);
  }

  get remaining(): number {
    return this.left;
  }

  /** The next `n` bytes as views of the parts (none copied). */
  views(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (n > 0) {
      const p = this.parts[this.part]!;
      const k = Math.min(n, p.length - this.offset);
      if (k > 0) out.push(p.subarray(this.offset, this.offset + k));
      this.skip(k);
      n -= k;
    }
    return out;
  }

  /** The next `n` (≤ 6) bytes, copied into a scratch buffer when they straddle parts. */
  header(n: number): Buffer {
    const p = this.parts[this.part]!;
    if (p.length - this.offset >= n) {
      const view = p.subarray(this.offset, this.offset + n);
      this.skip(n);
      return view;
    }
    let at = 0;
    for (const v of this.views(n)) at += v.copy(this.small, at);
    return this.small.subarray(0, n);
  }

  private skip(k: number): void {
    this.left -= k;
    this.offset += k;
    while (this.part < this.parts.length && this.offset >= this.parts[this.part]!.length) {
      this.offset -= this.parts[this.part]!.length;
      this.part++;
    }
  }
}

/** Decodes a P-DATA-TF body, given whole or as the chunks it arrived in (see Pdv). */
export function decodePDataTf(body: Buffer | readonly Buffer[]): PDataTf {
  const at = new PartsCursor(Buffer.isBuffer(body) ? [body] : body);
  const pdvs: Pdv[] = [];
  while (at.remaining > 0) {
    if (at.remaining < PDV_HEADER_LENGTH)
      throw new PduDecodeError('P-DATA-TF: truncated PDV item header');
    const remaining = at.remaining;
    const h = at.header(PDV_HEADER_LENGTH);
    const itemLength = h.readUInt32BE(0);
    if (itemLength < 2 || 4 + itemLength > remaining) {
      throw new PduDecodeError(`P-DATA-TF: PDV item length ${itemLength} does not fit the PDU`);
    }
    const contextId = h[4]!;
    const control = h[5]!;
    const isCommand = (control & 0x01) !== 0;
    const views = at.views(itemLength - 2);
    if (views.length === 0) views.push(Buffer.alloc(0));
    for (let i = 0; i < views.length; i++) {
      const isLast = (control & 0x02) !== 0 && i === views.length - 1;
      pdvs.push({ contextId, isCommand, isLast, data: views[i]! });
    }
  }
  if (pdvs.length === 0) throw new PduDecodeError('P-DATA-TF with no PDV item');
  return { type: PduType.PDataTf, pdvs };
}

/**
 * The 12 header bytes of a P-DATA-TF that carries exactly one PDV of `dataLength` bytes.
 * Sending header and data as two writes lets file data go to the socket without a copy.
 */
export function pDataHeader(
  contextId: number,
  isCommand: boolean,
  isLast: boolean,
  dataLength: number,
): Buffer {
  const h = Buffer.allocUnsafe(PDATA_OVERHEAD);
  h[0] = PduType.PDataTf;
  h[1] = 0;
  h.writeUInt32BE(dataLength + PDV_HEADER_LENGTH, 2);
  h.writeUInt32BE(dataLength + 2, 6);
  h[10] = contextId;
  h[11] = (isCommand ? 0x01 : 0) | (isLast ? 0x02 : 0);
  return h;
}

export function encodePDataTf(pdvs: readonly Pdv[]): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (const pdv of pdvs) {
    const h = Buffer.allocUnsafe(6);
    h.writeUInt32BE(pdv.data.length + 2, 0);
    h[4] = pdv.contextId;
    h[5] = (pdv.isCommand ? 0x01 : 0) | (pdv.isLast ? 0x02 : 0);
    parts.push(h, pdv.data);
    total += 6 + pdv.data.length;
  }
  const head = Buffer.allocUnsafe(6);
  head[0] = PduType.PDataTf;
  head[1] = 0;
  head.writeUInt32BE(total, 2);
  return Buffer.concat([head, ...parts]);
}
