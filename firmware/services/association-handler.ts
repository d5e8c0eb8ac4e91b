// Serves one accepted association: routes each DIMSE request to its service handler,
// one at a time (we do not negotiate asynchronous operations, PS3.7 D.3.3.3), answers
// what nobody serves, and answers a release only once the work in hand is done.
import type { Association, AssociationInfo } from '../dicom/association';
import { CommandField, commandName, isResponse } from '../dicom/dimse/command-field';
import { DimseChannel, drain, type IncomingMessage } from '../dicom/dimse/dimse-channel';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { Status } from '../dicom/dimse/status';
import { log } from '../log';
import { respond, type ServiceContext, type ServiceHandler } from './service';

export type ServiceTable = ReadonlyMap<number, ServiceHandler>;

export function serveAssociation(
  association: Association,
  info: AssociationInfo,
  services: ServiceTable,
  /** Told of each request as it arrives (the dashboard shows what an association is doing). */
  onRequest: (command: string) => void = () => undefined,
): void {
  const channel = new DimseChannel(association);
  const requestor = new DimseRequestor(association, channel);
  const cancelled = new Set<number>();
  const ctx: ServiceContext = {
    association,
    info,
    channel,
    requestor,
    isCancelled: (id) => cancelled.has(id),
  };
  let work: Promise<void> = Promise.resolve();

  channel.on('protocol-error', (err) =>
    log.warn('DIMSE protocol error, aborting', {
      peer: association.peerLabel,
      reason: err.message,
    }),
  );
  channel.on('message', (message: IncomingMessage) => {
    const field = message.command.commandField;
    // A C-CANCEL must reach the operation it cancels while that operation is running, and
    // responses (to our own C-GET sub-operations) go to the requestor: neither waits in line.
    if (field === CommandField.CCancelRq) {
      cancelled.add(message.command.messageIdBeingRespondedTo ?? -1);
      return;
    }
    if (isResponse(field)) return;
    onRequest(commandName(field));
    work = work.then(() => handle(message, ctx, services));
  });
  association.on('release-requested', () => {
    void work.then(() => association.respondRelease());
  });
}

async function handle(
  message: IncomingMessage,
  ctx: ServiceContext,
  services: ServiceTable,
): Promise<void> {
  const field = message.command.commandField;
  const handler = services.get(field);
  try {
    if (handler) {
      await handler(message, ctx);
      return;
    }
    if (message.dataset) await drain(message.dataset); // read it to its end, unused
    if (isResponse(field) || field === CommandField.CCancelRq) {
      log.warn('unexpected DIMSE message ignored', {
        peer: ctx.association.peerLabel,
        command: commandName(field),
      });
      return;
    }
    // PS3.7 C.5.7: a request we do not perform is refused as an unrecognized operation.
    log.warn('DIMSE request not supported', {
      peer: ctx.association.peerLabel,
      command: commandName(field),
    });
    await respond(ctx, message, {
      commandField: field | 0x8000,
      ...(message.command.affectedSopClassUid
        ? { affectedSopClassUid: message.command.affectedSopClassUid }
        : {}),
      status: Status.UnrecognizedOperation,
      errorComment: `${commandName(field)} is not supported here`,
    });
  } catch (err) {
    // The association ended under the handler (abort, peer gone): nothing left to answer.
    log.warn('DIMSE request not completed', {
      peer: ctx.association.peerLabel,
      command: commandName(field),
      reason: (err as Error).message,
    });
  }
}
