// `dicom-edge store HOST PORT FILE|DIR... [--aet --aec]`: per-file result, exit non-zero
// if any file failed.
import { formatStatus, statusCategory } from '../dicom/dimse/status';
import { expandPaths, storeFiles } from '../services/store-scu';
import { one, parseArgs, portArg, UsageError } from './args';
import { takeTlsOptions, TLS_USAGE } from './tls-args';

export async function storeCommand(argv: readonly string[]): Promise<number> {
  const { rest, tls } = takeTlsOptions(argv);
  const args = parseArgs(rest, ['--aet', '--aec', '-aet', '-aec']);
  const [host, port, ...paths] = args.positionals;
  if (!host || paths.length === 0) {
    throw new UsageError(
      `usage: dicom-edge store HOST PORT FILE|DIR... [--aet CALLING] [--aec CALLED] ${TLS_USAGE}`,
    );
  }
  const files = await expandPaths(paths);
  let failed = 0;
  const results = await storeFiles(
    {
      host,
      port: portArg(port),
      callingAeTitle: one(args, '--aet', one(args, '-aet', 'DICOM_EDGE')),
      calledAeTitle: one(args, '--aec', one(args, '-aec', 'ANY-SCP')),
      ...(tls ? { tls } : {}),
    },
    files,
    (r) => {
      const ok = r.status !== undefined && statusCategory(r.status) !== 'failure';
      if (!ok) failed++;
      const what = r.status !== undefined ? formatStatus(r.status) : 'not sent';
      process.stdout.write(
        `${ok ? 'OK  ' : 'FAIL'} ${r.path}: ${what}${r.error ? ` - ${r.error}` : ''}\n`,
      );
    },
  );
  process.stdout.write(`${results.length - failed} stored, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
