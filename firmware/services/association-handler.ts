// Serves one accepted association: routes each DIMSE request to its service handler,
// one at a time (we do not negotiate asynchronous operations, PS3.7 D.3.3.3), answers
// what nobody serves, and answers a release only once the work in hand is done.
import type { AssociationInfo } from '../dicom/acse';
import type { EstablishedAssociation } from '../dicom/association';
import { CommandField, commandName, isResponse } from '../dicom/dimse/command-field';
import { DimseChannel, drain, type IncomingMessage } from '../dicom/dimse/dimse-channel';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { Status } from '../dicom/dimse/status';
import { log } from '../log';
import type { ServiceTable } from './registry';
import { respond, type ServiceContext } from './service';

export function serveAssociation(
  association: EstablishedAssociation,
  info: AssociationInfo,
  services: ServiceTable,
  /** Told of each request as it arrives (the dashboard shows what an association is doing). */
  onRequest: (command: string) => void = () => undefined,
  /** Abort after this long without a PDU from the peer while nothing is under way (0: never). */
  idleTimeoutMs = 0,
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
  let underWay = 0;
  const idle = new IdleTimer(idleTimeoutMs, () => {
    // Our own work (a C-MOVE's sub-operations, C-FIND answers) is not the peer's silence;
    // a handler waiting for the rest of the peer's data set is.
    if (underWay > 0 && !channel.receivingDataSet) return false;
    log.warn('idle association aborted', {
      peer: association.peerLabel,
      seconds: idleTimeoutMs / 1000,
    });
    association.abort();
    return true;
  });
  association.on('pdvs', () => idle.restart());
  association.on('closed', () => idle.stop());

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
    log.debug('request', {
      peer: association.peerLabel,
      command: commandName(field),
      messageId: message.command.messageId,
      context: message.context.id,
      sop: message.command.affectedSopInstanceUid,
    });
    underWay++;
    work = work
      .then(() => handle(message, ctx, services))
      .finally(() => {
        underWay--;
        idle.restart();
      });
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
  const handler = services.get(field, message.context.abstractSyntax);
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

/**
 * Fires `onIdle` after `ms` without a restart. When onIdle says the association is not idle
 * after all (false), the timer starts again.
 */
class IdleTimer {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => boolean,
  ) {
    this.restart();
  }

  restart(): void {
    if (this.ms <= 0 || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.onIdle()) this.restart();
    }, this.ms);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
