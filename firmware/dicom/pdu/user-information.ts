// User Information item (0x50) and its sub-items (PS3.8 Annex D and PS3.7 Annex D.3.3):
// maximum length, implementation identity, asynchronous operations window, SCP/SCU role
// selection, SOP class (common) extended negotiation and user identity.
import { PduDecodeError } from '../errors';
import { ByteReader, decodeUidField, item, u16, u32 } from './byte-io';
import { ItemType } from './pdu-types';

export interface RoleSelection {
  readonly sopClassUid: string;
  readonly scuRole: boolean;
  readonly scpRole: boolean;
}

export interface SopClassExtendedNegotiation {
  readonly sopClassUid: string;
  readonly applicationInformation: Buffer;
}

export interface SopClassCommonExtendedNegotiation {
  readonly sopClassUid: string;
  readonly serviceClassUid: string;
  readonly relatedGeneralSopClassUids: readonly string[];
}

/** User Identity Negotiation, A-ASSOCIATE-RQ side (PS3.7 D.3.3.7.1). */
export interface UserIdentityRq {
  /** 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  readonly type: number;
  readonly positiveResponseRequested: boolean;
  readonly primaryField: Buffer;
  readonly secondaryField: Buffer;
}

export interface UserInformation {
  /** Maximum length of P-DATA-TF PDU variable fields we may receive; 0 = no limit. */
  readonly maxLength: number;
  readonly implementationClassUid: string;
  readonly implementationVersionName?: string;
  readonly asyncOperationsWindow?: { readonly invoked: number; readonly performed: number };
  readonly roleSelections: readonly RoleSelection[];
  readonly extendedNegotiations: readonly SopClassExtendedNegotiation[];
  readonly commonExtendedNegotiations: readonly SopClassCommonExtendedNegotiation[];
  readonly userIdentityRq?: UserIdentityRq;
  /** A-ASSOCIATE-AC: the server response of user identity negotiation (PS3.7 D.3.3.7.2). */
  readonly userIdentityServerResponse?: Buffer;
}

function uidBytes(uid: string): Buffer {
  return Buffer.from(uid, 'latin1');
}

function withU16Length(b: Buffer): Buffer {
  return Buffer.concat([u16(b.length), b]);
}

export function encodeUserInformation(ui: UserInformation): Buffer {
  const subs: Buffer[] = [item(ItemType.MaximumLength, u32(ui.maxLength))];
  subs.push(item(ItemType.ImplementationClassUid, uidBytes(ui.implementationClassUid)));
  if (ui.asyncOperationsWindow) {
    const { invoked, performed } = ui.asyncOperationsWindow;
    subs.push(
      item(ItemType.AsynchronousOperationsWindow, Buffer.concat([u16(invoked), u16(performed)])),
    );
  }
  for (const role of ui.roleSelections) {
    subs.push(
      item(
        ItemType.ScpScuRoleSelection,
        Buffer.concat([
          withU16Length(uidBytes(role.sopClassUid)),
          Buffer.from([role.scuRole ? 1 : 0, role.scpRole ? 1 : 0]),
        ]),
      ),
    );
  }
  if (ui.implementationVersionName !== undefined) {
    subs.push(
      item(ItemType.ImplementationVersionName, Buffer.from(ui.implementationVersionName, 'latin1')),
    );
  }
  for (const ext of ui.extendedNegotiations) {
    subs.push(
      item(
        ItemType.SopClassExtendedNegotiation,
        Buffer.concat([withU16Length(uidBytes(ext.sopClassUid)), ext.applicationInformation]),
      ),
    );
  }
  for (const ext of ui.commonExtendedNegotiations) {
    const related = Buffer.concat(
      ext.relatedGeneralSopClassUids.map((u) => withU16Length(uidBytes(u))),
    );
    subs.push(
      item(
        ItemType.SopClassCommonExtendedNegotiation,
        Buffer.concat([
          withU16Length(uidBytes(ext.sopClassUid)),
          withU16Length(uidBytes(ext.serviceClassUid)),
          withU16Length(related),
        ]),
      ),
    );
  }
  if (ui.userIdentityRq) {
    const id = ui.userIdentityRq;
    subs.push(
      item(
        ItemType.UserIdentityRq,
        Buffer.concat([
          Buffer.from([id.type, id.positiveResponseRequested ? 1 : 0]),
          withU16Length(id.primaryField),
          withU16Length(id.secondaryField),
        ]),
      ),
    );
  }
  if (ui.userIdentityServerResponse) {
    subs.push(item(ItemType.UserIdentityAc, withU16Length(ui.userIdentityServerResponse)));
  }
  return item(ItemType.UserInformation, Buffer.concat(subs));
}

