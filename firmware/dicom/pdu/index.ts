// One entry point for decoding a whole PDU, given its type and body.
import { PduDecodeError } from '../errors';
import {
  decodeAAssociateAc,
  decodeAAssociateRq,
  type AAssociateAc,
  type AAssociateRq,
} from './a-associate';
import { decodePDataTf, type PDataTf } from './p-data-tf';
import { PduType } from './pdu-types';
import {
  decodeAAbort,
  decodeAAssociateRj,
  decodeAReleaseRp,
  decodeAReleaseRq,
  type AAbort,
  type AAssociateRj,
  type AReleaseRp,
  type AReleaseRq,
} from './simple-pdus';

export type Pdu =
  AAssociateRq | AAssociateAc | AAssociateRj | PDataTf | AReleaseRq | AReleaseRp | AAbort;

/** `body` whole, or as the chunks it arrived in (PduReader): only P-DATA-TF keeps them apart. */
export function decodePdu(type: number, body: Buffer | readonly Buffer[]): Pdu {
  if (type === PduType.PDataTf) return decodePDataTf(body);
  // The other PDUs are small: joined, when they spanned chunks, for their decoders.
  if (!Buffer.isBuffer(body)) body = body.length === 1 ? body[0]! : Buffer.concat(body);
  switch (type) {
    case PduType.AAssociateRq:
      return decodeAAssociateRq(body);
    case PduType.AAssociateAc:
      return decodeAAssociateAc(body);
    case PduType.AAssociateRj:
      return decodeAAssociateRj(body);
    case PduType.AReleaseRq:
      return decodeAReleaseRq(body);
    case PduType.AReleaseRp:
      return decodeAReleaseRp(body);
    case PduType.AAbort:
      return decodeAAbort(body);
    default:
      throw new PduDecodeError(`unrecognized PDU type 0x${type.toString(16)}`, 1);
  }
}

export * from './a-associate';
export * from './p-data-tf';
export * from './pdu-types';
export * from './simple-pdus';
export * from './user-information';
