// The one place that opens outgoing associations: forwarding, C-MOVE sub-operations,
// storage commitment reports, the echo health check and every CLI command come here with
// a peer (a node of the configuration, or one typed on the command line), so that the
// AE titles, the maximum PDU length, the timers and the transport are set the same way.
import type { Config, DimseNodeConfig } from '../config/config';
import { Association, type EstablishedAssociation } from '../dicom/association';
import type { PresentationContextRq, RoleSelection } from '../dicom/pdu';
import { tcpConnector, tlsConnector } from '../dicom/transport';
import type { NodeTlsConfig } from '../config/tls-config';
import { connectionOptions } from '../tls/tls-options';

/** Whom to associate with, and as whom. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  /** Our Maximum Length Received; SCU_DEFAULTS when not given. */
  readonly maxPduLength?: number;
  /** ARTIM timer (PS3.8 §9.1.5), which also bounds the wait for A-ASSOCIATE-AC. */
  readonly artimMs?: number;
  /** Over TLS (PS3.15 Annex B), with these certificates; plain TCP when absent. */
  readonly tls?: NodeTlsConfig;
}

/** For a peer typed on the command line, when it says nothing else. */
export const SCU_DEFAULTS = { maxPduLength: 262144, artimMs: 30_000 };

/** A node of the configuration, called by the box: its AE title, maximum PDU and ARTIM timer. */
export function nodePeer(config: Config, node: DimseNodeConfig): PeerAddress {
  return {
    host: node.host,
    port: node.port,
    callingAeTitle: config.ae,
    calledAeTitle: node.ae,
    maxPduLength: config.maxPduLength,
    artimMs: config.artimTimeout * 1000,
    ...(node.tls ? { tls: node.tls } : {}),
  };
}

/**
 * Opens an association with the peer; resolves once it is established. `operationsWindow`
 * above 1 proposes an Asynchronous Operations Window of that many requests outstanding
 * (PS3.7 D.3.3.3; we perform one at a time); the peer's answer is in the association's info.
 */
export function openAssociation(
  peer: PeerAddress,
  presentationContexts: readonly PresentationContextRq[],
  roleSelections: readonly RoleSelection[] = [],
  operationsWindow = 1,
): Promise<EstablishedAssociation> {
  const { tls } = peer;
  return Association.request({
    connect: tls
      ? tlsConnector(peer.host, peer.port, () => connectionOptions(peer.host, tls))
      : tcpConnector(peer.host, peer.port),
    callingAeTitle: peer.callingAeTitle,
    calledAeTitle: peer.calledAeTitle,
    maxPduLength: peer.maxPduLength ?? SCU_DEFAULTS.maxPduLength,
    artimMs: peer.artimMs ?? SCU_DEFAULTS.artimMs,
    presentationContexts,
    roleSelections,
    ...(operationsWindow > 1
      ? { asyncOperationsWindow: { invoked: operationsWindow, performed: 1 } }
      : {}),
  });
}