/** What the sub-items decoded so far say; the sub-item decoders below fill it in. */
interface UserInformationDraft {
  maxLength: number;
  implementationClassUid: string;
  implementationVersionName?: string;
  asyncOperationsWindow?: UserInformation['asyncOperationsWindow'];
  userIdentityRq?: UserIdentityRq;
  userIdentityServerResponse?: Buffer;
  readonly roleSelections: RoleSelection[];
  readonly extendedNegotiations: SopClassExtendedNegotiation[];
  readonly commonExtendedNegotiations: SopClassCommonExtendedNegotiation[];
}

/** Decodes one sub-item's body (its reader spans exactly `length` bytes) into the draft. */
type SubItemDecoder = (sub: ByteReader, length: number, draft: UserInformationDraft) => void;

/** Maximum Length sub-item (PS3.8 D.1). */
function decodeMaximumLength(sub: ByteReader, length: number, draft: UserInformationDraft): void {
  if (length !== 4) throw new PduDecodeError('maximum length sub-item must be 4 bytes long');
  draft.maxLength = sub.u32('maximum length');
}

/** Implementation Class UID sub-item (PS3.7 D.3.3.2). */
function decodeImplementationClassUid(
  sub: ByteReader,
  length: number,
  draft: UserInformationDraft,
): void {
  draft.implementationClassUid = decodeUidField(sub.bytes(length, 'implementation class UID'));
}

/** Implementation Version Name sub-item (PS3.7 D.3.3.2). */
function decodeImplementationVersionName(
  sub: ByteReader,
  length: number,
  draft: UserInformationDraft,
): void {
  draft.implementationVersionName = sub
    .bytes(length, 'implementation version name')
    .toString('latin1')
    .trim();
}

/** Asynchronous Operations Window sub-item (PS3.7 D.3.3.3). */
function decodeAsyncOperationsWindow(
  sub: ByteReader,
  _length: number,
  draft: UserInformationDraft,
): void {
  draft.asyncOperationsWindow = {
    invoked: sub.u16('max operations invoked'),
    performed: sub.u16('max operations performed'),
  };
}

/** SCP/SCU Role Selection sub-item (PS3.7 D.3.3.4). */
function decodeRoleSelection(sub: ByteReader, _length: number, draft: UserInformationDraft): void {
  const uidLength = sub.u16('role selection UID length');
  const sopClassUid = decodeUidField(sub.bytes(uidLength, 'role selection SOP class UID'));
  draft.roleSelections.push({
    sopClassUid,
    scuRole: sub.u8('SCU role') === 1,
    scpRole: sub.u8('SCP role') === 1,
  });
}

/** SOP Class Extended Negotiation sub-item (PS3.7 D.3.3.5). */
function decodeExtendedNegotiation(
  sub: ByteReader,
  _length: number,
  draft: UserInformationDraft,
): void {
  const uidLength = sub.u16('extended negotiation UID length');
  const sopClassUid = decodeUidField(sub.bytes(uidLength, 'extended negotiation SOP class UID'));
  draft.extendedNegotiations.push({
    sopClassUid,
    applicationInformation: Buffer.from(sub.bytes(sub.remaining(), 'application information')),
  });
}

