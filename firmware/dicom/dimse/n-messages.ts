// The DIMSE-N messages of PS3.7 §10.3: which command fields each request and response
// carries. Pure builders over the command-set codec; either side of an association may
// send any of them (an N-EVENT-REPORT typically flows from the association acceptor).
import { CommandField } from './command-field';
import type { CommandSet } from './command-set';

type Rq = Omit<CommandSet, 'hasDataSet'>;

/** N-EVENT-REPORT-RQ (§10.3.1): affected SOP class/instance, event type, optional event information. */
export function nEventReportRq(
  sopClassUid: string,
  sopInstanceUid: string,
  eventTypeId: number,
  messageId: number,
): Rq {
  return {
    commandField: CommandField.NEventReportRq,
    messageId,
    affectedSopClassUid: sopClassUid,
    affectedSopInstanceUid: sopInstanceUid,
    eventTypeId,
  };
}

/** N-GET-RQ (§10.3.2): requested SOP class/instance, optional attribute identifier list. */
export function nGetRq(
  sopClassUid: string,
  sopInstanceUid: string,
  messageId: number,
  attributes: number[] = [],
): Rq {
  return {
    commandField: CommandField.NGetRq,
    messageId,
    requestedSopClassUid: sopClassUid,
    requestedSopInstanceUid: sopInstanceUid,
    ...(attributes.length ? { attributeIdentifierList: attributes } : {}),
  };
}

/** N-SET-RQ (§10.3.3): requested SOP class/instance; the modification list is the data set. */
export function nSetRq(sopClassUid: string, sopInstanceUid: string, messageId: number): Rq {
  return {
    commandField: CommandField.NSetRq,
    messageId,
    requestedSopClassUid: sopClassUid,
    requestedSopInstanceUid: sopInstanceUid,
  };
}

/** N-ACTION-RQ (§10.3.4): requested SOP class/instance, action type, optional action information. */
export function nActionRq(
  sopClassUid: string,
  sopInstanceUid: string,
  actionTypeId: number,
  messageId: number,
): Rq {
  return {
    commandField: CommandField.NActionRq,
    messageId,
    requestedSopClassUid: sopClassUid,
    requestedSopInstanceUid: sopInstanceUid,
    actionTypeId,
  };
}

/** N-CREATE-RQ (§10.3.5): affected SOP class, and the instance when the requester assigns it. */
export function nCreateRq(sopClassUid: string, messageId: number, sopInstanceUid?: string): Rq {
  return {
    commandField: CommandField.NCreateRq,
    messageId,
    affectedSopClassUid: sopClassUid,
    ...(sopInstanceUid ? { affectedSopInstanceUid: sopInstanceUid } : {}),
  };
}

/** N-DELETE-RQ (§10.3.6): requested SOP class/instance. */
export function nDeleteRq(sopClassUid: string, sopInstanceUid: string, messageId: number): Rq {
  return {
    commandField: CommandField.NDeleteRq,
    messageId,
    requestedSopClassUid: sopClassUid,
    requestedSopInstanceUid: sopInstanceUid,
  };
}

/**
 * The response to any N request: the affected SOP class and instance (the request's
 * requested or affected ones), the status, and the event or action type echoed.
 */
export function nResponse(
  request: CommandSet,
  status: number,
  extra: Partial<CommandSet> = {},
): Rq {
  const sopClass = request.affectedSopClassUid ?? request.requestedSopClassUid;
  const sopInstance = request.affectedSopInstanceUid ?? request.requestedSopInstanceUid;
  return {
    commandField: request.commandField | 0x8000,
    messageIdBeingRespondedTo: request.messageId ?? 0,
    ...(sopClass ? { affectedSopClassUid: sopClass } : {}),
    ...(sopInstance ? { affectedSopInstanceUid: sopInstance } : {}),
    ...(request.eventTypeId !== undefined ? { eventTypeId: request.eventTypeId } : {}),
    ...(request.actionTypeId !== undefined ? { actionTypeId: request.actionTypeId } : {}),
    status,
    ...extra,
  };
}
