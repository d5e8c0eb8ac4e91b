// Errors with their DICOM meaning attached. They are thrown where the standard says the
// condition arises and logged once, at the edge, with the peer's AE title and address.

/** A PDU that cannot be decoded: leads to A-ABORT (PS3.8 §9.3.1, Evt19). */
export class PduDecodeError extends Error {
  override name = 'PduDecodeError';
  /** A-ABORT reason/diagnostic (PS3.8 Table 9-26): 1 unrecognized PDU, 6 invalid parameter value. */
  constructor(
    message: string,
    readonly abortReason: number = 6,
  ) {
    super(message);
  }
}

/** A DIMSE command set that does not decode (PS3.7 §6.3.1): answered with an A-ABORT. */
export class CommandDecodeError extends Error {
  override name = 'CommandDecodeError';
}

/** A data set that is not well-formed DICOM in its transfer syntax (PS3.5 §7). */
export class DatasetParseError extends Error {
  override name = 'DatasetParseError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset} of the data set)`);
  }
}

/** A Part 10 file whose preamble or File Meta Information is unusable (PS3.10 §7.1). */
export class Part10Error extends Error {
  override name = 'Part10Error';
}

/** The association ended (abort, transport closed) while an operation was waiting on it. */
export class AssociationClosedError extends Error {
  override name = 'AssociationClosedError';
}

/** The peer refused the association with an A-ASSOCIATE-RJ (PS3.8 §9.3.4). */
export class AssociationRejectedError extends Error {
  override name = 'AssociationRejectedError';
  constructor(
    readonly result: number,
    readonly source: number,
    readonly reason: number,
    readonly transient: boolean,
  ) {
    super(
      `association rejected (${transient ? 'transient' : 'permanent'}; source ${source}, reason ${reason})`,
    );
  }
}

/** The peer, or our provider, aborted the association (PS3.8 §7.3 / §7.4). */
export class AssociationAbortedError extends Error {
  override name = 'AssociationAbortedError';
  constructor(
    readonly source: number,
    readonly reason: number,
  ) {
    super(`association aborted (source ${source}, reason ${reason})`);
  }
}
