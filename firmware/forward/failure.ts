// Is a failed C-STORE worth retrying? Transient: the destination could take it later
// (out of resources, resource limitation, connection trouble). Permanent: the destination
// refuses this instance as it is (SOP class or transfer syntax not supported, data set
// does not match, cannot understand): retrying would only repeat the refusal.
import { Status, statusCategory } from '../dicom/dimse/status';

export type Verdict = 'delivered' | 'transient' | 'permanent';

export function verdictForStatus(status: number): Verdict {
  const category = statusCategory(status);
  if (category === 'success' || category === 'warning') return 'delivered';
  if ((status & 0xff00) === 0xa700 || status === Status.ResourceLimitation) {
    return 'transient';
  }
  return 'permanent';
}
