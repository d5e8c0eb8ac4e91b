// PS3.18 §8.7.3: Implicit VR Little Endian and Explicit VR Big Endian shall not be used
// with web services. An instance the box holds in either goes to a DICOMweb service in
// Explicit VR Little Endian, the web services' default: the same elements, only their
// encoding changed (PRODUCT.md promise 2 allows that where a peer cannot accept the
// original). Every other syntax, compressed ones included, goes as it is. Pure.
import {
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from '../dicom/registry/transfer-syntaxes';

const NOT_FOR_WEB_SERVICES: ReadonlySet<string> = new Set([
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
]);

/** Why an instance is transcoded for a web service, as the log says it. */
export const WEB_SERVICES_RULE = 'web services do not carry it (PS3.18 §8.7.3)';

/** The transfer syntax an instance held in `transferSyntaxUid` is sent to a web service in. */
export function webTransferSyntax(transferSyntaxUid: string): string {
  return NOT_FOR_WEB_SERVICES.has(transferSyntaxUid)
    ? EXPLICIT_VR_LITTLE_ENDIAN
    : transferSyntaxUid;
}
