// Opening an association to a node of the configuration, as the box (its AE title, its
// maximum PDU length and ARTIM timer).
import type { Config, NodeConfig } from '../config/config';
import { Association } from '../dicom/association';
import type { PresentationContextRq, RoleSelection } from '../dicom/pdu';

export function associateWithNode(
  config: Config,
  node: NodeConfig,
  presentationContexts: readonly PresentationContextRq[],
  roleSelections: readonly RoleSelection[] = [],
): Promise<Association> {
  return Association.request({
    host: node.host,
    port: node.port,
    callingAeTitle: config.ae,
    calledAeTitle: node.ae,
    maxPduLength: config.maxPduLength,
    artimMs: config.artimTimeout * 1000,
    presentationContexts,
    roleSelections,
  });
}
