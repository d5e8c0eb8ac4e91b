// The actions of the DICOM Upper Layer state machine (PS3.8 §9.2.2, Tables 9-6 to 9-9),
// one named function each, as pynetdicom's fsm.py has them. Each does what its row of the
// standard says over a narrow upper layer (send a PDU, the ARTIM timer, close the
// transport, indicate to the local user) and returns the state it leads to; the table in
// state-machine.ts says when each runs, and association.ts runs it.
import {
  AssociationAbortedError,
  AssociationClosedError,
  AssociationRejectedError,
} from '../errors';
import {
  AbortReason,
  AbortSource,
  encodeAAbort,
  encodeAAssociateAc,
  encodeAAssociateRj,
  encodeAAssociateRq,
  encodeAReleaseRp,
  encodeAReleaseRq,
  PduType,
  RejectResult,
  type AAssociateAc,
  type AAssociateRq,
  type Pdu,
  type Pdv,
} from '../pdu';
import { providerRefusal } from '../acse';
import type { Action, Event, State } from '../state-machine';

export type CloseReason =
  | { kind: 'released' }
  | { kind: 'rejected'; error: AssociationRejectedError }
  | { kind: 'aborted'; error: Error };

/** One PDV the local user sends (P-DATA request, Evt9). */
export interface OutgoingPdv {
  readonly contextId: number;
  readonly isCommand: boolean;
  readonly isLast: boolean;
  readonly data: Buffer;
}

/** What an event brings: a received PDU, a PDV to send, the error behind it, or nothing. */
export type EventArg = Pdu | OutgoingPdv | Error | undefined;

/** Primitives the upper layer issues to its local user; delivered after the transition. */
export type Indication =
  | { readonly kind: 'associate'; readonly rq: AAssociateRq }
  | { readonly kind: 'established'; readonly ac?: AAssociateAc }
  | { readonly kind: 'pdvs'; readonly pdvs: readonly Pdv[] }
  /** A-RELEASE indication: the local user answers when ready. */
  | { readonly kind: 'release' }
  /** A-RELEASE indication in a collision (AR-8 requestor side, AR-10): answered at once. */
  | { readonly kind: 'release-collision' };

export interface Abort {
  readonly source: number;
  readonly reason: number;
}

/** What the actions may do: the narrow interface association.ts implements. */
export interface UpperLayer {
  readonly role: 'acceptor' | 'requestor';
  readonly state: State;
  /** AE-1: opens the transport; its outcome returns as Evt2 or Evt17. */
  connect(): void;
  send(pdu: Buffer): void;
  sendPdv(pdv: OutgoingPdv): void;
  /** The A-ASSOCIATE-RQ this requestor sends (built once, remembered). */
  associateRq(): AAssociateRq;
  /** Starts (or restarts) ARTIM; `short` after a local abort, so the transport goes soon. */
  startArtim(short?: boolean): void;
  stopArtim(): void;
  stopReading(): void;
  /** The A-ABORT asked for (a local request, a PDU that did not decode), taken once. */
  takeAbort(): Abort | undefined;
  /** Records why the association ended; the first reason given stays. */
  ended(reason: CloseReason): void;
  /** Closes the transport and tells the user the association ended (for `fallback` if no
   * reason was recorded). */
  closeTransport(fallback: CloseReason): void;
  indicate(indication: Indication): void;
}

type ActionFn = (ul: UpperLayer, arg: EventArg) => State;

function pduOf<T extends Pdu['type']>(arg: EventArg, type: T): Extract<Pdu, { type: T }> {
  if (arg && !(arg instanceof Error) && 'type' in arg && arg.type === type)
    return arg as Extract<Pdu, { type: T }>;
  throw new Error(`internal: expected PDU type ${type}`);
}

function pdvOf(arg: EventArg): OutgoingPdv {
  if (arg && !(arg instanceof Error) && 'contextId' in arg) return arg;
  throw new Error('internal: expected a PDV to send');
}

function aborted(abort: Abort): CloseReason {
  return { kind: 'aborted', error: new AssociationAbortedError(abort.source, abort.reason) };
}

