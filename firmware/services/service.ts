// What every SCP handler gets, and how it answers.
import type { AssociationInfo } from '../dicom/acse';
import type { EstablishedAssociation } from '../dicom/association';
import type { CommandSet } from '../dicom/dimse/command-set';
import type { DimseChannel, IncomingMessage } from '../dicom/dimse/dimse-channel';
import type { DimseRequestor } from '../dicom/dimse/dimse-requestor';

export interface ServiceContext {
  readonly association: EstablishedAssociation;
  readonly info: AssociationInfo;
  readonly channel: DimseChannel;
  /** For requests the SCP itself sends on this association (C-GET's C-STORE sub-operations). */
  readonly requestor: DimseRequestor;
  /** True once the peer sent a C-CANCEL-RQ for this Message ID (PS3.7 §9.3.2.3). */
  isCancelled(messageId: number): boolean;
}

export type ServiceHandler = (message: IncomingMessage, ctx: ServiceContext) => Promise<void>;

/** Error Comment (0000,0902) is an LO: at most 64 characters (PS3.5 Table 6.2-1). */
export function errorComment(text: string): string {
  return text.length <= 64 ? text : `${text.slice(0, 61)}...`;
}

/** The response to a request: same context, Message ID Being Responded To, status. */
export function respond(
  ctx: ServiceContext,
  message: IncomingMessage,
  fields: Omit<CommandSet, 'hasDataSet' | 'messageIdBeingRespondedTo'>,
  dataset?: Buffer,
): Promise<void> {
  return ctx.channel.send(
    message.context.id,
    {
      ...fields,
      messageIdBeingRespondedTo: message.command.messageId ?? 0,
      hasDataSet: dataset !== undefined,
      ...(fields.errorComment !== undefined
        ? { errorComment: errorComment(fields.errorComment) }
        : {}),
    },
    dataset,
  );
}
