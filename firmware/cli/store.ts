// `dicom-edge store HOST PORT FILE|DIR... [--aet --aec] [TLS options]`, or `--node NAME
// FILE|DIR...`: per-file result, exit non-zero if any file failed.
import { formatStatus, statusCategory } from '../dicom/dimse/status';
import { expandPaths, storeFiles } from '../services/store-scu';
import { parseArgs, UsageError } from './args';
import { PEER_OPTIONS, PEER_USAGE, peerOf, takeTlsOptions } from './peer-args';

export async function storeCommand(argv: readonly string[]): Promise<number> {
  const { rest, tls } = takeTlsOptions(argv);
  const args = parseArgs(rest, PEER_OPTIONS);
  const { peer, rest: paths } = peerOf(args, tls);
  if (paths.length === 0) throw new UsageError(`usage: dicom-edge store ${PEER_USAGE} FILE|DIR...`);
  const files = await expandPaths(paths);
  let failed = 0;
  const results = await storeFiles(peer, files, (r) => {
    const ok = r.status !== undefined && statusCategory(r.status) !== 'failure';
    if (!ok) failed++;
    const what = r.status !== undefined ? formatStatus(r.status) : 'not sent';
    process.stdout.write(
      `${ok ? 'OK  ' : 'FAIL'} ${r.path}: ${what}${r.error ? ` - ${r.error}` : ''}\n`,
    );
  });
  process.stdout.write(`${results.length - failed} stored, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
