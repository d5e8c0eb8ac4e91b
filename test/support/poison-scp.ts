// A storage SCP for forwarding tests, built on the project's own association layer: it
// accepts every context proposed and every C-STORE, except that it aborts the association
// on the instances named "poison" (as DCMTK does on data it cannot take). It can also be
// closed and reopened on the same port, to play a destination that goes down, and answer
// every C-STORE with a status of the test's (0xA700: a PACS out of resources that still
// answers C-ECHO), or answer nothing at all (a hung PACS that still takes associations).
// It can grant an Asynchronous Operations Window (PS3.7 D.3.3.3), which DCMTK and Orthanc
// do not, and answer each request a while after it came (a PACS that takes its time): then
// it counts how many requests were outstanding on one association at once. It can take
// only so many associations at once and reject more with A-ASSOCIATE-RJ (a PACS licensed
// for fewer), and says how many it had open at once.
import * as net from 'node:net';
import { Association } from '../../firmware/dicom/association';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import {
  DimseChannel,
  drain,
  type IncomingMessage,
} from '../../firmware/dicom/dimse/dimse-channel';
import { windowAnswer } from '../../firmware/dicom/acse';
import { negotiateContexts } from '../../firmware/dicom/negotiation';
import { RejectReason, RejectResult, RejectSource } from '../../firmware/dicom/pdu/pdu-types';
import { freePort } from './peers';

export interface PoisonScp {
  readonly port: number;
  /** SOP Instance UIDs stored, in arrival order (a re-send appears again). */
  readonly stored: string[];
  /** SOP Instance UIDs it aborted on, each time. */
  readonly aborted: string[];
  /** When each store, abort, refusal and C-ECHO happened (performance.now() milliseconds). */
  readonly timeline: Array<{
    sop: string;
    kind: 'stored' | 'aborted' | 'refused' | 'echoed';
    at: number;
  }>;
  /** The status C-STOREs are answered with: 0, or a failure (nothing is then stored). */
  storeStatus: number;
  /** False: requests are read and never answered. */
  answers: boolean;
  /** The most C-STORE requests outstanding (come, not yet answered) on one association. */
  readonly mostOutstanding: number;
  /** The most outstanding on all its associations together. */
  readonly mostOutstandingInAll: number;
  /** Associations accepted so far. */
  readonly associations: number;
  /**
   * Associations it takes at once; one more is rejected (A-ASSOCIATE-RJ transient, local
   * limit exceeded, PS3.8 §9.3.4), as a PACS licensed for fewer does. Unlimited by default.
   */
  maxAssociations: number;
  /** Associations rejected so far for maxAssociations. */
  readonly rejected: number;
  /** The most associations it had open at once at any time since `since` (performance.now()). */
  mostOpenSince(since: number): number;
  /** Stops listening and drops every connection (a destination that went down). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

export interface PoisonScpOptions {
  /** Operations the requestor may have outstanding, granted when it proposes a window. */
  readonly window?: number;
  /** Each C-STORE is answered this long after its data set came. */
  readonly responseDelayMs?: number;
}

