// Query/Retrieve as SCU: C-FIND, C-MOVE and C-GET (PS3.4 C.4). For C-GET the requester
// proposes storage contexts with the SCP role for itself (PS3.7 D.3.3.4) and receives the
// C-STORE sub-operations on the same association, streaming each to a Part 10 file.
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import type { EstablishedAssociation } from '../dicom/association';
import { parseDataset } from '../dicom/dataset/dataset-parser';
import type { Encoding } from '../dicom/dataset/dataset-scanner';
import { encodeDataset, type Element } from '../dicom/dataset/dataset-writer';
import { encodePart10Header } from '../dicom/dataset/part10';
import { CommandField } from '../dicom/dimse/command-field';
import type { CommandSet } from '../dicom/dimse/command-set';
import { drain, type IncomingMessage } from '../dicom/dimse/dimse-channel';
import { DimseRequestor, type DimseResponse } from '../dicom/dimse/dimse-requestor';
import { Status } from '../dicom/dimse/status';
import {
  PresentationContextResult,
  type PresentationContextRq,
  type RoleSelection,
} from '../dicom/pdu';
import { STORAGE_SOP_CLASSES } from '../dicom/registry/storage-sop-classes';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  TRANSFER_SYNTAXES,
} from '../dicom/registry/transfer-syntaxes';
import { isValidUid } from '../dicom/registry/uid';
import { QR_SOP_CLASSES } from './qr/attributes';
import { openAssociation, type PeerAddress } from './open-association';

export type Root = 'patient' | 'study';

export interface SubOperationCounts {
  readonly remaining?: number;
  readonly completed?: number;
  readonly failed?: number;
  readonly warning?: number;
}

function sopClassFor(root: Root, op: 'find' | 'move' | 'get'): string {
  const key = `${root}Root${op[0]!.toUpperCase()}${op.slice(1)}` as keyof typeof QR_SOP_CLASSES;
  return QR_SOP_CLASSES[key];
}

async function open(
  peer: PeerAddress,
  contexts: PresentationContextRq[],
  roleSelections: RoleSelection[] = [],
): Promise<{ association: EstablishedAssociation; requestor: DimseRequestor }> {
  const association = await openAssociation(peer, contexts, roleSelections);
  const first = association.info.ac.presentationContexts.find((pc) => pc.id === 1);
  if (first?.result !== PresentationContextResult.Acceptance) {
    association.abort();
    throw new Error(`the peer did not accept ${contexts[0]!.abstractSyntax}`);
  }
  return { association, requestor: new DimseRequestor(association) };
}

function qrContext(sopClass: string): PresentationContextRq {
  return {
    id: 1,
    abstractSyntax: sopClass,
    transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
  };
}

