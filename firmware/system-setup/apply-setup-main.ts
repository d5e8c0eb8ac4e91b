// The root helper of the image's system set-up, run by dicom-edge-apply-setup.service when
// the dashboard leaves a request (dicom-edge-apply-setup.path). Why a helper and not a
// dashboard running as root: the dashboard is a large program reading a keyboard; this is
// a small one reading one file, checking it and running three system tools.
import { replaceFileDurably } from '../replace-file';
import { applySetup, takeRequest } from './apply-setup';
import { REQUEST_FILE, RESULT_FILE, type SetupResult } from './setup-request';

async function main(): Promise<void> {
  let result: SetupResult;
  try {
    const request = await takeRequest(REQUEST_FILE);
    result = await applySetup(request);
  } catch (err) {
    // A request that cannot be read has no id the dashboard could wait for: "-".
    result = { id: '-', ok: false, message: (err as Error).message };
  }
  console.log(`${result.ok ? 'applied' : 'refused'} ${result.id}: ${result.message}`);
  await replaceFileDurably(RESULT_FILE, `${JSON.stringify(result)}\n`, 0o644);
  process.exitCode = result.ok ? 0 : 1;
}

void main();