const PROVIDER_UNEXPECTED: Abort = {
  source: AbortSource.ServiceProvider,
  reason: AbortReason.UnexpectedPdu,
};

// ---- Association establishment (Table 9-6) ---------------------------------------------

const AE_1: ActionFn = (ul) => {
  if (ul.role !== 'requestor') throw new Error('internal: AE-1 by an acceptor');
  ul.connect();
  return 'Sta4';
};

const AE_2: ActionFn = (ul) => {
  ul.send(encodeAAssociateRq(ul.associateRq()));
  // The standard starts no timer here; without one a silent acceptor would hold us
  // forever, so the ARTIM duration bounds the wait for AC/RJ too.
  ul.startArtim();
  return 'Sta5';
};

const AE_3: ActionFn = (ul, arg) => {
  ul.stopArtim();
  ul.indicate({ kind: 'established', ac: pduOf(arg, PduType.AAssociateAc) });
  return 'Sta6';
};

const AE_4: ActionFn = (ul, arg) => {
  ul.stopArtim();
  const rj = pduOf(arg, PduType.AAssociateRj);
  const transient = rj.result === RejectResult.Transient;
  const error = new AssociationRejectedError(rj.result, rj.source, rj.reason, transient);
  ul.closeTransport({ kind: 'rejected', error });
  return 'Sta1';
};

const AE_5: ActionFn = (ul) => {
  ul.startArtim();
  return 'Sta2';
};

const AE_6: ActionFn = (ul, arg) => {
  ul.stopArtim();
  const rq = pduOf(arg, PduType.AAssociateRq);
  const refusal = providerRefusal(rq);
  if (refusal) {
    ul.send(encodeAAssociateRj(refusal));
    ul.startArtim();
    return 'Sta13';
  }
  ul.indicate({ kind: 'associate', rq });
  return 'Sta3';
};

const AE_7: ActionFn = (ul, arg) => {
  ul.send(encodeAAssociateAc(pduOf(arg, PduType.AAssociateAc)));
  ul.indicate({ kind: 'established' });
  return 'Sta6';
};

const AE_8: ActionFn = (ul, arg) => {
  ul.send(encodeAAssociateRj(pduOf(arg, PduType.AAssociateRj)));
  ul.startArtim();
  return 'Sta13';
};

// ---- Data transfer (Table 9-7) ---------------------------------------------------------

const DT_1: ActionFn = (ul, arg) => {
  ul.sendPdv(pdvOf(arg));
  return 'Sta6';
};

const DT_2: ActionFn = (ul, arg) => {
  ul.indicate({ kind: 'pdvs', pdvs: pduOf(arg, PduType.PDataTf).pdvs });
  return 'Sta6';
};

// ---- Association release (Table 9-8) ---------------------------------------------------

const AR_1: ActionFn = (ul) => {
  ul.send(encodeAReleaseRq());
  return 'Sta7';
};

const AR_2: ActionFn = (ul) => {
  ul.indicate({ kind: 'release' });
  return 'Sta8';
};

const AR_3: ActionFn = (ul) => {
  ul.closeTransport({ kind: 'released' });
  return 'Sta1';
};

const AR_4: ActionFn = (ul) => {
  ul.send(encodeAReleaseRp());
  ul.startArtim();
  ul.ended({ kind: 'released' });
  return 'Sta13';
};

const AR_5: ActionFn = (ul) => {
  ul.stopArtim();
  ul.closeTransport({ kind: 'released' });
  return 'Sta1';
};

const AR_6: ActionFn = (ul, arg) => {
  ul.indicate({ kind: 'pdvs', pdvs: pduOf(arg, PduType.PDataTf).pdvs });
  return 'Sta7';
};

const AR_7: ActionFn = (ul, arg) => {
  ul.sendPdv(pdvOf(arg));
  return 'Sta8';
};

/** Release collision: both sides asked. The requestor answers its own indication at once. */
const AR_8: ActionFn = (ul) => {
  if (ul.role !== 'requestor') return 'Sta10';
  ul.indicate({ kind: 'release-collision' });
  return 'Sta9';
};

