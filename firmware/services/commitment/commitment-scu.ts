// Storage Commitment Push Model as SCU (PS3.4 J.3): N-ACTION with a new Transaction UID
// and the instances, then the N-EVENT-REPORT, waited for on the same association.
import { randomUUID } from 'node:crypto';
import { parseDataset } from '../../dicom/dataset/dataset-parser';
import { encodeDataset } from '../../dicom/dataset/dataset-writer';
import { CommandField } from '../../dicom/dimse/command-field';
import { readSmallDataSet, type IncomingMessage } from '../../dicom/dimse/dimse-channel';
import { DimseRequestor } from '../../dicom/dimse/dimse-requestor';
import { nActionRq, nResponse } from '../../dicom/dimse/n-messages';
import { formatStatus, Status } from '../../dicom/dimse/status';
import { PresentationContextResult } from '../../dicom/pdu';
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

/**
 * Asks `peer` to commit; resolves with the report, taken from this association, or from
 * `elsewhere` (polled: e.g. the running box, which keeps reports peers send to its listener).
 */
/** The peer did not report the commitment in time (it may still, to our listener). */
export class CommitmentTimeoutError extends Error {
  override name = 'CommitmentTimeoutError';
}

export async function requestCommitment(
  peer: PeerAddress,
  instances: readonly CommitmentItem[],
  timeoutMs: number,
  elsewhere?: (transactionUid: string) => Promise<CommitmentResult | undefined>,
): Promise<CommitmentResult> {
  const association = await openAssociation(peer, [
    {
      id: 1,
      abstractSyntax: STORAGE_COMMITMENT_SOP_CLASS,
      transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
    },
  ]);
  try {
    if (
      association.info.ac.presentationContexts[0]?.result !== PresentationContextResult.Acceptance
    ) {
      throw new Error('the peer does not accept Storage Commitment Push Model');
    }
    const ts = transferSyntax(association.info.contexts.get(1)!.transferSyntax)!;
    const enc = { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
    const requestor = new DimseRequestor(association);
    const transactionUid = newTransactionUid();
    const report = new Promise<CommitmentResult>((resolve, reject) => {
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
          const report = readReport(parseDataset(information, enc));
          if (report.transactionUid !== transactionUid) return;
          clearTimeout(timer);
          resolve({ ...report, eventTypeId: m.command.eventTypeId ?? 0 });
        })().catch(reject);
      });
    });
    report.catch(() => undefined);
    const elements = actionInformation(transactionUid, instances);
    const rsp = await requestor.request(
      1,
      nActionRq(
        STORAGE_COMMITMENT_SOP_CLASS,
        STORAGE_COMMITMENT_INSTANCE,
        REQUEST_STORAGE_COMMITMENT,
        0,
      ),
      encodeDataset(elements, enc),
    );
    if (rsp.command.status !== Status.Success) {
      throw new Error(
        `N-ACTION refused: ${formatStatus(rsp.command.status ?? 0xffff)} ${rsp.command.errorComment ?? ''}`,
      );
    }
    if (!elsewhere) return await report;
    // Poll the other route while waiting on this association; the first answer wins.
    let done = false;
    const polled = (async (): Promise<CommitmentResult> => {
      const deadline = Date.now() + timeoutMs;
      while (!done && Date.now() < deadline) {
        const found = await elsewhere(transactionUid).catch(() => undefined);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 250));
      }
      return new Promise<never>(() => undefined);
    })();
    try {
      return await Promise.race([report, polled]);
    } finally {
      done = true;
    }
  } finally {
    await association.release().catch(() => association.abort());
  }
}
