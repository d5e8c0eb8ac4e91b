// The upper-layer service provider of one association (pynetdicom's DUL): the state, the
// transport connection, the ARTIM timer and what the actions leave for the local user.
// It implements the narrow interface the actions (actions.ts) act on, and turns what the
// transport does into events for the table; association.ts runs the table.
import type * as net from 'node:net';
import { associateRq, type AssociateProposal } from '../acse';
import { AssociationClosedError } from '../errors';
import { AbortSource, pDataHeader, type AAssociateRq } from '../pdu';
import type { Event, State } from '../state-machine';
import type { Connector } from '../transport';
import {
  receivedEvent,
  type Abort,
  type CloseReason,
  type EventArg,
  type Indication,
  type OutgoingPdv,
  type UpperLayer,
} from './actions';
import { ArtimTimer } from './artim-timer';
import { PduSocket } from './pdu-socket';

/** Cap on non-P-DATA PDUs (negotiation); the standard gives them no maximum. */
const MAX_NEGOTIATION_PDU = 1 << 20;
/** After a local abort, how long the A-ABORT has to leave before the transport closes. */
const ABORT_GRACE_MS = 200;

export interface ProviderSettings {
  /** Our Maximum Length Received (PS3.8 D.1); 0 = no limit (not recommended). */
  readonly maxPduLength: number;
  /** ARTIM timer, PS3.8 §9.1.5. */
  readonly artimMs: number;
  /** A requestor's: how to open the transport (AE-1) and what to propose (AE-2). */
  readonly connect?: Connector;
  readonly proposal?: AssociateProposal;
}

/** How the provider reaches the association that runs it. */
export interface ProviderHooks {
  /** An event for the state table (a received PDU, the transport, the timer). */
  event(event: Event, arg?: EventArg): void;
  /** ARTIM expired (Evt18 where the table has it). */
  artimExpired(): void;
  /** A PDU that did not decode: worth one log line. */
  protocolError(error: Error): void;
  /** The association ended, for this reason. */
  closed(reason: CloseReason): void;
}

export class UpperLayerProvider implements UpperLayer {
  state: State = 'Sta1';
  transport?: PduSocket;
  /** The A-ASSOCIATE-RQ this requestor sent. */
  rqSent?: AAssociateRq;
  /** Why the association ended (the first reason recorded). */
  closeReason?: CloseReason;
  /** The A-ABORT asked for, until an action sends it. */
  pendingAbort?: Abort;
  /** What the last action indicated, for the association to deliver. */
  readonly indications: Indication[] = [];
  private readonly artim = new ArtimTimer(() => this.hooks.artimExpired());

  constructor(
    readonly role: 'acceptor' | 'requestor',
    private readonly settings: ProviderSettings,
    private readonly hooks: ProviderHooks,
  ) {}

  /** The transport, once there is one; P-DATA before it is a local user's mistake. */
  connected(): PduSocket {
    if (!this.transport)
      throw new AssociationClosedError(`no transport connection in ${this.state}`);
    return this.transport;
  }

  /** Takes a connected socket: its PDUs, errors and close become events. */
  attach(socket: net.Socket): void {
    const t = new PduSocket(socket, {
      maxPDataLength: this.settings.maxPduLength,
      maxOtherLength: MAX_NEGOTIATION_PDU,
    });
    this.transport = t;
    t.on('pdu', (pdu) => {
      this.hooks.event(receivedEvent(pdu), pdu);
      // Nothing a peer sends after the association ended is read.
      if (this.state === 'Sta1') t.stopReading();
    });
    t.on('invalid', (error) => {
      this.hooks.protocolError(error);
      this.pendingAbort = { source: AbortSource.ServiceProvider, reason: error.abortReason };
      this.hooks.event('Evt19', error);
    });
    t.on('error', (error) => {
      if (this.state !== 'Sta13' && this.state !== 'Sta1')
        this.closeReason ??= { kind: 'aborted', error };
    });
    t.on('closed', () => {
      if (this.state !== 'Sta1') this.hooks.event('Evt17');
    });
  }

  /** AE-1: the connector's outcome comes back as Evt2, or as Evt17 with its error. */
  connect(): void {
    if (!this.settings.connect) throw new Error('internal: AE-1 by an acceptor');
    this.settings.connect().then(
      (socket) => {
        if (this.state !== 'Sta4') {
          socket.destroy(); // aborted while connecting
          return;
        }
        this.attach(socket);
        this.hooks.event('Evt2');
      },
      (error: Error) => {
        if (this.state !== 'Sta4') return;
        this.closeReason ??= { kind: 'aborted', error };
        this.hooks.event('Evt17');
      },
    );
  }

  send(pdu: Buffer): void {
    this.transport?.send(pdu);
  }

  sendPdv(p: OutgoingPdv): void {
    const header = pDataHeader(p.contextId, p.isCommand, p.isLast, p.data.length);
    this.connected().send(header, p.data);
  }

  associateRq(): AAssociateRq {
    if (!this.settings.proposal) throw new Error('internal: AE-2 by an acceptor');
    this.rqSent ??= associateRq(this.settings.proposal, this.settings.maxPduLength);
    return this.rqSent;
  }

  startArtim(short?: boolean): void {
    this.artim.start(short ? ABORT_GRACE_MS : this.settings.artimMs);
  }

  stopArtim(): void {
    this.artim.stop();
  }

  stopReading(): void {
    this.transport?.stopReading();
  }

  takeAbort(): Abort | undefined {
    const abort = this.pendingAbort;
    this.pendingAbort = undefined;
    return abort;
  }

  ended(reason: CloseReason): void {
    this.closeReason ??= reason;
  }

  closeTransport(fallback: CloseReason): void {
    this.closeReason ??= fallback;
    this.artim.stop();
    this.transport?.stopReading();
    // Our last PDU (RJ, RP, A-ABORT) may leave before the FIN.
    this.transport?.close();
    const final = this.closeReason;
    queueMicrotask(() => this.hooks.closed(final));
  }

  indicate(indication: Indication): void {
    this.indications.push(indication);
  }
}
