// Storage Commitment Push Model as SCU (PS3.4 J.3): N-ACTION with a new Transaction UID
// and the instances, then the N-EVENT-REPORT. The request itself is written once here:
// the `commit` command sends it on an association of its own and waits for the report,
// forwarding sends it on the forward association after a batch (the report is taken
// there or on the box's listener).
import { randomUUID } from 'node:crypto';
import type { EstablishedAssociation } from '../../dicom/association';
import { parseDataset } from '../../dicom/dataset/dataset-parser';
import { encodeDataset } from '../../dicom/dataset/dataset-writer';
import { CommandField } from '../../dicom/dimse/command-field';
import { readSmallDataSet, type IncomingMessage } from '../../dicom/dimse/dimse-channel';
import { DimseRequestor } from '../../dicom/dimse/dimse-requestor';
import { nActionRq, nResponse } from '../../dicom/dimse/n-messages';
import { formatStatus, Status } from '../../dicom/dimse/status';
import type { PresentationContextRq } from '../../dicom/pdu';
import { EXPLICIT_VR_LITTLE_ENDIAN, transferSyntax } from '../../dicom/registry/transfer-syntaxes';
import { openAssociation, type PeerAddress } from '../open-association';
import {
  actionInformation,
  REQUEST_STORAGE_COMMITMENT,
  STORAGE_COMMITMENT_INSTANCE,
  STORAGE_COMMITMENT_SOP_CLASS,
  readReport,
  type CommitmentItem,
  type CommitmentReport,
} from './commitment';

export interface CommitmentResult extends CommitmentReport {
  readonly eventTypeId: number;
}

/** A Transaction UID from a random UUID (PS3.5 B.2). */
export function newTransactionUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** The Storage Commitment context to propose: Explicit VR LE, every SCP takes it. */
export function commitmentContext(id: number): PresentationContextRq {
  return {
    id,
    abstractSyntax: STORAGE_COMMITMENT_SOP_CLASS,
    transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
  };
}

/** How data sets go on an accepted context: as its transfer syntax says. */
function encodingOf(
  association: EstablishedAssociation,
  contextId: number,
): { explicitVr: boolean; littleEndian: boolean } {
  const ts = transferSyntax(association.info.contexts.get(contextId)!.transferSyntax)!;
  return { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
}

/**
 * The request (PS3.4 J.3.2): N-ACTION-RQ, Action Type 1, on the accepted Storage
 * Commitment context `contextId`, naming the transaction and the instances. Throws unless
 * the peer answers Success; the report comes later, in an N-EVENT-REPORT.
 */
export async function sendCommitmentRequest(
  association: EstablishedAssociation,
  requestor: DimseRequestor,
  contextId: number,
  transactionUid: string,
  instances: readonly CommitmentItem[],
): Promise<void> {
  const rsp = await requestor.request(
    contextId,
    nActionRq(
      STORAGE_COMMITMENT_SOP_CLASS,
      STORAGE_COMMITMENT_INSTANCE,
      REQUEST_STORAGE_COMMITMENT,
      0,
    ),
    encodeDataset(actionInformation(transactionUid, instances), encodingOf(association, contextId)),
  );
  if (rsp.command.status !== Status.Success) {
    throw new Error(
      `N-ACTION refused: ${formatStatus(rsp.command.status ?? 0xffff)} ${rsp.command.errorComment ?? ''}`.trimEnd(),
    );
  }
}

/** The peer did not report the commitment in time (it may still, to our listener). */
export class CommitmentTimeoutError extends Error {
  override name = 'CommitmentTimeoutError';
}

/**
 * Asks `peer` to commit; resolves with the report, taken from this association, or from
 * `elsewhere` (polled: e.g. the running box, which keeps reports peers send to its listener).
 */
export async function requestCommitment(
  peer: PeerAddress,
  instances: readonly CommitmentItem[],
  timeoutMs: number,
  elsewhere?: (transactionUid: string) => Promise<CommitmentResult | undefined>,
): Promise<CommitmentResult> {
  const association = await openAssociation(peer, [commitmentContext(1)]);
  try {
    if (!association.info.contexts.has(1)) {
      throw new Error('the peer does not accept Storage Commitment Push Model');
    }
    const requestor = new DimseRequestor(association);
    const transactionUid = newTransactionUid();
    const report = reportOn(association, requestor, transactionUid, timeoutMs);
    report.catch(() => undefined);
    await sendCommitmentRequest(association, requestor, 1, transactionUid, instances);
    if (!elsewhere) return await report;
    const polling = { done: false };
    try {
      return await Promise.race([
        report,
        pollElsewhere(elsewhere, transactionUid, timeoutMs, polling),
      ]);
    } finally {
      polling.done = true;
    }
  } finally {
    await association.release().catch(() => association.abort());
  }
}

/** The N-EVENT-REPORT of the transaction on this association, answered Success. */
function reportOn(
  association: EstablishedAssociation,
  requestor: DimseRequestor,
  transactionUid: string,
  timeoutMs: number,
): Promise<CommitmentResult> {
  return new Promise<CommitmentResult>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new CommitmentTimeoutError(
            `no N-EVENT-REPORT on this association within ${timeoutMs / 1000} s`,
          ),
        ),
      timeoutMs,
    );
    // The open association keeps the process alive while it waits; the timer need not.
    timer.unref();
    requestor.channel.on('message', (m: IncomingMessage) => {
      if (m.command.commandField !== CommandField.NEventReportRq) return;
      void (async () => {
        const information = await readSmallDataSet(m.dataset);
        await requestor.channel.send(m.context.id, {
          ...nResponse(m.command, Status.Success),
          hasDataSet: false,
        });
        const report = readReport(parseDataset(information, encodingOf(association, m.context.id)));
        if (report.transactionUid !== transactionUid) return;
        clearTimeout(timer);
        resolve({ ...report, eventTypeId: m.command.eventTypeId ?? 0 });
      })().catch(reject);
    });
  });
}

/** Polls the other route while the association waits; never resolves if it has nothing. */
async function pollElsewhere(
  elsewhere: (transactionUid: string) => Promise<CommitmentResult | undefined>,
  transactionUid: string,
  timeoutMs: number,
  polling: { readonly done: boolean },
): Promise<CommitmentResult> {
  const deadline = Date.now() + timeoutMs;
  while (!polling.done && Date.now() < deadline) {
    const found = await elsewhere(transactionUid).catch(() => undefined);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  return new Promise<never>(() => undefined);
}
