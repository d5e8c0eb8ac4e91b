// A worklist source that misbehaves on purpose, built on the project's own association
// layer: it accepts any association and answers each C-FIND as the test's script says —
// items by the thousand as fast as the socket takes them, identifiers that do not parse,
// failure statuses, silence, an abort, bytes that are no PDU at all — and notes whether a
// C-CANCEL came.
import * as net from 'node:net';
import { Association } from '../../firmware/dicom/association';
import { encodeDataset, type Element } from '../../firmware/dicom/dataset/dataset-writer';
import { CommandField } from '../../firmware/dicom/dimse/command-field';
import {
  DimseChannel,
  drain,
  type IncomingMessage,
} from '../../firmware/dicom/dimse/dimse-channel';
import { negotiateContexts } from '../../firmware/dicom/negotiation';
import { Tag } from '../../firmware/dicom/registry/tags';
import { freePort } from './peers';

const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

/** What a script may do with the C-FIND it answers. */
export interface FindAnswerer {
  /** A pending response (FF00) carrying these data set bytes. */
  pending(dataset: Buffer): Promise<void>;
  /** The final response. */
  final(status: number): Promise<void>;
  /** A-ABORT. */
  abort(): void;
  /** Raw bytes on the socket (no PDU). */
  raw(bytes: Buffer): void;
  /** Whether a C-CANCEL arrived for this request. */
  readonly cancelled: boolean;
}

export interface FakeWorklistScp {
  readonly port: number;
  /** How the next C-FIND is answered. */
  script: (answer: FindAnswerer) => Promise<void>;
  /** C-CANCELs received so far. */
  readonly cancels: number;
  stop(): Promise<void>;
}

/** A well-formed worklist answer, item `n` (`padding`: bytes of a comment, to make it large). */
export function fakeItem(n: number, date: string, padding = 0): Buffer {
  const elements: Element[] = [
    { tag: Tag.SpecificCharacterSet, vr: 'CS', value: 'ISO_IR 100' },
    { tag: Tag.AccessionNumber, vr: 'SH', value: `H${n}` },
    { tag: Tag.PatientName, vr: 'PN', value: `PATIENT^${n}` },
    { tag: Tag.PatientId, vr: 'LO', value: `PID${n}` },
    { tag: Tag.StudyInstanceUid, vr: 'UI', value: `2.25.2929.${n}` },
    {
      tag: Tag.ScheduledProcedureStepSequence,
      vr: 'SQ',
      value: [
        [
          { tag: Tag.Modality, vr: 'CS', value: 'CT' },
          { tag: Tag.ScheduledStationAeTitle, vr: 'AE', value: 'CT1' },
          { tag: Tag.ScheduledProcedureStepStartDate, vr: 'DA', value: date },
          { tag: Tag.ScheduledProcedureStepStartTime, vr: 'TM', value: '080000' },
          { tag: Tag.ScheduledProcedureStepId, vr: 'SH', value: `S${n}` },
          { tag: Tag.CommentsOnTheScheduledProcedureStep, vr: 'LT', value: 'x'.repeat(padding) },
        ],
      ],
    },
  ];
  return encodeDataset(elements, EXPLICIT_LE);
}

export async function startFakeWorklistScp(): Promise<FakeWorklistScp> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let cancels = 0;
  const fake: FakeWorklistScp = {
    port,
    script: async (a) => a.final(0),
    get cancels() {
      return cancels;
    },
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const association = Association.accept(socket, {
      maxPduLength: 65536,
      artimMs: 5000,
      decide: (rq) => ({
        accept: true,
        presentationContexts: negotiateContexts(rq.presentationContexts, () => true),
      }),
    });
    const channel = new DimseChannel(association);
    const cancelled = new Set<number>();
    channel.on('message', (m: IncomingMessage) => {
      if (m.command.commandField === CommandField.CCancelRq) {
        cancels++;
        cancelled.add(m.command.messageIdBeingRespondedTo ?? -1);
        return;
      }
      void answer(association, channel, m, cancelled).catch(() => undefined);
    });
    association.on('release-requested', () => association.respondRelease());
  });

  async function answer(
    association: Association,
    channel: DimseChannel,
    m: IncomingMessage,
    cancelled: ReadonlySet<number>,
  ): Promise<void> {
    if (m.dataset) await drain(m.dataset);
    const id = m.command.messageId ?? 0;
    const respond = (status: number, dataset?: Buffer): Promise<void> =>
      channel.send(
        m.context.id,
        {
          commandField: CommandField.CFindRsp,
          messageIdBeingRespondedTo: id,
          affectedSopClassUid: m.command.affectedSopClassUid ?? '',
          status,
          hasDataSet: dataset !== undefined,
        },
        dataset,
      );
    await fake.script({
      pending: (dataset) => respond(0xff00, dataset),
      final: (status) => respond(status),
      abort: () => association.abort(),
      raw: (bytes) => {
        for (const s of sockets) s.write(bytes);
      },
      get cancelled() {
        return cancelled.has(id);
      },
    });
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return fake;
}