export async function startPoisonScp(
  poison: ReadonlySet<string>,
  options: PoisonScpOptions = {},
): Promise<PoisonScp> {
  const port = await freePort();
  let mostOutstanding = 0;
  let mostOutstandingInAll = 0;
  let outstandingInAll = 0;
  let associations = 0;
  let rejected = 0;
  /** When each association was accepted, and when it ended. */
  const lifetimes: Array<{ from: number; to?: number }> = [];
  const stored: string[] = [];
  const aborted: string[] = [];
  const timeline: PoisonScp['timeline'] = [];
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;

  function serve(socket: net.Socket): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const association = Association.accept(socket, {
      maxPduLength: 65536,
      artimMs: 5000,
      decide: (rq) => {
        // Counted from the decision: an RQ that comes while another is being accepted
        // sees it (the 'established' event comes a moment later).
        if (open() >= scp.maxAssociations) {
          rejected++;
          return {
            accept: false,
            result: RejectResult.Transient,
            source: RejectSource.ServiceProviderPresentation,
            reason: RejectReason.LocalLimitExceeded,
          };
        }
        const lifetime: { from: number; to?: number } = { from: performance.now() };
        lifetimes.push(lifetime);
        association.once('closed', () => (lifetime.to = performance.now()));
        const window =
          options.window === undefined
            ? undefined
            : windowAnswer(rq, { canPerform: options.window, willInvoke: 1 });
        return {
          accept: true,
          presentationContexts: negotiateContexts(rq.presentationContexts, () => true),
          ...(window ? { asyncOperationsWindow: window } : {}),
        };
      },
    });
    association.once('established', () => associations++);
    const channel = new DimseChannel(association);
    const outstanding = { now: 0 };
    channel.on(
      'message',
      (message: IncomingMessage) => void handle(association, channel, message, outstanding),
    );
  }

  function open(): number {
    return lifetimes.filter((l) => l.to === undefined).length;
  }

  async function handle(
    association: Association,
    channel: DimseChannel,
    message: IncomingMessage,
    outstanding: { now: number },
  ): Promise<void> {
    const { command } = message;
    if (!scp.answers) return;
    const store = command.commandField === CommandField.CStoreRq;
    if (store) {
      mostOutstanding = Math.max(mostOutstanding, ++outstanding.now);
      mostOutstandingInAll = Math.max(mostOutstandingInAll, ++outstandingInAll);
    }
    try {
      await answer(association, channel, message);
    } finally {
      if (store) {
        outstanding.now--;
        outstandingInAll--;
      }
    }
  }

  async function answer(
    association: Association,
    channel: DimseChannel,
    { command, context, dataset }: IncomingMessage,
  ): Promise<void> {
    const sop = command.affectedSopInstanceUid ?? '';
    if (command.commandField === CommandField.CStoreRq && poison.has(sop)) {
      aborted.push(sop);
      timeline.push({ sop, kind: 'aborted', at: performance.now() });
      association.abort();
      return;
    }
    if (dataset) await drain(dataset).catch(() => undefined);
    if (options.responseDelayMs && command.commandField === CommandField.CStoreRq)
      await new Promise((r) => setTimeout(r, options.responseDelayMs));
    const status = command.commandField === CommandField.CStoreRq ? scp.storeStatus : 0;
    if (command.commandField === CommandField.CEchoRq)
      timeline.push({ sop, kind: 'echoed', at: performance.now() });
    else if (status !== 0) timeline.push({ sop, kind: 'refused', at: performance.now() });
    else if (command.commandField === CommandField.CStoreRq) {
      stored.push(sop);
      timeline.push({ sop, kind: 'stored', at: performance.now() });
    }
    await channel
      .send(context.id, {
        commandField: command.commandField | 0x8000,
        messageIdBeingRespondedTo: command.messageId ?? 0,
        ...(command.affectedSopClassUid
          ? { affectedSopClassUid: command.affectedSopClassUid }
          : {}),
        ...(sop ? { affectedSopInstanceUid: sop } : {}),
        status,
        hasDataSet: false,
      })
      .catch(() => undefined);
  }

  const scp: PoisonScp = {
    port,
    stored,
    aborted,
    timeline,
    storeStatus: 0,
    answers: true,
    get mostOutstanding() {
      return mostOutstanding;
    },
    get mostOutstandingInAll() {
      return mostOutstandingInAll;
    },
    get associations() {
      return associations;
    },
    maxAssociations: Infinity,
    get rejected() {
      return rejected;
    },
    mostOpenSince(since) {
      // Open at once: at each opening after `since` (or at `since`), those alive then.
      const at = [since, ...lifetimes.map((l) => l.from).filter((t) => t > since)];
      const alive = (t: number) => lifetimes.filter((l) => l.from <= t && (l.to ?? Infinity) > t);
      return Math.max(...at.map((t) => alive(t).length));
    },
    async down() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      const s = net.createServer(serve);
      await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', () => resolve()));
      server = s;
    },
  };
  await scp.up();
  return scp;
}