function encodingOfContext(association: EstablishedAssociation, contextId: number): Encoding {
  const ts = TRANSFER_SYNTAXES.get(association.info.contexts.get(contextId)!.transferSyntax)!;
  return { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
}

/** C-FIND; calls onMatch for every pending response's identifier; resolves with the final status. */
export interface FindResult {
  readonly status: number;
  /** What a failed query's peer said (Error Comment), for the user. */
  readonly errorComment?: string;
}

export async function findScu(
  peer: PeerAddress,
  root: Root,
  identifier: Element[],
  onMatch: (elements: Element[]) => void,
): Promise<FindResult> {
  const sopClass = sopClassFor(root, 'find');
  const { association, requestor } = await open(peer, [qrContext(sopClass)]);
  try {
    const enc = encodingOfContext(association, 1);
    const rsp = await requestor.request(
      1,
      { commandField: CommandField.CFindRq, affectedSopClassUid: sopClass, priority: 0 },
      encodeDataset(identifier, enc),
      (pending) => onMatch(pending.dataset ? parseDataset(pending.dataset, enc) : []),
    );
    return {
      status: rsp.command.status ?? 0xffff,
      ...(rsp.command.errorComment ? { errorComment: rsp.command.errorComment } : {}),
    };
  } finally {
    await association.release().catch(() => association.abort());
  }
}

function countsOf(c: CommandSet): SubOperationCounts {
  return {
    ...(c.remainingSubOperations !== undefined ? { remaining: c.remainingSubOperations } : {}),
    ...(c.completedSubOperations !== undefined ? { completed: c.completedSubOperations } : {}),
    ...(c.failedSubOperations !== undefined ? { failed: c.failedSubOperations } : {}),
    ...(c.warningSubOperations !== undefined ? { warning: c.warningSubOperations } : {}),
  };
}

export interface RetrieveResult {
  readonly status: number;
  readonly counts: SubOperationCounts;
  readonly errorComment?: string;
  readonly received?: string[];
}

/** C-MOVE to a destination AE; onPending sees the counts as sub-operations finish. */
export async function moveScu(
  peer: PeerAddress,
  root: Root,
  destination: string,
  identifier: Element[],
  onPending: (c: SubOperationCounts) => void = () => undefined,
): Promise<RetrieveResult> {
  const sopClass = sopClassFor(root, 'move');
  const { association, requestor } = await open(peer, [qrContext(sopClass)]);
  try {
    const rsp = await requestor.request(
      1,
      {
        commandField: CommandField.CMoveRq,
        affectedSopClassUid: sopClass,
        priority: 0,
        moveDestination: destination,
      },
      encodeDataset(identifier, encodingOfContext(association, 1)),
      (pending: DimseResponse) => onPending(countsOf(pending.command)),
    );
    return finalResult(rsp);
  } finally {
    await association.release().catch(() => association.abort());
  }
}

function finalResult(rsp: DimseResponse, received?: string[]): RetrieveResult {
  return {
    status: rsp.command.status ?? 0xffff,
    counts: countsOf(rsp.command),
    ...(rsp.command.errorComment ? { errorComment: rsp.command.errorComment } : {}),
    ...(received ? { received } : {}),
  };
}

/** Transfer syntaxes offered for C-GET storage contexts: what the SCP holds is sent as is. */
const GET_SYNTAXES = [
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.5',
];

/** C-GET into a folder: each instance received is written as <SOP Instance UID>.dcm. */
export async function getScu(
  peer: PeerAddress,
  root: Root,
  identifier: Element[],
  outDir: string,
  onPending: (c: SubOperationCounts) => void = () => undefined,
): Promise<RetrieveResult> {
  const sopClass = sopClassFor(root, 'get');
  const storageClasses = getStorageClasses();
  const contexts: PresentationContextRq[] = [
    qrContext(sopClass),
    ...storageClasses.map((uid, i) => ({
      id: 3 + i * 2,
      abstractSyntax: uid,
      transferSyntaxes: GET_SYNTAXES,
    })),
  ];
  const roles = storageClasses.map((uid) => ({ sopClassUid: uid, scuRole: false, scpRole: true }));
  await fs.mkdir(outDir, { recursive: true });
  const { association, requestor } = await open(peer, contexts, roles);
  const received: string[] = [];
  const writes: Array<Promise<void>> = [];
  requestor.channel.on('message', (m: IncomingMessage) => {
    if (m.command.commandField !== CommandField.CStoreRq) return;
    writes.push(
      receiveInstance(m, requestor, outDir, association.info.callingAeTitle).then(
        (f) => void (f && received.push(f)),
      ),
    );
  });
  try {
    const rsp = await requestor.request(
      1,
      { commandField: CommandField.CGetRq, affectedSopClassUid: sopClass, priority: 0 },
      encodeDataset(identifier, encodingOfContext(association, 1)),
      (pending) => onPending(countsOf(pending.command)),
    );
    await Promise.all(writes);
    return finalResult(rsp, received);
  } finally {
    await association.release().catch(() => association.abort());
  }
}

/** One C-STORE sub-operation of a C-GET: the data set streams to the file, then Success. */
async function receiveInstance(
  m: IncomingMessage,
  requestor: DimseRequestor,
  outDir: string,
  ourAe: string,
): Promise<string | undefined> {
  const sop = m.command.affectedSopInstanceUid ?? '';
  const reply = (status: number, errorComment?: string): Promise<void> =>
    requestor.channel.send(m.context.id, {
      commandField: CommandField.CStoreRsp,
      messageIdBeingRespondedTo: m.command.messageId ?? 0,
      affectedSopClassUid: m.command.affectedSopClassUid ?? '',
      affectedSopInstanceUid: sop,
      status,
      hasDataSet: false,
      ...(errorComment ? { errorComment } : {}),
    });
  if (!m.dataset || !isValidUid(sop)) {
    if (m.dataset) await drain(m.dataset);
    await reply(Status.CannotUnderstand, 'SOP Instance UID is not a valid UID');
    return undefined;
  }
  const file = path.join(outDir, `${sop}.dcm`);
  try {
    const out = createWriteStream(file);
    out.write(
      encodePart10Header({
        mediaStorageSopClassUid: m.command.affectedSopClassUid ?? '',
        mediaStorageSopInstanceUid: sop,
        transferSyntaxUid: m.context.transferSyntax,
        sourceApplicationEntityTitle: ourAe,
      }),
    );
    for await (const chunk of m.dataset) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
  } catch (err) {
    await reply(Status.OutOfResources, (err as Error).message.slice(0, 64));
    return undefined;
  }
  await reply(Status.Success);
  return file;
}

/** The commonest storage classes first (imaging, SR, PDF), then the rest of the table. */
const COMMON_STORAGE_SUFFIXES = [
  '2',
  '4',
  '1',
  '1.1',
  '1.2',
  '6.1',
  '7',
  '12.1',
  '12.2',
  '20',
  '128',
  '2.1',
  '4.1',
  '3.1',
  '1.1.1',
  '1.2.1',
  '88.11',
  '88.22',
  '88.33',
  '88.59',
  '88.67',
  '104.1',
  '481.1',
  '481.2',
  '481.3',
  '481.5',
  '66.4',
  '11.1',
  '13.1.3',
];

function getStorageClasses(): string[] {
  const common = COMMON_STORAGE_SUFFIXES.map((s) => `1.2.840.10008.5.1.4.1.1.${s}`);
  const rest = [...STORAGE_SOP_CLASSES]
    .filter(([uid, name]) => !name.includes('Retired') && !common.includes(uid))
    .map(([uid]) => uid);
  // 127 storage classes fit beside the C-GET context (PS3.8: 128 contexts at most).
  return [...common, ...rest].slice(0, 127);
}
