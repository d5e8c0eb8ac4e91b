// The DICOMweb destination the STOW-RS tests forward to, and what the box reports of it.
import type { DicomwebNodeConfig } from '../../firmware/config/config';
import type { DestinationReport } from '../../firmware/forward/forwarder';
import type { TestBox } from './peers';

/** A STOW-RS node named `cloud` at `url`, forwarding, batches of 50 or 64 MB. */
export function cloud(url: string, extra: Partial<DicomwebNodeConfig> = {}): DicomwebNodeConfig {
  return {
    name: 'cloud',
    kind: 'dicomweb',
    url,
    forward: true,
    batch: { maxInstances: 50, maxBytes: 64 * 1024 * 1024 },
    timeoutSeconds: 10,
    ...extra,
  };
}

/** The box's report of the `cloud` node. */
export async function cloudReport(box: TestBox): Promise<DestinationReport> {
  return (await box.forwarder.report()).find((d) => d.name === 'cloud')!;
}
