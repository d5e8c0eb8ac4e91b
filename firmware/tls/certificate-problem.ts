// Which certificate problem ended a TLS connection, if one did: the peer's certificate
// expired or not yet valid, for another name, not signed by a CA the box trusts, not the
// pinned one; or ours refused by the peer. Told from the error's code (OpenSSL's
// verification result as Node names it, an alert the peer sent, or ours), never from its
// text: the forwarder reports it as a state of its own, apart from a network failure.
export type CertificateProblem =
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-name'
  | 'untrusted'
  | 'not-pinned'
  /** The peer refused the certificate the box presented, or asked for one it had not. */
  | 'ours-refused';

/** The peer's certificate is not the one the node pins (tls.pinnedSha256). */
export class PinnedCertificateError extends Error {
  override name = 'PinnedCertificateError';
  readonly code = 'ERR_TLS_CERT_NOT_PINNED';
  constructor(
    readonly got: string | undefined,
    readonly pinned: string,
  ) {
    super(`the certificate ${got ?? '(none)'} is not the pinned ${pinned}`);
  }
}

/** Node's codes for OpenSSL's X509_V_ERR results (X509_verify_cert_error_string). */
const VERIFY_RESULTS: Readonly<Record<string, CertificateProblem>> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  // Node's check of the name, and ours (certificate-names.ts), which keeps its code.
  ERR_TLS_CERT_ALTNAME_INVALID: 'wrong-name',
  HOSTNAME_MISMATCH: 'wrong-name',
  IP_ADDRESS_MISMATCH: 'wrong-name',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  CERT_REJECTED: 'untrusted',
  CERT_REVOKED: 'untrusted',
  INVALID_CA: 'untrusted',
  INVALID_PURPOSE: 'untrusted',
  ERR_TLS_CERT_NOT_PINNED: 'not-pinned',
};

/**
 * A TLS alert (RFC 8446 §6.2) by which the peer said it would not take our certificate:
 * ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE, ..._TLSV1_ALERT_UNKNOWN_CA,
 * ..._TLSV13_ALERT_CERTIFICATE_REQUIRED and the like.
 */
const REFUSED_OURS =
  /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_\w+|UNKNOWN_CA)$/;

/** The certificate problem that `err`, or an error it was caused by, reports. */
export function certificateProblem(err: unknown): CertificateProblem | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    const found = VERIFY_RESULTS[code] ?? (REFUSED_OURS.test(code) ? 'ours-refused' : undefined);
    if (found) return found;
  }
  return undefined;
}