const AR_9: ActionFn = (ul) => {
  ul.send(encodeAReleaseRp());
  return 'Sta11';
};

const AR_10: ActionFn = (ul) => {
  ul.indicate({ kind: 'release-collision' });
  return 'Sta12';
};

// ---- Association abort (Table 9-9) -----------------------------------------------------

const AA_1: ActionFn = (ul) => {
  // From a local A-ABORT request this is a service-user abort; when it answers a PDU
  // arriving before any A-ASSOCIATE-RQ (Sta2) it is the provider's.
  const requested = ul.takeAbort();
  const abort =
    requested ??
    (ul.state === 'Sta2'
      ? PROVIDER_UNEXPECTED
      : { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified });
  ul.send(encodeAAbort(abort));
  ul.ended(aborted(abort));
  // After a local abort, a peer that no longer reads would never close: the transport goes
  // when the A-ABORT has had a moment to leave (Evt18 -> AA-2), not after the full ARTIM.
  ul.startArtim(requested?.source === AbortSource.ServiceUser);
  return 'Sta13';
};

const AA_2: ActionFn = (ul) => {
  ul.stopArtim();
  ul.closeTransport(aborted({ source: AbortSource.ServiceProvider, reason: 0 }));
  return 'Sta1';
};

const AA_3: ActionFn = (ul, arg) => {
  ul.closeTransport(aborted(pduOf(arg, PduType.AAbort)));
  return 'Sta1';
};

const AA_4: ActionFn = (ul) => {
  ul.stopArtim();
  ul.closeTransport(
    aborted({ source: AbortSource.ServiceProvider, reason: AbortReason.NotSpecified }),
  );
  return 'Sta1';
};

const AA_5: ActionFn = (ul) => {
  ul.stopArtim();
  ul.closeTransport({
    kind: 'aborted',
    error: new AssociationClosedError('peer closed before associating'),
  });
  return 'Sta1';
};

const AA_6: ActionFn = () => 'Sta13';

const AA_7: ActionFn = (ul) => {
  ul.send(encodeAAbort(ul.takeAbort() ?? PROVIDER_UNEXPECTED));
  return 'Sta13';
};

const AA_8: ActionFn = (ul, arg) => {
  const abort = ul.takeAbort() ?? PROVIDER_UNEXPECTED;
  ul.send(encodeAAbort(abort));
  ul.stopReading();
  ul.ended(arg instanceof Error ? { kind: 'aborted', error: arg } : aborted(abort));
  ul.startArtim();
  return 'Sta13';
};

export const ACTION_FUNCTIONS: Readonly<Record<Action, ActionFn>> = {
  'AE-1': AE_1,
  'AE-2': AE_2,
  'AE-3': AE_3,
  'AE-4': AE_4,
  'AE-5': AE_5,
  'AE-6': AE_6,
  'AE-7': AE_7,
  'AE-8': AE_8,
  'DT-1': DT_1,
  'DT-2': DT_2,
  'AR-1': AR_1,
  'AR-2': AR_2,
  'AR-3': AR_3,
  'AR-4': AR_4,
  'AR-5': AR_5,
  'AR-6': AR_6,
  'AR-7': AR_7,
  'AR-8': AR_8,
  'AR-9': AR_9,
  'AR-10': AR_10,
  'AA-1': AA_1,
  'AA-2': AA_2,
  'AA-3': AA_3,
  'AA-4': AA_4,
  'AA-5': AA_5,
  'AA-6': AA_6,
  'AA-7': AA_7,
  'AA-8': AA_8,
};

/** The event a received PDU is (PS3.8 Table 9-2). */
export function receivedEvent(pdu: Pdu): Event {
  switch (pdu.type) {
    case PduType.AAssociateAc:
      return 'Evt3';
    case PduType.AAssociateRj:
      return 'Evt4';
    case PduType.AAssociateRq:
      return 'Evt6';
    case PduType.PDataTf:
      return 'Evt10';
    case PduType.AReleaseRq:
      return 'Evt12';
    case PduType.AReleaseRp:
      return 'Evt13';
    case PduType.AAbort:
      return 'Evt16';
  }
}
