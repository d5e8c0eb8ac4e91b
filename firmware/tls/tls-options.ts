// DICOM TLS (PS3.15 Annex B, the BCP 195 profiles of B.9-B.11) as Node's tls module wants
// it: the profile's protocol versions and cipher suites, and the certificates and keys
// read from the files the configuration names. Files are read when a listener or a
// connection is set up, so a certificate replaced on disk (or a new path set with `config
// set`) is used by the next association. Contents never reach a log line or the status:
// only subjects, fingerprints and expiry dates do.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type * as tls from 'node:tls';
import type { NodeTlsConfig, TlsListenerConfig, TlsProfile } from '../config/tls-config';
import { checkServerName } from './certificate-names';
import { PinnedCertificateError } from './certificate-problem';

/** BCP 195's recommended suites: forward secrecy and AEAD only, no downgrade to weaker ones. */
const NON_DOWNGRADING = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
];

/** TLS 1.2 suites of each profile (TLS 1.3's own suites are always offered). */
const CIPHERS: Record<TlsProfile, readonly string[]> = {
  'bcp195-nd': NON_DOWNGRADING,
  // Also the CBC suites BCP 195 still allows, for older peers.
  bcp195: [
    ...NON_DOWNGRADING,
    'ECDHE-ECDSA-AES128-SHA256',
    'ECDHE-RSA-AES128-SHA256',
    'ECDHE-ECDSA-AES256-SHA384',
    'ECDHE-RSA-AES256-SHA384',
    'AES128-GCM-SHA256',
    'AES256-GCM-SHA384',
  ],
  // The strongest only.
  'bcp195-ex': ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
};

function profileOptions(
  profile: TlsProfile,
): Pick<tls.SecureContextOptions, 'minVersion' | 'ciphers'> {
  return { minVersion: 'TLSv1.2', ciphers: CIPHERS[profile].join(':') };
}

/** The listener's secure context options, read from its files now. */
export function listenerOptions(c: TlsListenerConfig): tls.SecureContextOptions {
  return {
    ...profileOptions(c.profile),
    cert: readFileSync(c.certificate),
    key: readFileSync(c.privateKey),
    ...(c.trustedCertificates ? { ca: readFileSync(c.trustedCertificates) } : {}),
  };
}

/** A SHA-256 fingerprint as openssl prints it (AA:BB:...), upper case. */
export function normalizeFingerprint(f: string): string {
  const hex = f.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

/** How to connect to a node over TLS: the options, and a check of the secured connection. */
export interface TlsConnection {
  readonly options: tls.ConnectionOptions;
  /** An error when the peer's certificate is not the one required (a pinned fingerprint). */
  readonly check: (socket: tls.TLSSocket) => Error | undefined;
}

/** How to connect to a node at host, its files read now. */
export function connectionOptions(host: string, c: NodeTlsConfig): TlsConnection {
  const pinned = c.pinnedSha256 ? normalizeFingerprint(c.pinnedSha256) : undefined;
  const options: tls.ConnectionOptions = {
    ...profileOptions(c.profile),
    ...(c.trustedCertificates ? { ca: readFileSync(c.trustedCertificates) } : {}),
    ...(c.certificate ? { cert: readFileSync(c.certificate) } : {}),
    ...(c.privateKey ? { key: readFileSync(c.privateKey) } : {}),
    // SNI carries a name only (RFC 6066); an IP address is matched by Node against the
    // certificate's IP entries from the host itself.
    ...(c.serverName || !isIP(host) ? { servername: c.serverName ?? host } : {}),
    checkServerIdentity: checkServerName,
    // A pinned certificate is the identity: its name and chain are not asked for, its
    // fingerprint is checked once the handshake is done.
    rejectUnauthorized: pinned === undefined,
  };
  return {
    options,
    check: (socket) => {
      if (!pinned) return undefined;
      const got = socket.getPeerCertificate().fingerprint256;
      return got === pinned ? undefined : new PinnedCertificateError(got, pinned);
    },
  };
}

export interface CertificateFacts {
  readonly subject: string;
  readonly expires: string;
  readonly fingerprint256: string;
}

/** What the status shows of a certificate file (its first certificate). */
export function certificateFacts(file: string): CertificateFacts {
  const cert = new X509Certificate(readFileSync(file));
  const expires = new Date(cert.validTo);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    expires: expires.toISOString(),
    fingerprint256: cert.fingerprint256,
  };
}
