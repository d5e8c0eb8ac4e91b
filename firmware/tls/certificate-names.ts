// Which names a peer's certificate holds, and what is said when the name the box connected
// by is not among them. Node's own reason lists only the entries of the kind it compared:
// "IP: 127.0.0.1 is not in the cert's list: " for a certificate that holds DNS names only.
import * as tls from 'node:tls';

/** The connection's name (the node's host, or its tls.serverName) is not the certificate's. */
export class CertificateNameError extends Error {
  override name = 'CertificateNameError';
  /** Node's code for this refusal, kept for whoever tells refusals apart by it. */
  readonly code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  constructor(
    readonly host: string,
    readonly names: readonly string[],
  ) {
    super(
      `the certificate is for ${names.length ? names.join(', ') : 'no host name'}, not ${host}`,
    );
  }
}

/**
 * The names a certificate holds as openssl shows them: its subjectAltName's DNS and IP
 * entries ("DNS:pacs.example", "IP:10.1.2.3"), or, when it has none, its subject's CN
 * ("CN=pacs"), which is compared only then (RFC 6125 §6.4.4).
 */
export function certificateNames(cert: tls.PeerCertificate): string[] {
  const entries = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:') || entry.startsWith('IP Address:'))
    .map((entry) => entry.replace(/^IP Address:/, 'IP:'));
  if (entries.length > 0) return entries;
  const cn: string | string[] | undefined = cert.subject?.CN;
  return (Array.isArray(cn) ? cn : cn ? [cn] : []).map((name) => `CN=${name}`);
}

/** Node's check of the certificate's name (tls.checkServerIdentity), with a reason that
 *  names what the certificate is for. */
export function checkServerName(host: string, cert: tls.PeerCertificate): Error | undefined {
  return tls.checkServerIdentity(host, cert)
    ? new CertificateNameError(host, certificateNames(cert))
    : undefined;
}
