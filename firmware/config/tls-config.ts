// DICOM TLS as the configuration states it (PS3.15 Annex B): the profile, the listener's
// files and a node's. firmware/tls turns these into what Node's tls module wants.

/** Like DCMTK's --tls-profile: bcp195-nd (non-downgrading, the default), bcp195, bcp195-ex. */
export type TlsProfile = 'bcp195-nd' | 'bcp195' | 'bcp195-ex';
export const TLS_PROFILES: readonly TlsProfile[] = ['bcp195-nd', 'bcp195', 'bcp195-ex'];

/** The box's TLS listener (config `tls`). */
export interface TlsListenerConfig {
  readonly port: number;
  /** PEM files, absolute paths. */
  readonly certificate: string;
  readonly privateKey: string;
  /** CA certificates (PEM, one or more) that client certificates must chain to. */
  readonly trustedCertificates?: string;
  /** Whether a client must present a certificate the trusted CAs signed. */
  readonly clientCertificates: 'required' | 'optional';
  readonly profile: TlsProfile;
}

/** TLS towards a node (config `nodes[].tls`). */
export interface NodeTlsConfig {
  /** CA certificates the node's certificate must chain to; the system's when not given. */
  readonly trustedCertificates?: string;
  /** The box's client certificate and key, when the node asks for one. */
  readonly certificate?: string;
  readonly privateKey?: string;
  /** The name the node's certificate must carry; the node's host when not given. */
  readonly serverName?: string;
  /** Instead of a name: the SHA-256 fingerprint the node's certificate must have. */
  readonly pinnedSha256?: string;
  readonly profile: TlsProfile;
}
