// Storage commitment reports from destinations the box asked to commit ("requestCommit"):
// an N-EVENT-REPORT arriving on the box's listener (as Orthanc sends it) or on the forward
// association itself. The report settles the forward jobs of its transaction.
import { parseDataset } from '../../dicom/dataset/dataset-parser';
import { readSmallDataSet, type IncomingMessage } from '../../dicom/dimse/dimse-channel';
import { nResponse } from '../../dicom/dimse/n-messages';
import { Status } from '../../dicom/dimse/status';
import type { CommandSet } from '../../dicom/dimse/command-set';
import { log } from '../../log';
import type { Archive } from '../../../storage/archive';
import { encodingOf } from '../qr/qr-common';
import { respond, type ServiceHandler } from '../service';
import { readReport, STORAGE_COMMITMENT_SOP_CLASS } from './commitment';

/** Applies one report; returns the response to send. */
export async function receiveCommitReport(
  index: Pick<Archive, 'queue' | 'commitments'>,
  message: IncomingMessage,
  peer: string,
): Promise<Omit<CommandSet, 'hasDataSet'>> {
  if (message.command.affectedSopClassUid !== STORAGE_COMMITMENT_SOP_CLASS) {
    return {
      ...nResponse(message.command, Status.NoSuchSopClass),
      errorComment: 'only storage commitment reports are taken',
    };
  }
  try {
    const report = readReport(
      parseDataset(await readSmallDataSet(message.dataset), encodingOf(message.context)),
    );
    const settled = await index.queue.applyCommitReport(
      report.transactionUid,
      report.committed,
      report.failed,
    );
    // Kept as received too: a `commit` command's report may reach the box rather than the command.
    await index.commitments.recordCommitReport(report.transactionUid, peer, {
      eventTypeId: message.command.eventTypeId ?? 0,
      committed: report.committed,
      failed: report.failed,
    });
    log.info('storage commitment report received', {
      peer,
      transaction: report.transactionUid,
      committed: report.committed.length,
      failed: report.failed.length,
      settled,
    });
    return nResponse(message.command, Status.Success);
  } catch (err) {
    log.warn('storage commitment report unreadable', { peer, reason: (err as Error).message });
    return {
      ...nResponse(message.command, Status.ProcessingFailure),
      errorComment: (err as Error).message.slice(0, 64),
    };
  }
}

export function nEventReportScp(index: Pick<Archive, 'queue' | 'commitments'>): ServiceHandler {
  return async (message, ctx) => {
    await respond(
      ctx,
      message,
      await receiveCommitReport(index, message, ctx.association.peerLabel),
    );
  };
}
