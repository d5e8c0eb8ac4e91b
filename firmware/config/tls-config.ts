// DICOM TLS as the configuration states it (PS3.15 Annex B): the profile, the listener's
// files and a node's, declared once (schema.ts). firmware/tls turns these into what Node's
// tls module wants.
import { pemFile } from './checks';
import { int, object, oneOf, rule, type Infer } from './schema';

/** Like DCMTK's --tls-profile: bcp195-nd (non-downgrading, the default), bcp195, bcp195-ex. */
export const TLS_PROFILES = ['bcp195-nd', 'bcp195', 'bcp195-ex'] as const;
export type TlsProfile = (typeof TLS_PROFILES)[number];

const profile = oneOf(TLS_PROFILES).default('bcp195-nd');

/** The box's TLS listener (config `tls`). */
export const tlsListenerSchema = object(
  {
    port: int(1, 65535),
    /** PEM files, absolute paths. */
    certificate: pemFile,
    privateKey: pemFile,
    /** CA certificates (PEM, one or more) that client certificates must chain to. */
    trustedCertificates: pemFile.optional(),
    /** Whether a client must present a certificate the trusted CAs signed. */
    clientCertificates: oneOf(['required', 'optional'], 'must be "required" or "optional"').default(
      'required',
    ),
    profile,
  },
  {
    example:
      '{"port": 2762, "certificate": "/etc/dicom-edge/box.crt", "privateKey": "/etc/dicom-edge/box.key"}',
    rules: [
      (t) =>
        t.clientCertificates === 'required' && !t.trustedCertificates
          ? [
              'trustedCertificates',
              'is needed to check client certificates (or set tls.clientCertificates to "optional")',
            ]
          : undefined,
    ],
  },
);
export type TlsListenerConfig = Infer<typeof tlsListenerSchema>;

/** TLS towards a node (config `nodes[].tls`). */
export const nodeTlsSchema = object(
  {
    /** CA certificates the node's certificate must chain to; the system's when not given. */
    trustedCertificates: pemFile.optional(),
    /** The box's client certificate and key, when the node asks for one. */
    certificate: pemFile.optional(),
    privateKey: pemFile.optional(),
    /** The name the node's certificate must carry; the node's host when not given. */
    serverName: rule<string>((v) =>
      typeof v === 'string' && v !== '' ? undefined : 'must be a host name',
    ).optional(),
    /** Instead of a name: the SHA-256 fingerprint the node's certificate must have. */
    pinnedSha256: rule<string>((v) =>
      typeof v === 'string' && v.replace(/[^0-9a-fA-F]/g, '').length === 64
        ? undefined
        : 'must be a SHA-256 fingerprint (64 hex digits)',
    ).optional(),
    profile,
  },
  {
    example: '{"trustedCertificates": "/etc/dicom-edge/pacs-ca.crt"}',
    rules: [
      (t) =>
        (t.certificate === undefined) !== (t.privateKey === undefined)
          ? ['privateKey', 'and certificate go together']
          : undefined,
    ],
  },
);
export type NodeTlsConfig = Infer<typeof nodeTlsSchema>;
