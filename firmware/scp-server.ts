// The listening side of the box: accepts TCP connections, decides each A-ASSOCIATE-RQ
// by the configuration (who may call, which AE title is ours, how many at once), and
// hands established associations to the services. One bad association never touches
// another: each has its own socket, state machine and error handling.
import * as net from 'node:net';
import { ConfigError, isDimse, type Config } from './config/config';
import type { StagedChange } from './config/live-config';
import type { AssociateDecision, AssociationInfo } from './dicom/acse';
import { Association } from './dicom/association';
import { RejectReason, RejectResult, RejectSource, type AAssociateRq } from './dicom/pdu';
import { log } from './log';
import { serveAssociation } from './services/association-handler';
import type { ServiceRegistry } from './services/registry';

/** The DICOM port cannot be listened on (in use, an address not of this machine). */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** What one accepted association is doing, for the dashboard and the status. */
export interface AssociationActivity {
  readonly callingAe: string | null;
  readonly address: string;
  readonly since: string;
  /** The last DIMSE request received ("C-STORE-RQ"), null before the first. */
  readonly service: string | null;
  readonly requests: number;
  readonly bytesReceived: number;
}

interface Tracked {
  readonly socket: net.Socket;
  readonly address: string;
  readonly since: string;
  callingAe: string | null;
  service: string | null;
  requests: number;
}

/** A connection that has not yet sent its A-ASSOCIATE-RQ. */
interface Unassociated {
  readonly socket: net.Socket;
  readonly ip: string;
  readonly timer: NodeJS.Timeout;
}

/** Why an A-ASSOCIATE-RQ was refused, as the metrics label it. */
export type RefusalReason = 'association-limit' | 'called-ae' | 'calling-ae';

/** What the metrics count of the listener's associations. */
export interface AssociationObserver {
  accepted(): void;
  refused(reason: RefusalReason): void;
  /** Released, aborted (by either side), or a connection closed before it associated. */
  ended(how: 'released' | 'aborted' | 'not-associated'): void;
}

const UNOBSERVED: AssociationObserver = {
  accepted: () => undefined,
  refused: () => undefined,
  ended: () => undefined,
};

export class ScpServer {
  private server: net.Server;
  private readonly live = new Set<Association>();
  /** Established associations: what maxAssociations limits. */
  private readonly established = new Set<Association>();
  /**
   * Connections waiting for their A-ASSOCIATE-RQ, oldest first (a Map keeps insertion
   * order). They have a budget of their own, overall and per address, and a short timer:
   * a port scanner or a device that connects and says nothing costs a slot for seconds,
   * and never one of the associations a modality needs.
   */
  private readonly unassociated = new Map<Association, Unassociated>();
  private readonly tracked = new Map<Association, Tracked>();
  /** Bytes read on connections already closed (the live ones are counted from their sockets). */
  private closedBytes = 0;

