// A storage SCP for forwarding tests, built on the project's own association layer: it
// accepts every context proposed and every C-STORE, except that it aborts the association
// on the instances named "poison" (as DCMTK does on data it cannot take). It can also be
// closed and reopened on the same port, to play a destination that goes down, and answer
// every C-STORE with a status of the test's (0xA700: a PACS out of resources that still
// answers C-ECHO), or answer nothing at all (a hung PACS that still takes associations).
// It can grant an Asynchronous Operations Window (PS3.7 D.3.3.3), which DCMTK and Orthanc
// do not, and answer each request a while after it came (a PACS that takes its time): then
// it counts how many requests were outstanding on one association at once.
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
  /** Associations accepted so far. */
  readonly associations: number;
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
  let associations = 0;
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

  async function handle(
    association: Association,
    channel: DimseChannel,
    message: IncomingMessage,
    outstanding: { now: number },
  ): Promise<void> {
    const { command } = message;
    if (!scp.answers) return;
    if (command.commandField === CommandField.CStoreRq)
      mostOutstanding = Math.max(mostOutstanding, ++outstanding.now);
    try {
      await answer(association, channel, message);
    } finally {
      if (command.commandField === CommandField.CStoreRq) outstanding.now--;
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
    get associations() {
      return associations;
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
