// Association Control (PS3.8 §7.1 and Annex D, PS3.7 Annex D): the A-ASSOCIATE-RQ a
// requestor sends, the A-ASSOCIATE-AC or -RJ an acceptor answers, and what the two agreed.
// Pure functions over PDU values: no socket, no timer, no state (as pynetdicom's acse.py).
import {
  PDV_HEADER_LENGTH,
  PduType,
  PresentationContextResult,
  RejectReason,
  RejectResult,
  RejectSource,
  type AAssociateAc,
  type AAssociateRj,
  type AAssociateRq,
  type PresentationContextAc,
  type PresentationContextRq,
  type RoleSelection,
  type UserIdentityRq,
} from './pdu';
import {
  APPLICATION_CONTEXT_NAME,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
} from './registry/uid';

export interface AcceptedContext {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntax: string;
}

export interface AssociationInfo {
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly rq: AAssociateRq;
  readonly ac: AAssociateAc;
  /** Accepted presentation contexts by ID. */
  readonly contexts: ReadonlyMap<number, AcceptedContext>;
  /** The peer's Maximum Length: largest P-DATA-TF variable field we may send (0 = no limit). */
  readonly peerMaxPduLength: number;
}

/** The local user's answer to an A-ASSOCIATE indication. */
export type AssociateDecision =
  | {
      readonly accept: true;
      readonly presentationContexts: readonly PresentationContextAc[];
      readonly roleSelections?: readonly RoleSelection[];
      /** The acceptor's answer to a proposed window (windowAnswer); none: synchronous. */
      readonly asyncOperationsWindow?: { invoked: number; performed: number };
    }
  | {
      readonly accept: false;
      readonly result: number;
      readonly source: number;
      readonly reason: number;
    };

/** What a requestor proposes. */
export interface AssociateProposal {
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly presentationContexts: readonly PresentationContextRq[];
  readonly roleSelections?: readonly RoleSelection[];
  readonly userIdentity?: UserIdentityRq;
  readonly asyncOperationsWindow?: { invoked: number; performed: number };
}

export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** The A-ASSOCIATE-RQ for a proposal, announcing `maxPduLength` (PS3.8 D.1). */
export function associateRq(proposal: AssociateProposal, maxPduLength: number): AAssociateRq {
  return {
    type: PduType.AAssociateRq,
    protocolVersion: 1,
    calledAeTitle: proposal.calledAeTitle,
    callingAeTitle: proposal.callingAeTitle,
    applicationContextName: APPLICATION_CONTEXT_NAME,
    presentationContexts: proposal.presentationContexts,
    userInformation: {
      maxLength: maxPduLength,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      roleSelections: proposal.roleSelections ?? [],
      extendedNegotiations: [],
      commonExtendedNegotiations: [],
      ...(proposal.asyncOperationsWindow
        ? { asyncOperationsWindow: proposal.asyncOperationsWindow }
        : {}),
      ...(proposal.userIdentity ? { userIdentityRq: proposal.userIdentity } : {}),
    },
  };
}

/**
 * The service provider's own refusal of an A-ASSOCIATE-RQ (AE-6: before any indication to
 * the user): a protocol version without bit 0 (PS3.8 9.3.2).
 */
export function providerRefusal(rq: AAssociateRq): AAssociateRj | undefined {
  if ((rq.protocolVersion & 0x0001) !== 0) return undefined;
  return reject({
    result: RejectResult.Permanent,
    source: RejectSource.ServiceProviderAcse,
    reason: RejectReason.ProtocolVersionNotSupported,
  });
}

/**
 * The acceptor's answer: an application context other than DICOM's is refused here (PS3.7
 * A.2.1); otherwise the local user decides, and an acceptance becomes an A-ASSOCIATE-AC
 * announcing `maxPduLength`.
 */
