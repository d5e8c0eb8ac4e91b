// `dicom-edge check [--digest] [--repair] [--config F]`: the running box's index against
// its cache files — existence, size, and with --digest the content digest of each data set (XXH3-64; SHA-256 for rows stored before); with
// --repair, what differs is repaired as a start after a crash would. Exit 0 when index and
// files agree (or were repaired), 1 when something differs and was only reported.
import type { Command } from 'commander';
import { exits, withConfigOption, type ConfigOption } from './args';
import { askBox } from './running-box';

interface CheckOptions extends ConfigOption {
  readonly digest?: boolean;
  readonly repair?: boolean;
}

export function checkCommand(program: Command): void {
  withConfigOption(
    program
      .command('check')
      .summary("the running box's index against its cache files")
      .description(
        "The running box's index against its cache files: each file there, of its size, " +
          'and with --digest of its content digest. Exit 0 when they agree (or were repaired), 1 ' +
          'when something differs and was only reported.',
      ),
  )
    .option('--digest', "also compare each file's content digest with the index (reads every file)")
    .option('--repair', 'repair what differs, as a start after a crash would')
    .action(exits(check));
}

async function check(options: CheckOptions): Promise<number> {
  const r = await askBox(
    options,
    {
      command: 'check',
      digest: options.digest === true,
      repair: options.repair === true,
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
