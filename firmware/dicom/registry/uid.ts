// UID syntax (PS3.5 §9.1): components of digits separated by '.', no leading zero in a
// component other than "0" itself, at most 64 characters. UIDs arrive from the network and
// become path components in the cache, so anything else is rejected, never "cleaned".

const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/;

export function isValidUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && UID_PATTERN.test(value);
}

/** Strips the trailing NUL (or, leniently, space) padding of a UI value (PS3.5 §6.2). */
export function trimUid(value: string): string {
  return value.replace(/[\0 ]+$/, '').replace(/^ +/, '');
}

/** Our implementation identity (PS3.7 D.3.3.2): a 2.25 UUID-derived UID (PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.216842497016391318409732311925471340893';
export const IMPLEMENTATION_VERSION_NAME = 'DICOM_EDGE_01';

export const APPLICATION_CONTEXT_NAME = '1.2.840.10008.3.1.1.1';
export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

/** Modality Worklist Information Model - FIND (PS3.4 K.6.1.2). */
export const MODALITY_WORKLIST_FIND_SOP_CLASS = '1.2.840.10008.5.1.4.31';