export function answerRq(
  rq: AAssociateRq,
  decide: (rq: AAssociateRq, peer: Peer) => AssociateDecision,
  peer: Peer,
  maxPduLength: number,
): AAssociateAc | AAssociateRj {
  if (rq.applicationContextName !== APPLICATION_CONTEXT_NAME)
    return reject({
      result: RejectResult.Permanent,
      source: RejectSource.ServiceUser,
      reason: RejectReason.ApplicationContextNotSupported,
    });
  const decision = decide(rq, peer);
  if (!decision.accept) return reject(decision);
  return {
    type: PduType.AAssociateAc,
    protocolVersion: 1,
    calledAeTitle: rq.calledAeTitle,
    callingAeTitle: rq.callingAeTitle,
    applicationContextName: APPLICATION_CONTEXT_NAME,
    presentationContexts: decision.presentationContexts,
    userInformation: {
      maxLength: maxPduLength,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      roleSelections: decision.roleSelections ?? [],
      extendedNegotiations: [],
      commonExtendedNegotiations: [],
      ...(decision.asyncOperationsWindow
        ? { asyncOperationsWindow: decision.asyncOperationsWindow }
        : {}),
    },
  };
}

/** The smaller of two window sizes where 0 means unlimited (PS3.7 D.3.3.3). */
function smallerWindow(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/**
 * An acceptor's answer to a proposed Asynchronous Operations Window (PS3.7 D.3.3.3.2): the
 * requestor may invoke as many operations as it proposed and we can perform at once, and
 * we invoke as many as we would and it can perform. Undefined when none was proposed: the
 * association is then synchronous, one operation outstanding each way.
 */
export function windowAnswer(
  rq: AAssociateRq,
  ours: { canPerform: number; willInvoke: number },
): { invoked: number; performed: number } | undefined {
  const proposed = rq.userInformation.asyncOperationsWindow;
  if (!proposed) return undefined;
  return {
    invoked: smallerWindow(proposed.invoked, ours.canPerform),
    performed: smallerWindow(proposed.performed, ours.willInvoke),
  };
}

/**
 * How many operations the requestor may have outstanding at once (PS3.7 D.3.3.3): the
 * Maximum Number Operations Invoked of the A-ASSOCIATE-AC, at most what was proposed (0 is
 * unlimited). An acceptor that leaves the item out of its AC grants the default, one: each
 * request waits for its response before the next is sent.
 */
export function operationsWindow(info: Pick<AssociationInfo, 'rq' | 'ac'>): number {
  const proposed = info.rq.userInformation.asyncOperationsWindow?.invoked;
  const granted = info.ac.userInformation.asyncOperationsWindow?.invoked;
  if (proposed === undefined || granted === undefined) return 1;
  const window = smallerWindow(proposed, granted);
  return window === 0 ? Number.MAX_SAFE_INTEGER : window;
}

function reject(r: { result: number; source: number; reason: number }): AAssociateRj {
  return { type: PduType.AAssociateRj, result: r.result, source: r.source, reason: r.reason };
}

/** What an RQ and its AC agreed, seen from `role`'s side. */
export function agreement(
  role: 'acceptor' | 'requestor',
  rq: AAssociateRq,
  ac: AAssociateAc,
  peer: Peer,
): AssociationInfo {
  const contexts = new Map<number, AcceptedContext>();
  for (const pc of ac.presentationContexts) {
    if (pc.result !== PresentationContextResult.Acceptance) continue;
    const proposed = rq.presentationContexts.find((p) => p.id === pc.id);
    if (proposed)
      contexts.set(pc.id, {
        id: pc.id,
        abstractSyntax: proposed.abstractSyntax,
        transferSyntax: pc.transferSyntax,
      });
  }
  const peerMax = role === 'acceptor' ? rq.userInformation.maxLength : ac.userInformation.maxLength;
  return {
    callingAeTitle: rq.callingAeTitle,
    calledAeTitle: rq.calledAeTitle,
    peerAddress: peer.address,
    peerPort: peer.port,
    rq,
    ac,
    contexts,
    // A peer announcing less than a PDV header plus two bytes cannot be served; treat as minimum.
    peerMaxPduLength: peerMax === 0 ? 0 : Math.max(peerMax, PDV_HEADER_LENGTH + 2),
  };
}
