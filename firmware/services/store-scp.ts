// Storage SOP Classes as SCP (PS3.4 Annex B): the data set streams into the cache, and
// the C-STORE-RSP says Success only once file, directory entry and index row are durable.
// Failures follow PS3.4 B.2.3: A700 out of resources, A900 data set does not match,
// C000 cannot understand; 0122 when the SOP class is not that of the context.
import { CommandField } from '../dicom/dimse/command-field';
import { drain } from '../dicom/dimse/dimse-channel';
import { Status } from '../dicom/dimse/status';
import { isValidUid } from '../dicom/registry/uid';
import { log } from '../log';
import type { Archive } from '../../storage/archive';
import { InvalidInstanceError, OutOfResourcesError } from '../../storage/store-errors';
import { respond, type ServiceHandler } from './service';

/** What the metrics count of each C-STORE: its status, and for a success its bytes and timing. */
export interface StoreOutcome {
  readonly callingAeTitle: string;
  readonly status: number;
  readonly datasetBytes?: number;
  readonly durableSeconds?: number;
}

export function cStoreScp(
  store: Pick<Archive, 'receive'>,
  observe: (outcome: StoreOutcome) => void = () => undefined,
): ServiceHandler {
  return async (message, ctx) => {
    const { command, context, dataset } = message;
    const sopClassUid = command.affectedSopClassUid ?? '';
    const sopInstanceUid = command.affectedSopInstanceUid ?? '';
    const started = Date.now();
    const answer = (status: number, comment?: string): Promise<void> =>
      respond(ctx, message, {
        commandField: CommandField.CStoreRsp,
        affectedSopClassUid: sopClassUid,
        affectedSopInstanceUid: sopInstanceUid,
        status,
        ...(comment ? { errorComment: comment } : {}),
      });
    const fields = { peer: ctx.association.peerLabel, sop: sopInstanceUid };

    let problem: [number, string] | undefined;
    if (!dataset) problem = [Status.CannotUnderstand, 'C-STORE-RQ without a data set'];
    else if (sopClassUid !== context.abstractSyntax) {
      problem = [
        Status.SopClassNotSupported,
        `SOP class ${sopClassUid} is not the context's ${context.abstractSyntax}`,
      ];
    } else if (!isValidUid(sopInstanceUid))
      problem = [Status.CannotUnderstand, 'Affected SOP Instance UID is not a valid UID'];
    if (problem) {
      if (dataset) await drain(dataset); // read to the last fragment before answering
      log.warn('C-STORE refused', { ...fields, status: hex(problem[0]), reason: problem[1] });
      observe({ callingAeTitle: ctx.info.callingAeTitle, status: problem[0] });
      await answer(problem[0], problem[1]);
      return;
    }

    try {
      const stored = await store.receive(
        {
          sopClassUid,
          sopInstanceUid,
          transferSyntaxUid: context.transferSyntax,
          callingAeTitle: ctx.info.callingAeTitle,
        },
        dataset!,
      );
      log.info('stored', { ...fields, bytes: stored.datasetBytes, ms: Date.now() - started });
      observe({
        callingAeTitle: ctx.info.callingAeTitle,
        status: Status.Success,
        datasetBytes: stored.datasetBytes,
        durableSeconds: stored.durableSeconds,
      });
      await answer(Status.Success);
    } catch (err) {
      const [status, comment] = storeFailure(err as Error);
      log.warn('C-STORE failed', {
        ...fields,
        status: hex(status),
        reason: (err as Error).message,
      });
      observe({ callingAeTitle: ctx.info.callingAeTitle, status });
      await answer(status, comment);
    }
  };
}

function storeFailure(err: Error): [number, string] {
  if (err instanceof OutOfResourcesError) return [Status.OutOfResources, err.message];
  if (err instanceof InvalidInstanceError) {
    return [
      err.kind === 'mismatch' ? Status.DataSetDoesNotMatchSopClass : Status.CannotUnderstand,
      err.message,
    ];
  }
  return [Status.ProcessingFailure, err.message];
}

function hex(status: number): string {
  return status.toString(16).padStart(4, '0').toUpperCase();
}
