// P-DATA-TF PDU (0x04) and its Presentation Data Value items, PS3.8 §9.3.5 and Annex E.
// Decoding returns views into the PDU buffer: PDV data is never copied here.
import { PduDecodeError } from '../errors';
import { PduType } from './pdu-types';

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

export function decodePDataTf(body: Buffer): PDataTf {
  const pdvs: Pdv[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (offset + 6 > body.length) throw new PduDecodeError('P-DATA-TF: truncated PDV item header');
    const itemLength = body.readUInt32BE(offset);
    if (itemLength < 2 || offset + 4 + itemLength > body.length) {
      throw new PduDecodeError(`P-DATA-TF: PDV item length ${itemLength} does not fit the PDU`);
    }
    const contextId = body[offset + 4]!;
    const control = body[offset + 5]!;
    pdvs.push({
      contextId,
      isCommand: (control & 0x01) !== 0,
      isLast: (control & 0x02) !== 0,
      data: body.subarray(offset + 6, offset + 4 + itemLength),
    });
    offset += 4 + itemLength;
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
