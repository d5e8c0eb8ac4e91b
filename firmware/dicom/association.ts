// An association: the PS3.8 §9.2 state machine (state-machine.ts, the table) run over a
// transport connection (ul/pdu-socket.ts) by its named actions (ul/actions.ts), with the
// A-ASSOCIATE decisions made by acse.ts. Every event goes through the table — received
// PDUs, local primitives (P-DATA included), the transport's and the ARTIM timer's — and
// this facade only turns them into events and the actions' indications into the events a
// local user listens to. It knows PDUs, not DIMSE: P-DATA arrives as PDV lists ('pdvs')
// and leaves as PDVs (writePdv).
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import {
  agreement,
  answerRq,
  type AssociateDecision,
  type AssociateProposal,
  type AssociationInfo,
  type Peer,
} from './acse';
import { AssociationClosedError } from './errors';
import {
  AbortReason,
  AbortSource,
  PDV_HEADER_LENGTH,
  PduType,
  type AAssociateAc,
  type AAssociateRq,
  type Pdv,
} from './pdu';
import { ACTIONS, transition, type Event, type State } from './state-machine';
import type { Connector } from './transport';
import { ACTION_FUNCTIONS, type CloseReason, type EventArg, type Indication } from './ul/actions';
import { UpperLayerProvider } from './ul/upper-layer';

interface CommonOptions {
  /** Our Maximum Length Received (PS3.8 D.1); 0 = no limit (not recommended). */
  maxPduLength: number;
  /** ARTIM timer, PS3.8 §9.1.5. */
  artimMs: number;
}

export interface AcceptorOptions extends CommonOptions {
  /** The local user's answer to an A-ASSOCIATE indication. */
  decide(rq: AAssociateRq, peer: Peer): AssociateDecision;
}

export interface RequestorOptions extends CommonOptions, AssociateProposal {
  /** Opens the transport connection to the peer (AE-1). */
  connect: Connector;
}

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

type Side =
  | { readonly role: 'acceptor'; readonly options: AcceptorOptions }
  | { readonly role: 'requestor'; readonly options: RequestorOptions };

/** An association whose negotiation is done: what was agreed is known. */
export interface EstablishedAssociation extends Association {
  readonly info: AssociationInfo;
}

export class Association extends EventEmitter<AssociationEvents> {
  /** What was negotiated; set when the association is established. */
  info?: AssociationInfo;
  private readonly ul: UpperLayerProvider;

  private constructor(private readonly side: Side) {
    super();
    this.ul = new UpperLayerProvider(
      side.role,
      side.role === 'requestor'
        ? { ...side.options, proposal: side.options }
        : { maxPduLength: side.options.maxPduLength, artimMs: side.options.artimMs },
      {
        event: (event, arg) => this.dispatch(event, arg),
        artimExpired: () => this.onArtimExpired(),
        protocolError: (error) => this.emit('protocol-error', error),
        closed: (reason) => this.emit('closed', reason),
      },
    );
  }

  /** The state of PS3.8 Table 9-1 the association is in. */
  get state(): State {
    return this.ul.state;
  }

  get role(): 'acceptor' | 'requestor' {
    return this.ul.role;
  }

  /** The acceptor side of a freshly accepted connection, TCP or TLS (Evt5). */
  static accept(socket: net.Socket, options: AcceptorOptions): Association {
    const a = new Association({ role: 'acceptor', options });
    a.ul.attach(socket);
    a.dispatch('Evt5');
    return a;
  }

  /** Requests an association (Evt1) and resolves once it is established (AE-3). */
  static request(options: RequestorOptions): Promise<EstablishedAssociation> {
    const a = new Association({ role: 'requestor', options });
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
    const ae = this.role === 'acceptor' ? this.info?.callingAeTitle : this.ul.rqSent?.calledAeTitle;
    return `${ae ?? '?'}@${this.ul.transport?.remote ?? '?'}`;
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
    if (data.length > this.maxPdvDataLength)
      throw new RangeError('PDV larger than the peer accepts');
    this.dispatch('Evt9', { contextId, isCommand, isLast, data });
    return !this.ul.connected().needsDrain;
  }

