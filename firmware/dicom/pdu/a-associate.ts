// A-ASSOCIATE-RQ (0x01) and A-ASSOCIATE-AC (0x02) PDUs, PS3.8 §9.3.2 and §9.3.3.
import { PduDecodeError } from '../errors';
import {
  ByteReader,
  decodeAeTitle,
  decodeUidField,
  encodeAeTitle,
  item,
  pdu,
  u16,
} from './byte-io';
import { ItemType, PduType } from './pdu-types';
import {
  decodeUserInformation,
  encodeUserInformation,
  type UserInformation,
} from './user-information';

export interface PresentationContextRq {
  /** Odd number 1..255 (PS3.8 §9.3.2.2). */
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

export interface PresentationContextAc {
  readonly id: number;
  /** PresentationContextResult. */
  readonly result: number;
  /** Meaningful only when result is acceptance. */
  readonly transferSyntax: string;
}

interface AssociateCommon {
  readonly protocolVersion: number;
  readonly calledAeTitle: string;
  readonly callingAeTitle: string;
  readonly applicationContextName: string;
  readonly userInformation: UserInformation;
}

export interface AAssociateRq extends AssociateCommon {
  readonly type: typeof PduType.AAssociateRq;
  readonly presentationContexts: readonly PresentationContextRq[];
}

export interface AAssociateAc extends AssociateCommon {
  readonly type: typeof PduType.AAssociateAc;
  readonly presentationContexts: readonly PresentationContextAc[];
}

function encodeCommon(a: AssociateCommon, contexts: Buffer[], type: number): Buffer {
  const fixed = Buffer.concat([
    u16(a.protocolVersion),
    Buffer.alloc(2),
    encodeAeTitle(a.calledAeTitle),
    encodeAeTitle(a.callingAeTitle),
    Buffer.alloc(32),
  ]);
  return pdu(
    type,
    Buffer.concat([
      fixed,
      item(ItemType.ApplicationContext, Buffer.from(a.applicationContextName, 'latin1')),
      ...contexts,
      encodeUserInformation(a.userInformation),
    ]),
  );
}

export function encodeAAssociateRq(rq: Omit<AAssociateRq, 'type'>): Buffer {
  const contexts = rq.presentationContexts.map((pc) =>
    item(
      ItemType.PresentationContextRq,
      Buffer.concat([
        Buffer.from([pc.id, 0, 0, 0]),
        item(ItemType.AbstractSyntax, Buffer.from(pc.abstractSyntax, 'latin1')),
        ...pc.transferSyntaxes.map((ts) =>
          item(ItemType.TransferSyntax, Buffer.from(ts, 'latin1')),
        ),
      ]),
    ),
  );
  return encodeCommon(rq, contexts, PduType.AAssociateRq);
}

export function encodeAAssociateAc(ac: Omit<AAssociateAc, 'type'>): Buffer {
  const contexts = ac.presentationContexts.map((pc) =>
    item(
      ItemType.PresentationContextAc,
      Buffer.concat([
        Buffer.from([pc.id, 0, pc.result, 0]),
        // PS3.8 §9.3.3.2: the transfer syntax sub-item is present but not significant
        // when the context is not accepted.
        item(ItemType.TransferSyntax, Buffer.from(pc.transferSyntax, 'latin1')),
      ]),
    ),
  );
  return encodeCommon(ac, contexts, PduType.AAssociateAc);
}

interface DecodedCommon {
  common: Omit<AssociateCommon, 'userInformation' | 'applicationContextName'>;
  applicationContextName?: string;
  userInformation?: UserInformation;
  contextItems: ByteReader[];
}

function decodeCommon(body: Buffer, contextItemType: number): DecodedCommon {
  const r = new ByteReader(body);
  const protocolVersion = r.u16('protocol version');
  r.skip(2, 'reserved');
  const calledAeTitle = decodeAeTitle(r.bytes(16, 'called AE title'));
  const callingAeTitle = decodeAeTitle(r.bytes(16, 'calling AE title'));
  r.skip(32, 'reserved');
  const out: DecodedCommon = {
    common: { protocolVersion, calledAeTitle, callingAeTitle },
    contextItems: [],
  };
  while (r.remaining() > 0) {
    const type = r.u8('item type');
    r.skip(1, 'item reserved');
    const length = r.u16('item length');
    r.need(length, `item 0x${type.toString(16)}`);
    const sub = new ByteReader(body, r.offset, r.offset + length);
    r.offset += length;
    if (type === ItemType.ApplicationContext) {
      out.applicationContextName = decodeUidField(sub.bytes(length, 'application context name'));
    } else if (type === contextItemType) {
      out.contextItems.push(sub);
    } else if (type === ItemType.UserInformation) {
      out.userInformation = decodeUserInformation(sub);
    }
    // Any other item type is not ours to understand: skipped (PS3.8 §9.3.1).
  }
  if (out.applicationContextName === undefined) {
    throw new PduDecodeError('A-ASSOCIATE without an application context item', 6);
  }
  return out;
}

function finish(d: DecodedCommon): AssociateCommon {
  return {
    ...d.common,
    applicationContextName: d.applicationContextName ?? '',
    userInformation: d.userInformation ?? {
      maxLength: 0,
      implementationClassUid: '',
      roleSelections: [],
      extendedNegotiations: [],
      commonExtendedNegotiations: [],
    },
  };
}

export function decodeAAssociateRq(body: Buffer): AAssociateRq {
  const d = decodeCommon(body, ItemType.PresentationContextRq);
  const presentationContexts = d.contextItems.map((r): PresentationContextRq => {
    const id = r.u8('presentation context ID');
    r.skip(3, 'reserved');
    let abstractSyntax: string | undefined;
    const transferSyntaxes: string[] = [];
    while (r.remaining() > 0) {
      const type = r.u8('sub-item type');
      r.skip(1, 'sub-item reserved');
      const value = decodeUidField(r.bytes(r.u16('sub-item length'), 'sub-item'));
      if (type === ItemType.AbstractSyntax) abstractSyntax = value;
      else if (type === ItemType.TransferSyntax) transferSyntaxes.push(value);
    }
    if (abstractSyntax === undefined) {
      throw new PduDecodeError(`presentation context ${id} has no abstract syntax`);
    }
    return { id, abstractSyntax, transferSyntaxes };
  });
  return { type: PduType.AAssociateRq, ...finish(d), presentationContexts };
}

export function decodeAAssociateAc(body: Buffer): AAssociateAc {
  const d = decodeCommon(body, ItemType.PresentationContextAc);
  const presentationContexts = d.contextItems.map((r): PresentationContextAc => {
    const id = r.u8('presentation context ID');
    r.skip(1, 'reserved');
    const result = r.u8('result/reason');
    r.skip(1, 'reserved');
    let transferSyntax = '';
    while (r.remaining() > 0) {
      const type = r.u8('sub-item type');
      r.skip(1, 'sub-item reserved');
      const value = decodeUidField(r.bytes(r.u16('sub-item length'), 'sub-item'));
      if (type === ItemType.TransferSyntax) transferSyntax = value;
    }
    return { id, result, transferSyntax };
  });
  return { type: PduType.AAssociateAc, ...finish(d), presentationContexts };
}
