// Why an instance was not stored, with the DICOM meaning attached (PS3.4 B.2.3): the
// store SCP answers each with its status; nothing was kept of the instance.

/** The disk or the index could not take the instance (PS3.4 B.2.3: A7xx, out of resources). */
export class OutOfResourcesError extends Error {
  override name = 'OutOfResourcesError';
}

/** The data set is not what it must be to be stored (PS3.4 B.2.3: A9xx / Cxxx). */
export class InvalidInstanceError extends Error {
  override name = 'InvalidInstanceError';
  constructor(
    message: string,
    /** 'cannot-understand' when the bytes do not parse, 'mismatch' when required data is absent. */
    readonly kind: 'cannot-understand' | 'mismatch',
  ) {
    super(message);
  }
}