/** SOP Class Common Extended Negotiation sub-item (PS3.7 D.3.3.6). */
function decodeCommonExtendedNegotiation(
  sub: ByteReader,
  _length: number,
  draft: UserInformationDraft,
): void {
  const sopClassUid = decodeUidField(sub.bytes(sub.u16('SOP class UID length'), 'SOP class UID'));
  const serviceClassUid = decodeUidField(
    sub.bytes(sub.u16('service class UID length'), 'service class UID'),
  );
  const relatedLength = sub.u16('related general SOP class length');
  const related = new ByteReader(sub.buf, sub.offset, sub.offset + relatedLength);
  sub.need(relatedLength, 'related general SOP class identification');
  const relatedGeneralSopClassUids: string[] = [];
  while (related.remaining() > 0) {
    relatedGeneralSopClassUids.push(
      decodeUidField(related.bytes(related.u16('related UID length'), 'related UID')),
    );
  }
  draft.commonExtendedNegotiations.push({
    sopClassUid,
    serviceClassUid,
    relatedGeneralSopClassUids,
  });
}

/** User Identity sub-item of an A-ASSOCIATE-RQ (PS3.7 D.3.3.7.1). */
function decodeUserIdentityRq(sub: ByteReader, _length: number, draft: UserInformationDraft): void {
  const type = sub.u8('user identity type');
  const positiveResponseRequested = sub.u8('positive response requested') === 1;
  const primaryField = Buffer.from(sub.bytes(sub.u16('primary field length'), 'primary field'));
  const secondaryField = Buffer.from(
    sub.bytes(sub.u16('secondary field length'), 'secondary field'),
  );
  draft.userIdentityRq = { type, positiveResponseRequested, primaryField, secondaryField };
}

/** User Identity sub-item of an A-ASSOCIATE-AC: the server response (PS3.7 D.3.3.7.2). */
function decodeUserIdentityAc(sub: ByteReader, _length: number, draft: UserInformationDraft): void {
  draft.userIdentityServerResponse = Buffer.from(
    sub.bytes(sub.u16('server response length'), 'server response'),
  );
}

/** The sub-items this codec knows, by item type; any other is skipped (PS3.8 §9.3.1). */
const SUB_ITEM_DECODERS: ReadonlyMap<number, SubItemDecoder> = new Map<number, SubItemDecoder>([
  [ItemType.MaximumLength, decodeMaximumLength],
  [ItemType.ImplementationClassUid, decodeImplementationClassUid],
  [ItemType.ImplementationVersionName, decodeImplementationVersionName],
  [ItemType.AsynchronousOperationsWindow, decodeAsyncOperationsWindow],
  [ItemType.ScpScuRoleSelection, decodeRoleSelection],
  [ItemType.SopClassExtendedNegotiation, decodeExtendedNegotiation],
  [ItemType.SopClassCommonExtendedNegotiation, decodeCommonExtendedNegotiation],
  [ItemType.UserIdentityRq, decodeUserIdentityRq],
  [ItemType.UserIdentityAc, decodeUserIdentityAc],
]);

/** Decodes the body of a User Information item. Unknown sub-items are skipped (PS3.8 §9.3.1). */
export function decodeUserInformation(body: ByteReader): UserInformation {
  const draft: UserInformationDraft = {
    maxLength: 0,
    implementationClassUid: '',
    roleSelections: [],
    extendedNegotiations: [],
    commonExtendedNegotiations: [],
  };
  while (body.remaining() > 0) {
    const type = body.u8('user information sub-item type');
    body.skip(1, 'user information sub-item reserved');
    const length = body.u16('user information sub-item length');
    body.need(length, `user information sub-item 0x${type.toString(16)}`);
    const sub = new ByteReader(body.buf, body.offset, body.offset + length);
    body.offset += length;
    // An unknown sub-item has no decoder: ignored, as the standard asks of unknown items.
    SUB_ITEM_DECODERS.get(type)?.(sub, length, draft);
  }
  return {
    maxLength: draft.maxLength,
    implementationClassUid: draft.implementationClassUid,
    ...(draft.implementationVersionName !== undefined
      ? { implementationVersionName: draft.implementationVersionName }
      : {}),
    ...(draft.asyncOperationsWindow ? { asyncOperationsWindow: draft.asyncOperationsWindow } : {}),
    roleSelections: draft.roleSelections,
    extendedNegotiations: draft.extendedNegotiations,
    commonExtendedNegotiations: draft.commonExtendedNegotiations,
    ...(draft.userIdentityRq ? { userIdentityRq: draft.userIdentityRq } : {}),
    ...(draft.userIdentityServerResponse
      ? { userIdentityServerResponse: draft.userIdentityServerResponse }
      : {}),
  };
}
