// Why a destination is failing, as a kind an installer acts on and a monitor alerts on,
// told from the error's type and code (its causes included), not its text:
// - certificate: TLS refused on a certificate (firmware/tls/certificate-problem.ts): renew
//   or trust it, or fix the name the node is called by;
// - unreachable: no connection (refused, no route, no answer, no such host): the network,
//   the peer's address and port, or the peer's service;
// - rejected: connected, and the peer rejected the association (A-ASSOCIATE-RJ, PS3.8
//   §9.3.4): it does not know our AE title, or is not taking associations now;
// - other: anything else (an abort mid-transfer, out of resources, an HTTP error).
import { AssociationRejectedError } from '../dicom/errors';
import { certificateProblem, type CertificateProblem } from '../tls/certificate-problem';

export const FAILURE_KINDS = ['certificate', 'unreachable', 'rejected', 'other'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Socket and resolver codes of a connection that was never made (undici's included). */
const NO_CONNECTION = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The errors `err` was caused by, itself first (a bounded walk of `cause`). */
function causes(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = err; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  return chain;
}

export interface FailureClass {
  readonly kind: FailureKind;
  /** For a certificate failure, what is wrong with which certificate. */
  readonly certificate: CertificateProblem | null;
}

export function classifyFailure(err: unknown): FailureClass {
  const certificate = certificateProblem(err);
  if (certificate) return { kind: 'certificate', certificate };
  const chain = causes(err);
  const kind: FailureKind = chain.some((e) => e instanceof AssociationRejectedError)
    ? 'rejected'
    : chain.some((e) => NO_CONNECTION.has(String((e as Error & { code?: unknown }).code)))
      ? 'unreachable'
      : 'other';
  return { kind, certificate: null };
}
