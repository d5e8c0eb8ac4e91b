// Runs the PS3.8 §9.2 state machine (state-machine.ts) over a connected stream (TCP or
// TLS, transport.ts): negotiation, the ARTIM timer, P-DATA, release (including
// collisions) and abort. It knows PDUs, not DIMSE: P-DATA arrives as PDV lists ('pdvs')
// and leaves as PDVs (writePdv).
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import {
  AssociationAbortedError,
  AssociationClosedError,
  AssociationRejectedError,
  PduDecodeError,
} from './errors';
import {
  AbortReason,
  AbortSource,
  decodePdu,
  encodeAAbort,
  encodeAAssociateAc,
  encodeAAssociateRj,
  encodeAAssociateRq,
  encodeAReleaseRp,
  encodeAReleaseRq,
  pDataHeader,
  PDV_HEADER_LENGTH,
  PduType,
  PresentationContextResult,
  RejectReason,
  RejectResult,
  RejectSource,
  type AAssociateAc,
  type AAssociateRj,
  type AAssociateRq,
  type Pdu,
  type Pdv,
  type PresentationContextAc,
  type PresentationContextRq,
  type RoleSelection,
  type UserIdentityRq,
  type UserInformation,
} from './pdu';
import { PduReader } from './pdu-reader';
import type { Connector } from './transport';
import { ACTIONS, transition, type Action, type Event, type State } from './state-machine';
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

export type AssociateDecision =
  | {
      readonly accept: true;
      readonly presentationContexts: readonly PresentationContextAc[];
      readonly roleSelections?: readonly RoleSelection[];
    }
  | {
      readonly accept: false;
      readonly result: number;
      readonly source: number;
      readonly reason: number;
    };

interface CommonOptions {
  /** Our Maximum Length Received (PS3.8 D.1); 0 = no limit (not recommended). */
  maxPduLength: number;
  /** ARTIM timer, PS3.8 §9.1.5. */
  artimMs: number;
}

export interface AcceptorOptions extends CommonOptions {
  /** The local user's answer to an A-ASSOCIATE indication. */
  decide(rq: AAssociateRq, peer: { address: string; port: number }): AssociateDecision;
}

export interface RequestorOptions extends CommonOptions {
  /** Opens the transport connection to the peer (AE-1). */
  connect: Connector;
  callingAeTitle: string;
  calledAeTitle: string;
  presentationContexts: readonly PresentationContextRq[];
  roleSelections?: readonly RoleSelection[];
  userIdentity?: UserIdentityRq;
  asyncOperationsWindow?: { invoked: number; performed: number };
}

export type CloseReason =
  | { kind: 'released' }
  | { kind: 'rejected'; error: AssociationRejectedError }
  | { kind: 'aborted'; error: Error };

/** Cap on non-P-DATA PDUs (negotiation); the standard gives them no maximum. */
const MAX_NEGOTIATION_PDU = 1 << 20;
/** What we send per PDV when the peer announced no limit. */
const DEFAULT_SEND_CHUNK = 256 * 1024;

export type AssociationEvents = {
  established: [info: AssociationInfo];
  pdvs: [pdvs: readonly Pdv[]];
  /** The peer asked to release (A-RELEASE indication); call respondRelease() when ready. */
  'release-requested': [];
  closed: [reason: CloseReason];
  /** A protocol problem worth one log line (the association handles it itself). */
  'protocol-error': [error: Error];
};

/** The options of one side: what an acceptor decides with, or what a requestor proposes. */
type Side =
  | { readonly role: 'acceptor'; readonly options: AcceptorOptions }
  | { readonly role: 'requestor'; readonly options: RequestorOptions };

/** An association whose negotiation is done: what was agreed is known. */
export interface EstablishedAssociation extends Association {
  readonly info: AssociationInfo;
}

