// `dicom-edge worklist [--config F]`: the running box's worklist copy: its source, state and
// age, and its items in schedule order.
// `dicom-edge worklist refresh`: replicate it from the source now (exit 1 if that failed).
// `dicom-edge worklist mismatches`: instances whose patient differs from their item.
import type { Command } from 'commander';
import {
  formatMismatches,
  formatRefresh,
  formatWorklistReport,
} from '../../ui-tty/worklist-format';
import { exits, withConfigOption, type ConfigOption } from './args';
import { askBox } from './running-box';

export function worklistCommand(program: Command): void {
  const worklist = withConfigOption(
    program
      .command('worklist')
      .summary('the modality worklist copy: source, state, age, items')
      .description(
        "The running box's copy of the modality worklist: the source it is replicated " +
          'from, whether it is fresh, stale (the source fails: modalities get the copy) ' +
          'or expired (modalities get C001), its age, and its items in schedule order.',
      ),
  ).action(
    exits(async (options: ConfigOption) => {
      process.stdout.write(formatWorklistReport(await askBox(options, { command: 'worklist' })));
      return 0;
    }),
  );

  worklist
    .command('refresh')
    .summary('replicate the worklist from its source now')
    .description(
      'Replicate the worklist from its source now and say what changed; exit 1 if the ' +
        'source did not answer (the copy is kept).',
    )
    .action(
      exits(async (_: unknown, command: Command) => {
        const options = command.optsWithGlobals<ConfigOption>();
        const { refresh, status } = await askBox(options, { command: 'worklist-refresh' }, 600_000);
        process.stdout.write(formatRefresh(refresh, status));
        return refresh.ok ? 0 : 1;
      }),
    );

  worklist
    .command('mismatches')
    .summary('instances whose patient differs from their worklist item')
    .description(
      'Instances received whose patient name, ID or birth date differs from the worklist ' +
        'item their Accession Number or Study Instance UID names (worklist.checks), most ' +
        "recent first, and whether their forwarded copies carry the item's values.",
    )
    .action(
      exits(async (_: unknown, command: Command) => {
        const options = command.optsWithGlobals<ConfigOption>();
        process.stdout.write(
          formatMismatches(await askBox(options, { command: 'worklist-mismatches' })),
        );
        return 0;
      }),
    );
}
