// Storage Commitment Push Model as SCP, the N-ACTION side (PS3.4 J.3.2): check the
// request, record the transaction, answer N-ACTION-RSP at once; the result follows later
// as an N-EVENT-REPORT from the CommitmentReporter.
import { parseDataset } from '../../dicom/dataset/dataset-parser';
import type { Element } from '../../dicom/dataset/dataset-writer';
import { DataSetTooLargeError, readSmallDataSet } from '../../dicom/dimse/dimse-channel';
import { nResponse } from '../../dicom/dimse/n-messages';
import { Status } from '../../dicom/dimse/status';
import { DatasetParseError } from '../../dicom/errors';
import { Tag } from '../../dicom/registry/tags';
import { isValidUid } from '../../dicom/registry/uid';
import { log } from '../../log';
import type { Archive } from '../../../storage/archive';
import { encodingOf } from '../qr/qr-common';
import { respond, type ServiceHandler } from '../service';
import {
  REQUEST_STORAGE_COMMITMENT,
  STORAGE_COMMITMENT_INSTANCE,
  STORAGE_COMMITMENT_SOP_CLASS,
  type CommitmentItem,
} from './commitment';
import type { CommitmentReporter } from './commitment-reporter';

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function uid(e: Element | undefined): string {
  return Buffer.isBuffer(e?.value) ? e.value.toString('latin1').replace(/[\0 ]+$/, '') : '';
}

/** The Transaction UID and the referenced instances of an N-ACTION (Table J.3-1). */
export function readCommitmentRequest(elements: readonly Element[]): {
  transactionUid: string;
  items: CommitmentItem[];
} {
  const transactionUid = uid(elements.find((e) => e.tag === Tag.TransactionUid));
  if (!isValidUid(transactionUid))
    throw new RequestError(
      Status.MissingAttributeValue,
      'Transaction UID (0008,1195) missing or invalid',
    );
  const sequence = elements.find((e) => e.tag === Tag.ReferencedSopSequence);
  if (!sequence || !Array.isArray(sequence.value) || sequence.value.length === 0) {
    throw new RequestError(
      Status.MissingAttribute,
      'Referenced SOP Sequence (0008,1199) missing or empty',
    );
  }
  const items = (sequence.value as Element[][]).map((item) => ({
    sopClassUid: uid(item.find((e) => e.tag === Tag.ReferencedSopClassUid)),
    sopInstanceUid: uid(item.find((e) => e.tag === Tag.ReferencedSopInstanceUid)),
  }));
  if (items.some((i) => !isValidUid(i.sopClassUid) || !isValidUid(i.sopInstanceUid))) {
    throw new RequestError(
      Status.InvalidArgumentValue,
      'a Referenced SOP Sequence item lacks a valid class or instance UID',
    );
  }
  return { transactionUid, items };
}

export function nActionScp(
  index: Pick<Archive, 'commitments'>,
  reporter: CommitmentReporter,
  timeoutSeconds: () => number,
): ServiceHandler {
  return async (message, ctx) => {
    const fail = async (status: number, reason: string): Promise<void> => {
      log.warn('storage commitment refused', {
        peer: ctx.association.peerLabel,
        status: status.toString(16),
        reason,
      });
      await respond(ctx, message, { ...nResponse(message.command, status), errorComment: reason });
    };
    // Read to its end before any answer: the association must stay in step.
    const information = await readSmallDataSet(message.dataset).catch((err: unknown) => {
      if (err instanceof DataSetTooLargeError) return err;
      throw err;
    });
    if (message.command.requestedSopClassUid !== STORAGE_COMMITMENT_SOP_CLASS) {
      return fail(
        Status.NoSuchSopClass,
        'N-ACTION is served for Storage Commitment Push Model only',
      );
    }
    if (message.command.requestedSopInstanceUid !== STORAGE_COMMITMENT_INSTANCE) {
      return fail(
        Status.NoSuchSopInstance,
        `the well-known instance is ${STORAGE_COMMITMENT_INSTANCE}`,
      );
    }
    if (message.command.actionTypeId !== REQUEST_STORAGE_COMMITMENT) {
      return fail(
        Status.NoSuchAction,
        `action type ${message.command.actionTypeId ?? '-'} is not Request Storage Commitment`,
      );
    }
    let request;
    try {
      if (information instanceof DataSetTooLargeError)
        return fail(Status.ProcessingFailure, information.message);
      request = readCommitmentRequest(parseDataset(information, encodingOf(message.context)));
    } catch (err) {
      if (err instanceof RequestError) return fail(err.status, err.message);
      if (err instanceof DatasetParseError)
        return fail(Status.ProcessingFailure, `action information does not parse: ${err.message}`);
      throw err;
    }
    const now = Date.now();
    try {
      await index.commitments.createCommitment({
        transactionUid: request.transactionUid,
        requesterAe: ctx.info.callingAeTitle,
        createdAt: new Date(now).toISOString(),
        deadline: new Date(now + timeoutSeconds() * 1000).toISOString(),
        items: request.items,
      });
    } catch (err) {
      return fail(
        Status.DuplicateInvocation,
        `transaction ${request.transactionUid} cannot be recorded: ${(err as Error).message}`,
      );
    }
    await respond(ctx, message, nResponse(message.command, Status.Success));
    log.info('storage commitment requested', {
      peer: ctx.association.peerLabel,
      transaction: request.transactionUid,
      instances: request.items.length,
    });
    reporter.track(request.transactionUid, {
      association: ctx.association,
      requestor: ctx.requestor,
      contextId: message.context.id,
    });
  };
}