export class Association extends EventEmitter<AssociationEvents> {
  state: State = 'Sta1';
  /** What was negotiated; set when the association is established. */
  info?: AssociationInfo;
  private readonly reader: PduReader;
  private artim?: NodeJS.Timeout;
  private closeReason?: CloseReason;
  private pendingAbort?: { source: number; reason: number };
  private rqSent?: AAssociateRq;
  private socketClosed = false;
  private readingStopped = false;
  /** Captured while the socket is open: Node forgets the remote address once it closes. */
  private remote = '?';

  private constructor(
    private readonly side: Side,
    /** The transport; a requestor's is opened in AE-1. */
    private socket: net.Socket | null,
  ) {
    super();
    this.reader = new PduReader({
      maxPDataLength: side.options.maxPduLength,
      maxOtherLength: MAX_NEGOTIATION_PDU,
    });
  }

  get role(): 'acceptor' | 'requestor' {
    return this.side.role;
  }

  private get options(): CommonOptions {
    return this.side.options;
  }

  /** The acceptor side of a freshly accepted connection, TCP or TLS (Evt5). */
  static accept(socket: net.Socket, options: AcceptorOptions): Association {
    const a = new Association({ role: 'acceptor', options }, socket);
    a.attachSocket(socket);
    a.dispatch('Evt5');
    return a;
  }

  /** Requests an association (Evt1) and resolves once it is established (AE-3). */
  static request(options: RequestorOptions): Promise<EstablishedAssociation> {
    const a = new Association({ role: 'requestor', options }, null);
    return new Promise((resolve, reject) => {
      const onEstablished = (info: AssociationInfo): void => {
        a.off('closed', onClosed);
        resolve(Object.assign(a, { info }));
      };
      const onClosed = (reason: CloseReason): void => {
        a.off('established', onEstablished);
        reject(
          reason.kind === 'released'
            ? new AssociationClosedError('association closed during negotiation')
            : reason.error,
        );
      };
      a.once('established', onEstablished);
      a.once('closed', onClosed);
      a.dispatch('Evt1');
    });
  }

  /** "AE@address:port" of the peer, for log lines. */
  get peerLabel(): string {
    const ae = this.role === 'acceptor' ? this.info?.callingAeTitle : this.rqSent?.calledAeTitle;
    return `${ae ?? '?'}@${this.remote}`;
  }

  /**
   * Largest data part of one PDV we may send: even, because data set fragments are sent
   * with even lengths (DCMTK aborts on an odd one: "Odd Fragment Length").
   */
  get maxPdvDataLength(): number {
    const max = this.info?.peerMaxPduLength ?? 0;
    return max === 0 ? DEFAULT_SEND_CHUNK : (max - PDV_HEADER_LENGTH) & ~1;
  }

  // ---- local user primitives -------------------------------------------------------------

  /** P-DATA request (Evt9): one PDV in its own P-DATA-TF. False when the socket buffer is full. */
  writePdv(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer): boolean {
    if (transition(this.state, 'Evt9') === undefined) {
      throw new AssociationClosedError(`cannot send P-DATA in ${this.state}`);
    }
    if (data.length > this.maxPdvDataLength)
      throw new RangeError('PDV larger than the peer accepts');
    // DT-1 / AR-7: send P-DATA-TF. Header and data leave in one writev, the data uncopied.
    const socket = this.connected();
    socket.cork();
    socket.write(pDataHeader(contextId, isCommand, isLast, data.length));
    const ok = socket.write(data);
    socket.uncork();
    return ok;
  }

  /**
   * Runs `write` with the socket corked, so that the PDVs it writes leave in one writev
   * (a 1 MB chunk to a 16 KB-PDU peer is 64 PDUs: one system call instead of 64).
   */
  corked<T>(write: () => T): T {
    const socket = this.connected();
    socket.cork();
    try {
      return write();
    } finally {
      socket.uncork();
    }
  }

