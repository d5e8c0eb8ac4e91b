// The fixed-size PDUs: A-ASSOCIATE-RJ (§9.3.4), A-RELEASE-RQ/RP (§9.3.6, §9.3.7) and
// A-ABORT (§9.3.8). Each body is four bytes.
import { PduDecodeError } from '../errors';
import { pdu } from './byte-io';
import { PduType } from './pdu-types';

export interface AAssociateRj {
  readonly type: typeof PduType.AAssociateRj;
  readonly result: number;
  readonly source: number;
  readonly reason: number;
}

export interface AReleaseRq {
  readonly type: typeof PduType.AReleaseRq;
}

export interface AReleaseRp {
  readonly type: typeof PduType.AReleaseRp;
}

export interface AAbort {
  readonly type: typeof PduType.AAbort;
  readonly source: number;
  readonly reason: number;
}

function fourBytes(body: Buffer, name: string): void {
  if (body.length !== 4)
    throw new PduDecodeError(`${name} body must be 4 bytes, got ${body.length}`);
}

export function encodeAAssociateRj(rj: Omit<AAssociateRj, 'type'>): Buffer {
  return pdu(PduType.AAssociateRj, Buffer.from([0, rj.result, rj.source, rj.reason]));
}

export function decodeAAssociateRj(body: Buffer): AAssociateRj {
  fourBytes(body, 'A-ASSOCIATE-RJ');
  return { type: PduType.AAssociateRj, result: body[1]!, source: body[2]!, reason: body[3]! };
}

export function encodeAReleaseRq(): Buffer {
  return pdu(PduType.AReleaseRq, Buffer.alloc(4));
}

export function encodeAReleaseRp(): Buffer {
  return pdu(PduType.AReleaseRp, Buffer.alloc(4));
}

export function decodeAReleaseRq(body: Buffer): AReleaseRq {
  fourBytes(body, 'A-RELEASE-RQ');
  return { type: PduType.AReleaseRq };
}

export function decodeAReleaseRp(body: Buffer): AReleaseRp {
  fourBytes(body, 'A-RELEASE-RP');
  return { type: PduType.AReleaseRp };
}

export function encodeAAbort(a: Omit<AAbort, 'type'>): Buffer {
  return pdu(PduType.AAbort, Buffer.from([0, 0, a.source, a.reason]));
}

export function decodeAAbort(body: Buffer): AAbort {
  fourBytes(body, 'A-ABORT');
  return { type: PduType.AAbort, source: body[2]!, reason: body[3]! };
}