  constructor(
    private config: Config,
    private readonly services: ServiceRegistry,
    private readonly observer: AssociationObserver = UNOBSERVED,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Established associations now. */
  get associationCount(): number {
    return this.established.size;
  }

  /** True while the DICOM port accepts connections. */
  get listening(): boolean {
    return this.server.listening;
  }

  /** Every byte received on the DICOM port since start (throughput is its rate). */
  get bytesReceived(): number {
    let live = 0;
    for (const t of this.tracked.values()) live += t.socket.bytesRead;
    return this.closedBytes + live;
  }

  activities(): AssociationActivity[] {
    return [...this.tracked.values()].map((t) => ({
      callingAe: t.callingAe,
      address: t.address,
      since: t.since,
      service: t.service,
      requests: t.requests,
      bytesReceived: t.socket.bytesRead,
    }));
  }

  async listen(): Promise<net.AddressInfo> {
    let address: net.AddressInfo;
    try {
      address = await this.bind(this.server, this.config);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        e.code === 'EADDRINUSE'
          ? 'the port is in use (another DICOM server, or a box already running?)'
          : e.code === 'EACCES'
            ? 'not allowed (ports below 1024 need CAP_NET_BIND_SERVICE or root)'
            : e.message;
      throw new ListenError(`cannot listen on ${this.config.host}:${this.config.port}: ${why}`);
    }
    this.logListening();
    return address;
  }

  private logListening(): void {
    const { address, port } = this.address;
    if (port === 0) log.info('no plain DICOM listener (port 0: TLS only)', { ae: this.config.ae });
    else log.info('listening', { ae: this.config.ae, address: `${address}:${port}` });
  }

  /** Where the box listens now (port 0: no plain listener, TLS only). */
  get address(): net.AddressInfo {
    return (
      (this.server.address() as net.AddressInfo | null) ?? {
        address: this.config.host,
        family: 'IPv4',
        port: 0,
      }
    );
  }

  /**
   * Prepares a new configuration. A new port or host needs a new listener, bound now so
   * that a port already taken refuses the change before anything is applied; on commit
   * the old listener stops accepting while the associations it accepted go on.
   */
  async prepare(next: Config): Promise<StagedChange> {
    const moved = next.port !== this.config.port || next.host !== this.config.host;
    const fresh = moved ? net.createServer((socket) => this.accept(socket)) : undefined;
    if (fresh) {
      try {
        await this.bind(fresh, next);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ConfigError(
          code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? 'host' : 'port',
          `cannot listen on ${next.host}:${next.port}: ${(err as Error).message}`,
        );
      }
    }
    return {
      commit: () => {
        this.config = next;
        if (!fresh) return;
        const old = this.server;
        this.server = fresh;
        old.close();
        this.logListening();
      },
      rollback: () => fresh?.close(),
    };
  }

  private bind(server: net.Server, config: Config): Promise<net.AddressInfo> {
    // Port 0 is no plain listener at all (the TLS listener takes the associations).
    if (config.port === 0)
      return Promise.resolve({ address: config.host, family: 'IPv4', port: 0 });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops accepting; aborts associations still open after graceMs. */
  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const a of [...this.unassociated.keys()]) this.closeUnassociated(a, 'the box is stopping');
    const deadline = setTimeout(() => this.live.forEach((a) => a.abort()), graceMs);
    deadline.unref();
    await Promise.all([...this.live].map((a) => a.closed()));
    clearTimeout(deadline);
    await closed;
  }

