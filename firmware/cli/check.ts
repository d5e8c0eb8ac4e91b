// `dicom-edge check [--digest] [--repair] [--config F]`: the running box's index against
// its cache files — existence, size, and with --digest the SHA-256 of each data set; with
// --repair, what differs is repaired as a start after a crash would. Exit 0 when index and
// files agree (or were repaired), 1 when something differs and was only reported.
import { loadConfig } from '../config/load';
import { controlRequest } from '../control/control-client';
import { one, parseArgs, UsageError } from './args';

export async function checkCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--config'], ['--digest', '--repair']);
  if (args.positionals.length > 0)
    throw new UsageError('usage: dicom-edge check [--digest] [--repair] [--config F]');
  const { config } = loadConfig(
    args.options.has('--config') ? one(args, '--config', '') : undefined,
  );
  const r = await controlRequest(
    config.storageDir,
    {
      command: 'check',
      digest: args.options.has('--digest'),
      repair: args.options.has('--repair'),
    },
    24 * 3600 * 1000,
  );
  const problems = r.missing.length + r.wrongSize.length + r.wrongDigest.length + r.orphans.length;
  const lines = [
    `${r.instances} instances in the index, ${r.files} files in the cache (${r.ms} ms)`,
    ...r.missing.map((s) => `missing file:    ${s}`),
    ...r.wrongSize.map((s) => `wrong size:      ${s}`),
    ...r.wrongDigest.map((s) => `wrong digest:    ${s}`),
    ...r.orphans.map((p) => `file not indexed: ${p}`),
    problems === 0
      ? 'index and files agree'
      : r.repaired
        ? `${problems} problem(s) repaired (damaged files in quarantine/, their rows removed and their jobs failed)`
        : `${problems} problem(s); run with --repair to repair them`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return problems > 0 && !r.repaired ? 1 : 0;
}