  /**
   * Runs `write` with the transport corked, so that the PDVs it writes leave in one writev
   * (a 1 MB chunk to a 16 KB-PDU peer is 64 PDUs: one system call instead of 64).
   */
  corked<T>(write: () => T): T {
    return this.ul.connected().corked(write);
  }

  /** Resolves when the transport's write buffer has drained (or the association ended). */
  drained(): Promise<void> {
    if (!this.ul.transport || this.state === 'Sta1') return Promise.resolve();
    return this.ul.transport.drained();
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
    this.ul.pendingAbort = { source: AbortSource.ServiceUser, reason };
    this.dispatch('Evt15');
  }

  pauseReading(): void {
    this.ul.transport?.pause();
  }

  resumeReading(): void {
    this.ul.transport?.resume();
  }

  /** Resolves when the association has ended, however it ended. */
  closed(): Promise<CloseReason> {
    if (this.ul.closeReason) return Promise.resolve(this.ul.closeReason);
    return new Promise((resolve) => this.once('closed', resolve));
  }

  // ---- events into the table -------------------------------------------------------------

  private onArtimExpired(): void {
    if (transition(this.state, 'Evt18')) this.dispatch('Evt18');
    // A requestor waiting for the AC or RJ (Sta5, where the table has no timer) gives up:
    // an A-ABORT request of its own, which says why.
    else if (this.state === 'Sta5') {
      const seconds = this.side.options.artimMs / 1000;
      this.ul.ended({
        kind: 'aborted',
        error: new AssociationClosedError(`no A-ASSOCIATE-AC or -RJ within ${seconds} s (ARTIM)`),
      });
      this.abort();
    }
  }

  private dispatch(event: Event, arg?: EventArg): void {
    const action = transition(this.state, event);
    if (action === undefined) {
      // No entry in Table 9-10: a local primitive issued in the wrong state.
      throw new AssociationClosedError(`${event} is not valid in ${this.state}`);
    }
    const next = ACTION_FUNCTIONS[action](this.ul, arg);
    if (!ACTIONS[action].next.includes(next))
      throw new Error(`internal: ${action} may not lead to ${next}`);
    this.ul.state = next;
    const indications = this.ul.indications;
    for (let i = indications.shift(); i; i = indications.shift()) this.deliver(i);
  }

  // ---- the actions' indications to the local user ----------------------------------------

  private deliver(i: Indication): void {
    switch (i.kind) {
      case 'associate':
        return this.answer(i.rq);
      case 'established':
        if (i.ac) this.info = agreement(this.role, this.ul.rqSent!, i.ac, this.ul.connected().peer);
        this.emit('established', this.info!);
        return;
      case 'pdvs':
        this.emit('pdvs', i.pdvs);
        return;
      case 'release':
        if (this.listenerCount('release-requested') > 0) this.emit('release-requested');
        else queueMicrotask(() => this.respondRelease());
        return;
      case 'release-collision':
        queueMicrotask(() => this.respondRelease());
        return;
    }
  }

  /** A-ASSOCIATE response primitive: accept (Evt7) or reject (Evt8), as acse.ts decides. */
  private answer(rq: AAssociateRq): void {
    if (this.side.role !== 'acceptor') throw new Error('internal: A-ASSOCIATE-RQ to a requestor');
    const peer = this.ul.connected().peer;
    const answer = answerRq(rq, this.side.options.decide, peer, this.side.options.maxPduLength);
    if (answer.type === PduType.AAssociateRj) return this.dispatch('Evt8', answer);
    this.info = agreement('acceptor', rq, answer, peer);
    this.dispatch('Evt7', answer satisfies AAssociateAc);
  }
}