  /** Serves a new connection: plain TCP from this listener, or TLS from the TLS listener. */
  accept(socket: net.Socket): void {
    const started = Date.now();
    const association = Association.accept(socket, {
      maxPduLength: this.config.maxPduLength,
      artimMs: this.config.artimTimeout * 1000,
      decide: (rq, peer) => this.decide(rq, peer.address),
    });
    this.live.add(association);
    this.admitUnassociated(association, socket);
    const tracked: Tracked = {
      socket,
      address: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`.replace(/^::ffff:/, ''),
      since: new Date(started).toISOString(),
      callingAe: null,
      service: null,
      requests: 0,
    };
    this.tracked.set(association, tracked);
    association.on('protocol-error', (err) =>
      log.warn('protocol error, aborting', { peer: association.peerLabel, reason: err.message }),
    );
    association.on('established', (info: AssociationInfo) => {
      this.settle(association);
      this.established.add(association);
      this.observer.accepted();
      log.info('association accepted', {
        peer: association.peerLabel,
        called: info.calledAeTitle,
        contexts: `${info.contexts.size}/${info.rq.presentationContexts.length}`,
        maxPdu: info.peerMaxPduLength,
      });
      tracked.callingAe = info.rq.callingAeTitle;
      for (const pc of info.rq.presentationContexts) {
        const accepted = info.contexts.get(pc.id);
        log.debug('presentation context', {
          peer: association.peerLabel,
          id: pc.id,
          abstract: pc.abstractSyntax,
          result: accepted ? `accepted ${accepted.transferSyntax}` : 'rejected',
        });
      }
      serveAssociation(
        Object.assign(association, { info }), // established: its info is set
        info,
        this.services,
        (command) => {
          tracked.service = command;
          tracked.requests++;
        },
        this.config.idleTimeout * 1000,
      );
    });
    association.on('closed', (reason) => {
      this.settle(association);
      this.established.delete(association);
      this.live.delete(association);
      this.tracked.delete(association);
      this.closedBytes += socket.bytesRead;
      const fields = { peer: association.peerLabel, ms: Date.now() - started };
      if (reason.kind === 'released') {
        log.info('association released', fields);
        this.observer.ended('released');
      } else if (reason.kind === 'rejected') log.info('association rejected', fields);
      else if (!association.info) {
        log.info('connection closed before an association', {
          ...fields,
          reason: reason.error.message,
        });
        this.observer.ended('not-associated');
      } else {
        log.warn('association aborted', { ...fields, reason: reason.error.message });
        this.observer.ended('aborted');
      }
    });
  }

  /**
   * Takes a new connection into the unassociated budget: when the budget of its address, or
   * the whole budget, is spent, the oldest waiting connection (of that address, or of all)
   * is closed to make room. Its own timer closes it if no A-ASSOCIATE-RQ comes in time.
   */
  private admitUnassociated(association: Association, socket: net.Socket): void {
    const ip = (socket.remoteAddress ?? '?').replace(/^::ffff:/, '');
    const sameAddress = [...this.unassociated].filter(([, u]) => u.ip === ip);
    if (sameAddress.length >= this.config.maxUnassociatedPerAddress)
      this.closeUnassociated(sameAddress[0]![0], 'too many connections from its address');
    else if (this.unassociated.size >= this.config.maxUnassociated)
      this.closeUnassociated(this.unassociated.keys().next().value!, 'too many connections');
    const timer = setTimeout(
      () => this.closeUnassociated(association, 'no A-ASSOCIATE-RQ in time'),
      this.config.associateTimeout * 1000,
    );
    timer.unref();
    this.unassociated.set(association, { socket, ip, timer });
  }

  /** A waiting connection associated, was refused, or closed: it leaves the budget. */
  private settle(association: Association): void {
    const u = this.unassociated.get(association);
    if (!u) return;
    clearTimeout(u.timer);
    this.unassociated.delete(association);
  }

  private closeUnassociated(association: Association, why: string): void {
    const u = this.unassociated.get(association);
    if (!u) return;
    this.settle(association);
    log.info('closed a connection that had not associated', { peer: association.peerLabel, why });
    // No PDU to answer and none owed (PS3.8: before an A-ASSOCIATE-RQ only the transport
    // exists): the connection is closed, as the ARTIM timer would close it in Sta2.
    u.socket.destroy();
  }

  /** The local user's answer to A-ASSOCIATE indications (PS3.8 §7.1.1.7). */
  private decide(rq: AAssociateRq, address: string): AssociateDecision {
    const reject = (
      result: number,
      source: number,
      reason: number,
      why: string,
      counted: RefusalReason,
    ): AssociateDecision => {
      this.observer.refused(counted);
      log.warn('association refused', {
        calling: rq.callingAeTitle,
        called: rq.calledAeTitle,
        address,
        reason: why,
      });
      return { accept: false, result, source, reason };
    };
    if (this.established.size >= this.config.maxAssociations) {
      return reject(
        RejectResult.Transient,
        RejectSource.ServiceProviderPresentation,
        RejectReason.LocalLimitExceeded,
        `more than ${this.config.maxAssociations} associations`,
        'association-limit',
      );
    }
    if (this.config.strictCalledAe && rq.calledAeTitle !== this.config.ae) {
      return reject(
        RejectResult.Permanent,
        RejectSource.ServiceUser,
        RejectReason.CalledAeNotRecognized,
        `called AE title ${rq.calledAeTitle} is not ${this.config.ae}`,
        'called-ae',
      );
    }
    if (!this.config.acceptUnknownCallers) {
      const known = this.config.nodes
        .filter(isDimse)
        .some((n) => n.ae === rq.callingAeTitle && (!n.host || sameHost(n.host, address)));
      if (!known) {
        return reject(
          RejectResult.Permanent,
          RejectSource.ServiceUser,
          RejectReason.CallingAeNotRecognized,
          `calling AE title ${rq.callingAeTitle} from ${address} is not a known node`,
          'calling-ae',
        );
      }
    }
    return { accept: true, ...this.services.negotiate(rq) };
  }
}

function sameHost(configured: string, address: string): boolean {
  const a = address.replace(/^::ffff:/, '');
  return configured === a || (configured === 'localhost' && (a === '127.0.0.1' || a === '::1'));
}
