// Acceptor-side presentation context negotiation (PS3.8 §9.3.3.2, PS3.7 Annex D).
// Pure: proposed contexts in, results out.
import {
  PresentationContextResult,
  type PresentationContextAc,
  type PresentationContextRq,
} from './pdu';
import {
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  TRANSFER_SYNTAXES,
} from './registry/transfer-syntaxes';

/**
 * Picks the transfer syntax to accept from a proposal: the requestor's order is its
 * preference and is kept (a JPEG proposal stays JPEG: pass-through), except that among
 * the uncompressed syntaxes Explicit VR Little Endian wins over Implicit VR LE and
 * Explicit VR BE when it is on offer, since it keeps the VRs and is the common default.
 */
export function chooseTransferSyntax(
  proposed: readonly string[],
  acceptable: (uid: string) => boolean = (uid) => TRANSFER_SYNTAXES.has(uid),
): string | undefined {
  const usable = proposed.filter(acceptable);
  const first = usable[0];
  if (first === undefined) return undefined;
  if (
    (first === IMPLICIT_VR_LITTLE_ENDIAN || first === EXPLICIT_VR_BIG_ENDIAN) &&
    usable.includes(EXPLICIT_VR_LITTLE_ENDIAN)
  ) {
    return EXPLICIT_VR_LITTLE_ENDIAN;
  }
  return first;
}

/**
 * `supports` says whether an abstract syntax is served and, when it returns a function,
 * which transfer syntaxes are acceptable for it (true: every one the registry knows).
 */
export function negotiateContexts(
  proposed: readonly PresentationContextRq[],
  supports: (abstractSyntax: string) => boolean | ((transferSyntax: string) => boolean),
): PresentationContextAc[] {
  return proposed.map((pc): PresentationContextAc => {
    const answer = supports(pc.abstractSyntax);
    if (answer === false) {
      return {
        id: pc.id,
        result: PresentationContextResult.AbstractSyntaxNotSupported,
        transferSyntax: '',
      };
    }
    const ts =
      answer === true
        ? chooseTransferSyntax(pc.transferSyntaxes)
        : chooseTransferSyntax(pc.transferSyntaxes, answer);
    if (ts === undefined) {
      return {
        id: pc.id,
        result: PresentationContextResult.TransferSyntaxesNotSupported,
        transferSyntax: '',
      };
    }
    return { id: pc.id, result: PresentationContextResult.Acceptance, transferSyntax: ts };
  });
}