  /** Resolves when the socket's write buffer has drained (or the association ended). */
  drained(): Promise<void> {
    const socket = this.socket;
    if (!socket?.writableNeedDrain || this.state === 'Sta1') return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        this.off('closed', done);
        resolve();
      };
      socket.on('drain', done);
      this.on('closed', done);
    });
  }

  /** A-RELEASE request (Evt11); resolves on the A-RELEASE confirmation. */
  release(): Promise<void> {
    if (this.state === 'Sta1') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.once('closed', (reason: CloseReason) =>
        reason.kind === 'released' ? resolve() : reject(reason.error),
      );
      this.dispatch('Evt11');
    });
  }

  /** A-RELEASE response (Evt14), after a 'release-requested' indication. */
  respondRelease(): void {
    if (transition(this.state, 'Evt14')) this.dispatch('Evt14');
  }

  /** A-ABORT request (Evt15) by the service user. */
  abort(reason: number = AbortReason.NotSpecified): void {
    if (transition(this.state, 'Evt15') === undefined) return;
    this.pendingAbort = { source: AbortSource.ServiceUser, reason };
    this.dispatch('Evt15');
    // AA-1 then waits (Sta13) for the peer to close the transport, bounded by ARTIM; a peer
    // that no longer reads never will. Having aborted, we close it ourselves once the
    // A-ABORT has had a moment to leave, so waiting operations end now (Evt17 -> AR-5).
    setTimeout(() => this.socket?.destroy(), 200).unref();
  }

  pauseReading(): void {
    this.socket?.pause();
  }

  resumeReading(): void {
    if (!this.readingStopped) this.socket?.resume();
  }

  /** Resolves when the association has ended, however it ended. */
  closed(): Promise<CloseReason> {
    if (this.closeReason) return Promise.resolve(this.closeReason);
    return new Promise((resolve) => this.once('closed', resolve));
  }

  // ---- transport ---------------------------------------------------------------------

  /** The transport, once there is one; P-DATA before it is a local user's mistake. */
  private connected(): net.Socket {
    if (!this.socket) throw new AssociationClosedError(`no transport connection in ${this.state}`);
    return this.socket;
  }

  private attachSocket(s: net.Socket): void {
    this.socket = s;
    if (s.remoteAddress) this.remote = `${s.remoteAddress.replace(/^::ffff:/, '')}:${s.remotePort}`;
    s.setNoDelay(true);
    s.setKeepAlive(true, 60_000);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err) => {
      if (this.state !== 'Sta13' && this.state !== 'Sta1')
        this.closeReasonOnce({ kind: 'aborted', error: err });
    });
    s.on('close', () => {
      this.socketClosed = true;
      if (this.state !== 'Sta1') this.dispatch('Evt17');
    });
  }

  private onData(chunk: Buffer): void {
    if (this.readingStopped) return;
    this.reader.push(chunk);
    for (;;) {
      let pdu: Pdu;
      try {
        const raw = this.reader.next();
        if (!raw) return;
        pdu = decodePdu(raw.type, raw.body);
      } catch (err) {
        const e = err instanceof PduDecodeError ? err : new PduDecodeError(String(err));
        this.stopReading();
        this.emit('protocol-error', e);
        this.pendingAbort = { source: AbortSource.ServiceProvider, reason: e.abortReason };
        this.dispatch('Evt19', e);
        return;
      }
      this.dispatch(eventFor(pdu), pdu);
      if (this.state === 'Sta1' || this.state === 'Sta13') {
        // Nothing a peer sends after the association ended is read (AA-6 ignores it anyway).
        if (this.state === 'Sta1') this.stopReading();
        return;
      }
    }
  }

  private stopReading(): void {
    this.readingStopped = true;
  }

  // ---- the state machine -------------------------------------------------------------

  private dispatch(event: Event, arg?: Pdu | Error): void {
    const action = transition(this.state, event);
    if (action === undefined) {
      // No entry in Table 9-10: a local primitive issued in the wrong state.
      throw new AssociationClosedError(`${event} is not valid in ${this.state}`);
    }
    const next = this.perform(action, arg);
    if (!ACTIONS[action].next.includes(next)) {
      throw new Error(`internal: ${action} may not lead to ${next}`);
    }
  }

  private go(state: State): State {
    this.state = state;
    return state;
  }

  private perform(action: Action, arg?: Pdu | Error): State {
    switch (action) {
      case 'AE-1': {
        this.go('Sta4');
        if (this.side.role !== 'requestor') throw new Error('internal: AE-1 by an acceptor');
        this.side.options.connect().then(
          (socket) => {
            if (this.state !== 'Sta4') {
              socket.destroy(); // aborted while connecting
              return;
            }
            this.attachSocket(socket);
            this.dispatch('Evt2');
          },
          (err: Error) => {
            if (this.state !== 'Sta4') return;
            this.socketClosed = true;
            this.closeReasonOnce({ kind: 'aborted', error: err });
            this.dispatch('Evt17');
          },
        );
        return this.state;
      }
      case 'AE-2': {
        this.rqSent = this.buildRq();
        this.send(encodeAAssociateRq(this.rqSent));
        // The standard starts no timer here; without one a silent acceptor would hold
        // us forever, so the ARTIM duration bounds the wait for AC/RJ too.
        this.startArtim();
        return this.go('Sta5');
      }
      case 'AE-3': {
        this.stopArtim();
        const ac = arg as AAssociateAc;
        this.go('Sta6');
        this.info = this.infoFrom(this.rqSent!, ac);
        this.emit('established', this.info);
        return 'Sta6';
      }
      case 'AE-4': {
        this.stopArtim();
        const rj = arg as AAssociateRj;
        this.go('Sta1');
        this.closeTransport({
          kind: 'rejected',
          error: new AssociationRejectedError(
            rj.result,
            rj.source,
            rj.reason,
            rj.result === RejectResult.Transient,
          ),
        });
        return 'Sta1';
      }
      case 'AE-5':
        this.startArtim();
        return this.go('Sta2');
      case 'AE-6': {
        this.stopArtim();
        const rq = arg as AAssociateRq;
        if ((rq.protocolVersion & 0x0001) === 0) {
          this.send(
            encodeAAssociateRj({
              result: RejectResult.Permanent,
              source: RejectSource.ServiceProviderAcse,
              reason: RejectReason.ProtocolVersionNotSupported,
            }),
          );
          this.startArtim();
          return this.go('Sta13');
        }
        this.go('Sta3');
        this.answerAssociate(rq);
        return 'Sta3';
      }
      case 'AE-7':
        this.send(encodeAAssociateAc(arg as AAssociateAc));
        this.go('Sta6');
        this.emit('established', this.info!);
        return 'Sta6';
      case 'AE-8':
        this.send(encodeAAssociateRj(arg as AAssociateRj));
        this.startArtim();
        return this.go('Sta13');
      case 'DT-1':
      case 'AR-7':
        // Sending is done in writePdv(); the table only tells us it is allowed.
        return this.go(action === 'DT-1' ? 'Sta6' : 'Sta8');
      case 'DT-2':
      case 'AR-6': {
        const next = this.go(action === 'DT-2' ? 'Sta6' : 'Sta7');
        this.emit('pdvs', (arg as { pdvs: readonly Pdv[] }).pdvs);
        return next;
      }
      case 'AR-1':
        this.send(encodeAReleaseRq());
        return this.go('Sta7');
      case 'AR-2':
        this.go('Sta8');
        if (this.listenerCount('release-requested') > 0) this.emit('release-requested');
        else queueMicrotask(() => this.respondRelease());
        return 'Sta8';
      case 'AR-3':
        this.go('Sta1');
        this.closeTransport({ kind: 'released' });
        return 'Sta1';
      case 'AR-4':
        this.send(encodeAReleaseRp());
        this.startArtim();
        this.closeReasonOnce({ kind: 'released' });
        return this.go('Sta13');
      case 'AR-5':
        this.stopArtim();
        this.go('Sta1');
        this.closeTransport(this.closeReason ?? { kind: 'released' });
        return 'Sta1';
      case 'AR-8': {
        // Release collision: both sides asked. We answer our own indication at once.
        const next = this.go(this.role === 'requestor' ? 'Sta9' : 'Sta10');
        if (next === 'Sta9') queueMicrotask(() => this.respondRelease());
        return next;
      }
      case 'AR-9':
        this.send(encodeAReleaseRp());
        return this.go('Sta11');
      case 'AR-10':
        this.go('Sta12');
        queueMicrotask(() => this.respondRelease());
        return 'Sta12';
      case 'AA-1': {
        // From a local A-ABORT request this is a service-user abort; when it answers a
        // PDU arriving before any A-ASSOCIATE-RQ (Sta2) it is the provider's.
        const abort =
          this.pendingAbort ??
          (this.state === 'Sta2'
            ? { source: AbortSource.ServiceProvider, reason: AbortReason.UnexpectedPdu }
            : { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified });
        this.pendingAbort = undefined;
        this.send(encodeAAbort(abort));
        this.closeReasonOnce({
          kind: 'aborted',
          error: new AssociationAbortedError(abort.source, abort.reason),
        });
        this.startArtim();
        return this.go('Sta13');
      }
      case 'AA-2':
        this.stopArtim();
        this.go('Sta1');
        this.closeTransport(
          this.closeReason ?? {
            kind: 'aborted',
            error: new AssociationAbortedError(AbortSource.ServiceProvider, 0),
          },
        );
        return 'Sta1';
      case 'AA-3': {
        const abort = arg as { source: number; reason: number };
        this.go('Sta1');
        this.closeTransport({
          kind: 'aborted',
          error: new AssociationAbortedError(abort.source, abort.reason),
        });
        return 'Sta1';
      }
      case 'AA-4':
        this.stopArtim();
        this.go('Sta1');
        this.closeTransport(
          this.closeReason ?? {
            kind: 'aborted',
            error: new AssociationAbortedError(
              AbortSource.ServiceProvider,
              AbortReason.NotSpecified,
            ),
          },
        );
        return 'Sta1';
      case 'AA-5':
        this.stopArtim();
        this.go('Sta1');
        this.closeTransport({
          kind: 'aborted',
          error: new AssociationClosedError('peer closed before associating'),
        });
        return 'Sta1';
      case 'AA-6':
        return this.go('Sta13');
      case 'AA-7': {
        const abort = this.pendingAbort ?? {
          source: AbortSource.ServiceProvider,
          reason: AbortReason.UnexpectedPdu,
        };
        this.pendingAbort = undefined;
        this.send(encodeAAbort(abort));
        return this.go('Sta13');
      }
      case 'AA-8': {
        const abort = this.pendingAbort ?? {
          source: AbortSource.ServiceProvider,
          reason: AbortReason.UnexpectedPdu,
        };
        this.pendingAbort = undefined;
        this.send(encodeAAbort(abort));
        this.stopReading();
        this.closeReasonOnce({
          kind: 'aborted',
          error:
            arg instanceof Error ? arg : new AssociationAbortedError(abort.source, abort.reason),
        });
        this.startArtim();
        return this.go('Sta13');
      }
    }
  }

  // ---- helpers -----------------------------------------------------------------------

  private answerAssociate(rq: AAssociateRq): void {
    const socket = this.connected();
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    let decision: AssociateDecision;
    if (rq.applicationContextName !== APPLICATION_CONTEXT_NAME) {
      decision = {
        accept: false,
        result: RejectResult.Permanent,
        source: RejectSource.ServiceUser,
        reason: RejectReason.ApplicationContextNotSupported,
      };
    } else {
      if (this.side.role !== 'acceptor') throw new Error('internal: A-ASSOCIATE-RQ to a requestor');
      decision = this.side.options.decide(rq, peer);
    }
    if (!decision.accept) {
      const rj: AAssociateRj = {
        type: PduType.AAssociateRj,
        result: decision.result,
        source: decision.source,
        reason: decision.reason,
      };
      this.dispatch('Evt8', rj);
      return;
    }
    const userInformation: UserInformation = {
      maxLength: this.options.maxPduLength,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      roleSelections: decision.roleSelections ?? [],
      extendedNegotiations: [],
      commonExtendedNegotiations: [],
    };
    const ac: AAssociateAc = {
      type: PduType.AAssociateAc,
      protocolVersion: 1,
      calledAeTitle: rq.calledAeTitle,
      callingAeTitle: rq.callingAeTitle,
      applicationContextName: APPLICATION_CONTEXT_NAME,
      presentationContexts: decision.presentationContexts,
      userInformation,
    };
    this.info = this.infoFrom(rq, ac);
    this.dispatch('Evt7', ac);
  }

  private infoFrom(rq: AAssociateRq, ac: AAssociateAc): AssociationInfo {
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
    const peerMax =
      this.role === 'acceptor' ? rq.userInformation.maxLength : ac.userInformation.maxLength;
    return {
      callingAeTitle: rq.callingAeTitle,
      calledAeTitle: rq.calledAeTitle,
      peerAddress: this.socket?.remoteAddress ?? '',
      peerPort: this.socket?.remotePort ?? 0,
      rq,
      ac,
      contexts,
      // A peer announcing less than a PDV header plus two bytes cannot be served; treat as minimum.
      peerMaxPduLength: peerMax === 0 ? 0 : Math.max(peerMax, PDV_HEADER_LENGTH + 2),
    };
  }

  private buildRq(): AAssociateRq {
    if (this.side.role !== 'requestor') throw new Error('internal: AE-2 by an acceptor');
    const o = this.side.options;
    return {
      type: PduType.AAssociateRq,
      protocolVersion: 1,
      calledAeTitle: o.calledAeTitle,
      callingAeTitle: o.callingAeTitle,
      applicationContextName: APPLICATION_CONTEXT_NAME,
      presentationContexts: o.presentationContexts,
      userInformation: {
        maxLength: o.maxPduLength,
        implementationClassUid: IMPLEMENTATION_CLASS_UID,
        implementationVersionName: IMPLEMENTATION_VERSION_NAME,
        roleSelections: o.roleSelections ?? [],
        extendedNegotiations: [],
        commonExtendedNegotiations: [],
        ...(o.asyncOperationsWindow ? { asyncOperationsWindow: o.asyncOperationsWindow } : {}),
        ...(o.userIdentity ? { userIdentityRq: o.userIdentity } : {}),
      },
    };
  }

  private send(pdu: Buffer): void {
    if (this.socket && !this.socketClosed && this.socket.writable) this.socket.write(pdu);
  }

  private startArtim(): void {
    this.stopArtim();
    this.artim = setTimeout(() => {
      this.artim = undefined;
      if (this.state === 'Sta5') {
        this.abort();
        return;
      }
      if (transition(this.state, 'Evt18')) this.dispatch('Evt18');
    }, this.options.artimMs);
    this.artim.unref();
  }

  private stopArtim(): void {
    if (this.artim) clearTimeout(this.artim);
    this.artim = undefined;
  }

  private closeReasonOnce(reason: CloseReason): void {
    this.closeReason ??= reason;
  }

  private closeTransport(reason: CloseReason): void {
    this.closeReasonOnce(reason);
    this.stopArtim();
    this.stopReading();
    const socket = this.socket;
    if (socket && !this.socketClosed) {
      // Give our last PDU (RJ, RP, A-ABORT) a chance to leave before the FIN.
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    }
    const final = this.closeReason!;
    queueMicrotask(() => this.emit('closed', final));
  }
}

function eventFor(pdu: Pdu): Event {
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
