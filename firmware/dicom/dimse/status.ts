// DIMSE status codes: PS3.7 Annex C (general) and the service-specific codes of PS3.4
// (B.2.3 storage, C.4 query/retrieve, H/J/N for the N-services).

export const Status = {
  Success: 0x0000,
  // Pending (PS3.4 C.4.1.1.4, C.4.2.1.5)
  Pending: 0xff00,
  PendingWarning: 0xff01,
  // Cancel (PS3.7 C.3)
  Cancel: 0xfe00,
  // Warnings
  AttributeListError: 0x0107,
  AttributeValueOutOfRange: 0x0116,
  CoercionOfDataElements: 0xb000,
  SubOperationsCompleteWithFailures: 0xb000,
  ElementsDiscarded: 0xb006,
  DataSetDoesNotMatchSopClassWarning: 0xb007,
  // Failures, PS3.4 storage and query/retrieve
  OutOfResources: 0xa700,
  OutOfResourcesNumberOfMatches: 0xa701,
  OutOfResourcesSubOperations: 0xa702,
  MoveDestinationUnknown: 0xa801,
  DataSetDoesNotMatchSopClass: 0xa900,
  IdentifierDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
  UnableToProcess: 0xc001,
  // Failures, PS3.7 C.5 (general)
  NoSuchAttribute: 0x0105,
  InvalidAttributeValue: 0x0106,
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  NoSuchSopInstance: 0x0112,
  NoSuchEventType: 0x0113,
  NoSuchArgument: 0x0114,
  InvalidArgumentValue: 0x0115,
  InvalidObjectInstance: 0x0117,
  NoSuchSopClass: 0x0118,
  ClassInstanceConflict: 0x0119,
  MissingAttribute: 0x0120,
  MissingAttributeValue: 0x0121,
  SopClassNotSupported: 0x0122,
  NoSuchAction: 0x0123,
  NotAuthorized: 0x0124,
  DuplicateInvocation: 0x0210,
  UnrecognizedOperation: 0x0211,
  MistypedArgument: 0x0212,
  ResourceLimitation: 0x0213,
} as const;

export type StatusCategory = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

/** Classifies a status per PS3.7 Annex C. */
export function statusCategory(status: number): StatusCategory {
  if (status === 0x0000) return 'success';
  if (status === 0xff00 || status === 0xff01) return 'pending';
  if (status === 0xfe00) return 'cancel';
  if (
    status === 0x0001 ||
    (status >= 0xb000 && status <= 0xbfff) ||
    status === 0x0107 ||
    status === 0x0116
  ) {
    return 'warning';
  }
  return 'failure';
}

/**
 * Is a failed C-STORE worth retrying? Transient: the destination could take it later (out
 * of resources, resource limitation). Permanent: the destination refuses this instance as
 * it is (SOP class or transfer syntax not supported, data set does not match, cannot
 * understand): retrying would only repeat the refusal.
 */
export type Verdict = 'delivered' | 'transient' | 'permanent';

export function verdictForStatus(status: number): Verdict {
  const category = statusCategory(status);
  if (category === 'success' || category === 'warning') return 'delivered';
  if ((status & 0xff00) === 0xa700 || status === Status.ResourceLimitation) {
    return 'transient';
  }
  return 'permanent';
}

export function formatStatus(status: number): string {
  return `0x${status.toString(16).padStart(4, '0').toUpperCase()} (${statusCategory(status)})`;
}
